# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""mxguard-report on the lines that are not the module's: lines that only
name it (never 'not understood'), and knotd's and knotc's lines that say it
was not loaded, or was loaded with errors (first in the report, exit
status 3), on crafted lines with knotd's and knotc's texts, in every form
of the log, and from a live knotd and knotc."""

import csv
import io
import json
import re
import subprocess
import sys

import pytest

import forms
from conftest import REPORT, run_report

PREFIX = "2026-11-22T10:00:00+0000 info: [example.com.] module 'mod-mxguard/x', "


def test_mentions_without_the_module_prefix_are_not_the_modules():
    """Only a line with knotd's module prefix is the module's: other lines
    that name it (a shell command, another program, a form not known)
    are left out and counted, never 'not understood'; a broken entry is
    not understood only when it holds the module prefix."""
    text = (
        "Dec  7 10:00:00 ns1 sudo:    admin : TTY=pts/0 ; PWD=/home/admin ; USER=root ; "
        "COMMAND=/usr/bin/grep -n mod-mxguard /etc/knot/knot.conf\n"
        "Dec  7 10:00:01 ns1 sudo:    admin : TTY=pts/0 ; PWD=/home/admin ; USER=root ; "
        "COMMAND=/usr/bin/grep error: mod-mxguard /var/log/knot/knot.log\n"
        "Nov 22 10:00:00 ns1 postfix/smtp[9]: mod-mxguard mentioned\n"
        "Nov 22 10:00:00 ns1 mxguard-check[10]: /etc/knot/knot.conf: ok\n"
        '{"MESSAGE": "knotc conf-set template.default.module mod-mxguard/x\n'
        '{"MESSAGE": "[example.com.] module \'mod-mxguard/x\', violation lo\n'
        "2026-11-22T10:00:00+0000 info: [example.com.] zone file parsed\n")
    code, out, err = run_report("-f", "json", "-", stdin=text)
    assert code == 1
    doc = json.loads(out)
    assert doc["input"]["module_lines"] == 0 and doc["input"]["malformed"] == 1
    assert doc["input"]["ignored"] == 4        # mxguard-check names no mod-mxguard
    assert doc["load_failures"] == []
    assert "not understood (not valid JSON" in err and "<stdin>:6:" in err
    assert "<stdin>:1:" not in err and "<stdin>:5:" not in err
    # Without the broken module entry: nothing to say, exit 0.
    lines = text.splitlines(keepends=True)
    code, out, err = run_report("-", stdin="".join(lines[:5] + lines[6:]))
    assert code == 0 and err == ""


# Load failures ------------------------------------------------------------------

# knotd 3.2.6's and knotc's lines when the module is not loaded (knot.conf
# with a mod-mxguard section but no module, a file that does not open, a
# bad reference, the module's check refusing a section); Knot's texts for
# the others (src/knot/conf/module.c).
T = "2026-12-07T21:47:46+0000 "
LOAD_FAILURES = {
    "unknown-module": [
        T + "error: config, file '/etc/knot/knot.conf', line 10, unknown module 'mod-mxguard'",
        T + "critical: failed to load configuration file '/etc/knot/knot.conf' (invalid item)"],
    "no-library": [
        T + "error: module, failed to open '/usr/lib/x86_64-linux-gnu/knot/modules-3.2/"
        "mxguard.so' (libknot.so.15: cannot open shared object file: No such file or "
        "directory)",
        T + "error: config, file '/etc/knot/knot.conf', line 12, section "
        "'module[mod-mxguard]' (not exists)",
        T + "critical: failed to load configuration file '/etc/knot/knot.conf' (not exists)"],
    "bad-reference": [
        T + "error: config, file '/etc/knot/knot.conf', line 21, item 'module', value "
        "'mod-mxguard/nosuch' (invalid module reference)",
        T + "critical: failed to load configuration file '/etc/knot/knot.conf' (not exists)"],
    "check-refused": [
        T + "error: config, file '/etc/knot/knot.conf', line 15, section 'mod-mxguard[x]' "
        "(invalid null-mx-file, /etc/knot/nomail: No such file or directory)",
        T + "critical: failed to load configuration file '/etc/knot/knot.conf' (file error)"],
    "global-refused": [
        T + "error: module 'mod-mxguard/g', strip, null-mx and null MX names work only in "
        "zone scope (knotd runs global modules only around the answer); use 'module:' in a "
        "zone or template instead",
        T + "error: module 'mod-mxguard/g', failed to load (operation not supported)",
        T + "critical: failed to activate query modules (operation not supported)"],
    "incompatible": [
        T + "error: module 'mod-mxguard', incompatible version"],
    "invalid-library": [
        T + "error: module, invalid library '/usr/lib/knot/modules-3.5/mxguard.so' "
        "(undefined symbol: knotd_mod_api)"],
    "zone-instance": [
        T + "error: [example.com.] module 'mod-mxguard/x', invalid null-mx-file, "
        "/etc/knot/nomail:3: invalid name 'a..b'",
        T + "error: [example.com.] module 'mod-mxguard/x', failed to load (invalid parameter)",
        T + "error: [example.com.] config, failed to activate modules (invalid parameter)"],
    "key-stores": [
        T + "error: [example.com.] module 'mod-mxguard/x', DNSSEC, key stores not read "
        "(not exists), signed answers will not be rewritten"],
}


def message_of(line):
    """The line as the report gives it: without time, level and zone."""
    return re.sub(r"^\S+ \w+: (\[\S+\] )?", "", line)


@pytest.mark.parametrize("case", sorted(LOAD_FAILURES))
def test_load_failures_come_first_and_give_exit_status_3(case):
    lines = LOAD_FAILURES[case]
    # Between knotd's usual lines and a module line, as a log has them.
    text = "\n".join([T + "info: Knot DNS 3.2.6 starting"] + lines + [
        T + "info: [example.com.] zone file parsed, serial 1",
        PREFIX + "violation loopback, owner a.example.com., exchange localhost., "
        "preference 10, action log"]) + "\n"
    code, out, err = run_report("-f", "json", "-", stdin=text)
    assert code == 3, err
    doc = json.loads(out)
    assert [f["message"] for f in doc["load_failures"]] == [message_of(ln) for ln in lines]
    assert [f["first_line"] for f in doc["load_failures"]] == [
        f"<stdin>:{n}" for n in range(2, 2 + len(lines))]
    assert [f["level"] for f in doc["load_failures"]] == [
        ln.split()[1][:-1] for ln in lines]
    assert {f["zone"] for f in doc["load_failures"]} == (
        {"example.com."} if "[example.com.]" in lines[0] else {None})
    assert doc["totals"]["load_failures"] == len(lines)
    assert doc["other"] == [] and doc["input"]["malformed"] == 0
    assert doc["totals"]["violations"] == 1 and doc["input"]["module_lines"] == 1
    assert list(doc)[:2] == ["version", "load_failures"]
    assert err.startswith(f"mxguard-report: LOAD FAILURE: {len(lines)} line(s) say "
                          "mod-mxguard was not loaded, or was loaded with errors; the first: "
                          "<stdin>:2: ")
    # Text: a section before everything else; -q keeps the stderr line.
    code, out, err = run_report("-q", "-", stdin=text)
    assert code == 3 and "LOAD FAILURE" in err
    assert out.startswith(f"LOAD FAILURES: {len(lines)} line(s) say mod-mxguard was not "
                          "loaded, or was loaded with errors\n  FIRST SEEN ")
    head = out.split("\nmod-mxguard report:")[0]
    assert all(message_of(ln) in head for ln in lines)
    # CSV: a row each, first.
    code, out, _ = run_report("-f", "csv", "-", stdin=text)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 3
    assert [r["message"] for r in rows[:len(lines)]] == [message_of(ln) for ln in lines]
    assert {r["record"] for r in rows[:len(lines)]} == {"load-failure"}
    assert rows[len(lines)]["record"] == "violation" and rows[len(lines)]["message"] == ""


def test_knotc_lines_are_load_failures_too():
    """knotc conf-check (or a reload) writes its lines without a time."""
    text = ("error: config, file '/etc/knot/knot.conf', line 10, unknown module "
            "'mod-mxguard'\n"
            "error: failed to load configuration file '/etc/knot/knot.conf' (invalid item)\n")
    code, out, err = run_report("-f", "json", "-", stdin=text)
    assert code == 3
    doc = json.loads(out)
    assert [(f["level"], f["first_seen"]) for f in doc["load_failures"]] == [
        ("error", None), ("error", None)]
    assert doc["load_failures"][1]["message"].startswith("failed to load configuration file")


def test_knotd_failures_of_its_own_are_not_the_modules():
    """'failed to load configuration file' and the like count only right
    after a load failure of the module; knotd's errors that name another
    module or another library are not the module's."""
    text = (T + "error: config, file '/etc/knot/knot.conf', line 3, item 'listen', value "
            "'x' (invalid parameter)\n"
            + T + "critical: failed to load configuration file '/etc/knot/knot.conf' "
            "(invalid parameter)\n"
            + T + "error: module, failed to open '/usr/lib/knot/modules-3.2/geoip.so' (x)\n"
            + T + "error: config, file '/etc/knot/knot.conf', line 9, unknown module "
            "'mod-geoip'\n"
            + T + "error: [example.com.] module 'mod-rrl', failed to load (x)\n"
            + T + "error: config, file '/etc/knot/mxguard-zones.conf', line 2, item 'domain' "
            "(invalid parameter)\n")
    code, out, err = run_report("-f", "json", "-", stdin=text)
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc["load_failures"] == [] and doc["input"]["ignored"] == 0
    # Far after a load failure, knotd's own failure is not counted either.
    filler = "".join(T + f"info: [z{i}.test.] zone file parsed, serial 1\n"
                     for i in range(1200))
    text = (T + "error: config, file '/etc/knot/knot.conf', line 10, unknown module "
            "'mod-mxguard'\n" + filler + T + "critical: failed to load configuration file "
            "'/etc/knot/knot.conf' (invalid item)\n")
    doc = json.loads(run_report("-f", "json", "-", stdin=text)[1])
    assert len(doc["load_failures"]) == 1


def test_errors_of_the_module_at_load_not_other_messages():
    """The module's lines of no known kind: those at level error are load
    failures (the module logs at error only when it loads), the others
    stay 'other'; without a level, knotd's and the module's load texts
    tell."""
    text = (T + "warning: module 'mod-mxguard/g', internal failure (out of memory), answer "
            "served unchanged\n"
            + T + "notice: [example.com.] module 'mod-mxguard/x', DNSSEC, only PKCS #11 key "
            "stores, which the module cannot use: signed answers will not be rewritten\n"
            + T + "error: [example.com.] module 'mod-mxguard/x', something new and bad\n"
            # journalctl -o cat of knotd's info lines: no level.
            + "module 'mod-mxguard', incompatible version\n"
            + "[example.com.] module 'mod-mxguard/x', DNSSEC, signing with key tag 1, "
            "algorithm 13\n")
    code, out, err = run_report("-f", "json", "-", stdin=text)
    assert code == 3
    doc = json.loads(out)
    assert [(f["zone"], f["level"], f["message"]) for f in doc["load_failures"]] == [
        ("example.com.", "error", "module 'mod-mxguard/x', something new and bad"),
        (None, None, "module 'mod-mxguard', incompatible version")]
    assert sorted((o["level"] or "-", o["message"][:20]) for o in doc["other"]) == [
        ("-", "DNSSEC, signing with"), ("notice", "DNSSEC, only PKCS #1"),
        ("warning", "internal failure (ou")]


@pytest.mark.parametrize("form", forms.JOURNAL_FORMS + forms.SYSLOG_FORMS)
def test_load_failures_in_every_form(form):
    lines = LOAD_FAILURES["no-library"] + LOAD_FAILURES["global-refused"]
    text = "\n".join(lines) + "\n"
    expected = report_json_code(3, "-", stdin=text)["load_failures"]
    doc = report_json_code(3, "--year", "2026", "-",
                           stdin=forms.render(text, form).decode("utf-8"))
    strip = ("first_seen", "last_seen", "first_line")
    assert [{k: v for k, v in f.items() if k not in strip} for f in doc["load_failures"]] == \
        [{k: v for k, v in f.items() if k not in strip} for f in expected], form
    assert doc["input"]["malformed"] == 0 and doc["input"]["ignored"] == 0


def report_json_code(expected_code, *args, stdin=None):
    code, out, err = run_report("-f", "json", *args, stdin=stdin)
    assert code == expected_code, err
    return json.loads(out)


def test_exit_status_3_wins_over_1_and_the_period_applies():
    broken = PREFIX + "violation loopback, owner x.\n"
    failure = LOAD_FAILURES["unknown-module"][0] + "\n"
    code, out, err = run_report("-f", "json", "-", stdin=broken + failure)
    assert code == 3
    assert "1 line(s) of the module not understood" in err and "LOAD FAILURE" in err
    doc = json.loads(out)
    assert doc["input"]["malformed"] == 1 and len(doc["load_failures"]) == 1
    # A load failure before the period asked is not counted.
    doc = report_json_code(1, "--since", "2026-12-08", "-", stdin=broken + failure)
    assert doc["load_failures"] == [] and doc["input"]["outside_period"] == 1
    # Repeated failures (knotd restarted in a loop): one row, counted.
    again = failure.replace("21:47:46", "21:48:46")
    doc = report_json_code(3, "-", stdin=failure + again + failure.replace("21:47", "21:49"))
    (row,) = doc["load_failures"]
    assert row["count"] == 3 and row["first_line"] == "<stdin>:1"
    assert (row["first_seen"], row["last_seen"]) == ("2026-12-07T21:47:46+00:00",
                                                     "2026-12-07T21:49:46+00:00")


def test_exit_status_is_the_logs_when_the_reader_stops_early():
    """mxguard-report ... | head: the status still says the module failed to
    load, and nothing is written about the closed pipe."""
    text = "".join(ln + "\n" for ln in LOAD_FAILURES["unknown-module"]) + "".join(
        PREFIX.replace("example.com.", f"z{i}.test.") + f"violation loopback, owner "
        f"a.z{i}.test., exchange localhost., preference 10, action log\n"
        for i in range(5000))
    proc = subprocess.Popen([sys.executable, REPORT, "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(text.encode())
    proc.stdin.close()
    assert proc.stdout.readline().startswith(b"LOAD FAILURES: 2 line(s)")
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 3
    assert "LOAD FAILURE" in err and "Broken" not in err and "Exception" not in err


# A live knotd ------------------------------------------------------------------

def test_live_knotd_and_knotc_refusing_the_module(tmp_path):
    """A real knotd and knotc on a knot.conf whose zone names an instance
    that does not exist, and a global instance with a rewrite (refused at
    load: Knot 3.2 and 3.4 run on without it, 3.5 does not start)."""
    from knotd_harness import Knotd, conf
    bad_ref = conf("mod-mxguard:\n  - id: x\n",
                   "  - domain: example.test\n    module: mod-mxguard/nosuch\n")
    server = Knotd(bad_ref, zones=("example.test",), workdir=str(tmp_path / "ref"))
    try:
        check = server.knotc("conf-check")
        with pytest.raises(RuntimeError, match="knotd exited"):
            server.start()
        log = server.log_text()
    finally:
        server.cleanup()
    assert check.returncode != 0
    for text in (log, check.stdout + check.stderr):
        code, out, err = run_report("-f", "json", "-", stdin=text)
        assert code == 3, text
        messages = [f["message"] for f in json.loads(out)["load_failures"]]
        assert messages[0].startswith("config, file ") and "'mod-mxguard/nosuch'" in messages[0]
        assert messages[-1].startswith("failed to load configuration file "), text

    glob = conf("mod-mxguard:\n  - id: g\n    loopback: strip\n",
                "  - domain: example.test\n").replace(
        "    journal-content: none\n",
        "    journal-content: none\n    global-module: mod-mxguard/g\n")
    server = Knotd(glob, zones=("example.test",), workdir=str(tmp_path / "global"))
    try:
        try:
            server.start()
        except RuntimeError:
            pass      # Knot 3.5
        log = server.log_text()
    finally:
        server.cleanup()
    code, out, err = run_report("-f", "json", "-", stdin=log)
    assert code == 3, log
    failures = json.loads(out)["load_failures"]
    assert failures[0]["message"].startswith(
        "module 'mod-mxguard/g', strip, null-mx and null MX names work only in zone scope")
    assert failures[1]["message"].startswith("module 'mod-mxguard/g', failed to load (")
