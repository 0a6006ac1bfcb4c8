# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every kind of violation is logged exactly, answers stay byte-identical."""

import dns.message
import dns.query
import dns.rdatatype
import dns.zone
import pytest

from knotd_harness import EXACT_LOOKUPS, ZONES

PREFIX = "[example.test.] module 'mod-mxguard/default', "

# (query name, type) -> the exact violation lines it logs, in order.
CASES = {
    ("clean.example.test.", "MX"): [],
    ("iplit.example.test.", "MX"): [
        "violation ip-literal, owner iplit.example.test., exchange 192.0.2.1., "
        "preference 10, address 192.0.2.1, action log",
        "violation special-address, owner iplit.example.test., exchange 192.0.2.1., "
        "preference 10, address 192.0.2.1, action log",
    ],
    ("loop.example.test.", "MX"): [
        "violation loopback, owner loop.example.test., exchange localhost., "
        "preference 10, action log",
    ],
    ("loopaddr.example.test.", "MX"): [
        "violation loopback, owner loopaddr.example.test., exchange mx-lo.example.test., "
        "preference 10, address 127.0.0.1, action log",
    ],
    ("special.example.test.", "MX"): [
        "violation special-address, owner special.example.test., "
        "exchange mx-private.example.test., preference 10, address 10.1.2.3, action log",
    ],
    ("special6.example.test.", "MX"): [
        "violation special-address, owner special6.example.test., "
        "exchange mx-ula.example.test., preference 10, address fd00::25, action log",
    ],
    ("allowed.example.test.", "MX"): [],
    # A name the zone does not have: proven by lookups (Knot 3.4+), only
    # inferred from knotd's glue list before (it may lie below a cut).
    ("missing.example.test.", "MX"): [
        "violation missing-address, owner missing.example.test., "
        "exchange mx-none.example.test., preference 10, action log"
        + ("" if EXACT_LOOKUPS else ", verdict inferred"),
    ],
    # An alias: its node is in knotd's glue list on every version.
    ("missingcname.example.test.", "MX"): [
        "violation cname-exchange, owner missingcname.example.test., "
        "exchange mx-alias.example.test., preference 10, action log",
    ],
    ("nullmix.example.test.", "MX"): [
        "violation null-mx-conflict, owner nullmix.example.test., exchange ., "
        "preference 0, action log",
    ],
    ("nullpref.example.test.", "MX"): [
        "violation null-mx-conflict, owner nullpref.example.test., exchange ., "
        "preference 10, action log",
    ],
    ("nullok.example.test.", "MX"): [],
    ("self.example.test.", "MX"): [
        "violation self-exchange, owner self.example.test., exchange self.example.test., "
        "preference 10, action log",
    ],
    ("mix.example.test.", "MX"): [
        "violation provider-mix, owner mix.example.test., exchange aspmx.l.google.com., "
        "preference 1, provider google, action log",
        "violation provider-mix, owner mix.example.test., "
        "exchange example-test.mail.protection.outlook.com., preference 10, "
        "provider microsoft365, action log",
    ],
    ("external.example.test.", "MX"): [],
    ("twice.example.test.", "MX"): [
        "violation loopback, owner twice.example.test., exchange localhost., "
        "preference 10, action log",
        "violation loopback, owner twice.example.test., exchange mx-lo.example.test., "
        "preference 20, address 127.0.0.1, action log",
    ],
    # Exchanges that need a look into the zones: exact verdicts on Knot 3.4+,
    # on 3.2 only what the glue shows (documented in docs/reference/mxguard.rst).
    # Below a DNAME the name is another zone's: no violation where that is
    # known, an inferred one where the zone merely has no such name.
    ("dnamed.example.test.", "MX"): [] if EXACT_LOOKUPS else [
        "violation missing-address, owner dnamed.example.test., "
        "exchange mx.dn.example.test., preference 10, action log, verdict inferred"
    ],
    ("wildex.example.test.", "MX"): [
        "violation loopback, owner wildex.example.test., "
        "exchange host.wildhosts.example.test., preference 10, address 127.0.0.2, "
        "action log"
    ],
    ("otherzone.example.test.", "MX"): [
        "violation loopback, owner otherzone.example.test., exchange lo.other.test., "
        "preference 10, address 127.0.0.1, action log"
    ] if EXACT_LOOKUPS else [],
    ("otherclean.example.test.", "MX"): [],
    # Glue below a zone cut is the child's business, on every version.
    ("delegated.example.test.", "MX"): [],
    # The end of a CNAME chain, a wildcard expansion, an ANY answer.
    ("chain.example.test.", "MX"): [
        "violation loopback, owner loop.example.test., exchange localhost., "
        "preference 10, action log",
    ],
    ("foo.wild.example.test.", "MX"): [
        "violation loopback, owner foo.wild.example.test., exchange localhost., "
        "preference 10, action log",
    ],
    ("anymx.example.test.", "ANY"): [
        "violation loopback, owner anymx.example.test., exchange localhost., "
        "preference 10, action log",
    ],
}


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
@pytest.mark.parametrize("qname,qtype", list(CASES), ids=[f"{n}{t}" for n, t in CASES])
def test_violation_logged_answer_unchanged(knotd, bare_knotd, qname, qtype, tcp):
    mark = knotd.log_mark()
    q = dns.message.make_query(qname, qtype, use_edns=0, payload=1232).to_wire()
    got = knotd.raw_query(q, tcp)
    ref = bare_knotd.raw_query(q, tcp)

    assert got == ref, "the module changed the answer"
    answer = dns.message.from_wire(got)
    assert answer.rcode() == 0
    assert any(rr.rdtype == dns.rdatatype.MX for rr in answer.answer)
    assert knotd.violation_lines(mark) == [PREFIX + l for l in CASES[(qname, qtype)]]


def test_clean_zone_without_config_section_logs_nothing(knotd):
    mark = knotd.log_mark()
    for name in ("clean.test.", "www.clean.test.", "nothing.clean.test."):
        for rdtype in ("MX", "ANY", "A"):
            knotd.query(name, rdtype, use_edns=0)
    assert knotd.module_lines(mark) == []


def test_non_mx_queries_log_nothing(knotd):
    mark = knotd.log_mark()
    for name in ("loop.example.test.", "mx-lo.example.test.", "nx.example.test."):
        for rdtype in ("A", "AAAA", "TXT", "NS", "SOA"):
            knotd.query(name, rdtype, use_edns=0)
    assert knotd.module_lines(mark) == []


MISSING_BIG = (PREFIX + "violation missing-address, owner big.example.test., "
               "exchange mx-none.example.test., preference 99, action log"
               + ("" if EXACT_LOOKUPS else ", verdict inferred"))


def test_glue_cut_for_size_never_reports_missing_address(knotd):
    # 40 exchanges with A and AAAA do not fit into 1232 bytes: knotd drops glue.
    mark = knotd.log_mark()
    udp = knotd.query("big.example.test.", "MX", use_edns=0, payload=1232)
    assert not udp.flags & dns.flags.TC
    assert len(udp.answer[0]) == 41
    glue = sum(len(rrset) for rrset in udp.additional)
    assert glue < 80, "the glue must overflow for this test to mean anything"
    # Judged before knotd writes the glue: what the glue lacks does not matter.
    assert knotd.violation_lines(mark) == [MISSING_BIG]

    # Over TCP the glue is complete, and the exchange without address is found.
    mark = knotd.log_mark()
    tcp = knotd.query("big.example.test.", "MX", tcp=True)
    assert sum(len(rrset) for rrset in tcp.additional) == 80
    assert knotd.violation_lines(mark) == [MISSING_BIG]


def test_truncated_answer_without_mx_logs_nothing(knotd):
    mark = knotd.log_mark()
    r = knotd.query("big.example.test.", "MX")  # no EDNS: 512 bytes
    assert r.flags & dns.flags.TC
    assert r.answer == []
    assert knotd.violation_lines(mark) == []


def test_axfr_returns_every_record_and_logs_nothing(knotd, bare_knotd):
    mark = knotd.log_mark()
    got = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", "example.test.", port=knotd.port))
    ref = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", "example.test.",
                                          port=bare_knotd.port))
    assert got == ref
    mx = [n for n, node in got.nodes.items() if node.get_rdataset(1, dns.rdatatype.MX)]
    assert len(mx) > 15
    assert knotd.module_lines(mark) == []


def test_zone_stats_count_violations(knotd):
    knotd.query("loop.example.test.", "MX")
    out = knotd.knotc("zone-stats", "example.test", "mod-mxguard").stdout
    stats = dict(line.rsplit(" = ", 1) for line in out.splitlines() if " = " in line)
    assert int(stats["[example.test.] mod-mxguard.violation[loopback]"]) >= 1
    assert int(stats["[example.test.] mod-mxguard.action[log]"]) >= 1
    assert int(stats["[example.test.] mod-mxguard.inspected"]) >= 1
    assert stats.get("[example.test.] mod-mxguard.error", "0") == "0"

    clean = knotd.knotc("zone-stats", "clean.test", "mod-mxguard").stdout
    assert "violation" not in clean
