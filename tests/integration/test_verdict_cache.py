# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""A cached verdict never outlives what it was made from by more than
verdict-max-age.

The verdict cache keeps each verdict under the zone, the owner, the MX
records and what is known of every exchange, byte for byte; the policy and
no-mail lists belong to the instance, which a reload replaces. The MX
records are compared on every answer; what is known of the exchanges,
once read and found the same, stands for verdict-max-age (default 1 s).
Each test serves an answer (so that its verdict is cached), changes one
input the way operators do, and checks the verdict: with the default once
the bound has passed, with verdict-max-age 0 on the very next query."""

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
{max_age}"""

# verdict-max-age's default: the lag the module allows (seconds).
DEFAULT_MAX_AGE = 1

UPDATE_ACL = "  - id: upd\n    address: 127.0.0.1\n    action: update\n"

ZONES = """  - domain: cache.test
    module: mod-mxguard/guard
    journal-content: changes
    acl: [ local-xfr, upd ]
  - domain: peer.test
    acl: [ local-xfr, upd ]
"""


class Server:
    def __init__(self, loopback="strip", nomail="", max_age=None):
        """max_age: verdict-max-age, None for the default (not written)."""
        self.max_age = max_age
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

    def module_conf(self, loopback):
        line = "" if self.max_age is None else "    verdict-max-age: %d\n" % self.max_age
        return MODULES.format(loopback=loopback, nomail=self.nomail, max_age=line)

    def configure(self, loopback):
        text = conf(self.module_conf(loopback), ZONES)
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

    def update(self, zone, name, addr, rdtype="A"):
        u = dns.update.Update(zone)
        u.replace(name, 3600, rdtype, addr)
        r = dns.query.tcp(u, "127.0.0.1", port=self.knotd.port, timeout=5)
        assert r.rcode() == dns.rcode.NOERROR

    def wait_out_max_age(self):
        """What a verdict knows of the exchanges may lag a change by
        verdict-max-age: the next query after it sees the change."""
        age = DEFAULT_MAX_AGE if self.max_age is None else self.max_age
        if age > 0:
            time.sleep(age + 0.1)


@pytest.fixture(params=[None, 0], ids=["max-age-default", "max-age-0"])
def server(request):
    s = Server(max_age=request.param)
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
    # The update is applied when its answer comes; with verdict-max-age 0
    # the very next query sees it.
    server.wait_out_max_age()
    assert server.mx("mail.cache.test.") == ["0 ."]
    server.update("cache.test.", "mx1.cache.test.", "93.184.215.14")
    server.wait_out_max_age()
    assert server.mx("mail.cache.test.") == ["10 mx1.cache.test."]


@pytest.mark.skipif(not EXACT_LOOKUPS, reason="Knot 3.2 judges only in-zone exchanges")
def test_change_in_the_zone_that_holds_the_exchange(server):
    assert server.mx("other.cache.test.") == ["10 mx.peer.test."]
    server.update("peer.test.", "mx.peer.test.", "127.0.0.1")
    server.wait_out_max_age()
    assert server.mx("other.cache.test.") == ["0 ."]


def test_reload_with_a_changed_policy_and_list(server):
    server.knotd.knotc("zone-reload", "cache.test")
    server.update("cache.test.", "mx1.cache.test.", "127.0.0.1")
    server.wait_out_max_age()
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
    text = conf(primary.module_conf("strip"),
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


def test_records_exact_whatever_the_max_age():
    """Within verdict-max-age a change of an exchange's address may be seen
    late (here a long bound, so that the test does not race it); a change of
    the MX records is judged on the very next query."""
    server = Server(max_age=60)
    try:
        assert server.mx("mail.cache.test.") == ["10 mx1.cache.test."]
        server.update("cache.test.", "mx1.cache.test.", "127.0.0.1")
        assert server.mx("mail.cache.test.") == ["10 mx1.cache.test."]
        # Other records: judged with what the zone holds now.
        server.update("cache.test.", "mail.cache.test.", "20 mx1", rdtype="MX")
        assert server.mx("mail.cache.test.") == ["0 ."]
    finally:
        server.knotd.cleanup()
