# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later

# Zone file input ($ORIGIN, $INCLUDE, -o), inputs that are no zone files,
# and the command line's usage.

import os

import pytest

from conftest import EXPECTED, ZONES


# $ORIGIN, $INCLUDE and -o.

def test_include(check):
    r = check("-q", "include.zone")
    inc = os.path.join(ZONES, "include-mail.inc")
    assert r.out == [
        "include.zone:6: violation loopback, owner include.test., exchange "
        "mail.include.test., preference 10, address 127.0.0.1, action log",
        "%s:3: violation loopback, owner mail.include.test., exchange localhost., "
        "preference 10, action log" % inc,
        "include.zone:8: violation loopback, owner backup.include.test., exchange "
        "mail.include.test., preference 10, address 127.0.0.1, action log",
    ]
    assert r.rc == 1


def test_origin_from_file_name(check):
    # No -o, no $ORIGIN: the file name without ".zone", as kzonecheck.
    r = check("noorigin.zone")
    assert r.rc == 1
    assert r.out == [
        "noorigin.zone:3: violation special-address, owner noorigin., exchange "
        "mail.noorigin., preference 10, address 10.0.0.25, action log"]
    assert r.err == ["noorigin.zone: zone noorigin.: 5 records, 1 MX RRsets "
                     "checked, 1 finding (special-address 1)"]


@pytest.mark.parametrize("origin", ["noorigin.test", "noorigin.test.", "NoOrigin.TEST"])
def test_origin_option(check, origin):
    r = check("-q", "-o", origin, "noorigin.zone")
    assert r.out == [
        "noorigin.zone:3: violation special-address, owner noorigin.test., exchange "
        "mail.noorigin.test., preference 10, address 10.0.0.25, action log"]
    assert r.rc == 1


def test_origin_directive(check):
    r = check("-q", "origin-only.zone")
    assert r.out == [
        "origin-only.zone:3: violation special-address, owner origin-only.test., "
        "exchange mail.origin-only.test., preference 10, address 10.0.0.25, action log"]
    assert r.rc == 1


def test_origin_option_elsewhere_refused(check):
    # The SOA is not at the given origin: knotd would not load the zone.
    r = check("-q", "-o", "elsewhere.test", "clean.zone")
    assert r.rc == 2
    assert r.out == []
    assert ("clean.zone:3: error: the SOA record of clean.test. is not at the origin "
            "elsewhere.test.") in r.err


@pytest.mark.parametrize("name,text,origin", [
    ("example.com.zone", "@ SOA ns hm 1 2 3 4 5\n@ NS ns\n", "example.com."),
    ("example.net", "@ SOA ns hm 1 2 3 4 5\n@ NS ns\n", "example.net."),
    ("db.zone", "$ORIGIN db.example.\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n", "db.example."),
    ("root.zone", "$ORIGIN .\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n", "."),
])
def test_origin_rules(check, tmp_path, name, text, origin):
    zone = tmp_path / name
    zone.write_text(text)
    r = check(str(zone))
    assert r.rc == 0, r.err
    assert r.err[-1].startswith("%s: zone %s: " % (zone, origin))


@pytest.mark.parametrize("text,message", [
    ("@ NS ns\nns A 192.0.2.1\n", "{f}: error: no SOA record at the origin a.test."),
    ("@ NS ns\nsub SOA ns hm 1 2 3 4 5\n",
     "{f}:2: error: the SOA record of sub.a.test. is not at the origin a.test."),
    ("@ SOA ns hm 1 2 3 4 5\n@ NS ns\nwww CNAME ns\nwww A 192.0.2.1\n",
     "{f}:3: error: www.a.test. has a CNAME beside other data"),
])
def test_zone_refused(check, tmp_path, text, message):
    zone = tmp_path / "a.test.zone"
    zone.write_text(text)
    r = check("-q", str(zone))
    assert r.rc == 2
    assert r.out == []
    assert message.format(f=zone) in r.err


@pytest.mark.parametrize("text,message", [
    ("@ SOA ns hm 1 2 3 4 5\n", "{f}: warning: no NS record at the origin a.test."),
    ("@ SOA ns hm 1 2 3 4 5\n@ SOA ns hm 2 2 3 4 5\n@ NS ns\n",
     "{f}: warning: 2 SOA records, knotd keeps one SOA at the origin a.test."),
    ("@ SOA ns hm 1 2 3 4 5\n@ NS ns\nx.b.test. A 192.0.2.1\n",
     "{f}:3: warning: x.b.test. is outside the zone a.test., ignored"),
])
def test_zone_warned(check, tmp_path, text, message):
    # knotd loads these zones, with a warning: so does the checker.
    zone = tmp_path / "a.test.zone"
    zone.write_text(text)
    r = check("-q", str(zone))
    assert r.rc == 0
    assert message.format(f=zone) in r.err


def test_invalid_origin(check):
    r = check("-o", "a..b", "clean.zone")
    assert r.rc == 2
    assert r.err[0] == "mxguard-check: invalid origin 'a..b'"


# Unreadable input.

def test_syntax_error(check):
    r = check("syntax-error.zone", "clean.zone")
    assert r.rc == 2
    assert r.out == []
    assert r.err == [
        "syntax-error.zone:7: error: invalid IPv4 address",
        "clean.zone: zone clean.test.: 8 records, 1 MX RRsets checked, 0 findings",
    ]


def test_syntax_error_wins_over_findings(check):
    r = check("-q", "loopback.zone", "syntax-error.zone")
    assert r.rc == 2
    assert r.out == EXPECTED["loopback"]


def test_missing_file(check):
    r = check("no-such.zone")
    assert r.rc == 2
    assert r.err == ["no-such.zone: error: No such file or directory"]


def test_directory(check):
    r = check(".")
    assert r.rc == 2
    assert r.err == [".: error: Is a directory"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(check, tmp_path):
    zone = tmp_path / "secret.zone"
    zone.write_text("$ORIGIN x.test.\n@ SOA ns hm 1 2 3 4 5\n")
    zone.chmod(0)
    r = check(str(zone))
    assert r.rc == 2
    assert r.err == ["%s: error: Permission denied" % zone]


# Usage.

@pytest.mark.parametrize("args,message", [
    ([], "mxguard-check: no zone file"),
    (["--format", "xml", "clean.zone"], "mxguard-check: invalid format 'xml' (text or json)"),
    (["--fail-on", "warn", "clean.zone"],
     "mxguard-check: invalid --fail-on 'warn': 'warn' is no action and no kind"),
    (["--fail-on", "log", "--fail-on", "bogus", "clean.zone"],
     "mxguard-check: invalid --fail-on 'bogus': 'bogus' is no action and no kind"),
    (["--module-id", "default", "clean.zone"], "mxguard-check: --module-id needs -c"),
    (["--no-mail", "a..b", "clean.zone"], "mxguard-check: --no-mail: invalid name 'a..b': empty label"),
    (["--bogus", "clean.zone"], None),
])
def test_bad_usage(check, args, message):
    r = check(*args)
    assert r.rc == 2
    assert r.out == []
    if message is not None:
        assert r.err[0] == message
    assert r.err[-1] == "Try 'mxguard-check --help'." or message.startswith("mxguard-check: --no-mail")


def test_help_and_version(check):
    r = check("--help")
    assert r.rc == 0
    assert r.out[0] == "Usage: mxguard-check [options] ZONEFILE..."
    for option in ("--origin", "--config", "--module-id", "--no-mail", "--no-mail-file",
                   "--implicit", "--format", "--fail-on", "--knot-version", "--quiet"):
        assert any(option in line for line in r.out), option
    r = check("--version")
    assert r.rc == 0
    assert r.out[0].startswith("mxguard-check (mxguard) ")



# Inputs that are no zone files.

def test_fifo_refused(check, tmp_path):
    fifo = tmp_path / "pipe.zone"
    os.mkfifo(fifo)
    r = check(str(fifo))
    assert r.rc == 2
    assert r.err == [f"{fifo}: error: not a regular file"]


def test_binary_refused(check, tmp_path):
    zone = tmp_path / "blob.zone"
    zone.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    r = check(str(zone))
    assert r.rc == 2
    assert r.err == [f"{zone}: error: not a zone file (binary data, a NUL byte at "
                     "offset 8)"]
    assert "CRLF" not in "\n".join(r.err)


def test_missing_include_named(check, tmp_path):
    zone = tmp_path / "inc.test.zone"
    zone.write_text("@ SOA ns hm 1 2 3 4 5\n@ NS ns\n$INCLUDE gone.inc\n")
    r = check(str(zone))
    assert r.rc == 2
    assert r.err == [f"{zone}:3: error: $INCLUDE {tmp_path}/gone.inc: file open error"]


def test_generate_unsupported(check, tmp_path):
    # libzscanner has no $GENERATE (knotd neither): the zone is refused.
    zone = tmp_path / "gen.test.zone"
    zone.write_text("@ SOA ns hm 1 2 3 4 5\n@ NS ns\n$GENERATE 1-3 h$ A 192.0.2.$\n")
    r = check(str(zone))
    assert r.rc == 2
    assert r.err == [f"{zone}:3: error: invalid directive"]
