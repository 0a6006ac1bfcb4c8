# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stacked instances and a global observer judge every answer on their own.

Each instance of mod-mxguard keeps nothing from one query to the next and
shares nothing with the others: on a zone with two or three instances in
different modes, plus a global observer, each logs, counts and acts in the
order knotd runs them (zone instances in their 'module:' order while the
answer is made, the global one as the answer goes out)."""

import os
import subprocess
import sys
import time

import dns.flags
import dns.message
import pytest

from knotd_harness import SRCDIR, Knotd, conf

REPORT = os.path.join(SRCDIR, "report", "mxguard-report")

MODULES = """
mod-mxguard:
  - id: a
    log-interval: 0
  - id: b
    loopback: strip
    log-interval: 0
  - id: c
    special-address: strip
    loopback: off
    log-interval: 0
  - id: observer
    log-interval: 0
"""


def server_with(zone_modules, observer=False):
    zones = "  - domain: example.test\n    module: [%s]\n" % ", ".join(zone_modules)
    text = conf(MODULES, zones)
    if observer:
        text = text.replace("    journal-content: none\n",
                            "    journal-content: none\n"
                            "    global-module: mod-mxguard/observer\n")
    return Knotd(text, zones=("example.test",)).start()


@pytest.fixture(scope="module")
def two():
    s = server_with(["mod-mxguard/a", "mod-mxguard/b"])
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def three():
    s = server_with(["mod-mxguard/a", "mod-mxguard/b", "mod-mxguard/c"], observer=True)
    yield s
    s.cleanup()


def lines_after(server, mark, count):
    """The violation lines since the mark, once there are COUNT of them (knotd
    writes its log a moment after the answer; a loaded machine waits longer)."""
    deadline = time.monotonic() + 5
    lines = server.violation_lines(mark)
    while len(lines) < count and time.monotonic() < deadline:
        time.sleep(0.05)
        lines = server.violation_lines(mark, settle=0)
    return lines


def lines_of(lines, instance):
    tag = "module 'mod-mxguard/%s'," % instance
    return [l for l in lines if tag in l]


def zone_stat(server, name):
    out = server.knotc("zone-stats", "example.test", "mod-mxguard").stdout
    for line in out.splitlines():
        if line.endswith("] mod-mxguard." + name) or (" mod-mxguard." + name + " = ") in line:
            return int(line.rsplit(" = ", 1)[1])
    return 0


@pytest.mark.parametrize("tcp", [False, True])
def test_log_only_first_does_not_silence_the_enforcer(two, tcp):
    mark = two.log_mark()
    r = two.query("loop.example.test.", "MX", tcp=tcp)
    assert [rd.to_text() for rd in r.answer[0]] == ["0 ."]
    lines = lines_after(two, mark, 2)
    assert lines_of(lines, "a") == [
        "[example.test.] module 'mod-mxguard/a', violation loopback, owner "
        "loop.example.test., exchange localhost., preference 10, action log"]
    assert lines_of(lines, "b") == [
        "[example.test.] module 'mod-mxguard/b', violation loopback, owner "
        "loop.example.test., exchange localhost., preference 10, action strip"]


def test_same_message_id_twice_is_judged_twice(two):
    # Nothing is keyed on the packet or the message ID: the same ID again,
    # on the same worker, is judged and rewritten again.
    for _ in range(3):
        q = dns.message.make_query("loop.example.test.", "MX", use_edns=0, payload=1232)
        q.id = 0x4242
        r = dns.message.from_wire(two.raw_query(q.to_wire()))
        assert [rd.to_text() for rd in r.answer[0]] == ["0 ."]


def test_three_instances_and_an_observer(three):
    mark = three.log_mark()
    r = three.query("special.example.test.", "MX")
    # c strips the special address: nothing is left, so a null MX.
    assert [rd.to_text() for rd in r.answer[0]] == ["0 ."]
    lines = lines_after(three, mark, 3)
    for instance in ("a", "b"):
        got = lines_of(lines, instance)
        assert len(got) == 1 and "violation special-address" in got[0], lines
        assert got[0].endswith("action log")
    assert lines_of(lines, "c")[0].endswith("action strip")
    # The observer sees the answer as it goes out: already rewritten.
    assert lines_of(lines, "observer") == []

    mark = three.log_mark()
    r = three.query("loop.example.test.", "MX")
    assert [rd.to_text() for rd in r.answer[0]] == ["0 ."]
    lines = lines_after(three, mark, 2)
    assert len(lines_of(lines, "a")) == 1
    assert lines_of(lines, "b")[0].endswith("action strip")
    assert lines_of(lines, "c") == []  # loopback is off in c, and b ran first


def test_observer_judges_where_no_zone_instance_rewrote(three):
    mark = three.log_mark()
    three.query("missing.example.test.", "MX")
    lines = lines_after(three, mark, 3)
    # Logged (never stripped) by a, b and c; the observer counts the answer
    # but leaves its lines to the zone's instances (issue 25: one line per
    # violation and instance that judged it while the answer was made).
    for instance in ("a", "b", "c"):
        got = lines_of(lines, instance)
        assert len(got) == 1 and "violation missing-address" in got[0], (instance, lines)
    time.sleep(0.3)
    assert lines_of(three.violation_lines(mark), "observer") == [], lines


def test_tcp_never_truncated(three):
    for name in ("loop.example.test.", "clean.example.test.", "big.example.test."):
        r = three.query(name, "MX", tcp=True)
        assert not r.flags & dns.flags.TC, name


def test_observer_names_the_zone_where_no_zone_instance_judged():
    """A global instance's line has no zone in knotd's prefix: it ends with
    a zone key, and mxguard-report files it under that zone (issue 25)."""
    text = conf(MODULES, "  - domain: example.test\n").replace(
        "    journal-content: none\n",
        "    journal-content: none\n    global-module: mod-mxguard/observer\n")
    s = Knotd(text, zones=("example.test",)).start()
    try:
        mark = s.log_mark()
        s.query("loop.example.test.", "MX")
        lines = lines_after(s, mark, 1)
        assert len(lines) == 1, lines
        assert lines[0].startswith("module 'mod-mxguard/observer', violation loopback, ")
        assert lines[0].endswith(", action log, zone example.test."), lines
        report = subprocess.run([sys.executable, REPORT, "--format", "json", s.log],
                                capture_output=True, text=True, check=True)
        assert '"zone": "example.test."' in report.stdout, report.stdout
    finally:
        s.cleanup()
