# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""knot.conf.example as shipped (what scripts/demo runs) and with its
commented deployments enabled: knotd runs both, and each deployment does
what the comments say."""

import os
import re

import dns.message
import dns.rdatatype
import pytest

from knotd_harness import SRCDIR, Knotd

EXAMPLE = os.path.join(SRCDIR, "knot.conf.example")

SOA = "@ SOA ns hostmaster 1 3600 900 604800 300\n@ NS ns\nns A 198.41.0.4\n"
ZONES = {
    "customers/customer1.example.zone": SOA + "@ MX 10 localhost.\n",
    "customers/customer2.example.zone": SOA + "@ MX 10 mx\nmx A 93.184.215.14\n",
    "parked/parked-brand.example.zone": SOA + "www A 93.184.215.14\n",
    "signed-online.example.zone": SOA + "@ MX 10 localhost.\n",
    "signed.example.zone": SOA + "@ MX 10 localhost.\n",
}


def example_text(deployments):
    """The example for the harness: its port, folders and module file; with
    deployments, every '#'-and-no-space line of the deployment part (and
    the global-module line) uncommented."""
    out = []
    active = False
    for line in open(EXAMPLE):
        if line.startswith("# Common deployments."):
            active = True
        m = re.match(r"^(\s*)#(\S|  +\S)", line)
        if deployments and m and (active or "global-module" in line):
            line = m.group(1) + line[len(m.group(1)) + 1:]
        out.append(line)
    text = "".join(out)
    text = (text.replace("listen: 127.0.0.1@5300", "listen: 127.0.0.1@@PORT@")
            .replace("rundir: run", "rundir: @DIR@")
            .replace("storage: run", "storage: @DIR@")
            .replace("storage: zones", "storage: @ZONES@")
            .replace("/var/lib/knot/", "@DIR@/var/"))
    return "@MODULE_SECTION@\n" + text


def start(deployments):
    server = Knotd(example_text(deployments))
    for path, text in ZONES.items():
        full = os.path.join(server.dir, "var", path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        origin = os.path.basename(path)[:-len(".zone")]
        with open(full, "w") as f:
            f.write(f"$ORIGIN {origin}.\n$TTL 3600\n" + text)
    return server.start()


def mx(server, name):
    r = server.query(name, "MX")
    return sorted(rd.to_text() for rrset in r.answer if rrset.rdtype == dns.rdatatype.MX
                  for rd in rrset)


@pytest.fixture(scope="module")
def deployed():
    server = start(True)
    yield server
    server.cleanup()


def test_example_as_shipped_serves_its_zones():
    server = start(False)
    try:
        assert mx(server, "loop.example.test.") == ["0 ."]          # enforce: strip
        # self-exchange is only logged: a smell, not undeliverable.
        assert mx(server, "self.example.test.") == ["10 self.example.test."]
        assert mx(server, "parked.example.test.") == ["0 ."]        # null-mx list
        assert mx(server, "clean.test.") == ["10 mx1.clean.test.", "20 mx2.clean.test."]
        assert server.query("customer1.example.", "MX").rcode() == 5  # not served
    finally:
        server.cleanup()


def test_deployments_enabled_pass_the_configuration_check(deployed):
    res = deployed.knotc("conf-check")
    assert res.returncode == 0, res.stdout + res.stderr


def test_customer_zones_are_enforced(deployed):
    assert mx(deployed, "customer1.example.") == ["0 ."]
    assert mx(deployed, "customer2.example.") == ["10 mx.customer2.example."]


def test_parked_zone_answers_null_mx(deployed):
    assert mx(deployed, "www.parked-brand.example.") == ["0 ."]
    assert mx(deployed, "parked-brand.example.") == ["0 ."]


def test_online_signed_zone_without_do_is_enforced(deployed):
    assert mx(deployed, "signed-online.example.") == ["0 ."]
    q = dns.message.make_query("signed-online.example.", "DNSKEY", want_dnssec=True)
    r = dns.message.from_wire(deployed.raw_query(q.to_wire(), tcp=True))
    assert any(rrset.rdtype == dns.rdatatype.DNSKEY for rrset in r.answer)


def test_the_shipped_zones_keep_their_own_instances(deployed):
    # The global observe instance only observes: example.test is still
    # enforced by its own instance.
    assert mx(deployed, "loop.example.test.") == ["0 ."]
