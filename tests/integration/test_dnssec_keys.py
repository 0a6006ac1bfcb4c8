# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""Signing follows the zone's keys as knotd manages them.

knotd signs example.test with a fast policy (TTLs, propagation delay and
signature lifetimes of seconds). The module signs its rewritten and
synthesised MX RRsets with the keys that sign the apex SOA at that moment:
from the first query after knotd made the zone's keys, through ZSK, KSK and
algorithm rollovers, and across several signature lifetimes, with no module
reload. Every answer is checked with dnspython against the DNSKEY set served
right after it; one test asks a real unbound with the zone's trust anchor.
"""

import os
import shutil
import subprocess
import tempfile
import time

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rdatatype
import pytest

from knotd_harness import SLOW, Knotd, conf, free_port

ZONE = dns.name.from_text("example.test.")
LIFETIME = 12       # rrsig-lifetime of the fast policy
TTL = 1             # every record's TTL

POLICY = """
keystore:
  - id: files
    config: mxguard-keystore

policy:
  - id: fast
    algorithm: ecdsap256sha256
    keystore: files
    dnskey-ttl: 2
    zone-max-ttl: 2
    propagation-delay: 1
    zsk-lifetime: 0
    ksk-lifetime: 0
    rrsig-lifetime: 12s
    rrsig-refresh: 6s
    rrsig-pre-refresh: 1s
  - id: fast-roll
    algorithm: ecdsap256sha256
    dnskey-ttl: 1
    zone-max-ttl: 1
    propagation-delay: 1
    zsk-lifetime: 6s
    rrsig-lifetime: 12s
    rrsig-refresh: 6s
    rrsig-pre-refresh: 1s

mod-mxguard:
  - id: enforce
    loopback: strip
    ip-literal: null-mx
    null-mx: parked.example.test
    # Below rrsig-refresh, as every TTL of a signed zone must be.
    null-mx-ttl: 1
    log-interval: 0
"""

ZONE_TEXT = """$ORIGIN example.test.
$TTL 1
@               SOA     ns hostmaster 1 3600 900 604800 1
@               NS      ns
ns              A       198.41.0.4
partial         MX      10 mx1
partial         MX      20 localhost.
partial         MX      30 mx2
mx1             A       93.184.215.14
mx2             A       93.184.215.15
iplit           MX      10 192.0.2.1.
parked          A       93.184.215.20
*.wild          MX      10 localhost.
clean           MX      10 mx1
"""

# name -> the exchanges of the answer the module serves
EXPECT = {
    "partial.example.test.": ["10 mx1.example.test.", "30 mx2.example.test."],
    "iplit.example.test.": ["0 ."],
    "parked.example.test.": ["0 ."],
    "foo.wild.example.test.": ["0 ."],
}

PREFIX = "[example.test.] module 'mod-mxguard/enforce', "


def make_server(policy="fast"):
    zone = ("  - domain: example.test\n    dnssec-signing: on\n"
            "    dnssec-policy: %s\n    module: mod-mxguard/enforce\n" % policy)
    s = Knotd(conf(POLICY, zone), zones=("example.test",))
    with open(os.path.join(s.zonedir, "example.test.zone"), "w") as f:
        f.write(ZONE_TEXT)
    return s.start()


def query(server, name, rdtype):
    q = dns.message.make_query(name, rdtype, want_dnssec=True, payload=1232)
    return dns.message.from_wire(server.raw_query(q.to_wire(), True))


def dnskey(server):
    r = query(server, "example.test.", "DNSKEY")
    return r.get_rrset(r.answer, ZONE, 1, dns.rdatatype.DNSKEY)


def wait_signed(server, timeout=30):
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        if dnskey(server) is not None:
            return
        time.sleep(0.05)
    raise AssertionError("zone not signed:\n" + server.log_text())


def tags(keys, flags=None):
    return {(k.algorithm, dns.dnssec.key_id(k)) for k in keys
            if flags is None or k.flags == flags}


def check(server, name):
    """Asks for name's MX with DO; the answer must be the rewritten one and
    every signature of it must validate now against the DNSKEY set served
    right after. Returns the signatures' (algorithm, key tag)s and their
    expirations."""
    r = query(server, name, "MX")
    owner = dns.name.from_text(name)
    mx = r.get_rrset(r.answer, owner, 1, dns.rdatatype.MX)
    sigs = r.get_rrset(r.answer, owner, 1, dns.rdatatype.RRSIG, dns.rdatatype.MX)
    keys = dnskey(server)
    assert mx is not None, r.to_text()
    assert sorted(rd.to_text() for rd in mx) == EXPECT[name], r.to_text()
    assert sigs is not None and len(sigs) > 0, r.to_text()
    now = time.time()
    for sig in sigs:
        dns.dnssec.validate_rrsig(mx, sig, {ZONE: keys})
        assert sig.inception <= now < sig.expiration
        assert sig.expiration - now <= LIFETIME + 2, "past the policy's lifetime"
        assert sig.expiration - now > TTL, "expires while cached"
        assert (sig.algorithm, sig.key_tag) in tags(keys), "key not published"
    return {(s.algorithm, s.key_tag) for s in sigs}, {s.expiration for s in sigs}


def check_all(server):
    signers = set()
    for name in EXPECT:
        found, _ = check(server, name)
        signers |= found
    return signers


def soa_signers(server):
    r = query(server, "example.test.", "SOA")
    sigs = r.get_rrset(r.answer, ZONE, 1, dns.rdatatype.RRSIG, dns.rdatatype.SOA)
    return {(s.algorithm, s.key_tag) for s in sigs}


def not_enforced(server, mark):
    return [l for l in server.module_lines(mark) if "not enforced" in l]


def knotc_ok(server, *args):
    res = server.knotc(*args)
    assert res.returncode == 0, res.stdout + res.stderr
    return res


@pytest.fixture(scope="module")
def server():
    s = make_server()
    wait_signed(s)
    yield s
    s.cleanup()


def test_enforced_from_the_first_query_after_start():
    # A fresh zone: knotd makes its keys after the module loaded.
    s = make_server()
    try:
        mark = 0
        deadline = time.monotonic() + 30 * SLOW
        signed = False
        while not signed and time.monotonic() < deadline:
            r = query(s, "partial.example.test.", "MX")
            mx = r.get_rrset(r.answer, dns.name.from_text("partial.example.test."),
                             1, dns.rdatatype.MX)
            # Unsigned so far (no keys yet) or signed: rewritten either way.
            assert len(mx) == 2, r.to_text()
            signed = any(rr.rdtype == dns.rdatatype.RRSIG for rr in r.answer)
            if signed:
                check_all(s)
            time.sleep(0.02)
        assert signed, "the zone was never signed"
        assert not_enforced(s, mark) == []
        assert "signing with key tag" in s.log_text()
        assert s.alive()
    finally:
        s.cleanup()


def test_signs_with_the_key_of_the_apex_soa(server):
    assert check_all(server) == soa_signers(server)
    out = server.knotc("zone-stats", "example.test", "mod-mxguard").stdout
    assert "skipped = 0" in out or "skipped" not in out


def test_zsk_rollover_without_reload(server):
    mark = server.log_mark()
    before = soa_signers(server)
    zsks = tags(dnskey(server), 256)
    assert before <= zsks
    knotc_ok(server, "zone-key-rollover", "example.test", "zsk")

    seen = set()
    deadline = time.monotonic() + 60 * SLOW
    done = False
    while time.monotonic() < deadline and not done:
        seen |= check_all(server)
        keys = tags(dnskey(server), 256)
        done = not (before & keys) and soa_signers(server) <= seen
        time.sleep(0.1)
    assert done, "the old ZSK was not retired in time:\n" + server.log_text()[-3000:]
    new = soa_signers(server)
    assert new != before
    # Signed with the new key alone now, the old one gone from DNSKEY.
    assert check_all(server) == new
    assert before & seen and new & seen
    assert not_enforced(server, mark) == []


def test_ksk_rollover_without_reload(server):
    mark = server.log_mark()
    ksks = tags(dnskey(server), 257)
    zsk = soa_signers(server)
    knotc_ok(server, "zone-key-rollover", "example.test", "ksk")
    deadline = time.monotonic() + 60 * SLOW
    done = False
    while time.monotonic() < deadline and not done:
        check_all(server)
        keys = dnskey(server)
        if len(tags(keys, 257)) > 1:
            # No parent here: tell knotd the new DS is in place.
            server.knotc("zone-ksk-submitted", "example.test")
        done = tags(keys, 257) and not (tags(keys, 257) & ksks)
        time.sleep(0.1)
    assert done, "the old KSK was not retired in time:\n" + server.log_text()[-3000:]
    # The KSK signs only the DNSKEY set: answers keep the ZSK.
    assert check_all(server) == zsk
    assert not_enforced(server, mark) == []


def test_signatures_follow_time(server):
    # Several signature lifetimes: knotd refreshes the apex signatures and
    # the module's follow, never expired, never past the policy's lifetime.
    mark = server.log_mark()
    expirations = set()
    end = time.monotonic() + 2.5 * LIFETIME
    while time.monotonic() < end:
        _, exp = check(server, "partial.example.test.")
        expirations |= exp
        _, exp = check(server, "parked.example.test.")
        expirations |= exp
        time.sleep(0.3)
    assert len(expirations) >= 3, sorted(expirations)
    assert max(expirations) - min(expirations) >= LIFETIME
    assert not_enforced(server, mark) == []


def test_algorithm_rollover_without_module_reload(server):
    # A policy change starts it; knotd then publishes and retires keys and
    # signatures of both algorithms in several steps over the next seconds.
    mark = server.log_mark()
    with open(server.conf) as f:
        text = f.read()
    head, tail = text.split("  - id: fast\n", 1)
    tail = tail.replace("algorithm: ecdsap256sha256", "algorithm: ed25519", 1)
    with open(server.conf, "w") as f:
        f.write(head + "  - id: fast\n" + tail)
    # knotc conf-commit would not find the module's file (knotd opens the
    # module: files only when it reads its configuration file).
    knotc_ok(server, "reload")
    deadline = time.monotonic() + 120 * SLOW
    both = False
    done = False
    while time.monotonic() < deadline and not done:
        signers = check_all(server)
        both = both or len({alg for alg, _ in signers}) == 2
        keys = dnskey(server)
        if any(k.algorithm == 15 and k.flags == 257 for k in keys):
            server.knotc("zone-ksk-submitted", "example.test")
        done = {k.algorithm for k in keys} == {15}
        time.sleep(0.1)
    assert done, "the algorithm rollover did not finish:\n" + server.log_text()[-3000:]
    assert both, "never signed with both algorithms"
    assert {alg for alg, _ in check_all(server)} == {15}
    assert not_enforced(server, mark) == []


def test_automatic_zsk_rollovers():
    # zsk-lifetime of seconds: knotd rolls the ZSK again and again by itself.
    s = make_server("fast-roll")
    try:
        wait_signed(s)
        mark = s.log_mark()
        seen = set()
        deadline = time.monotonic() + 60 * SLOW
        while time.monotonic() < deadline and len(seen) < 3:
            seen |= check_all(s)
            time.sleep(0.1)
        assert len(seen) >= 3, seen
        assert not_enforced(s, mark) == []
    finally:
        s.cleanup()


UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"


@pytest.mark.skipif(not os.path.exists(UNBOUND), reason="unbound not installed")
def test_unbound_validates(server):
    ksk = [k for k in dnskey(server) if k.flags == 257][0]
    tmp = tempfile.mkdtemp(prefix="mxguard-unbound-")
    port = free_port()
    with open(os.path.join(tmp, "unbound.conf"), "w") as f:
        f.write(f"""server:
    interface: 127.0.0.1
    port: {port}
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{tmp}"
    pidfile: ""
    use-syslog: no
    logfile: "{tmp}/unbound.log"
    verbosity: 1
    val-log-level: 2
    do-not-query-localhost: no
    local-zone: "test." nodefault
    aggressive-nsec: no
    access-control: 127.0.0.0/8 allow
    module-config: "validator iterator"
    trust-anchor: "example.test. DNSKEY {ksk.to_text()}"
stub-zone:
    name: "example.test."
    stub-addr: 127.0.0.1@{server.port}
""")
    proc = subprocess.Popen([UNBOUND, "-d", "-c", os.path.join(tmp, "unbound.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        def resolve(name):
            q = dns.message.make_query(name, "MX", want_dnssec=True)
            for _ in range(50):
                try:
                    return dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
                except Exception:
                    time.sleep(0.1)
            raise AssertionError("unbound does not answer")

        def ask_all():
            for name, want in EXPECT.items():
                r = resolve(name)
                mx = r.get_rrset(r.answer, dns.name.from_text(name), 1, dns.rdatatype.MX)
                assert r.rcode() == 0 and mx is not None, (r.to_text(),
                                                           open(f"{tmp}/unbound.log").read())
                assert sorted(rd.to_text() for rd in mx) == want
                assert r.flags & dns.flags.AD, r.to_text()

        ask_all()
        # Across a ZSK rollover too (TTLs of 1 s: unbound asks again).
        before = soa_signers(server)
        knotc_ok(server, "zone-key-rollover", "example.test", "zsk")
        deadline = time.monotonic() + 60 * SLOW
        while time.monotonic() < deadline and before & soa_signers(server):
            ask_all()
            time.sleep(0.2)
        assert not (before & soa_signers(server))
        time.sleep(1.1)
        ask_all()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
