# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""One reading of the configuration: every row of the table goes through
`knotc conf-check` (with the built module) and `mxguard-check -c`, which
must give the same verdict and the same message, naming the item and the
value. Rows that knotc accepts but knotd refuses when it loads the module
(global instances that rewrite) are started in knotd, whose refusal the
checker must give at once."""

import os
import re
import subprocess
import sys
import time

import pytest

from conftest import checker_path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from knotd_harness import KNOTC, KNOTD, Knotd, conf, wrap  # noqa: E402

OK, REFUSE, LOAD = "accept", "refuse", "refused at load"
ZONE = "  - domain: clean.test\n    module: mod-mxguard/a\n"


def row(name, section, verdict, item=None, value=None, zones=ZONE, tpl=""):
    return pytest.param(section, verdict, item, value, zones, tpl, id=name)


ROWS = [
    row("empty", "  - id: a\n", OK),
    row("every-kind", "  - id: a\n    ip-literal: strip\n    loopback: null-mx\n"
        "    special-address: off\n    missing-address: log\n"
        "    null-mx-conflict: strip\n    self-exchange: log\n"
        "    provider-mix: log\n    cname-exchange: off\n", OK),
    # The log-only kinds: no record is wrong by itself in a provider mix, and
    # mail to a CNAME exchange or to the domain's own host can be delivered.
    row("provider-mix-off", "  - id: a\n    provider-mix: off\n", OK),
    row("provider-mix-strip", "  - id: a\n    provider-mix: strip\n", REFUSE,
        "provider-mix", "strip"),
    row("provider-mix-null-mx", "  - id: a\n    provider-mix: null-mx\n", REFUSE,
        "provider-mix", "null-mx"),
    row("cname-exchange-strip", "  - id: a\n    cname-exchange: strip\n", REFUSE,
        "cname-exchange", "strip"),
    row("cname-exchange-null-mx", "  - id: a\n    cname-exchange: null-mx\n", REFUSE,
        "cname-exchange", "null-mx"),
    row("self-exchange-off", "  - id: a\n    self-exchange: off\n", OK),
    row("self-exchange-strip", "  - id: a\n    self-exchange: strip\n", REFUSE,
        "self-exchange", "strip"),
    row("self-exchange-null-mx", "  - id: a\n    self-exchange: null-mx\n", REFUSE,
        "self-exchange", "null-mx"),
    row("null-mx-override-item", "  - id: a\n    null-mx-override: strip\n", REFUSE,
        "null-mx-override", "strip"),
    row("typo-loopbak", "  - id: a\n    loopbak: log\n", REFUSE, "loopbak", "log"),
    row("loopback-block", "  - id: a\n    loopback: block\n", REFUSE, "loopback", "block"),
    row("ip-literal-yes", "  - id: a\n    ip-literal: yes\n", REFUSE, "ip-literal", "yes"),
    row("duplicate-id", "  - id: a\n    loopback: off\n  - id: a\n    loopback: strip\n",
        REFUSE, "id", "a"),
    row("second-section-bad", "  - id: b\n  - id: a\n    cname-exchange: drop\n",
        REFUSE, "cname-exchange", "drop"),
    row("no-id", "  - loopback: off\n", REFUSE, "loopback", "off"),
    row("comment", "  - id: a\n    comment: \"the zone's policy\"\n", OK),
    row("log-interval-negative", "  - id: a\n    log-interval: -1\n", REFUSE,
        "log-interval", "-1"),
    row("log-interval-junk", "  - id: a\n    log-interval: 5x\n", REFUSE,
        "log-interval", "5x"),
    row("log-interval-too-big", "  - id: a\n    log-interval: 4294967296\n", REFUSE,
        "log-interval", "4294967296"),
    row("log-interval-unit", "  - id: a\n    log-interval: 1h\n", OK),
    row("log-interval-zero", "  - id: a\n    log-interval: 0\n", OK),
    row("log-table-size-zero", "  - id: a\n    log-table-size: 0\n", REFUSE,
        "log-table-size", "0"),
    row("log-table-size-too-big", "  - id: a\n    log-table-size: 10000001\n", REFUSE,
        "log-table-size", "10000001"),
    row("log-table-size-max", "  - id: a\n    log-table-size: 10000000\n", OK),
    row("null-mx-ttl-2^32", "  - id: a\n    null-mx-ttl: 4294967296\n", REFUSE,
        "null-mx-ttl", "4294967296"),
    row("null-mx-ttl-2^31", "  - id: a\n    null-mx-ttl: 2147483648\n", REFUSE,
        "null-mx-ttl", "2147483648"),
    row("null-mx-ttl-max", "  - id: a\n    null-mx-ttl: 2147483647\n", OK),
    row("verdict-cache-negative", "  - id: a\n    verdict-cache-size: -1\n", REFUSE,
        "verdict-cache-size", "-1"),
    row("verdict-cache-too-big", "  - id: a\n    verdict-cache-size: 1000001\n", REFUSE,
        "verdict-cache-size", "1000001"),
    row("verdict-cache-off", "  - id: a\n    verdict-cache-size: 0\n", OK),
    row("verdict-max-age-too-big", "  - id: a\n    verdict-max-age: 3601\n", REFUSE,
        "verdict-max-age", "3601"),
    row("verdict-max-age-exact", "  - id: a\n    verdict-max-age: 0\n", OK),
    row("verdict-max-age-1h", "  - id: a\n    verdict-max-age: 1h\n", OK),
    row("null-mx-file-missing", "  - id: a\n    null-mx-file: @DIR@/nothere.list\n",
        REFUSE, "null-mx-file", "@DIR@/nothere.list: No such file or directory"),
    row("null-mx-file-good", "  - id: a\n    null-mx-file: @DIR@/good.list\n", OK),
    row("null-mx-file-bad-line", "  - id: a\n    null-mx-file: @DIR@/bad.list\n",
        REFUSE, "null-mx-file", "@DIR@/bad.list:3: invalid name 'x..test'"),
    row("null-mx-bad-name", "  - id: a\n    null-mx: a..test\n", REFUSE,
        "null-mx", "a..test"),
    row("null-mx-names", "  - id: a\n    null-mx: [ a.test, \"*.b.test\" ]\n", OK),
    row("null-mx-implicit-maybe", "  - id: a\n    null-mx-implicit: maybe\n", REFUSE,
        "null-mx-implicit", "maybe"),
    row("dnssec-unsigned-maybe", "  - id: a\n    dnssec-unsigned: maybe\n", REFUSE,
        "dnssec-unsigned", "maybe"),
    row("allow-reversed", "  - id: a\n    allow-address: 10.0.0.9-10.0.0.1\n", REFUSE,
        "allow-address", "10.0.0.9-10.0.0.1"),
    row("allow-reversed-v6", "  - id: a\n    allow-address: [ 10.0.0.0/8, "
        "\"2001:db8::ff-2001:db8::1\" ]\n", REFUSE, "allow-address",
        "2001:db8::ff-2001:db8::1"),
    row("allow-prefix-33", "  - id: a\n    allow-address: 10.0.0.0/33\n", REFUSE,
        "allow-address", "10.0.0.0/33"),
    row("allow-banana", "  - id: a\n    allow-address: banana\n", REFUSE,
        "allow-address", "banana"),
    row("allow-good", "  - id: a\n    allow-address: [ 10.0.0.0/8, "
        "\"2001:db8::-2001:db8::ff\", 192.0.2.1 ]\n", OK),
    # Issue 24: the records beside a null MX, the DMARC record served, and
    # no-mail-policy, which only logs (a zone's own record is served).
    row("no-mail-records", "  - id: a\n    no-mail-records: [ spf, dmarc, dkim ]\n", OK),
    row("no-mail-records-mx", "  - id: a\n    no-mail-records: [ spf, mx ]\n", REFUSE,
        "no-mail-records", "mx"),
    row("no-mail-policy-off", "  - id: a\n    no-mail-policy: off\n", OK),
    row("no-mail-policy-strip", "  - id: a\n    no-mail-policy: strip\n", REFUSE,
        "no-mail-policy", "strip"),
    row("no-mail-dmarc-rua", "  - id: a\n    no-mail-dmarc: \"v=DMARC1; p=reject; "
        "rua=mailto:d@reports.example\"\n", OK),
    row("no-mail-dmarc-p-none", "  - id: a\n    no-mail-dmarc: \"v=DMARC1; p=none\"\n",
        REFUSE, "no-mail-dmarc", "v=DMARC1; p=none"),
    row("no-mail-dmarc-no-version", "  - id: a\n    no-mail-dmarc: p=reject\n", REFUSE,
        "no-mail-dmarc", "p=reject"),
    row("policy-undefined", "  - id: a\n    policy: nonexistent\n", REFUSE,
        "policy", "nonexistent"),
    row("zone-ref-undefined", "  - id: a\n", REFUSE, "module", "mod-mxguard/nope",
        zones="  - domain: clean.test\n    module: mod-mxguard/nope\n"),
    row("zone-ref-without-id", "  - id: a\n    loopback: strip\n", OK,
        zones="  - domain: clean.test\n    module: mod-mxguard\n"),
    row("global-log-only", "  - id: a\n    loopback: log\n", OK, zones="",
        tpl="    global-module: mod-mxguard/a\n"),
    row("global-without-id", "  - id: a\n    loopback: strip\n", OK, zones="",
        tpl="    global-module: mod-mxguard\n"),
    row("global-strip", "  - id: a\n    loopback: strip\n", LOAD, "global-module",
        "mod-mxguard/a", zones="", tpl="    global-module: mod-mxguard/a\n"),
    row("global-null-mx-names", "  - id: a\n    null-mx: parked.test\n", LOAD,
        "global-module", "mod-mxguard/a", zones="",
        tpl="    global-module: mod-mxguard/a\n"),
    row("global-implicit", "  - id: a\n    null-mx-implicit: on\n", LOAD,
        "global-module", "mod-mxguard/a", zones="",
        tpl="    global-module: mod-mxguard/a\n"),
]

GLOBAL_MSG = ("strip, null-mx and null MX names work only in zone scope (knotd runs "
              "global modules only around the answer); use 'module:' in a zone or "
              "template instead")


def make_conf(section, zones, tpl):
    text = conf("mod-mxguard:\n" + section, zones)
    return text.replace("    acl: local-xfr\n", "    acl: local-xfr\n" + tpl)


def first_error(text, prefix):
    for line in text.splitlines():
        if line.startswith(prefix):
            return line[len(prefix):]
    return None


def knotd_load_log(server, timeout=15):
    """knotd's log once it has loaded (or refused) the module."""
    logfile = open(server.log, "ab")
    proc = subprocess.Popen(wrap([KNOTD, "-c", server.conf]), stdout=logfile,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            text = server.log_text()
            if GLOBAL_MSG in text or "server started" in text:
                break
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)
        logfile.close()
    return server.log_text()


@pytest.mark.parametrize("section,verdict,item,value,zones,tpl", ROWS)
def test_same_verdict(section, verdict, item, value, zones, tpl):
    server = Knotd(make_conf(section, zones, tpl))
    try:
        with open(os.path.join(server.dir, "good.list"), "w") as f:
            f.write("parked.test\n*.old.test  # all of it\n")
        with open(os.path.join(server.dir, "bad.list"), "w") as f:
            f.write("parked.test\n# next\nx..test\n")
        item_value = None if value is None else value.replace("@DIR@", server.dir)

        knotc = subprocess.run(wrap([KNOTC, "-c", server.conf, "conf-check"]),
                               capture_output=True, text=True, timeout=30)
        knotc_out = knotc.stdout + knotc.stderr
        zone = os.path.join(server.zonedir, "clean.test.zone")
        mine = subprocess.run([checker_path(), "-q", "--fail-on", "never", "-c",
                               server.conf, zone], capture_output=True, text=True,
                              timeout=60)
        assert mine.returncode in (0, 2), mine.stderr

        if verdict == OK:
            assert knotc.returncode == 0, knotc_out
            assert mine.returncode == 0, mine.stderr
            return
        assert mine.returncode == 2, mine.stderr
        msg = first_error(mine.stderr, "mxguard-check: ")
        assert msg is not None, mine.stderr
        assert f"'{item}'" in msg or f" {item} " in msg or f"{item}," in msg, msg
        assert item_value in msg, msg

        if verdict == REFUSE:
            assert knotc.returncode != 0, knotc_out
            # The same words as knotd's: "config, file 'F', line N, ...".
            assert first_error(knotc_out, "error: ") == msg, knotc_out
        else:
            assert knotc.returncode == 0, knotc_out
            assert GLOBAL_MSG in msg, msg
            log = knotd_load_log(server)
            assert GLOBAL_MSG in log, log
    finally:
        server.cleanup()


def test_table_is_large_enough():
    verdicts = [p.values[1] for p in ROWS]
    assert len(ROWS) >= 30
    assert {OK, REFUSE, LOAD} <= set(verdicts)
