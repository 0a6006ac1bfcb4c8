# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""mxguard-check predicts the server (issue 21): for every MX owner of a
zone, the kinds the module logs for each record equal what mxguard-check
reports for the zone file, told the Knot version of this knotd. Where the
module can only infer (Knot 3.2 and 3.3), the checker's note says so; its
exact finding is then not what the server logs.

Exchanges in other zones are left out: with lookups (Knot 3.4+) the server
judges them from zones the checker is not given."""

import json
import os
import re
import subprocess

import dns.name
import dns.rdatatype
import dns.zone
import pytest

from knotd_harness import KNOT_VERSION, SRCDIR, Knotd, conf

KINDS = ["ip-literal", "loopback", "special-address", "missing-address",
         "null-mx-conflict", "self-exchange", "provider-mix", "cname-exchange"]
ZONES = ("example.test", "usable.test")
LINE = re.compile(r"violation (?P<kind>[a-z-]+), owner (?P<owner>\S+), "
                  r"exchange (?P<exchange>\S+), preference \d+.*, action log"
                  r"(?P<inferred>, verdict inferred)?")


@pytest.fixture(scope="module")
def server():
    items = "".join(f"    {k}: log\n" for k in KINDS)
    modules = f"mod-mxguard:\n  - id: all\n{items}    log-interval: 0\n"
    zones = "".join(f"  - domain: {z}\n    module: mod-mxguard/all\n" for z in ZONES)
    s = Knotd(conf(modules, zones), zones=ZONES).start()
    yield s
    s.cleanup()


def in_zone(name, zone):
    return name.endswith("." + zone + ".") or name == zone + "."


def checker(path):
    version = f"{KNOT_VERSION[0]}.{KNOT_VERSION[1]}"
    argv = [os.path.join(SRCDIR, "mxguard-check"), "--format", "json",
            "--knot-version", version, "--fail-on", "never", path]
    res = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    findings, notes = set(), set()
    for line in res.stdout.splitlines():
        rec = json.loads(line)
        # MX answers only: no-mail-policy is judged on TXT answers.
        if "violation" in rec and rec["violation"] in KINDS:
            findings.add((rec["owner"], rec["exchange"], rec["violation"]))
        elif "note" in rec:
            notes.add((rec["owner"], rec["exchange"], rec["note"]))
    return findings, notes


@pytest.mark.parametrize("zone", ZONES)
def test_module_logs_what_the_checker_predicts(server, zone):
    path = os.path.join(server.zonedir, zone + ".zone")
    findings, notes = checker(path)
    # What the server will log: an inferred verdict where the checker notes
    # one, the checker's finding otherwise.
    predicted = {(o, e, k, False) for o, e, k in findings if (o, e, k) not in notes}
    predicted |= {(o, e, k, True) for o, e, k in notes}

    z = dns.zone.from_file(path, origin=zone, relativize=False)
    owners = sorted({str(name) for name, node in z.nodes.items()
                     if node.get_rdataset(1, dns.rdatatype.MX) is not None
                     and not name.is_wild()})
    mark = server.log_mark()
    for owner in owners:
        server.query(owner, "MX", tcp=True)
    logged = set()
    for line in server.violation_lines(mark, settle=0.3):
        m = LINE.search(line)
        assert m, line
        logged.add((m["owner"], m["exchange"], m["kind"], bool(m["inferred"])))

    # Wildcard owners are asked for by the names they stand for (not here).
    def ours(rows):
        return {r for r in rows if not r[0].startswith("*.") and
                (in_zone(r[1], zone) or not r[1].endswith(".test."))}
    assert ours(logged) == ours(predicted), (sorted(ours(logged) - ours(predicted)),
                                             sorted(ours(predicted) - ours(logged)))
    assert len(owners) > 5
