# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""Configuration: scopes, rate limiting, and bad values refused by name."""

import subprocess
import time

import pytest

from knotd_harness import KNOTC, KNOTD, Knotd, conf, wrap


def test_rate_limit_suppresses_and_counts_repeats():
    modules = """
mod-mxguard:
  - id: slow
    log-interval: 2
"""
    zones = "  - domain: example.test\n    module: mod-mxguard/slow\n"
    server = Knotd(conf(modules, zones)).start()
    try:
        line = ("[example.test.] module 'mod-mxguard/slow', violation loopback, "
                "owner loop.example.test., exchange localhost., preference 10, action log")
        mark = server.log_mark()
        for _ in range(5):
            server.query("loop.example.test.", "MX")
        # A different owner is a different key: logged at once.
        server.query("chain.example.test.", "MX")
        lines = server.violation_lines(mark)
        assert lines == [line]

        time.sleep(2.5)
        mark = server.log_mark()
        server.query("loop.example.test.", "MX")
        # chain.example.test. ends at loop.example.test.: same key, 1 repeat.
        assert server.violation_lines(mark) == [line + ", suppressed 5"]

        out = server.knotc("zone-stats", "example.test", "mod-mxguard").stdout
        assert "mod-mxguard.violation[loopback] = 7" in out
    finally:
        server.cleanup()


def test_global_scope_names_the_zone_and_counts_in_server_stats():
    modules = """
mod-mxguard:
  - id: everywhere
    log-interval: 0
"""
    template_global = "    global-module: mod-mxguard/everywhere\n"
    text = conf(modules, "  - domain: example.test\n  - domain: clean.test\n")
    text = text.replace("    acl: local-xfr\n", "    acl: local-xfr\n" + template_global)
    server = Knotd(text).start()
    try:
        mark = server.log_mark()
        server.query("loop.example.test.", "MX")
        server.query("clean.test.", "MX")
        assert server.violation_lines(mark) == [
            "module 'mod-mxguard/everywhere', violation loopback, "
            "owner loop.example.test., exchange localhost., preference 10, action log, "
            "zone example.test."]
        out = server.knotc("stats", "mod-mxguard").stdout
        assert "mod-mxguard.violation[loopback] = 1" in out
    finally:
        server.cleanup()


BAD_VALUES = [
    ("loopback", "block"),
    ("ip-literal", "yes"),
    ("provider-mix", ""),
    ("provider-mix", "strip"),
    ("provider-mix", "null-mx"),
    # Mail to these exchanges can be delivered: only off or log (issue 21).
    ("self-exchange", "null-mx"),
    ("self-exchange", "strip"),
    ("cname-exchange", "strip"),
    ("cname-exchange", "null-mx"),
    ("dnssec-unsigned", "maybe"),
    ("policy", "nonexistent"),
    ("allow-address", "10.0.0.0/33"),
    ("allow-address", "banana"),
    ("allow-address", "10.0.0.9-10.0.0.1"),
    ("log-interval", "-1"),
    ("log-interval", "5x"),
    ("log-table-size", "0"),
    # The records beside a null MX, and the zone's own policy kind (issue 24).
    ("no-mail-records", "mx"),
    ("no-mail-dmarc", "v=DMARC1; p=quarantine"),
    ("no-mail-policy", "strip"),
    ("unknown-item", "1"),
]


def bad_conf(item, value):
    modules = f"""
mod-mxguard:
  - id: bad
    {item}: "{value}"
"""
    return conf(modules, "  - domain: example.test\n    module: mod-mxguard/bad\n")


@pytest.mark.parametrize("item,value", BAD_VALUES,
                         ids=[f"{i}={v}" for i, v in BAD_VALUES])
def test_bad_value_refused_by_conf_check(item, value):
    server = Knotd(bad_conf(item, value))
    try:
        res = subprocess.run(wrap([KNOTC, "-c", server.conf, "conf-check"]),
                             capture_output=True, text=True, timeout=30)
        out = res.stdout + res.stderr
        assert res.returncode != 0, out
        assert item in out, out
        if value:
            assert value in out, out
        assert "line" in out, out
    finally:
        server.cleanup()


LOG_ONLY = [
    ("self-exchange", "null-mx", "the domain's own host may receive its mail"),
    ("cname-exchange", "strip", "mail to a CNAME exchange is delivered"),
]


@pytest.mark.parametrize("item,value,why", LOG_ONLY,
                         ids=[f"{i}={v}" for i, v, _ in LOG_ONLY])
def test_log_only_kind_refuses_to_rewrite_and_says_why(item, value, why):
    # Stripping such an exchange, or a null MX in its place, would harm mail
    # that works: conf-check and knotd both refuse, naming item and value.
    server = Knotd(bad_conf(item, value))
    try:
        for cmd in ([KNOTC, "-c", server.conf, "conf-check"], [KNOTD, "-c", server.conf]):
            res = subprocess.run(wrap(cmd), capture_output=True, text=True, timeout=30)
            out = res.stdout + res.stderr
            assert res.returncode != 0, out
            assert (f"invalid {item} '{value}', it takes only 'off' or 'log' ({why})"
                    in out), out
    finally:
        server.cleanup()


def test_bad_value_refused_by_knotd():
    server = Knotd(bad_conf("loopback", "block"))
    try:
        res = subprocess.run(wrap([KNOTD, "-c", server.conf]), capture_output=True,
                             text=True, timeout=30)
        out = res.stdout + res.stderr
        assert res.returncode != 0
        assert "loopback" in out and "block" in out, out
    finally:
        server.cleanup()


def test_good_values_accepted_by_conf_check():
    modules = """
mod-mxguard:
  - id: good
    ip-literal: off
    loopback: strip
    special-address: null-mx
    self-exchange: off
    cname-exchange: log
    provider-mix: log
    dnssec-unsigned: allow
    allow-address: [ 10.0.0.0/8, 192.0.2.1, 2001:db8::/32, 192.168.0.1-192.168.0.9 ]
    log-interval: 5m
    log-table-size: 100
"""
    server = Knotd(conf(modules, "  - domain: example.test\n    module: mod-mxguard/good\n"))
    try:
        res = subprocess.run(wrap([KNOTC, "-c", server.conf, "conf-check"]),
                             capture_output=True, text=True, timeout=30)
        assert res.returncode == 0, res.stdout + res.stderr
    finally:
        server.cleanup()


def test_action_off_disables_the_kind():
    modules = """
mod-mxguard:
  - id: quiet
    loopback: off
    log-interval: 0
"""
    server = Knotd(conf(modules, "  - domain: example.test\n    module: mod-mxguard/quiet\n")).start()
    try:
        mark = server.log_mark()
        server.query("loop.example.test.", "MX")
        server.query("iplit.example.test.", "MX")
        lines = server.violation_lines(mark)
        assert not any("violation loopback" in l for l in lines)
        assert any("violation ip-literal" in l for l in lines)
    finally:
        server.cleanup()


@pytest.mark.parametrize("items", ["loopback: strip", "ip-literal: null-mx",
                                   "null-mx: parked.example.test", "null-mx-implicit: on"])
def test_global_scope_refuses_to_rewrite(items):
    # knotd runs a global module only around the answer, never while it is
    # made: a global instance that should rewrite is refused, loudly.
    modules = f"""
mod-mxguard:
  - id: everywhere
    {items}
"""
    text = conf(modules, "  - domain: example.test\n")
    text = text.replace("    acl: local-xfr\n",
                        "    acl: local-xfr\n    global-module: mod-mxguard/everywhere\n")
    server = Knotd(text)
    try:
        try:
            server.start()
        except RuntimeError:
            # Knot 3.5 refuses to start without a global module it was given;
            # Knot 3.2 and 3.4 run without it. Both say why.
            assert not server.alive()
        log = server.log_text()
        assert ("module 'mod-mxguard/everywhere', strip, null-mx and null MX names "
                "work only in zone scope") in log
        if server.alive():
            # The answers are knotd's own, never a TC loop.
            r = server.query("loop.example.test.", "MX", tcp=True)
            assert [rd.to_text() for rd in r.answer[0]] == ["10 localhost."]
    finally:
        server.cleanup()
