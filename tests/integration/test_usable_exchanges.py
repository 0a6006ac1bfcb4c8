# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""Never "no mail" for a domain that takes mail (issue 21): under every
enforcing action, exchanges below a zone cut, below a DNAME, behind a CNAME
or in another server's zone are served as the zone has them; a missing
exchange is removed only where the module proves it (Knot 3.4+), and a set
becomes a null MX only when no record that may take mail is left."""

import dns.message
import dns.rdatatype
import pytest

from knotd_harness import EXACT_LOOKUPS, Knotd, conf

ZONE = "usable.test"

# Every kind that takes an enforcing action gets it; the others log.
ENFORCEABLE = ["ip-literal", "loopback", "special-address", "missing-address",
               "null-mx-conflict"]
LOG_ONLY = ["self-exchange", "cname-exchange", "provider-mix"]


def inferred(name, exchange):
    """The line of a missing-address the module can only infer (Knot 3.2)."""
    return (name, exchange, "missing-address", "log, verdict inferred")


# name -> (zone data, answer with lookups, answer without, lines with, without)
CASES = {
    "deleg": ({"10 mx.child"}, None, None, [], [inferred("deleg", "mx.child")]),
    "delegglue": ({"10 mx.glued"}, None, None, [], []),
    "dname": ({"10 mx.dn"}, None, None, [], [inferred("dname", "mx.dn")]),
    "cname": ({"10 alias"}, None, None,
              [("cname", "alias", "cname-exchange", "log")],
              [("cname", "alias", "cname-exchange", "log")]),
    "outside": ({"10 mx.elsewhere.example."}, None, None, [], []),
    "field": ({"10 mx.corp"}, None, None, [], [inferred("field", "mx.corp")]),
    "missing": ({"10 good", "20 nothere"}, {"10 good"}, None,
                [("missing", "nothere", "missing-address", "ACTION")],
                [inferred("missing", "nothere")]),
    "allbad": ({"10 localhost.", "20 nothere"}, {"0 ."}, {"20 nothere"},
               [("allbad", "localhost.", "loopback", "ACTION"),
                ("allbad", "nothere", "missing-address", "ACTION")],
               [("allbad", "localhost.", "loopback", "ACTION"),
                inferred("allbad", "nothere")]),
}


def fqdn(exchange):
    return exchange if exchange.endswith(".") else f"{exchange}.{ZONE}."


def absolute(rdata):
    pref, exchange = rdata.split()
    return f"{pref} {fqdn(exchange)}"


def ready(server):
    return server.query(f"ns.{ZONE}.", "A", timeout=1).answer != []


@pytest.fixture(scope="module", params=["strip", "null-mx"])
def server(request):
    items = "".join(f"    {k}: {request.param}\n" for k in ENFORCEABLE)
    items += "".join(f"    {k}: log\n" for k in LOG_ONLY)
    modules = f"mod-mxguard:\n  - id: enforce\n{items}    log-interval: 0\n"
    s = Knotd(conf(modules, f"  - domain: {ZONE}\n    module: mod-mxguard/enforce\n"),
              zones=(ZONE,)).start(ready=ready)
    s.action = request.param
    yield s
    s.cleanup()


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
@pytest.mark.parametrize("name", list(CASES))
def test_only_proven_records_rewritten(server, name, tcp):
    data, with_lookups, without, lines_with, lines_without = CASES[name]
    want = with_lookups if EXACT_LOOKUPS else without
    want = {absolute(r) for r in (want or data)}
    owner = f"{name}.{ZONE}."
    mark = server.log_mark()
    q = dns.message.make_query(owner, "MX", use_edns=0, payload=1232)
    r = dns.message.from_wire(server.raw_query(q.to_wire(), tcp))

    mx = [rrset for rrset in r.answer if rrset.rdtype == dns.rdatatype.MX]
    assert len(mx) == 1, r
    got = {rd.to_text() for rd in mx[0]}
    assert got == want, r
    # Never "no mail" while a record that may take mail is served.
    assert got == {"0 ."} or "0 ." not in got

    expected = [(f"violation {kind}, owner {label}.{ZONE}., exchange {fqdn(exchange)}, ",
                 action.replace("ACTION", server.action))
                for label, exchange, kind, action in
                (lines_with if EXACT_LOOKUPS else lines_without)]
    lines = server.violation_lines(mark)
    assert len(lines) == len(expected), lines
    for (start, action), line in zip(expected, lines):
        assert start in line and line.endswith(f", action {action}"), (start, action, lines)
