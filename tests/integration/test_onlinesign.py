# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""mod-mxguard beside mod-onlinesign: what a validating resolver gets.

On Knot 3.2, mod-onlinesign signs the answer section in the ANSWER stage,
and mod-mxguard rewrites in the ADDITIONAL stage, after it, without the
keys of onlinesign (it signs only for zones with dnssec-signing: on). What
this pins down (module/mxguard.rst, "With mod-onlinesign"):

- listed before mod-onlinesign, a synthesised null MX is signed by
  onlinesign and validates;
- a violation in a DO answer is not rewritten (the answer already carries
  onlinesign's signature): it validates, 'not enforced ... reason
  no-signing-keys' is logged and counted in 'skipped'; without DO the
  answer is rewritten;
- listed after mod-onlinesign, the synthesised null MX goes out unsigned
  in a DO answer: the wrong order.
"""

import dns.dnssec
import dns.message
import dns.name
import dns.rdatatype
import pytest

from knotd_harness import Knotd, conf

ZONE = dns.name.from_text("example.test.")

MODULES = """
mod-mxguard:
  - id: enforce
    loopback: strip
    self-exchange: null-mx
    null-mx: parked.example.test
    log-interval: 0
  - id: enforce-allow
    loopback: strip
    null-mx: parked.example.test
    log-interval: 0
    dnssec-unsigned: allow
"""


def server_with(modules):
    zone = "  - domain: example.test\n    module: [ %s ]\n" % ", ".join(modules)
    return Knotd(conf(MODULES, zone), zones=("example.test",)).start()


def ask(server, name, do=True):
    q = dns.message.make_query(name, "MX", want_dnssec=do, payload=1232)
    return dns.message.from_wire(server.raw_query(q.to_wire(), tcp=True))


def onlinesign_keys(server):
    q = dns.message.make_query("example.test.", "DNSKEY", want_dnssec=True)
    r = dns.message.from_wire(server.raw_query(q.to_wire(), tcp=True))
    keys = r.get_rrset(r.answer, ZONE, 1, dns.rdatatype.DNSKEY)
    assert keys is not None, "onlinesign serves no DNSKEY"
    return keys


def mx_and_sigs(r, owner):
    name = dns.name.from_text(owner)
    return (r.get_rrset(r.answer, name, 1, dns.rdatatype.MX),
            r.get_rrset(r.answer, name, 1, dns.rdatatype.RRSIG, dns.rdatatype.MX))


@pytest.fixture(scope="module")
def before():
    s = server_with(["mod-mxguard/enforce", "mod-onlinesign"])
    yield s
    s.cleanup()


def test_before_onlinesign_null_mx_is_signed_and_validates(before):
    keys = onlinesign_keys(before)
    r = ask(before, "parked.example.test.")
    mx, sigs = mx_and_sigs(r, "parked.example.test.")
    assert [rd.to_text() for rd in mx] == ["0 ."]
    assert sigs is not None
    dns.dnssec.validate(mx, sigs, {ZONE: keys})


def test_before_onlinesign_do_answer_is_not_rewritten_but_validates(before):
    keys = onlinesign_keys(before)
    mark = before.log_mark()
    r = ask(before, "loop.example.test.")
    mx, sigs = mx_and_sigs(r, "loop.example.test.")
    assert [rd.to_text() for rd in mx] == ["10 localhost."]
    dns.dnssec.validate(mx, sigs, {ZONE: keys})
    assert ("[example.test.] module 'mod-mxguard/enforce', not enforced, owner "
            "loop.example.test., action strip, reason no-signing-keys"
            ) in before.module_lines(mark)
    out = before.knotc("zone-stats", "example.test", "mod-mxguard").stdout
    assert "mod-mxguard.skipped = 0" not in out


def test_before_onlinesign_answer_without_do_is_rewritten(before):
    r = ask(before, "loop.example.test.", do=False)
    mx, _ = mx_and_sigs(r, "loop.example.test.")
    assert [rd.to_text() for rd in mx] == ["0 ."]
    r = ask(before, "self.example.test.", do=False)
    mx, _ = mx_and_sigs(r, "self.example.test.")
    assert [rd.to_text() for rd in mx] == ["0 ."]


def test_unsigned_allow_serves_the_rewrite_without_signature():
    s = server_with(["mod-mxguard/enforce-allow", "mod-onlinesign"])
    try:
        r = ask(s, "loop.example.test.")
        mx, sigs = mx_and_sigs(r, "loop.example.test.")
        assert [rd.to_text() for rd in mx] == ["0 ."]
        assert sigs is None      # bogus to a validating resolver
    finally:
        s.cleanup()


def test_after_onlinesign_null_mx_goes_out_unsigned():
    s = server_with(["mod-onlinesign", "mod-mxguard/enforce"])
    try:
        r = ask(s, "parked.example.test.")
        mx, sigs = mx_and_sigs(r, "parked.example.test.")
        assert [rd.to_text() for rd in mx] == ["0 ."]
        assert sigs is None
    finally:
        s.cleanup()
