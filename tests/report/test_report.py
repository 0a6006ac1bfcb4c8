# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""mxguard-report on knotd's real lines: the committed sample of a
logrun.py session (tests/report/sample/), the same lines as the journal
shows them, broken lines, and a live knotd session."""

import collections
import csv
import gzip
import io
import os
import re

import pytest

from conftest import SAMPLE, report_json, run_report
from logrun import EXACT_LOOKUPS

SAMPLE_LOG = os.path.join(SAMPLE, "knotd.log")
SAMPLE_STATS = os.path.join(SAMPLE, "stats.txt")


def read(path):
    with open(path) as f:
        return f.read()


def counters(text):
    """{zone or None: {counter: value}} from knotc zone-stats / stats output."""
    out = collections.defaultdict(dict)
    for line in text.splitlines():
        m = re.fullmatch(r"(?:\[(\S+)\] )?mod-mxguard\.(\S+) = (\d+)", line.strip())
        if m:
            out[m.group(1)][m.group(2)] = int(m.group(3))
    return out


def assert_matches_counters(doc, stats_text):
    """Every occurrence counted by the module is in the report (the sessions
    end with a round after the log interval, so nothing is left unlogged)."""
    stats = counters(stats_text)
    assert stats, stats_text
    for zone, ctr in stats.items():
        kinds = collections.Counter()
        for v in doc["violations"]:
            if v["zone"] == zone:
                kinds[v["kind"]] += v["count"]
        expected = {k[len("violation["):-1]: n for k, n in ctr.items()
                    if k.startswith("violation[") and n > 0}
        assert dict(kinds) == expected, zone
        synth = sum(s["count"] for s in doc["synthesized"] if s["zone"] == zone)
        # knotd 3.4+ leaves out counters that are zero.
        assert synth == ctr.get("synthesized", 0), zone
        skipped = sum(s["count"] for s in doc["not_enforced"] if s["zone"] == zone)
        assert skipped == ctr.get("skipped", 0), zone
    assert {v["zone"] for v in doc["violations"]} <= set(stats)


def module_line_count(text):
    return sum(1 for line in text.splitlines() if "module 'mod-mxguard" in line)


# The committed sample ------------------------------------------------------

def test_sample_totals_equal_the_module_counters():
    doc = report_json(SAMPLE_LOG)
    assert doc["input"]["malformed"] == 0
    assert doc["input"]["module_lines"] == module_line_count(read(SAMPLE_LOG))
    assert_matches_counters(doc, read(SAMPLE_STATS))
    # Both scopes are in the sample: a zone module and a global one.
    zones = {v["zone"] for v in doc["violations"]}
    assert zones == {"example.test.", None}


def test_sample_groups():
    doc = report_json(SAMPLE_LOG)
    by_key = {(v["zone"], v["kind"], v["exchange"]): v for v in doc["violations"]}
    loop = by_key[("example.test.", "loopback", "localhost.")]
    # loop (3 rounds with and without DO, then once with DO) and foo.wild (3 + 1).
    assert loop["count"] == 11
    assert loop["owners"] == {"loop.example.test.": 7, "foo.wild.example.test.": 4}
    assert loop["lines"] < loop["count"]          # repeats were suppressed
    assert loop["first_seen"] < loop["last_seen"]  # the last round came 1.2 s later
    mix = by_key[("example.test.", "provider-mix", "aspmx.l.google.com.")]
    assert mix["providers"] == ["google"] and mix["actions"] == {"log": 4}
    special = by_key[("example.test.", "special-address", "mx-private.example.test.")]
    assert special["addresses"] == ["10.1.2.3"]
    glob = by_key[(None, "loopback", "localhost.")]
    assert glob["count"] == 1 and glob["modules"] == ["mod-mxguard/global"]
    synth = {(s["zone"], s["reason"]): s for s in doc["synthesized"]}
    assert synth[("example.test.", "list")]["owners"] == {
        "parked.example.test.": 4, "a.nomail.example.test.": 4}
    skipped = {(s["zone"], s["action"], s["reason"]): s["count"] for s in doc["not_enforced"]}
    assert skipped == {("example.test.", "strip", "no-signing-keys"): 4,
                       ("example.test.", "null-mx", "no-signing-keys"): 4}


def test_sample_text_is_the_expected_report():
    code, out, err = run_report(SAMPLE_LOG)
    assert code == 0 and err == ""
    assert out == read(os.path.join(SAMPLE, "report.txt"))


def test_sample_csv():
    code, out, err = run_report("-f", "csv", SAMPLE_LOG)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    doc = report_json(SAMPLE_LOG)
    assert len(rows) == (len(doc["violations"]) + len(doc["synthesized"])
                         + len(doc["not_enforced"]))
    first = rows[0]
    assert first["record"] == "violation"
    assert int(first["count"]) == doc["violations"][0]["count"]
    assert first["first_seen"] == doc["violations"][0]["first_seen"]
    assert {r["record"] for r in rows} == {"violation", "synthesized", "not-enforced"}
    glob = [r for r in rows if r["zone"] == ""]
    assert glob and glob[0]["modules"] == "mod-mxguard/global"


# The same lines from the journal ------------------------------------------------

STAMP = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d:\d\d:\d\d)\+0000 (\w+): ")
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def as_journal(text, style):
    """The sample's lines as journalctl -u knot prints them."""
    out = []
    for line in text.splitlines():
        m = STAMP.match(line)
        y, mo, d, hms, level = m.groups()
        msg = line[m.end():]
        short = f"{MONTHS[int(mo) - 1]} {int(d):2d} {hms}"
        prefix = {
            "short": f"{short} ns1 knotd[812]: {level}: ",
            "short-noinfo": f"{short} ns1 knotd[812]: ",   # knotd without level prefix
            "short-precise": f"{short}.123456 ns1 knotd[812]: {level}: ",
            "short-iso": f"{y}-{mo}-{d}T{hms}+0000 ns1 knotd[812]: {level}: ",
            "short-iso-precise": f"{y}-{mo}-{d}T{hms}.123456+00:00 ns1 knotd[812]: {level}: ",
            "short-full": f"Sun {y}-{mo}-{d} {hms} UTC ns1 knotd[812]: {level}: ",
            "cat": f"{level}: ",
        }[style]
        out.append(prefix + msg)
    return "\n".join(out) + "\n"


def strip_times(doc):
    for section in ("violations", "synthesized", "not_enforced"):
        for row in doc[section]:
            row.pop("first_seen")
            row.pop("last_seen")
    return doc[("violations")], doc["synthesized"], doc["not_enforced"]


@pytest.mark.parametrize("style", ["short", "short-noinfo", "short-precise", "short-iso",
                                   "short-iso-precise", "short-full", "cat"])
def test_journal_output_gives_the_same_report(style):
    text = as_journal(read(SAMPLE_LOG), style)
    doc = report_json("--year", "2026", "-", stdin=text)
    assert doc["input"]["malformed"] == 0
    assert doc["input"]["module_lines"] == module_line_count(text)
    assert strip_times(doc) == strip_times(report_json(SAMPLE_LOG))
    if style != "cat":
        assert doc["period"]["first_seen"].startswith("2026-11-22T")


def test_since_and_until_select_by_time():
    full = report_json(SAMPLE_LOG)
    last = full["period"]["last_seen"]            # the round after the interval
    late = report_json("--since", last, SAMPLE_LOG)
    early = report_json("--until", last, SAMPLE_LOG)
    assert late["input"]["module_lines"] + early["input"]["module_lines"] == \
        full["input"]["module_lines"]
    assert late["input"]["module_lines"] > 0 and early["input"]["module_lines"] > 0
    assert late["period"]["first_seen"] == last
    assert report_json("--since", "2030-01-01", SAMPLE_LOG)["violations"] == []
    # A date alone is the start of that day (local time).
    assert report_json("--until", "2000-01-01", SAMPLE_LOG)["totals"]["violations"] == 0


def test_gzip_stdin_and_several_files(tmp_path):
    gz = tmp_path / "knotd.log.1.gz"
    with gzip.open(gz, "wt") as f:
        f.write(read(SAMPLE_LOG))
    one = report_json(SAMPLE_LOG)
    two = report_json(str(gz), "-", stdin=read(SAMPLE_LOG))
    assert two["totals"] == {k: 2 * v for k, v in one["totals"].items()}
    assert two["input"]["files"] == [str(gz), "<stdin>"]


# The format, exactly -------------------------------------------------------------

PREFIX = "2026-11-22T10:00:00+0000 info: [example.com.] module 'mod-mxguard/x', "


def test_optional_and_later_keys():
    lines = [
        # No id: an instance without a configuration section.
        "2026-11-22T10:00:00+0000 info: [example.com.] module 'mod-mxguard', violation "
        "loopback, owner example.com., exchange localhost., preference 10, action log",
        # A key a later version may add, between and after the known ones.
        PREFIX + "violation loopback, owner example.com., exchange localhost., "
        "preference 10, ttl 300, action log, suppressed 4, client-subnet 192.0.2.0/24",
        # Names with knotd's escapes.
        PREFIX + r"violation self-exchange, owner a\.b.example.com., "
        r"exchange a\.b.example.com., preference 0, action null-mx",
        PREFIX + "synthesized null-mx, owner x.example.com., reason implicit, suppressed 2",
        "2026-11-22T10:00:00+0000 notice: module 'mod-mxguard/g', not enforced, "
        "owner example.com., action strip, reason signatures-expiring",
        "2026-11-22T10:00:00+0000 warning: [example.com.] module 'mod-mxguard/x', "
        "internal failure (out of memory), answer served unchanged",
    ]
    doc = report_json("-", stdin="\n".join(lines) + "\n")
    assert doc["input"]["malformed"] == 0
    by_key = {(v["zone"], v["kind"], v["exchange"]): v for v in doc["violations"]}
    assert by_key[("example.com.", "loopback", "localhost.")]["count"] == 6
    assert by_key[("example.com.", "loopback", "localhost.")]["modules"] == [
        "mod-mxguard", "mod-mxguard/x"]
    assert ("example.com.", "self-exchange", r"a\.b.example.com.") in by_key
    assert doc["synthesized"][0]["count"] == 3
    assert doc["not_enforced"][0]["zone"] is None
    assert doc["other"] == [{"zone": "example.com.", "level": "warning", "count": 1,
                             "message": "internal failure (out of memory), answer "
                                        "served unchanged"}]


BROKEN = [
    # order
    "violation loopback, exchange localhost., owner example.com., preference 10, action log",
    # missing key
    "violation loopback, owner example.com., exchange localhost., action log",
    # repeated key
    "violation loopback, owner a., owner b., exchange c., preference 1, action log",
    # bad values
    "violation loopback, owner example.com., exchange localhost., preference ten, action log",
    "violation loopback, owner example.com., exchange localhost., preference 10, action log, "
    "suppressed -1",
    "violation loopback, owner example.com, exchange two words., preference 10, action log",
    # not key-value
    "violation loopback; owner example.com.",
    "synthesized null-mx, owner x.example.com.",
    "not enforced, owner x., reason no-signing-keys",
]


@pytest.mark.parametrize("body", BROKEN)
def test_broken_lines_are_reported_not_guessed(body):
    line = PREFIX + body + "\n"
    code, out, err = run_report("-f", "json", "-", stdin=line)
    assert code == 0
    assert "<stdin>:1: not the mod-mxguard log format" in err
    assert '"malformed": 1' in out and '"violations": 0' in out
    code, _, _ = run_report("--strict", "-q", "-", stdin=line)
    assert code == 1


def test_other_programs_lines_are_ignored():
    text = ("2026-11-22T10:00:00+0000 error: module 'mod-mxguard/x', invalid\n"
            "Nov 22 10:00:00 ns1 postfix/smtp[9]: mod-mxguard mentioned\n"
            "2026-11-22T10:00:00+0000 info: [example.com.] zone file parsed\n")
    doc = report_json("-", stdin=text)
    # knotd's own error line about the module keeps the module prefix: other.
    assert doc["input"]["module_lines"] == 1 and doc["input"]["malformed"] == 0
    assert doc["totals"] == {"violations": 0, "synthesized": 0, "not_enforced": 0}


def test_unreadable_input_and_bad_options():
    code, _, err = run_report("/nonexistent/knotd.log")
    assert code == 2 and "/nonexistent/knotd.log" in err
    code, _, err = run_report("--since", "yesterday-ish", SAMPLE_LOG)
    assert code == 2
    code, out, _ = run_report("--help")
    assert code == 0 and "--format" in out


# A live knotd ---------------------------------------------------------------------

def test_live_session_report_equals_counters(live_session):
    path, log, zone_stats, stats = live_session
    doc = report_json(path)
    assert doc["input"]["malformed"] == 0
    assert doc["input"]["module_lines"] == module_line_count(log)
    assert_matches_counters(doc, zone_stats + stats)
    code, out, err = run_report(path)
    assert code == 0 and err == ""
    assert "Violations by zone, kind and exchange" in out


@pytest.mark.skipif(EXACT_LOOKUPS, reason="the sample is of Knot 3.2, which rewrites "
                    "after mod-onlinesign signed")
def test_live_session_matches_the_sample(live_session):
    """The committed sample still is what knotd logs (times aside)."""
    path, _, _, _ = live_session
    assert strip_times(report_json(path)) == strip_times(report_json(SAMPLE_LOG))
