# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""A cached verdict never outlives what it was made from.

The verdict cache keys each verdict by the zone, the owner, the MX records
and what is known of every exchange, byte for byte; the policy and no-mail
lists belong to the instance, which a reload replaces. Each test serves an
answer (so that its verdict is cached), changes one input the way operators
do, and checks the very next query's verdict."""

import os
import time

import dns.message
import dns.query
import dns.rcode
import dns.update
import pytest

from knotd_harness import EXACT_LOOKUPS, Knotd, conf

ZONE_A = """$ORIGIN cache.test.
$TTL 3600
@       SOA     ns hostmaster 1 3600 600 86400 300
@       NS      ns
ns      A       93.184.215.10
mail    MX      10 mx1
mx1     A       {addr}
other   MX      10 mx.peer.test.
"""

ZONE_B = """$ORIGIN peer.test.
$TTL 3600
@       SOA     ns hostmaster 1 3600 600 86400 300
@       NS      ns
ns      A       93.184.215.11
mx      A       {addr}
"""

MODULES = """
mod-mxguard:
  - id: guard
    loopback: {loopback}
    log-interval: 0
    null-mx-file: {nomail}
"""

UPDATE_ACL = "  - id: upd\n    address: 127.0.0.1\n    action: update\n"

ZONES = """  - domain: cache.test
    module: mod-mxguard/guard
    journal-content: changes
    acl: [ local-xfr, upd ]
  - domain: peer.test
    acl: [ local-xfr, upd ]
"""


class Server:
    def __init__(self, loopback="strip", nomail=""):
        self.knotd = Knotd("", zones=())
        self.nomail = os.path.join(self.knotd.dir, "no-mail.txt")
        self.write("no-mail.txt", nomail)
        self.write_zone("cache.test", ZONE_A.format(addr="93.184.215.14"))
        self.write_zone("peer.test", ZONE_B.format(addr="93.184.215.15"))
        self.configure(loopback)
        self.knotd.start(ready=lambda k: k.query("mail.cache.test.", "MX", timeout=0.5))

    def write(self, name, text):
        with open(os.path.join(self.knotd.dir, name), "w") as f:
            f.write(text)

    def write_zone(self, zone, text):
        with open(os.path.join(self.knotd.zonedir, zone + ".zone"), "w") as f:
            f.write(text)

    def configure(self, loopback):
        text = conf(MODULES.format(loopback=loopback, nomail=self.nomail), ZONES)
        self.knotd.write_conf(text.replace("acl:\n", "acl:\n" + UPDATE_ACL, 1))

    def mx(self, name):
        r = self.knotd.query(name, "MX")
        return sorted(rd.to_text() for rrset in r.answer for rd in rrset)

    def wait_mx(self, name, want, timeout=10):
        deadline = time.monotonic() + timeout
        got = None
        while time.monotonic() < deadline:
            got = self.mx(name)
            if got == want:
                return got
            time.sleep(0.1)
        return got

    def update(self, zone, name, addr):
        u = dns.update.Update(zone)
        u.replace(name, 3600, "A", addr)
        r = dns.query.tcp(u, "127.0.0.1", port=self.knotd.port, timeout=5)
        assert r.rcode() == dns.rcode.NOERROR


@pytest.fixture
def server():
    s = Server()
    yield s
    s.knotd.cleanup()


def test_cached_clean_verdict_then_zone_reload_same_serial(server):
    for _ in range(3):  # judged, then from the cache
        assert server.mx("mail.cache.test.") == ["10 mx1.cache.test."]
    # The exchange's address changes, the MX records and the serial do not.
    server.write_zone("cache.test", ZONE_A.format(addr="127.0.0.1"))
    server.knotd.knotc("zone-reload", "cache.test")
    assert server.wait_mx("mail.cache.test.", ["0 ."]) == ["0 ."]


def test_ddns_update_of_the_exchange(server):
    assert server.mx("mail.cache.test.") == ["10 mx1.cache.test."]
    server.update("cache.test.", "mx1.cache.test.", "127.0.0.1")
    # The very next query: the update is applied when its answer comes.
    assert server.mx("mail.cache.test.") == ["0 ."]
    server.update("cache.test.", "mx1.cache.test.", "93.184.215.14")
    assert server.mx("mail.cache.test.") == ["10 mx1.cache.test."]


@pytest.mark.skipif(not EXACT_LOOKUPS, reason="Knot 3.2 judges only in-zone exchanges")
def test_change_in_the_zone_that_holds_the_exchange(server):
    assert server.mx("other.cache.test.") == ["10 mx.peer.test."]
    server.update("peer.test.", "mx.peer.test.", "127.0.0.1")
    assert server.mx("other.cache.test.") == ["0 ."]


def test_reload_with_a_changed_policy_and_list(server):
    server.knotd.knotc("zone-reload", "cache.test")
    server.update("cache.test.", "mx1.cache.test.", "127.0.0.1")
    assert server.mx("mail.cache.test.") == ["0 ."]
    # Policy: loopback only logged now.
    server.configure("log")
    server.knotd.knotc("reload")
    assert server.wait_mx("mail.cache.test.", ["10 mx1.cache.test."]) == \
        ["10 mx1.cache.test."]
    # No-mail list: the name is listed now.
    server.write("no-mail.txt", "mail.cache.test\n")
    server.knotd.knotc("reload")
    assert server.wait_mx("mail.cache.test.", ["0 ."]) == ["0 ."]


def test_ixfr_from_a_primary(server):
    primary = server
    remote = "remote:\n  - id: primary\n    address: 127.0.0.1@%d\n\n" % primary.knotd.port
    text = conf(MODULES.format(loopback="strip", nomail=primary.nomail),
                "  - domain: cache.test\n    master: primary\n"
                "    module: mod-mxguard/guard\n")
    secondary = Knotd(text.replace("acl:\n", remote + "acl:\n", 1), zones=())
    try:
        secondary.start(ready=lambda k: k.query("mail.cache.test.", "MX", timeout=0.5).answer)
        answer = secondary.query("mail.cache.test.", "MX").answer
        assert sorted(rd.to_text() for rrset in answer for rd in rrset) == \
            ["10 mx1.cache.test."]
        primary.update("cache.test.", "mx1.cache.test.", "127.0.0.1")
        secondary.knotc("zone-refresh", "cache.test")
        deadline = time.monotonic() + 10
        got = None
        while time.monotonic() < deadline:
            r = secondary.query("mail.cache.test.", "MX")
            got = sorted(rd.to_text() for rrset in r.answer for rd in rrset)
            if got == ["0 ."]:
                break
            time.sleep(0.1)
        assert got == ["0 ."]
        assert "IXFR, incoming" in secondary.log_text()
    finally:
        secondary.cleanup()
