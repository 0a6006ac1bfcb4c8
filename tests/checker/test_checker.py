# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""mxguard-check on the sample zones: exact output lines and exit codes."""

import os
import re

import pytest

from conftest import CONF, ZONES

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


# The notes for Knot 3.2 and 3.3 (standard error): exchanges of the zone
# that the zone has no name for, which the older module only logs.
NOTE = ("{file}:{line}: note: knotd {version} logs missing-address, owner {owner}, "
        "exchange {exchange}, preference {preference} (inferred: the zone has no "
        "name for it; never enforced)")
NOTES = {
    "delegation": [
        dict(file="delegation.zone", line=7, owner="delegation.test.",
             exchange="mx.glueless.delegation.test.", preference=20),
    ],
    "dname": [
        dict(file="dname.zone", line=6, owner="dname.test.",
             exchange="mx.old.dname.test.", preference=10),
        dict(file="dname.zone", line=10, owner="dname.test.",
             exchange="mx.dn.dname.test.", preference=20),
    ],
    "ip-literal": [
        dict(file="ip-literal.zone", line=9, owner="host.ip-literal.test.",
             exchange="203.0.114.7.ip-literal.test.", preference=10),
    ],
    "missing-address": [
        dict(file="missing-address.zone", line=6, owner="missing-address.test.",
             exchange="nowhere.missing-address.test.", preference=10),
        dict(file="missing-address.zone", line=12, owner="pair.missing-address.test.",
             exchange="absent.missing-address.test.", preference=20),
    ],
}


def notes(zone, version):
    return [NOTE.format(version=version, **n) for n in NOTES.get(zone, [])]


@pytest.mark.parametrize("zone", sorted(EXPECTED))
def test_sample_zone(check, zone):
    r = check("-q", "--knot-version", "3.4", zone + ".zone")
    assert r.out == EXPECTED[zone]
    assert r.err == []
    assert r.rc == (1 if EXPECTED[zone] else 0)


@pytest.mark.parametrize("version", ["3.2", "3.3"])
@pytest.mark.parametrize("zone", sorted(EXPECTED))
def test_sample_zone_notes(check, zone, version):
    # The same findings and exit status; the notes on standard error.
    r = check("-q", "--knot-version", version, zone + ".zone")
    assert r.out == EXPECTED[zone]
    assert r.err == notes(zone, version)
    assert r.rc == (1 if EXPECTED[zone] else 0)


def test_summary_on_stderr(check):
    r = check("loopback.zone", "clean.zone")
    assert r.rc == 1
    assert r.out == EXPECTED["loopback"]
    assert r.err == [
        "loopback.zone: zone loopback.test.: 8 records, 3 MX RRsets checked, "
        "3 findings (loopback 3)",
        "clean.zone: zone clean.test.: 8 records, 1 MX RRsets checked, 0 findings",
    ]


def test_every_zone_at_once(check):
    zones = sorted(EXPECTED)
    r = check("-q", "--knot-version", "3.4", *[z + ".zone" for z in zones])
    assert r.rc == 1
    assert r.out == [line for z in zones for line in EXPECTED[z]]


# What is not served is not judged: records below a delegation or a DNAME.
def test_occluded_mx_not_checked(check, tmp_path):
    zone = tmp_path / "occluded.zone"
    zone.write_text(
        "$ORIGIN occluded.test.\n"
        "@ SOA ns hm 1 2 3 4 5\n"
        "sub NS ns.example.\n"
        "sub MX 10 localhost.\n"
        "x.sub MX 10 localhost.\n"
        "old DNAME new.example.\n"
        "x.old MX 10 localhost.\n"
        "old MX 10 localhost.\n"
        "@ NS ns.example.\n")
    r = check(str(zone))
    assert r.out == [
        "%s:8: violation loopback, owner old.occluded.test., exchange localhost., "
        "preference 10, action log" % zone]
    assert r.err == [
        "%s: zone occluded.test.: 8 records, 1 MX RRsets checked (3 not served: "
        "outside the zone, at or below a delegation or a DNAME), 1 finding "
        "(loopback 1)" % zone]


def test_out_of_zone_records_warned(check, tmp_path):
    zone = tmp_path / "outside.zone"
    zone.write_text(
        "$ORIGIN outside.test.\n"
        "@ SOA ns hm 1 2 3 4 5\n"
        "@ MX 10 mail\n"
        "mail A 203.0.114.25\n"
        "other.example. MX 10 localhost.\n"
        "@ NS ns.example.\n")
    r = check(str(zone))
    assert r.rc == 0
    assert r.out == []
    assert r.err[0] == ("%s:5: warning: other.example. is outside the zone "
                        "outside.test., ignored" % zone)


# Exchanges out of the zone, and what Knot 3.2 and 3.3 see of them.
#
# An exchange at or below a delegation, or strictly below a DNAME, is out of
# the zone for every kind, whatever glue the parent holds. Knot 3.2 and 3.3
# see only the glue knotd lists, one node for every exchange the zone has a
# name (or a wildcard) for: where it has none, the module cannot tell a
# missing name from one below a cut and only logs missing-address, inferred.
# The checker says so in a note.

# (zone, exchange, kinds reported for it, noted for Knot 3.2 and 3.3)
EXCHANGES = [
    # Delegated, no glue.
    ("delegation.zone", "mx.glueless.delegation.test.", [], True),
    # Delegated, with glue (127.0.0.1, 10.0.0.25): not the zone's data.
    ("delegation.zone", "mx.child.delegation.test.", [], False),
    ("delegation.zone", "mx.glued.delegation.test.", [], False),
    # The delegation point itself.
    ("delegation.zone", "glued.delegation.test.", [], False),
    # Below a DNAME, whether its target is in the zone or not.
    ("dname.zone", "mx.dn.dname.test.", [], True),
    ("dname.zone", "mx.old.dname.test.", [], True),
    # A DNAME at the exchange itself redirects only the names below it.
    ("dname.zone", "old.dname.test.", [], False),
    # Aliases.
    ("cname-exchange.zone", "alias.cname-exchange.test.", ["cname-exchange"], False),
    ("wildcard.zone", "mx.alias.wildcard.test.", ["cname-exchange"], False),
    # Another zone's.
    ("out-of-zone.zone", "mail.example.", [], False),
    # A missing name, beside a good exchange in the same RRset.
    ("missing-address.zone", "absent.missing-address.test.", ["missing-address"], True),
    ("missing-address.zone", "mail.missing-address.test.", [], False),
    # Names the zone has, without an address: every version judges them.
    ("missing-address.zone", "txt-only.missing-address.test.", ["missing-address"], False),
    ("ent.zone", "b.ent.ent.test.", ["missing-address"], False),
    # Covered by a wildcard.
    ("wildcard.zone", "mx.hosts.wildcard.test.", [], False),
]


def mx_targets(zone):
    """The exchanges written in a sample zone, as absolute names."""
    origin, targets = None, set()
    with open(os.path.join(ZONES, zone)) as f:
        for line in f:
            words = line.split()
            if words[:1] == ["$ORIGIN"]:
                origin = words[1]
            elif len(words) >= 4 and words[1] == "MX":
                name = words[3]
                targets.add(name if name.endswith(".") else name + "." + origin)
    return targets


def verdicts(check, zone, version):
    """Kinds reported for each exchange, and the exchanges noted."""
    r = check("-q", "--format", "json", "--knot-version", version, zone)
    found, noted = {}, []
    for o in r.json():
        if "violation" in o:
            found.setdefault(o["exchange"], []).append(o["violation"])
        else:
            assert o["note"] == "missing-address"
            noted.append(o["exchange"])
    return r, found, noted


@pytest.mark.parametrize("version", ["3.2", "3.3", "3.4", "3.5"])
@pytest.mark.parametrize("zone,exchange,kinds,noted", EXCHANGES,
                         ids=[e[1] for e in EXCHANGES])
def test_exchange_verdict(check, zone, exchange, kinds, noted, version):
    assert exchange in mx_targets(zone)
    r, found, notes = verdicts(check, zone, version)
    assert r.err == []
    assert found.get(exchange, []) == kinds
    assert notes.count(exchange) == (1 if noted and version in ("3.2", "3.3") else 0)


def test_notes_json(check):
    r = check("--format", "json", "--knot-version", "3.3", "missing-address.zone")
    assert r.rc == 1
    objects = r.json()
    notes = [o for o in objects if "note" in o]
    assert notes == [
        {"file": "missing-address.zone", "line": 6, "zone": "missing-address.test.",
         "note": "missing-address", "owner": "missing-address.test.",
         "exchange": "nowhere.missing-address.test.", "preference": 10,
         "knot_version": "3.3", "action": "log", "inferred": True},
        {"file": "missing-address.zone", "line": 12, "zone": "missing-address.test.",
         "note": "missing-address", "owner": "pair.missing-address.test.",
         "exchange": "absent.missing-address.test.", "preference": 20,
         "knot_version": "3.3", "action": "log", "inferred": True},
    ]
    # Each note follows the findings of its record; the summary counts both.
    assert [(o["line"], "note" in o) for o in objects[:-1]] == \
        [(6, False), (6, True), (7, False), (12, False), (12, True)]
    assert objects[-1]["findings"] == 3 and objects[-1]["notes"] == 2
    assert "violation" not in objects[-1] and "note" not in objects[-1]
    r = check("--format", "json", "--knot-version", "3.4", "missing-address.zone")
    assert not any("note" in o for o in r.json())
    assert r.json()[-1]["notes"] == 0


def test_notes_are_no_findings(check):
    # A note changes neither the exit status nor the findings counted.
    r = check("--knot-version", "3.2", "--fail-on", "log", "delegation.zone", "dname.zone")
    assert r.rc == 0
    assert r.out == []
    assert r.err == notes("delegation", "3.2") + [
        "delegation.zone: zone delegation.test.: 13 records, 1 MX RRsets checked, "
        "0 findings, 1 note for knotd 3.2"] + notes("dname", "3.2") + [
        "dname.zone: zone dname.test.: 10 records, 2 MX RRsets checked, "
        "0 findings, 2 notes for knotd 3.2"]
    r = check("--knot-version", "3.2", "missing-address.zone")
    assert r.rc == 1
    assert r.err[-1] == ("missing-address.zone: zone missing-address.test.: 10 records, "
                         "3 MX RRsets checked, 3 findings (missing-address 3), "
                         "2 notes for knotd 3.2")
    r = check("--knot-version", "3.4", "delegation.zone")
    assert r.err == ["delegation.zone: zone delegation.test.: 13 records, "
                     "1 MX RRsets checked, 0 findings"]


def test_notes_follow_the_policy(check, tmp_path):
    # Where missing-address is off, the older server logs nothing either.
    conf = tmp_path / "knot.conf"
    conf.write_text("mod-mxguard:\n  - id: a\n    missing-address: off\n"
                    "  - id: b\n    missing-address: strip\n")
    r = check("-q", "--knot-version", "3.2", "-c", str(conf), "--module-id", "a",
              "missing-address.zone", "dname.zone")
    assert (r.rc, r.out, r.err) == (0, [], [])
    # Enforcing or not, the inferred verdict is only logged.
    r = check("-q", "--knot-version", "3.2", "-c", str(conf), "--module-id", "b",
              "missing-address.zone")
    assert r.err == notes("missing-address", "3.2")
    assert [line.split()[-1] for line in r.out] == ["strip"] * 3


def test_knot_version_default(check):
    # By default, the Knot series the checker was built against.
    help_text = " ".join(check("--help").out)
    m = re.search(r"--knot-version MAJOR\.MINOR .*\(default: (\d+)\.(\d+)\)", help_text)
    assert m, help_text
    version = "%s.%s" % m.groups()
    assert (int(m.group(1)), int(m.group(2))) >= (3, 2)
    zones = [z + ".zone" for z in sorted(EXPECTED)]
    default = check("-q", "--format", "json", *zones)
    given = check("-q", "--format", "json", "--knot-version", version, *zones)
    assert (default.rc, default.out, default.err) == (given.rc, given.out, given.err)


@pytest.mark.parametrize("value", ["3.2", "3.3", "3.4", "3.10", "4.0", "03.02"])
def test_knot_version_accepted(check, value):
    r = check("-q", "--knot-version", value, "clean.zone")
    assert (r.rc, r.out, r.err) == (0, [], [])


@pytest.mark.parametrize("value", ["", "3", "3.", ".2", "3.2.6", "3,2", "x.y", "3.x",
                                   "-3.2", "+3.2", " 3.2", "3.2 ", "3.256", "3.1",
                                   "2.9", "0.0"])
def test_knot_version_refused(check, value):
    r = check("--knot-version", value, "clean.zone")
    assert r.rc == 2
    assert r.out == []
    assert r.err == ["mxguard-check: invalid --knot-version '%s' (MAJOR.MINOR, "
                     "3.2 or later)" % value, "Try 'mxguard-check --help'."]


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


# JSON.

def test_json(check):
    r = check("-q", "--format", "json", "--knot-version", "3.4", "ip-literal.zone",
              "provider-mix.zone")
    assert r.rc == 1
    found = r.json()
    assert len(found) == 7
    assert found[0] == {
        "file": "ip-literal.zone", "line": 6, "zone": "ip-literal.test.",
        "violation": "ip-literal", "owner": "ip-literal.test.", "exchange": "192.0.2.25.",
        "preference": 10, "address": "192.0.2.25", "action": "log",
    }
    assert found[2] == {
        "file": "ip-literal.zone", "line": 9, "zone": "ip-literal.test.",
        "violation": "missing-address", "owner": "host.ip-literal.test.",
        "exchange": "203.0.114.7.ip-literal.test.", "preference": 10, "action": "log",
    }
    # Escaped names survive JSON quoting.
    assert found[3]["exchange"] == "\\[IPv6\\:2001\\:db8\\:\\:25\\]."
    assert found[5]["provider"] == "google"
    assert found[6]["provider"] == "microsoft365"
    # The same findings as the text form.
    text = check("-q", "ip-literal.zone", "provider-mix.zone").out
    assert [(f["file"], f["line"], f["violation"]) for f in found] == \
        [(t.split(":")[0], int(t.split(":")[1]), t.split(", ")[0].split()[-1]) for t in text]


def test_json_checker_findings(check):
    r = check("-q", "--format", "json", "--implicit", "--no-mail", "parked.no-mail.test",
              "no-mail.zone")
    assert r.json() == [
        {"file": "no-mail.zone", "line": 5, "zone": "no-mail.test.",
         "violation": "implicit-mx", "owner": "ns.no-mail.test.", "action": "log"},
        {"file": "no-mail.zone", "line": 7, "zone": "no-mail.test.",
         "violation": "implicit-mx", "owner": "mail.no-mail.test.", "action": "log"},
        {"file": "no-mail.zone", "line": 8, "zone": "no-mail.test.",
         "violation": "null-mx-missing", "owner": "parked.no-mail.test.", "action": "log"},
        {"file": "no-mail.zone", "line": 8, "zone": "no-mail.test.",
         "violation": "implicit-mx", "owner": "parked.no-mail.test.", "action": "log"},
    ]


# --no-mail, --no-mail-file, --implicit.

def test_no_mail_file(check):
    # Written, but not failing by default: the list stands for the server's,
    # which answers these names with a null MX (see test_fail_on.py).
    r = check("--no-mail-file", "no-mail.list", "no-mail.zone")
    assert r.rc == 0
    assert r.out == [
        "no-mail.zone:8: violation null-mx-missing, owner parked.no-mail.test., action log",
        "no-mail.zone:12: violation null-mx-missing, owner a.legacy.no-mail.test., action log",
        "no-mail.zone:13: violation null-mx-missing, owner b.legacy.no-mail.test., action log",
    ]
    assert r.err == ["no-mail.zone: zone no-mail.test.: 22 records, 4 MX RRsets checked, "
                     "3 findings (null-mx-missing 3), 0 failing"]
    r = check("-q", "--fail-on", "null-mx-missing", "--no-mail-file", "no-mail.list",
              "no-mail.zone")
    assert r.rc == 1


def test_no_mail_options_combine(check):
    r = check("-q", "--no-mail", "PARKED.no-mail.test.", "--no-mail", "legacy.no-mail.test",
              "--no-mail", "sold.no-mail.test", "no-mail.zone")
    assert r.out == [
        "no-mail.zone:8: violation null-mx-missing, owner parked.no-mail.test., action log",
        "no-mail.zone:11: violation null-mx-missing, owner legacy.no-mail.test., action log",
    ]


def test_no_mail_names_absent_from_zone(check):
    r = check("-q", "--no-mail", "nothere.no-mail.test", "--no-mail", "*.www.no-mail.test",
              "no-mail.zone")
    assert r.out == []
    assert r.rc == 0


def test_no_mail_bad_list(check):
    r = check("--no-mail-file", "bad.list", "clean.zone")
    assert r.rc == 2
    assert r.out == []
    assert r.err == ["mxguard-check: bad.list:2: invalid name 'x..y': empty label"]


def test_no_mail_missing_list(check):
    r = check("--no-mail-file", "nothere.list", "clean.zone")
    assert r.rc == 2
    assert r.err == ["mxguard-check: nothere.list: No such file or directory"]


def test_implicit(check):
    r = check("-q", "--implicit", "implicit.zone")
    assert r.rc == 1
    # Not "quiet" (null MX), not ns.sub (glue below a delegation).
    assert r.out == [
        "implicit.zone:5: violation implicit-mx, owner ns.implicit.test., action log",
        "implicit.zone:7: violation implicit-mx, owner mail.implicit.test., action log",
        "implicit.zone:8: violation implicit-mx, owner web.implicit.test., action log",
    ]


# -c knot.conf --module-id, --fail-on.

def test_config_default_id(check):
    # allow-address 192.168.1.0/24 exempts lan-host.
    r = check("-q", "-c", os.path.join(CONF, "knot.conf"), "special-address.zone")
    assert r.out == EXPECTED["special-address"][:1]
    assert r.rc == 1


def test_config_actions_off(check):
    r = check("-q", "-c", os.path.join(CONF, "knot.conf"), "--module-id", "quiet",
              "loopback.zone", "special-address.zone", "wildcard.zone")
    assert r.out == EXPECTED["wildcard"][1:]
    assert r.rc == 1


def test_config_actions_strip(check):
    r = check("-q", "-c", os.path.join(CONF, "knot.conf"), "--module-id", "enforce",
              "ip-literal.zone")
    assert r.out == [
        line.replace("action log", {"ip-literal": "action strip",
                                    "special-address": "action null-mx"}
                     .get(line.split(", ")[0].split()[-1], "action log"))
        for line in EXPECTED["ip-literal"]]
    assert [line.split()[-1] for line in r.out] == \
        ["strip", "null-mx", "log", "strip", "null-mx"]
    assert r.rc == 1


def test_fail_on_default_with_strip_policy(check):
    # The policy strips: findings that are only logged do not fail.
    r = check("-q", "-c", os.path.join(CONF, "knot.conf"), "--module-id", "enforce",
              "loopback.zone")
    assert r.out == EXPECTED["loopback"]
    assert r.rc == 0


@pytest.mark.parametrize("fail_on,zone,rc", [
    ("log", "loopback.zone", 1),
    ("strip", "loopback.zone", 0),
    ("never", "ip-literal.zone", 0),
    ("strip", "ip-literal.zone", 1),
    ("null-mx", "ip-literal.zone", 1),
    ("null-mx", "clean.zone", 0),
])
def test_fail_on_with_strip_policy(check, fail_on, zone, rc):
    r = check("-q", "-c", os.path.join(CONF, "knot.conf"), "--module-id", "enforce",
              "--fail-on", fail_on, zone)
    assert r.rc == rc


@pytest.mark.parametrize("fail_on,rc", [("log", 1), ("strip", 0), ("null-mx", 0), ("never", 0)])
def test_fail_on_default_policy(check, fail_on, rc):
    r = check("-q", "--fail-on", fail_on, "loopback.zone")
    assert r.out == EXPECTED["loopback"]
    assert r.rc == rc


@pytest.mark.parametrize("conf,message", [
    ("knot.conf --module-id nope",
     "{conf}/knot.conf: no mod-mxguard section with id 'nope'"),
    # knotd's own words (knotc conf-check says the same after "error: ").
    ("bad-action.conf",
     "config, file '{conf}/bad-action.conf', line 4, item 'ip-literal', "
     "value 'stirp' (invalid parameter)"),
    ("bad-address.conf",
     "config, file '{conf}/bad-address.conf', line 3, item 'allow-address', "
     "value '10.0.0.300' (invalid parameter)"),
    ("bad-syntax.conf",
     "config, file '{conf}/bad-syntax.conf', line 3 (tabulator character is not allowed)"),
    ("missing.conf", "{conf}/missing.conf: No such file or directory"),
])
def test_config_errors(check, conf, message):
    name, *rest = conf.split()
    r = check("-c", os.path.join(CONF, name), *rest, "clean.zone")
    assert r.rc == 2
    assert r.out == []
    assert r.err == ["mxguard-check: " + message.format(conf=CONF)]


# The section's own items, and the instance knotd would use.

def test_config_null_mx_items(check):
    r = check("-q", "-c", os.path.join(CONF, "sections.conf"), "--module-id", "parked",
              "no-mail.zone")
    # The server answers it with a null MX: the action is null-mx, and the
    # finding does not fail by default.
    assert r.out == ["no-mail.zone:8: violation null-mx-missing, owner "
                     "parked.no-mail.test., action null-mx"]
    assert r.rc == 0


def test_config_null_mx_file(check):
    # The list file is taken as knotd takes it: from the working directory.
    r = check("-q", "-c", os.path.join(CONF, "sections.conf"), "--module-id",
              "parked-file", "no-mail.zone")
    assert r.out == [line.replace("action log", "action null-mx") for line in
                     check("-q", "--no-mail-file", "no-mail.list", "no-mail.zone").out]
    assert any("null-mx-missing" in line for line in r.out)


def test_config_null_mx_implicit(check):
    r = check("-q", "-c", os.path.join(CONF, "sections.conf"), "--module-id", "implicit",
              "implicit.zone")
    assert r.out == [line.replace("action log", "action null-mx") for line in
                     check("-q", "--implicit", "implicit.zone").out]
    assert r.out


def test_config_zone_instance(check):
    # loopback.test is served with mod-mxguard/quiet: loopback is off.
    r = check("-c", os.path.join(CONF, "sections.conf"), "loopback.zone")
    assert r.out == []
    assert r.err == ["loopback.zone: zone loopback.test., module mod-mxguard/quiet: "
                     "8 records, 3 MX RRsets checked, 0 findings"]
    assert r.rc == 0
    # The zone's instance, found past another module's reference.
    r = check("-q", "-c", os.path.join(CONF, "sections.conf"), "no-mail.zone")
    assert [line.split(", ")[0].split()[-1] for line in r.out] == ["null-mx-missing"]


def test_config_reference_without_id(check):
    # "mod-mxguard" alone is the module with its defaults, as in knotd.
    r = check("-c", os.path.join(CONF, "sections.conf"), "--module-id", "mod-mxguard",
              "loopback.zone")
    assert r.out == EXPECTED["loopback"]
    assert r.err[-1].startswith("loopback.zone: zone loopback.test., module mod-mxguard: ")
    r = check("-q", "-c", os.path.join(CONF, "sections.conf"), "--module-id",
              "mod-mxguard/quiet", "loopback.zone")
    assert r.out == []


# -c without zone files: the zones knotd serves with mod-mxguard.

def zone_text(name):
    return ("$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 203.0.114.53\n"
            "@ MX 10 localhost.\n")


def write_served(tmp_path, global_module=""):
    for path in ("default/a.test.zone", "other/test/b.%b.test.db", "d.file",
                 "default/e.test.zone"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        name = {"default/a.test.zone": "a.test", "other/test/b.%b.test.db": "b.test",
                "d.file": "d.test", "default/e.test.zone": "e.test"}[path]
        (tmp_path / path).write_text(zone_text(name))
    conf = tmp_path / "knot.conf"
    conf.write_text(f"""
mod-mxguard:
  - id: strict
    loopback: strip
  - id: quiet
    loopback: off
template:
  - id: default
    storage: {tmp_path}/default
    module: mod-mxguard/quiet
{global_module}
  - id: other
    storage: {tmp_path}/other
    file: "%l[0]/%c[0-1]%%%s.db"
zone:
  - domain: a.test
  - domain: b.test
    template: other
    module: mod-mxguard/strict
  - domain: c.test
    template: other
  - domain: d.test
    file: {tmp_path}/d.file
  - domain: E.Test.
""")
    return conf


def test_config_zones(check, tmp_path):
    conf = write_served(tmp_path)
    r = check("-c", str(conf))
    d = str(tmp_path)
    assert r.out == [
        f"{d}/other/test/b.%b.test.db:5: violation loopback, owner b.test., exchange "
        "localhost., preference 10, action strip"]
    # c.test has no mxguard instance: knotd does not run the module there.
    assert r.err == [
        f"{d}/default/a.test.zone: zone a.test., module mod-mxguard/quiet: 4 records, "
        "1 MX RRsets checked, 0 findings",
        f"{d}/other/test/b.%b.test.db: zone b.test., module mod-mxguard/strict: "
        "4 records, 1 MX RRsets checked, 1 finding (loopback 1)",
        f"{d}/d.file: zone d.test., module mod-mxguard/quiet: 4 records, "
        "1 MX RRsets checked, 0 findings",
        f"{d}/default/e.test.zone: zone e.test., module mod-mxguard/quiet: 4 records, "
        "1 MX RRsets checked, 0 findings",
    ]
    assert r.rc == 1

    r = check("--format", "json", "-c", str(conf))
    summaries = [o for o in r.json() if "findings" in o]
    assert [(o["zone"], o["module"], o["file"]) for o in summaries] == [
        ("a.test.", "mod-mxguard/quiet", f"{d}/default/a.test.zone"),
        ("b.test.", "mod-mxguard/strict", f"{d}/other/test/b.%b.test.db"),
        ("d.test.", "mod-mxguard/quiet", f"{d}/d.file"),
        ("e.test.", "mod-mxguard/quiet", f"{d}/default/e.test.zone"),
    ]
    assert summaries[1]["findings"] == 1 and summaries[1]["rrsets"] == 1


def test_config_zones_global(check, tmp_path):
    # The global instance serves the zones that have none of their own.
    conf = write_served(tmp_path, "    global-module: mod-mxguard\n")
    r = check("-q", "--format", "json", "-c", str(conf))
    assert [(f["zone"], f["action"]) for f in r.json() if "violation" in f] == \
        [("b.test.", "strip")]
    # c.test's file is not there: named, the other zones checked; the
    # findings (1) win over the zone not checked (3).
    r = check("-c", str(conf))
    assert (f"{tmp_path}/other/test/c.%c.test.db: error: zone c.test. not checked: "
            "No such file or directory") in r.err
    assert r.err[-1] == f"mxguard-check: {conf}: not checked: zone c.test."
    assert r.rc == 1


def test_config_zones_none(check, tmp_path):
    conf = tmp_path / "knot.conf"
    conf.write_text("mod-mxguard:\n  - id: a\nzone:\n  - domain: a.test\n")
    r = check("-c", str(conf))
    assert r.rc == 2
    assert r.err == [f"mxguard-check: {conf}: no zone is served with mod-mxguard"]


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


def test_findings_in_record_order(check):
    # The rules find provider-mix after the other kinds; the output follows
    # the RRset's records in canonical order (preference first) all the same.
    r = check("mix-order.zone")
    kinds = [(line.split(", ")[3], line.split(", ")[0].split("violation ")[1])
             for line in r.out]
    assert kinds == [
        ("preference 1", "provider-mix"),
        ("preference 5", "loopback"),
        ("preference 10", "provider-mix"),
    ]
