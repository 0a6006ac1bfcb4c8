# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every kind under every action, over UDP and TCP, with and without EDNS."""

import dns.message
import dns.rdatatype
import pytest

from knotd_harness import EXACT_LOOKUPS, Knotd, conf

KINDS = ["ip-literal", "loopback", "special-address", "missing-address",
         "null-mx-conflict", "self-exchange", "cname-exchange"]
# Mail to these can be delivered: they take only off and log (issue 21).
LOG_ONLY = {"self-exchange", "cname-exchange"}

# name -> (its kind, the MX data in the zone, what strip leaves)
NAMES = {
    "iplit.example.test.": ("ip-literal", {"10 192.0.2.1."}, {"0 ."}),
    "loop.example.test.": ("loopback", {"10 localhost."}, {"0 ."}),
    "loopaddr.example.test.": ("loopback", {"10 mx-lo.example.test."}, {"0 ."}),
    "partial.example.test.": ("loopback", {"10 mx1.example.test.", "20 mx-lo.example.test.",
                                           "30 mx2.example.test."},
                              {"10 mx1.example.test.", "30 mx2.example.test."}),
    "special.example.test.": ("special-address", {"10 mx-private.example.test."}, {"0 ."}),
    "special6.example.test.": ("special-address", {"10 mx-ula.example.test."}, {"0 ."}),
    # A name the zone lacks: proven with lookups (Knot 3.4+); before, it may
    # lie below a zone cut or a DNAME, and is only logged.
    "missing.example.test.": ("missing-address", {"10 mx-none.example.test."},
                              {"0 ."} if EXACT_LOOKUPS else None),
    "missingcname.example.test.": ("cname-exchange", {"10 mx-alias.example.test."}, None),
    "nullmix.example.test.": ("null-mx-conflict", {"0 .", "10 mx1.example.test."}, {"0 ."}),
    "nullpref.example.test.": ("null-mx-conflict", {"10 ."}, {"0 ."}),
    "self.example.test.": ("self-exchange", {"10 self.example.test."}, None),
}


@pytest.fixture(scope="module", params=["off", "log", "strip", "null-mx"])
def server(request):
    action = request.param
    items = "".join(f"    {kind}: {logged(kind, action)}\n" for kind in KINDS)
    modules = f"""
mod-mxguard:
  - id: all
{items}    log-interval: 0
"""
    s = Knotd(conf(modules, "  - domain: example.test\n    module: mod-mxguard/all\n"),
              zones=("example.test",)).start()
    s.action = action
    yield s
    s.cleanup()


def logged(kind, action):
    return "log" if kind in LOG_ONLY and action in ("strip", "null-mx") else action


def expected(action, zone_data, stripped):
    """stripped is None where the module only logs (the answer is the zone's).
    null-mx removes what strip removes: a null MX only when nothing is left."""
    if stripped is None or action in ("off", "log"):
        return zone_data
    return stripped


@pytest.mark.parametrize("transport", ["udp", "udp-noedns", "tcp"])
@pytest.mark.parametrize("name", list(NAMES))
def test_kind_under_action(server, name, transport):
    kind, zone_data, stripped = NAMES[name]
    edns = {} if transport == "udp-noedns" else {"use_edns": 0, "payload": 1232}
    q = dns.message.make_query(name, "MX", **edns)
    mark = server.log_mark()
    r = dns.message.from_wire(server.raw_query(q.to_wire(), transport == "tcp"))

    mx = [rrset for rrset in r.answer if rrset.rdtype == dns.rdatatype.MX]
    assert len(mx) == 1 and mx[0].ttl == 3600
    assert {rd.to_text() for rd in mx[0]} == expected(server.action, zone_data, stripped)
    done = "log" if stripped is None else logged(kind, server.action)
    assert (r.edns == 0) == bool(edns)

    lines = server.violation_lines(mark)
    mine = [l for l in lines if f", violation {kind}, owner {name}," in l]
    if server.action == "off":
        assert lines == []
    else:
        tail = ", verdict inferred" if kind == "missing-address" and not EXACT_LOOKUPS else ""
        assert mine and all(l.endswith(f", action {done}{tail}") for l in mine), lines
