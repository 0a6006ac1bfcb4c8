# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""Signed zones: a rewritten RRset is signed again or not rewritten at all."""

import concurrent.futures
import os
import time

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.rdatatype
import dns.query
import dns.zone
import pytest

from knotd_harness import Knotd, ask_dnssec, conf, dnskey, mx_and_sigs, wait_signed

ZONE = dns.name.from_text("example.test.")

MODULES = """
policy:
  - id: short
    # knotd checks refresh against this declared maximum TTL, not the
    # records' own (1 hour).
    zone-max-ttl: 60
    propagation-delay: 0
    rrsig-lifetime: 10m
    rrsig-refresh: 3m
    rrsig-pre-refresh: 1m

mod-mxguard:
  - id: enforce
    loopback: strip
    ip-literal: null-mx
    self-exchange: log
    null-mx: parked.example.test
    log-interval: 0
  - id: enforce-nocache
    loopback: strip
    ip-literal: null-mx
    self-exchange: log
    null-mx: parked.example.test
    log-interval: 0
    verdict-cache-size: 0
  - id: enforce-allow
    loopback: strip
    ip-literal: null-mx
    self-exchange: log
    null-mx: parked.example.test
    log-interval: 0
    dnssec-unsigned: allow
"""


def ask(server, name, do=True, tcp=True):
    return ask_dnssec(server, name, "MX", do=do, tcp=tcp)


def reload_module(server):
    # Keys made after the module loaded are seen only when it loads again.
    res = server.knotc("zone-reload", "-f", "example.test")
    assert res.returncode == 0, res.stdout + res.stderr
    time.sleep(1.0)


def signing_server(module, policy=None):
    zone = "  - domain: example.test\n    dnssec-signing: on\n    module: %s\n" % module
    if policy:
        zone += "    dnssec-policy: %s\n" % policy
    s = Knotd(conf(MODULES, zone), zones=("example.test",)).start()
    wait_signed(s)
    reload_module(s)
    return s


@pytest.fixture(scope="module")
def signer():
    s = signing_server("mod-mxguard/enforce")
    yield s
    s.cleanup()


def validate(r, owner, keys):
    mx, sigs = mx_and_sigs(r, owner)
    assert mx is not None and sigs is not None
    dns.dnssec.validate(mx, sigs, {ZONE: keys})
    return mx


def test_rewritten_answer_is_signed_again_and_validates(signer):
    keys = dnskey(signer)
    r = ask(signer, "partial.example.test.")
    mx = validate(r, "partial.example.test.", keys)
    assert {rd.exchange.to_text() for rd in mx} == {"mx1.example.test.", "mx2.example.test."}
    # Every signature in the answer is of the new RRset: none of the old.
    _, sigs = mx_and_sigs(r, "partial.example.test.")
    for sig in sigs:
        dns.dnssec.validate_rrsig(mx, sig, {ZONE: keys})

    # Its only exchange removed, a null MX served (ip-literal: null-mx).
    r = ask(signer, "iplit.example.test.")
    mx = validate(r, "iplit.example.test.", keys)
    assert [rd.to_text() for rd in mx] == ["0 ."]

    # self-exchange is only logged: the zone's own RRset and signature.
    r = ask(signer, "self.example.test.")
    mx = validate(r, "self.example.test.", keys)
    assert [rd.to_text() for rd in mx] == ["10 self.example.test."]


def _rrsig_bytes(r, owner):
    _, sigs = mx_and_sigs(r, owner)
    assert sigs is not None
    return sorted(sig.to_text() for sig in sigs)


def test_signatures_are_kept_and_reused(signer):
    """The same rewritten RRset under the same keys is signed once: the
    second answer carries the very signature of the first (ECDSA signatures
    of the same data differ from one signing to the next), and it validates.
    Wildcard answers are signed as the wildcard, so two names under it share
    one."""
    keys = dnskey(signer)
    for name in ("partial.example.test.", "iplit.example.test."):
        first = ask(signer, name)
        second = ask(signer, name, tcp=False)
        validate(second, name, keys)
        assert _rrsig_bytes(first, name) == _rrsig_bytes(second, name)
    a = ask(signer, "one.wild.example.test.")
    b = ask(signer, "two.wild.example.test.")
    validate(b, "two.wild.example.test.", keys)
    assert _rrsig_bytes(a, "one.wild.example.test.") == \
        _rrsig_bytes(b, "two.wild.example.test.")


def test_without_cache_each_answer_is_signed_anew():
    s = signing_server("mod-mxguard/enforce-nocache")
    try:
        keys = dnskey(s)
        first = ask(s, "partial.example.test.")
        second = ask(s, "partial.example.test.")
        validate(first, "partial.example.test.", keys)
        validate(second, "partial.example.test.", keys)
        assert _rrsig_bytes(first, "partial.example.test.") != \
            _rrsig_bytes(second, "partial.example.test.")
    finally:
        s.cleanup()


def test_wildcard_rewrite_validates(signer):
    keys = dnskey(signer)
    r = ask(signer, "foo.wild.example.test.")
    mx = validate(r, "foo.wild.example.test.", keys)
    assert [rd.to_text() for rd in mx] == ["0 ."]
    # The proof that foo.wild does not exist is still there.
    assert any(rrset.rdtype == dns.rdatatype.NSEC for rrset in r.authority)


def test_synthesized_null_mx_is_signed(signer):
    keys = dnskey(signer)
    r = ask(signer, "parked.example.test.")
    mx = validate(r, "parked.example.test.", keys)
    assert [rd.to_text() for rd in mx] == ["0 ."]
    assert r.authority == []


def test_without_do_the_answer_is_rewritten_unsigned(signer):
    r = ask(signer, "partial.example.test.", do=False)
    mx, sigs = mx_and_sigs(r, "partial.example.test.")
    assert len(mx) == 2 and sigs is None


def test_clean_signed_answer_untouched(signer):
    keys = dnskey(signer)
    r = ask(signer, "clean.example.test.")
    validate(r, "clean.example.test.", keys)


def test_parallel_signing_stays_valid(signer):
    # knotd's signing context is shared by the workers: the module serialises.
    keys = dnskey(signer)

    def one(i):
        r = ask(signer, "partial.example.test.", tcp=bool(i % 2))
        validate(r, "partial.example.test.", keys)
        return True

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(one, range(200)))
    assert signer.alive()


def test_keys_made_after_load_are_used_at_once():
    # knotd makes the zone's first keys after the module has loaded: the
    # module finds them when it first signs, with no reload.
    zone = "  - domain: example.test\n    dnssec-signing: on\n    module: mod-mxguard/enforce\n"
    s = Knotd(conf(MODULES, zone), zones=("example.test",)).start()
    try:
        wait_signed(s)
        mark = s.log_mark()
        r = ask(s, "partial.example.test.")
        assert len(validate(r, "partial.example.test.", dnskey(s))) == 2
        assert not any("not enforced" in l for l in s.module_lines(mark))
    finally:
        s.cleanup()


def test_signatures_near_expiry_are_never_served():
    # rrsig-lifetime 10 minutes, TTL 1 hour: any signature the module could
    # make would expire while resolvers still cache it.
    s = signing_server("mod-mxguard/enforce", policy="short")
    try:
        mark = s.log_mark()
        r = ask(s, "partial.example.test.")
        mx, sigs = mx_and_sigs(r, "partial.example.test.")
        assert len(mx) == 3, "left as it is"
        dns.dnssec.validate(mx, sigs, {ZONE: dnskey(s)})
        lines = s.module_lines(mark)
        assert any("not enforced, owner partial.example.test., action strip, "
                   "reason signatures-expiring" in l for l in lines), lines
        assert any("violation loopback" in l and "action log" in l for l in lines)
    finally:
        s.cleanup()


@pytest.fixture(scope="module")
def offline_zone(signer):
    """The signed zone as a file: signed elsewhere, no keys in this knotd."""
    z = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", "example.test.", port=signer.port))
    return z.to_text(relativize=False)


def offline_server(offline_zone, module):
    s = Knotd(conf(MODULES, "  - domain: example.test\n    module: %s\n" % module),
              zones=("example.test",))
    with open(os.path.join(s.zonedir, "example.test.zone"), "w") as f:
        f.write(offline_zone)
    return s.start()


def test_offline_signed_zone_is_left_alone_and_logged(offline_zone):
    s = offline_server(offline_zone, "mod-mxguard/enforce")
    try:
        keys = dnskey(s)
        mark = s.log_mark()
        r = ask(s, "partial.example.test.")
        mx = validate(r, "partial.example.test.", keys)
        assert len(mx) == 3
        lines = s.module_lines(mark)
        assert (PREFIX_ENFORCE + "not enforced, owner partial.example.test., "
                "action strip, reason no-signing-keys") in lines
        out = s.knotc("zone-stats", "example.test", "mod-mxguard").stdout
        assert "mod-mxguard.skipped = 1" in out

        # Without DO there is no signature to keep: rewritten.
        r = ask(s, "partial.example.test.", do=False)
        assert len(r.answer[0]) == 2

        # No null MX without a signature for it: the signed NODATA stays.
        mark = s.log_mark()
        r = ask(s, "parked.example.test.")
        assert r.answer == []
        assert any(rrset.rdtype == dns.rdatatype.NSEC for rrset in r.authority)
        assert (PREFIX_ENFORCE + "not enforced, owner parked.example.test., "
                "action null-mx, reason no-signing-keys") in s.module_lines(mark)
        r = ask(s, "parked.example.test.", do=False)
        assert [rd.to_text() for rd in r.answer[0]] == ["0 ."]
    finally:
        s.cleanup()


PREFIX_ENFORCE = "[example.test.] module 'mod-mxguard/enforce', "


def test_offline_signed_zone_with_unsigned_allowed(offline_zone):
    s = offline_server(offline_zone, "mod-mxguard/enforce-allow")
    try:
        r = ask(s, "partial.example.test.")
        mx, sigs = mx_and_sigs(r, "partial.example.test.")
        assert len(mx) == 2 and sigs is None
        r = ask(s, "parked.example.test.")
        mx, sigs = mx_and_sigs(r, "parked.example.test.")
        assert [rd.to_text() for rd in mx] == ["0 ."] and sigs is None
    finally:
        s.cleanup()
