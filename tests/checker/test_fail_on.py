# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run's verdict for CI (issue 25, item 5): --fail-on with kinds, the
names the server answers with a null MX by design (not failing by default),
and the files not checked as JSON objects."""

import os

import pytest

from conftest import CONF

SECTIONS = os.path.join(CONF, "sections.conf")
KNOT_CONF = os.path.join(CONF, "knot.conf")


# --fail-on: actions, kinds, -kinds.

@pytest.mark.parametrize("fail_on,zones,rc", [
    # Kinds only: those kinds fail, whatever their action, nothing else.
    ("special-address", ["loopback.zone"], 0),
    ("special-address", ["loopback.zone", "special-address.zone"], 1),
    ("loopback,special-address", ["loopback.zone"], 1),
    ("cname-exchange", ["loopback.zone", "special-address.zone"], 0),
    # An action and kinds: either fails.
    ("strip,loopback", ["loopback.zone"], 1),
    ("strip,special-address", ["loopback.zone"], 0),
    # -kinds: the default (log here) without them, or the action given.
    ("-loopback", ["loopback.zone"], 0),
    ("-loopback", ["loopback.zone", "special-address.zone"], 1),
    ("log,-loopback,-special-address", ["loopback.zone", "special-address.zone"], 0),
    ("log,-loopback", ["wildcard.zone"], 1),
    ("never", ["loopback.zone"], 0),
])
def test_fail_on_kinds(check, fail_on, zones, rc):
    r = check("-q", "--fail-on", fail_on, *zones)
    assert r.rc == rc
    assert r.err == []


def test_fail_on_minus_forms(check):
    # getopt takes the next word whatever it begins with; '=' reads better.
    for args in (["--fail-on", "-loopback"], ["--fail-on=-loopback"]):
        r = check("-q", *args, "loopback.zone")
        assert (r.rc, r.err) == (0, [])


def test_fail_on_kinds_with_policy(check):
    # enforce strips ip-literal, null-mx's special-address: by default only
    # those fail; a kind listed adds missing-address, whose action is log.
    base = ["-q", "-c", KNOT_CONF, "--module-id", "enforce"]
    assert check(*base, "missing-address.zone").rc == 0
    assert check(*base, "--fail-on", "strip,missing-address", "missing-address.zone").rc == 1
    assert check(*base, "--fail-on", "-ip-literal,-special-address",
                 "ip-literal.zone").rc == 0
    assert check(*base, "ip-literal.zone").rc == 1


def test_fail_on_summary_counts(check):
    # The summary says how many fail when --fail-on leaves some out.
    r = check("--fail-on", "special-address", "loopback.zone", "special-address.zone")
    assert r.err == [
        "loopback.zone: zone loopback.test.: 8 records, 3 MX RRsets checked, "
        "3 findings (loopback 3), 0 failing",
        "special-address.zone: zone special-address.test.: 8 records, 2 MX RRsets "
        "checked, 2 findings (special-address 2)",
    ]
    r = check("--format", "json", "--fail-on", "special-address", "loopback.zone")
    assert r.json()[-1]["findings"] == 3 and r.json()[-1]["failing"] == 0


@pytest.mark.parametrize("value,why", [
    ("warn", "'warn' is no action and no kind"),
    ("loopback,", "an empty item"),
    (",loopback", "an empty item"),
    ("", "an empty item"),
    ("log,strip", "more than one action"),
    ("log,never", "never stands alone"),
    ("never,loopback", "never stands alone"),
    ("loopback,-loopback", "'loopback' both included and excluded"),
    ("-strip", "'-strip' is no action and no kind"),
    # The checker never reports it: null-mx-missing stands for it.
    ("null-mx-override", "'null-mx-override' is no action and no kind"),
    ("LOOPBACK", "'LOOPBACK' is no action and no kind"),
    ("x" * 100, "'%s' is no action and no kind" % ("x" * 100)),
])
def test_fail_on_refused(check, value, why):
    r = check("--fail-on", value, "clean.zone")
    assert r.rc == 2
    assert r.out == []
    assert r.err == [f"mxguard-check: invalid --fail-on '{value}': {why}",
                     "Try 'mxguard-check --help'."]


def test_fail_on_every_kind_accepted(check):
    kinds = ["ip-literal", "loopback", "special-address", "missing-address",
             "null-mx-conflict", "self-exchange", "provider-mix", "cname-exchange",
             "no-mail-policy", "null-mx-missing", "implicit-mx"]
    help_text = " ".join(check("--help").out)
    for kind in kinds:
        assert kind in help_text
        assert check("-q", "--fail-on", kind, "clean.zone").rc == 0
        assert check("-q", "--fail-on", "-" + kind, "clean.zone").rc == 0
    assert check("-q", "--fail-on", ",".join(kinds), "clean.zone").rc == 0


# The names the server answers with a null MX: written, not failing by
# default. The module's null-mx list exists so that zones need no edit.

def test_served_list_not_failing(check):
    base = ["-c", SECTIONS, "--module-id", "parked", "no-mail.zone"]
    r = check(*base)
    assert r.out == ["no-mail.zone:8: violation null-mx-missing, owner "
                     "parked.no-mail.test., action null-mx"]
    assert r.err == ["no-mail.zone: zone no-mail.test., module mod-mxguard/parked: "
                     "22 records, 4 MX RRsets checked, 1 finding (null-mx-missing 1), "
                     "0 failing"]
    assert r.rc == 0
    # Asked for by kind, or by an action it reaches: it fails.
    for fail_on in ("null-mx-missing", "log", "null-mx", "strip,null-mx-missing"):
        assert check("-q", "--fail-on", fail_on, *base).rc == 1, fail_on
    assert check("-q", "--fail-on", "log,-null-mx-missing", *base).rc == 0


def test_served_list_other_findings_still_fail(check, tmp_path):
    # The list does not hide what the server does not fix.
    conf = tmp_path / "knot.conf"
    conf.write_text("mod-mxguard:\n  - id: p\n    null-mx: parked.no-mail.test\n"
                    "    loopback: strip\n")
    zone = tmp_path / "no-mail.test.zone"
    zone.write_text(open(os.path.join(os.path.dirname(CONF), "zones",
                                      "no-mail.zone")).read() +
                    "bad MX 10 localhost.\n")
    r = check("-q", "-c", str(conf), "--module-id", "p", str(zone))
    assert [line.split(", ")[0].split()[-1] for line in r.out] == \
        ["null-mx-missing", "loopback"]
    assert r.rc == 1


def test_no_mail_option_not_failing(check):
    r = check("-q", "--no-mail", "parked.no-mail.test", "no-mail.zone")
    assert r.out == ["no-mail.zone:8: violation null-mx-missing, owner "
                     "parked.no-mail.test., action log"]
    assert r.rc == 0
    assert check("-q", "--fail-on", "null-mx-missing", "--no-mail",
                 "parked.no-mail.test", "no-mail.zone").rc == 1


def test_null_mx_implicit_not_failing(check):
    # null-mx-implicit: the server answers these names with a null MX.
    base = ["-c", SECTIONS, "--module-id", "implicit", "implicit.zone"]
    r = check("-q", *base)
    assert len(r.out) == 3 and all(line.endswith("action null-mx") for line in r.out)
    assert r.rc == 0
    assert check("-q", "--fail-on", "implicit-mx", *base).rc == 1
    # --implicit asks for them: they fail (action log).
    assert check("-q", "--implicit", "implicit.zone").rc == 1


# Files not checked, in JSON.

def test_json_errors(check, tmp_path):
    bad = tmp_path / "bad.test.zone"
    bad.write_text("$ORIGIN bad.test.\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n"
                   "ns A 300.1.1.1\n")
    nosoa = tmp_path / "nosoa.test.zone"
    nosoa.write_text("@ NS ns\nns A 192.0.2.1\n")
    blob = tmp_path / "blob.zone"
    blob.write_bytes(b"\x00\x01")
    r = check("-q", "--format", "json", "no-such.zone", str(tmp_path), str(blob),
              str(bad), str(nosoa), "loopback.zone")
    assert r.rc == 2
    errors = [o for o in r.json() if "error" in o]
    assert errors == [
        {"file": "no-such.zone", "error": "No such file or directory",
         "reason": "unreadable"},
        {"file": str(tmp_path), "error": "Is a directory", "reason": "unreadable"},
        {"file": str(blob), "error": "not a zone file (binary data, a NUL byte at "
         "offset 0)", "reason": "unreadable"},
        {"file": str(bad), "line": 4, "error": "invalid IPv4 address",
         "reason": "invalid"},
        {"file": str(nosoa), "error": "no SOA record at the origin nosoa.test.",
         "reason": "invalid"},
    ]
    # The same errors on standard error, and the findings of the good file.
    assert len(r.err) == 5
    assert sum("violation" in o for o in r.json()) == 3


def test_json_error_with_origin(check, tmp_path):
    # The zone is known before the file is read: given with -o.
    r = check("--format", "json", "-o", "x.test", str(tmp_path / "gone"))
    assert r.json() == [{"file": str(tmp_path / "gone"), "zone": "x.test.",
                         "error": "No such file or directory", "reason": "unreadable"}]
    assert r.rc == 2
