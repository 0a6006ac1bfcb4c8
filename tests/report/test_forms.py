# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""mxguard-report reads every form of knotd's log: the sample's lines (and
a live knotd's) as syslog files and journalctl's output modes give them
(forms.py), compressed or not, from files or standard input."""

import bz2
import gzip
import json
import lzma
import os
import subprocess
import sys

import pytest

import forms
from conftest import REPORT, SAMPLE, report_json, run_report

SAMPLE_LOG = os.path.join(SAMPLE, "knotd.log")


def read(path):
    with open(path) as f:
        return f.read()


def run_bytes(*args, stdin=b""):
    proc = subprocess.run([sys.executable, REPORT, *args], input=stdin,
                          capture_output=True, timeout=60)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def json_bytes(*args, stdin=b""):
    code, out, err = run_bytes("-f", "json", *args, stdin=stdin)
    assert code == 0, err
    return json.loads(out)


def groups(doc):
    """The groups without their times (which differ by form)."""
    out = {}
    for section in ("violations", "synthesized", "not_enforced"):
        out[section] = [{k: v for k, v in row.items() if k not in ("first_seen", "last_seen")}
                        for row in doc[section]]
    return out


def module_lines(text):
    return sum(1 for line in text.splitlines() if "module 'mod-mxguard" in line)


EXPECTED = report_json(SAMPLE_LOG)


@pytest.mark.parametrize("form", forms.JOURNAL_FORMS + forms.SYSLOG_FORMS)
def test_every_form_gives_the_sample_report(form):
    data = forms.render(read(SAMPLE_LOG), form)
    doc = json_bytes("--year", "2026", "-", stdin=data)
    assert doc["input"]["malformed"] == 0
    assert doc["input"]["module_lines"] == module_lines(read(SAMPLE_LOG))
    assert groups(doc) == groups(EXPECTED)
    # Global-instance lines (no zone in the prefix, a zone key) are read in
    # every form, under the zone their key names.
    assert any(v["modules"] == ["mod-mxguard/global"] and v["zone"] == "global.test."
               for v in doc["violations"])
    assert "-" not in {v["zone"] for v in doc["violations"]}
    first, last = doc["period"]["first_seen"], doc["period"]["last_seen"]
    if form in forms.UTC_FORMS:
        assert (first, last) == (EXPECTED["period"]["first_seen"],
                                 EXPECTED["period"]["last_seen"])
        assert doc["input"]["without_time"] == 0
    elif form in forms.UNTIMED_FORMS:
        assert first is None
        assert doc["input"]["without_time"] == doc["input"]["module_lines"]
    else:   # syslog's local time of day, in the year asked
        assert first == EXPECTED["period"]["first_seen"][:19]
        assert doc["input"]["without_time"] == 0


# Lines of levels other than info, which the journal's MESSAGE keeps
# ("notice: ..."), with the not-enforced line the sample no longer has.
NOTICES = """\
2026-11-22T08:38:21+0000 notice: [example.test.] module 'mod-mxguard/enforce', not \
enforced, owner loop.example.test., action strip, reason signing-failed, suppressed 2
2026-11-22T08:38:22+0000 notice: module 'mod-mxguard/global', not enforced, owner \
Self.Global.TEST., action null-mx, reason signatures-expiring
2026-11-22T08:38:23+0000 warning: module 'mod-mxguard/global', internal failure \
(out of memory), answer served unchanged
"""


@pytest.mark.parametrize("form", forms.JOURNAL_FORMS + forms.SYSLOG_FORMS)
def test_every_form_keeps_levels_and_not_enforced_lines(form):
    expected = report_json("-", stdin=NOTICES)
    assert expected["totals"]["not_enforced"] == 4 and len(expected["other"]) == 1
    doc = json_bytes("--year", "2026", "-", stdin=forms.render(NOTICES, form))
    assert groups(doc) == groups(expected)
    assert doc["other"] == expected["other"]
    assert doc["other"][0]["level"] == "warning"


def test_every_form_is_a_different_text():
    """The forms are not the same text under several names."""
    texts = {forms.render(read(SAMPLE_LOG), form)
             for form in forms.JOURNAL_FORMS + forms.SYSLOG_FORMS}
    assert len(texts) == len(forms.JOURNAL_FORMS + forms.SYSLOG_FORMS)


def test_monotonic_prefix_is_not_a_zone():
    data = forms.render(read(SAMPLE_LOG), "short-monotonic").decode()
    line = next(ln for ln in data.splitlines() if "module 'mod-mxguard/global'" in ln)
    assert line.startswith("[") and "[global" not in line
    doc = report_json("-", stdin=line + "\n")
    # The zone comes from the line's zone key, never from the time stamp.
    assert [v["zone"] for v in doc["violations"]] == ["global.test."]


def test_export_binary_field_and_json_byte_array_are_skipped_not_misread():
    for form in ("export", "json"):
        data = forms.render(read(SAMPLE_LOG), form)
        assert forms.OTHER_MESSAGE in data or form == "json"
        doc = json_bytes("-", stdin=data)
        assert doc["input"]["malformed"] == 0
        assert doc["totals"] == EXPECTED["totals"]


def test_the_module_named_in_other_fields_is_not_a_message():
    entries = [{"MESSAGE": "zone loaded", "_CMDLINE": "knotd --mod mod-mxguard"},
               {"MESSAGE": None, "SYSLOG_IDENTIFIER": "mod-mxguard"}]
    text = "".join(json.dumps(e) + "\n" for e in entries)
    export = "\n".join(f"__CURSOR=s=1;i={i}\n" + "".join(f"{k}={v}\n" for k, v in e.items()
                                                         if v is not None)
                       for i, e in enumerate(entries))
    for data in (text, export):
        code, out, err = run_report("-f", "json", "-", stdin=data)
        assert code == 0 and err == ""
        assert json.loads(out)["input"]["module_lines"] == 0


def test_month_names_of_other_locales_give_the_month():
    line = ("{month} 22 08:38:20 ns1 knotd[812]: [example.test.] module "
            "'mod-mxguard/enforce', violation loopback, owner loop.example.test., "
            "exchange localhost., preference 10, action strip\n")
    for month, number in [("Mär", 3), ("mars", 3), ("Okt", 10), ("déc.", 12),
                          ("kvě", 5), ("мая", 5), ("5月", 5), ("MAY", 5)]:
        doc = report_json("--year", "2025", "-", stdin=line.format(month=month))
        assert doc["period"]["first_seen"] == f"2025-{number:02d}-22T08:38:20", month


def test_unknown_month_name_still_counts_the_line():
    line = ("Xyz 22 08:38:20 ns1 knotd[812]: module 'mod-mxguard/global', violation "
            "loopback, owner a.test., exchange localhost., preference 10, action log\n")
    code, out, err = run_report("-f", "json", "-", stdin=line * 3)
    assert code == 0
    doc = json.loads(out)
    assert doc["totals"]["violations"] == 3 and doc["input"]["without_time"] == 3
    assert "month name 'Xyz' not known: 3 line(s)" in err


def test_rfc5424_level_from_pri_when_the_message_has_none():
    line = ("<28>1 2026-11-22T08:38:20Z ns1 knotd 812 - - module 'mod-mxguard/g', "
            "signing keys not available (x)\n")
    doc = report_json("-", stdin=line)
    assert doc["other"][0]["level"] == "warning"      # 28 = daemon.warning
    assert doc["period"]["first_seen"] == "2026-11-22T08:38:20+00:00"
    # No time stamp (NILVALUE): the level all the same.
    doc = report_json("-", stdin=line.replace("2026-11-22T08:38:20Z", "-"))
    assert doc["other"][0]["level"] == "warning" and doc["input"]["without_time"] == 1


COMPRESSORS = {"gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress}


@pytest.mark.parametrize("name", sorted(COMPRESSORS))
def test_compressed_files_and_stdin(tmp_path, name):
    """Compression is told by the magic bytes, not by the file name."""
    data = COMPRESSORS[name](forms.render(read(SAMPLE_LOG), "json"))
    path = tmp_path / "journal.txt"
    path.write_bytes(data)
    from_file = json_bytes(str(path))
    from_stdin = json_bytes("-", stdin=data)
    assert from_file["totals"] == from_stdin["totals"] == EXPECTED["totals"]
    assert groups(from_file) == groups(EXPECTED)


def test_several_inputs_of_different_forms_add_up(tmp_path):
    paths = []
    for form in ("rfc5424", "export"):
        path = tmp_path / form
        path.write_bytes(forms.render(read(SAMPLE_LOG), form))
        paths.append(str(path))
    doc = json_bytes(*paths, "-", stdin=read(SAMPLE_LOG).encode())
    assert doc["totals"] == {k: 3 * v for k, v in EXPECTED["totals"].items()}
    assert doc["input"]["files"] == paths + ["<stdin>"]


def test_corrupt_compressed_input_is_an_error(tmp_path):
    path = tmp_path / "knotd.log.xz"
    path.write_bytes(lzma.compress(b"x" * 1000)[:-20] + b"garbage!" * 4)
    code, _, err = run_report(str(path))
    assert code == 2 and str(path) in err


def test_live_session_in_every_journal_form(live_session):
    """A live knotd's lines, as the journal would give them."""
    path, log, _, _ = live_session
    expected = report_json(path)
    for form in ("short-monotonic", "export", "json-pretty", "verbose", "rfc5424-sd"):
        doc = json_bytes("-", stdin=forms.render(log, form))
        assert doc["input"]["malformed"] == 0, form
        assert groups(doc) == groups(expected), form
