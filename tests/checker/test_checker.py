# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""mxguard-check on the sample zones: exact output lines and exit codes."""

import os
import re

import pytest

from conftest import EXPECTED, ZONES

# The notes for Knot 3.2 and 3.3 (standard error): exchanges of the zone
# that the zone has no name for, which the older module only logs.
NOTE = ("{file}:{line}: note: knotd {version} logs missing-address, owner {owner}, "
        "exchange {exchange}, preference {preference} (inferred: the zone has no "
        "name for it; never enforced)")
NOTES = {
    "delegation": [
        dict(file="delegation.zone", line=7, owner="delegation.test.",
             exchange="mx.glueless.delegation.test.", preference=20),
    ],
    "dname": [
        dict(file="dname.zone", line=6, owner="dname.test.",
             exchange="mx.old.dname.test.", preference=10),
        dict(file="dname.zone", line=10, owner="dname.test.",
             exchange="mx.dn.dname.test.", preference=20),
    ],
    "ip-literal": [
        dict(file="ip-literal.zone", line=9, owner="host.ip-literal.test.",
             exchange="203.0.114.7.ip-literal.test.", preference=10),
    ],
    "missing-address": [
        dict(file="missing-address.zone", line=6, owner="missing-address.test.",
             exchange="nowhere.missing-address.test.", preference=10),
        dict(file="missing-address.zone", line=12, owner="pair.missing-address.test.",
             exchange="absent.missing-address.test.", preference=20),
    ],
}


def notes(zone, version):
    return [NOTE.format(version=version, **n) for n in NOTES.get(zone, [])]


@pytest.mark.parametrize("zone", sorted(EXPECTED))
def test_sample_zone(check, zone):
    r = check("-q", "--knot-version", "3.4", zone + ".zone")
    assert r.out == EXPECTED[zone]
    assert r.err == []
    assert r.rc == (1 if EXPECTED[zone] else 0)


@pytest.mark.parametrize("version", ["3.2", "3.3"])
@pytest.mark.parametrize("zone", sorted(EXPECTED))
def test_sample_zone_notes(check, zone, version):
    # The same findings and exit status; the notes on standard error.
    r = check("-q", "--knot-version", version, zone + ".zone")
    assert r.out == EXPECTED[zone]
    assert r.err == notes(zone, version)
    assert r.rc == (1 if EXPECTED[zone] else 0)


def test_summary_on_stderr(check):
    r = check("loopback.zone", "clean.zone")
    assert r.rc == 1
    assert r.out == EXPECTED["loopback"]
    assert r.err == [
        "loopback.zone: zone loopback.test.: 8 records, 3 MX RRsets checked, "
        "3 findings (loopback 3)",
        "clean.zone: zone clean.test.: 8 records, 1 MX RRsets checked, 0 findings",
    ]


def test_every_zone_at_once(check):
    zones = sorted(EXPECTED)
    r = check("-q", "--knot-version", "3.4", *[z + ".zone" for z in zones])
    assert r.rc == 1
    assert r.out == [line for z in zones for line in EXPECTED[z]]


# What is not served is not judged: records below a delegation or a DNAME.
def test_occluded_mx_not_checked(check, tmp_path):
    zone = tmp_path / "occluded.zone"
    zone.write_text(
        "$ORIGIN occluded.test.\n"
        "@ SOA ns hm 1 2 3 4 5\n"
        "sub NS ns.example.\n"
        "sub MX 10 localhost.\n"
        "x.sub MX 10 localhost.\n"
        "old DNAME new.example.\n"
        "x.old MX 10 localhost.\n"
        "old MX 10 localhost.\n"
        "@ NS ns.example.\n")
    r = check(str(zone))
    assert r.out == [
        "%s:8: violation loopback, owner old.occluded.test., exchange localhost., "
        "preference 10, action log" % zone]
    assert r.err == [
        "%s: zone occluded.test.: 8 records, 1 MX RRsets checked (3 not served: "
        "outside the zone, at or below a delegation or a DNAME), 1 finding "
        "(loopback 1)" % zone]


def test_out_of_zone_records_warned(check, tmp_path):
    zone = tmp_path / "outside.zone"
    zone.write_text(
        "$ORIGIN outside.test.\n"
        "@ SOA ns hm 1 2 3 4 5\n"
        "@ MX 10 mail\n"
        "mail A 203.0.114.25\n"
        "other.example. MX 10 localhost.\n"
        "@ NS ns.example.\n")
    r = check(str(zone))
    assert r.rc == 0
    assert r.out == []
    assert r.err[0] == ("%s:5: warning: other.example. is outside the zone "
                        "outside.test., ignored" % zone)


# Exchanges out of the zone, and what Knot 3.2 and 3.3 see of them.
#
# An exchange at or below a delegation, or strictly below a DNAME, is out of
# the zone for every kind, whatever glue the parent holds. Knot 3.2 and 3.3
# see only the glue knotd lists, one node for every exchange the zone has a
# name (or a wildcard) for: where it has none, the module cannot tell a
# missing name from one below a cut and only logs missing-address, inferred.
# The checker says so in a note.

# (zone, exchange, kinds reported for it, noted for Knot 3.2 and 3.3)
EXCHANGES = [
    # Delegated, no glue.
    ("delegation.zone", "mx.glueless.delegation.test.", [], True),
    # Delegated, with glue (127.0.0.1, 10.0.0.25): not the zone's data.
    ("delegation.zone", "mx.child.delegation.test.", [], False),
    ("delegation.zone", "mx.glued.delegation.test.", [], False),
    # The delegation point itself.
    ("delegation.zone", "glued.delegation.test.", [], False),
    # Below a DNAME, whether its target is in the zone or not.
    ("dname.zone", "mx.dn.dname.test.", [], True),
    ("dname.zone", "mx.old.dname.test.", [], True),
    # A DNAME at the exchange itself redirects only the names below it.
    ("dname.zone", "old.dname.test.", [], False),
    # Aliases.
    ("cname-exchange.zone", "alias.cname-exchange.test.", ["cname-exchange"], False),
    ("wildcard.zone", "mx.alias.wildcard.test.", ["cname-exchange"], False),
    # Another zone's.
    ("out-of-zone.zone", "mail.example.", [], False),
    # A missing name, beside a good exchange in the same RRset.
    ("missing-address.zone", "absent.missing-address.test.", ["missing-address"], True),
    ("missing-address.zone", "mail.missing-address.test.", [], False),
    # Names the zone has, without an address: every version judges them.
    ("missing-address.zone", "txt-only.missing-address.test.", ["missing-address"], False),
    ("ent.zone", "b.ent.ent.test.", ["missing-address"], False),
    # Covered by a wildcard.
    ("wildcard.zone", "mx.hosts.wildcard.test.", [], False),
]


def mx_targets(zone):
    """The exchanges written in a sample zone, as absolute names."""
    origin, targets = None, set()
    with open(os.path.join(ZONES, zone)) as f:
        for line in f:
            words = line.split()
            if words[:1] == ["$ORIGIN"]:
                origin = words[1]
            elif len(words) >= 4 and words[1] == "MX":
                name = words[3]
                targets.add(name if name.endswith(".") else name + "." + origin)
    return targets


def verdicts(check, zone, version):
    """Kinds reported for each exchange, and the exchanges noted."""
    r = check("-q", "--format", "json", "--knot-version", version, zone)
    found, noted = {}, []
    for o in r.json():
        if "violation" in o:
            found.setdefault(o["exchange"], []).append(o["violation"])
        else:
            assert o["note"] == "missing-address"
            noted.append(o["exchange"])
    return r, found, noted


@pytest.mark.parametrize("version", ["3.2", "3.3", "3.4", "3.5"])
@pytest.mark.parametrize("zone,exchange,kinds,noted", EXCHANGES,
                         ids=[e[1] for e in EXCHANGES])
def test_exchange_verdict(check, zone, exchange, kinds, noted, version):
    assert exchange in mx_targets(zone)
    r, found, notes = verdicts(check, zone, version)
    assert r.err == []
    assert found.get(exchange, []) == kinds
    assert notes.count(exchange) == (1 if noted and version in ("3.2", "3.3") else 0)


def test_notes_json(check):
    r = check("--format", "json", "--knot-version", "3.3", "missing-address.zone")
    assert r.rc == 1
    objects = r.json()
    notes = [o for o in objects if "note" in o]
    assert notes == [
        {"file": "missing-address.zone", "line": 6, "zone": "missing-address.test.",
         "note": "missing-address", "owner": "missing-address.test.",
         "exchange": "nowhere.missing-address.test.", "preference": 10,
         "knot_version": "3.3", "action": "log", "inferred": True},
        {"file": "missing-address.zone", "line": 12, "zone": "missing-address.test.",
         "note": "missing-address", "owner": "pair.missing-address.test.",
         "exchange": "absent.missing-address.test.", "preference": 20,
         "knot_version": "3.3", "action": "log", "inferred": True},
    ]
    # Each note follows the findings of its record; the summary counts both.
    assert [(o["line"], "note" in o) for o in objects[:-1]] == \
        [(6, False), (6, True), (7, False), (12, False), (12, True)]
    assert objects[-1]["findings"] == 3 and objects[-1]["notes"] == 2
    assert "violation" not in objects[-1] and "note" not in objects[-1]
    r = check("--format", "json", "--knot-version", "3.4", "missing-address.zone")
    assert not any("note" in o for o in r.json())
    assert r.json()[-1]["notes"] == 0


def test_notes_are_no_findings(check):
    # A note changes neither the exit status nor the findings counted.
    r = check("--knot-version", "3.2", "--fail-on", "log", "delegation.zone", "dname.zone")
    assert r.rc == 0
    assert r.out == []
    assert r.err == notes("delegation", "3.2") + [
        "delegation.zone: zone delegation.test.: 13 records, 1 MX RRsets checked, "
        "0 findings, 1 note for knotd 3.2"] + notes("dname", "3.2") + [
        "dname.zone: zone dname.test.: 10 records, 2 MX RRsets checked, "
        "0 findings, 2 notes for knotd 3.2"]
    r = check("--knot-version", "3.2", "missing-address.zone")
    assert r.rc == 1
    assert r.err[-1] == ("missing-address.zone: zone missing-address.test.: 10 records, "
                         "3 MX RRsets checked, 3 findings (missing-address 3), "
                         "2 notes for knotd 3.2")
    r = check("--knot-version", "3.4", "delegation.zone")
    assert r.err == ["delegation.zone: zone delegation.test.: 13 records, "
                     "1 MX RRsets checked, 0 findings"]


def test_notes_follow_the_policy(check, tmp_path):
    # Where missing-address is off, the older server logs nothing either.
    conf = tmp_path / "knot.conf"
    conf.write_text("mod-mxguard:\n  - id: a\n    missing-address: off\n"
                    "  - id: b\n    missing-address: strip\n")
    r = check("-q", "--knot-version", "3.2", "-c", str(conf), "--module-id", "a",
              "missing-address.zone", "dname.zone")
    assert (r.rc, r.out, r.err) == (0, [], [])
    # Enforcing or not, the inferred verdict is only logged.
    r = check("-q", "--knot-version", "3.2", "-c", str(conf), "--module-id", "b",
              "missing-address.zone")
    assert r.err == notes("missing-address", "3.2")
    assert [line.split()[-1] for line in r.out] == ["strip"] * 3


def test_knot_version_default(check):
    # By default, the Knot series the checker was built against.
    help_text = " ".join(check("--help").out)
    m = re.search(r"--knot-version MAJOR\.MINOR .*\(default: (\d+)\.(\d+)\)", help_text)
    assert m, help_text
    version = "%s.%s" % m.groups()
    assert (int(m.group(1)), int(m.group(2))) >= (3, 2)
    zones = [z + ".zone" for z in sorted(EXPECTED)]
    default = check("-q", "--format", "json", *zones)
    given = check("-q", "--format", "json", "--knot-version", version, *zones)
    assert (default.rc, default.out, default.err) == (given.rc, given.out, given.err)


@pytest.mark.parametrize("value", ["3.2", "3.3", "3.4", "3.10", "4.0", "03.02"])
def test_knot_version_accepted(check, value):
    r = check("-q", "--knot-version", value, "clean.zone")
    assert (r.rc, r.out, r.err) == (0, [], [])


@pytest.mark.parametrize("value", ["", "3", "3.", ".2", "3.2.6", "3,2", "x.y", "3.x",
                                   "-3.2", "+3.2", " 3.2", "3.2 ", "3.256", "3.1",
                                   "2.9", "0.0"])
def test_knot_version_refused(check, value):
    r = check("--knot-version", value, "clean.zone")
    assert r.rc == 2
    assert r.out == []
    assert r.err == ["mxguard-check: invalid --knot-version '%s' (MAJOR.MINOR, "
                     "3.2 or later)" % value, "Try 'mxguard-check --help'."]


def test_findings_in_record_order(check):
    # The rules find provider-mix after the other kinds; the output follows
    # the RRset's records in canonical order (preference first) all the same.
    r = check("mix-order.zone")
    kinds = [(line.split(", ")[3], line.split(", ")[0].split("violation ")[1])
             for line in r.out]
    assert kinds == [
        ("preference 1", "provider-mix"),
        ("preference 5", "loopback"),
        ("preference 10", "provider-mix"),
    ]
