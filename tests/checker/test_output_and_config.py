# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later

# Output as JSON, the no-mail options, and the policy taken from knot.conf
# (-c, --module-id, --fail-on), with or without zone files.

import os

import pytest

from conftest import CONF, EXPECTED


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
