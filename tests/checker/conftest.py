# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later

import json
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ZONES = os.path.join(HERE, "zones")
CONF = os.path.join(HERE, "conf")

# Every sample zone with the default policy (every kind: log), in order.
EXPECTED = {
    "clean": [
    ],
    "cname-exchange": [
        "cname-exchange.zone:6: violation cname-exchange, owner cname-exchange.test., exchange alias.cname-exchange.test., preference 10, action log",
    ],
    # Exchanges at or below a delegation, or below a DNAME, are out of the
    # zone: no finding, glue or not (mx.child has loopback glue).
    "delegation": [
    ],
    "dname": [
    ],
    "ent": [
        "ent.zone:6: violation missing-address, owner ent.test., exchange b.ent.ent.test., preference 10, action log",
    ],
    "ip-literal": [
        "ip-literal.zone:6: violation ip-literal, owner ip-literal.test., exchange 192.0.2.25., preference 10, address 192.0.2.25, action log",
        "ip-literal.zone:6: violation special-address, owner ip-literal.test., exchange 192.0.2.25., preference 10, address 192.0.2.25, action log",
        "ip-literal.zone:9: violation missing-address, owner host.ip-literal.test., exchange 203.0.114.7.ip-literal.test., preference 10, action log",
        "ip-literal.zone:10: violation ip-literal, owner v6.ip-literal.test., exchange \\[ipv6\\:2001\\:db8\\:\\:25\\]., preference 10, address 2001:db8::25, action log",
        "ip-literal.zone:10: violation special-address, owner v6.ip-literal.test., exchange \\[ipv6\\:2001\\:db8\\:\\:25\\]., preference 10, address 2001:db8::25, action log",
    ],
    "loopback": [
        "loopback.zone:6: violation loopback, owner loopback.test., exchange localhost., preference 10, action log",
        "loopback.zone:7: violation loopback, owner lo.loopback.test., exchange lo-host.loopback.test., preference 10, address 127.0.0.1, action log",
        "loopback.zone:9: violation loopback, owner six.loopback.test., exchange six-host.loopback.test., preference 10, address ::1, action log",
    ],
    "missing-address": [
        "missing-address.zone:6: violation missing-address, owner missing-address.test., exchange nowhere.missing-address.test., preference 10, action log",
        "missing-address.zone:7: violation missing-address, owner missing-address.test., exchange txt-only.missing-address.test., preference 20, action log",
        "missing-address.zone:12: violation missing-address, owner pair.missing-address.test., exchange absent.missing-address.test., preference 20, action log",
    ],
    "null-mx": [
        "null-mx.zone:7: violation null-mx-conflict, owner mixed.null-mx.test., exchange ., preference 0, action log",
        "null-mx.zone:9: violation null-mx-conflict, owner pref.null-mx.test., exchange ., preference 10, action log",
    ],
    "out-of-zone": [
        "out-of-zone.zone:7: violation loopback, owner out-of-zone.test., exchange mail.localhost., preference 20, action log",
    ],
    "provider-mix": [
        "provider-mix.zone:6: violation provider-mix, owner provider-mix.test., exchange aspmx.l.google.com., preference 1, provider google, action log",
        "provider-mix.zone:7: violation provider-mix, owner provider-mix.test., exchange provider-mix-test.mail.protection.outlook.com., preference 10, provider microsoft365, action log",
    ],
    "self-exchange": [
        "self-exchange.zone:6: violation self-exchange, owner self-exchange.test., exchange self-exchange.test., preference 10, action log",
    ],
    "special-address": [
        "special-address.zone:6: violation special-address, owner special-address.test., exchange mail.special-address.test., preference 10, address 10.1.2.3, action log",
        "special-address.zone:9: violation special-address, owner lan.special-address.test., exchange lan-host.special-address.test., preference 10, address 192.168.1.25, action log",
    ],
    "wildcard": [
        "wildcard.zone:7: violation loopback, owner wildcard.test., exchange mx.loop.wildcard.test., preference 20, address 127.0.0.2, action log",
        "wildcard.zone:8: violation cname-exchange, owner wildcard.test., exchange mx.alias.wildcard.test., preference 30, action log",
    ],
}


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout.splitlines()
        self.err = proc.stderr.splitlines()

    def json(self):
        return [json.loads(line) for line in self.out]


def checker_path():
    path = os.environ.get("MXGUARD_CHECK")
    if not path:
        path = os.path.join(HERE, "..", "..", "mxguard-check")
    return path


@pytest.fixture(scope="session")
def check():
    """Runs the built mxguard-check in tests/checker/zones, so that file
    names in its output are the short relative ones."""
    path = checker_path()
    if not os.access(path, os.X_OK):
        pytest.fail("mxguard-check not built: %s (set MXGUARD_CHECK)" % path)

    def run(*args):
        proc = subprocess.run([path, *args], cwd=ZONES, capture_output=True,
                              text=True, timeout=60)
        return Result(proc)
    return run
