# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""mod-mxguard beside mod-onlinesign: what a validating resolver gets.

mod-onlinesign signs the answer section in knotd's ANSWER stage, with keys
the module does not use (it signs only for zones with dnssec-signing: on).
Where the module rewrites decides (docs/reference/mxguard.rst, "With
mod-onlinesign"):

- The module rewrites in the ANSWER stage on every Knot version: listed
  before mod-onlinesign, its rewrites and null MX answers are signed by
  onlinesign and validate, DO or not.
- Listed after mod-onlinesign, on every version, the null MX goes out
  unsigned in a DO answer and DO answers with violations are not
  rewritten: the wrong order.
"""

import dns.dnssec
import dns.message
import dns.name
import dns.rdatatype
import pytest

from knotd_harness import Knotd, ask_dnssec, conf, dnskey, mx_and_sigs

ZONE = dns.name.from_text("example.test.")

MODULES = """
mod-mxguard:
  - id: enforce
    loopback: strip
    ip-literal: null-mx
    self-exchange: log
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
    return ask_dnssec(server, name, "MX", do=do, tcp=True)


def onlinesign_keys(server):
    keys = dnskey(server)
    assert keys is not None, "onlinesign serves no DNSKEY"
    return keys


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


def test_before_onlinesign_do_answer(before):
    keys = onlinesign_keys(before)
    mark = before.log_mark()
    r = ask(before, "loop.example.test.")
    mx, sigs = mx_and_sigs(r, "loop.example.test.")
    dns.dnssec.validate(mx, sigs, {ZONE: keys})
    lines = before.module_lines(mark)
    skipped = ("[example.test.] module 'mod-mxguard/enforce', not enforced, owner "
               "loop.example.test., action strip, reason no-signing-keys")
    # Rewritten before onlinesign signs: the null MX is what is signed.
    assert [rd.to_text() for rd in mx] == ["0 ."]
    assert skipped not in lines


def test_before_onlinesign_answer_without_do_is_rewritten(before):
    r = ask(before, "loop.example.test.", do=False)
    mx, _ = mx_and_sigs(r, "loop.example.test.")
    assert [rd.to_text() for rd in mx] == ["0 ."]
    r = ask(before, "iplit.example.test.", do=False)
    mx, _ = mx_and_sigs(r, "iplit.example.test.")
    assert [rd.to_text() for rd in mx] == ["0 ."]
    # self-exchange is only logged.
    r = ask(before, "self.example.test.", do=False)
    mx, _ = mx_and_sigs(r, "self.example.test.")
    assert [rd.to_text() for rd in mx] == ["10 self.example.test."]


def test_unsigned_allow_with_onlinesign():
    s = server_with(["mod-mxguard/enforce-allow", "mod-onlinesign"])
    try:
        keys = onlinesign_keys(s)
        r = ask(s, "loop.example.test.")
        mx, sigs = mx_and_sigs(r, "loop.example.test.")
        assert [rd.to_text() for rd in mx] == ["0 ."]
        dns.dnssec.validate(mx, sigs, {ZONE: keys})
    finally:
        s.cleanup()


def test_after_onlinesign_is_the_wrong_order():
    s = server_with(["mod-onlinesign", "mod-mxguard/enforce"])
    try:
        keys = onlinesign_keys(s)
        r = ask(s, "parked.example.test.")
        mx, sigs = mx_and_sigs(r, "parked.example.test.")
        assert [rd.to_text() for rd in mx] == ["0 ."]
        assert sigs is None          # the null MX goes out unsigned
        r = ask(s, "loop.example.test.")
        mx, sigs = mx_and_sigs(r, "loop.example.test.")
        assert [rd.to_text() for rd in mx] == ["10 localhost."]  # not rewritten
        dns.dnssec.validate(mx, sigs, {ZONE: keys})
    finally:
        s.cleanup()
