# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""No-mail names and what they say about mail they send (issue 24): the
no-mail-policy findings (SPF missing or not -all, DMARC missing or not
p=reject, two of either), what -c's no-mail-records serves in their place,
and --no-mail-records, the zone-file lines a zone needs without the
module."""

import os
import shutil

import pytest

from conftest import CONF, ZONES

ZONE = "no-mail-policy.zone"
NO_MAIL_CONF = os.path.join(CONF, "no-mail.conf")
DMARC = "v=DMARC1; p=reject; sp=reject; np=reject; adkim=s; aspf=s"


def finding(line, name, record, detail, action="log"):
    return (f"{ZONE}:{line}: violation no-mail-policy, owner {name}.no-mail-policy.test., "
            f"exchange ., preference 0, record {record}, detail {detail}, action {action}")


BARE = [finding(13, "bare", "spf", "spf missing"),
        finding(13, "bare", "dmarc", "dmarc missing")]
SOFT = [finding(16, "soft", "spf", "spf 'v=spf1 ~all' is not -all"),
        finding(17, "soft", "dmarc", "dmarc 'v=DMARC1; p=none' is not p=reject")]
TWICE = [finding(20, "twice", "spf", "two spf records"),
         finding(22, "twice", "dmarc",
                 "dmarc 'v=DMARC1; sp=reject; p=reject' is not p=reject")]
OTHER = [finding(28, "other", "spf", "spf missing"),
         finding(28, "other", "dmarc", "dmarc missing")]
CONFLICT = ("no-mail-policy.zone:39: violation null-mx-conflict, owner "
            "mixed.no-mail-policy.test., exchange ., preference 0, action log")


def policy_lines(out):
    return [line for line in out if "violation no-mail-policy" in line]


def test_findings(check):
    # good, exp and keyed say "no mail" in full; _tcp and *.wild are never
    # no-mail names, mixed is no lone null MX, handed's DMARC is elsewhere.
    r = check("-q", "--knot-version", "3.4", ZONE)
    assert r.out == BARE + SOFT + TWICE + OTHER + [CONFLICT]
    assert r.err == []
    assert r.rc == 1


def test_summary(check):
    r = check("--knot-version", "3.4", ZONE)
    assert r.err == ["no-mail-policy.zone: zone no-mail-policy.test.: 34 records, "
                     "12 MX RRsets checked, 9 findings (null-mx-conflict 1, "
                     "no-mail-policy 8)"]


def test_json(check):
    r = check("-q", "--format", "json", ZONE)
    found = [o for o in r.json() if o["violation"] == "no-mail-policy"]
    assert found[0] == {
        "file": ZONE, "line": 13, "zone": "no-mail-policy.test.",
        "violation": "no-mail-policy", "owner": "bare.no-mail-policy.test.",
        "exchange": ".", "preference": 0, "record": "spf", "detail": "spf missing",
        "action": "log",
    }
    assert found[3]["detail"] == "dmarc 'v=DMARC1; p=none' is not p=reject"
    # The same findings as the text form.
    assert [(o["line"], o["record"], o["detail"]) for o in found] == [
        (int(t.split(":")[1]), t.split(", record ")[1].split(",")[0],
         t.split(", detail ")[1].rsplit(", action ", 1)[0])
        for t in policy_lines(check("-q", ZONE).out)]


def test_listed_names(check):
    # A --no-mail name is a no-mail name too: no null MX, no SPF, no DMARC.
    r = check("-q", "--no-mail", "parked.no-mail-policy.test", ZONE)
    assert r.out[-4:] == [
        CONFLICT,
        "no-mail-policy.zone:42: violation null-mx-missing, owner "
        "parked.no-mail-policy.test., action log",
        finding(42, "parked", "spf", "spf missing"),
        finding(42, "parked", "dmarc", "dmarc missing"),
    ]


def test_attribute_leaves_never_no_mail(check):
    # RFC 8552: _tcp, _dmarc.good... are attributes of their parent, even
    # when a list covers them or they hold a null MX.
    r = check("-q", "--no-mail", "*.no-mail-policy.test", ZONE)
    owners = {line.split("owner ")[1].split(".")[0] for line in r.out if "owner" in line}
    assert not any(owner.startswith("_") for owner in owners), r.out
    assert "parked" in owners


# -c: what the module serves is no finding; what the zone has, is.

@pytest.mark.parametrize("module_id,expected", [
    # spf and dmarc served: bare is complete; other's SPF is added to its
    # TXT records, but its _dmarc TXT records keep the module's out.
    ("records", SOFT + TWICE + OTHER[1:] + [CONFLICT]),
    ("spf-only", BARE[1:] + SOFT + TWICE + OTHER[1:] + [CONFLICT]),
    ("every-record", SOFT + TWICE + OTHER[1:] + [CONFLICT]),
    ("policy-off", [CONFLICT]),
    ("mod-mxguard", BARE + SOFT + TWICE + OTHER + [CONFLICT]),
])
def test_config_records(check, module_id, expected):
    r = check("-q", "--knot-version", "3.4", "-c", NO_MAIL_CONF, "--module-id", module_id,
              ZONE)
    assert r.out == expected


def test_config_listed_name_served(check):
    # parked is in the instance's null-mx list: the module serves its null
    # MX, SPF and DMARC. Given with --no-mail instead, the module does not
    # know it: its records are missing.
    base = ["-q", "-c", NO_MAIL_CONF]
    r = check(*base, "--module-id", "listed", ZONE)
    assert [line for line in r.out if "parked" in line] == [
        "no-mail-policy.zone:42: violation null-mx-missing, owner "
        "parked.no-mail-policy.test., action null-mx"]
    r = check(*base, "--module-id", "records", "--no-mail", "parked.no-mail-policy.test",
              ZONE)
    assert [line for line in r.out if "parked" in line] == [
        "no-mail-policy.zone:42: violation null-mx-missing, owner "
        "parked.no-mail-policy.test., action log",
        finding(42, "parked", "spf", "spf missing"),
        finding(42, "parked", "dmarc", "dmarc missing")]


def test_config_implicit_names(check):
    # null-mx-implicit: every name without MX is a no-mail name.
    r = check("-q", "-c", os.path.join(CONF, "sections.conf"), "--module-id", "implicit",
              "implicit.zone")
    assert policy_lines(r.out) == []
    r = check("-q", "-c", os.path.join(CONF, "sections.conf"), "--module-id", "implicit",
              ZONE)
    owners = [line.split("owner ")[1].split(".")[0] for line in policy_lines(r.out)]
    assert owners[:4] == ["ns", "ns", "mail", "mail"]
    assert "parked" in owners


# Whether they fail the run: as every finding whose action is log.

def test_fail_on(check):
    base = ["-q", "-c", NO_MAIL_CONF, "--module-id", "records"]
    # Findings logged fail by default where nothing is rewritten...
    assert check(*base, "--fail-on", "-null-mx-conflict", ZONE).rc == 1
    assert check(*base, "--fail-on", "-null-mx-conflict,-no-mail-policy", ZONE).rc == 0
    assert check(*base, "--fail-on", "no-mail-policy", ZONE).rc == 1
    assert check("-q", "-c", NO_MAIL_CONF, "--module-id", "policy-off", "--fail-on",
                 "no-mail-policy", ZONE).rc == 0
    # ...and not where the policy rewrites (listed names: null-mx).
    r = check("-c", NO_MAIL_CONF, "--module-id", "listed", ZONE)
    assert r.rc == 0
    assert r.err[-1].endswith("7 findings (null-mx-conflict 1, no-mail-policy 5, "
                              "null-mx-missing 1), 0 failing")
    assert check("-q", "-c", NO_MAIL_CONF, "--module-id", "listed", "--fail-on",
                 "no-mail-policy", ZONE).rc == 1


def zone_file(tmp_path, body, name="t.test", minimum=300):
    path = tmp_path / f"{name}.zone"
    path.write_text(f"$ORIGIN {name}.\n$TTL 3600\n"
                    f"@ SOA ns hostmaster 1 3600 900 604800 {minimum}\n"
                    "@ NS ns\nns A 203.0.114.53\n" + body)
    return path


@pytest.mark.parametrize("body,details", [
    # RFC 7489 §6.6.3: two DMARC records, no policy at all.
    ('a MX 0 .\na TXT "v=spf1 -all"\n_dmarc.a TXT "v=DMARC1; p=reject"\n'
     '_dmarc.a TXT "v=DMARC1; p=none"\n', ["two dmarc records"]),
    ('a MX 0 .\na TXT "v=spf1 -all"\na TXT "v=spf1 a -all"\na TXT "v=spf1 ~all"\n'
     '_dmarc.a TXT "v=DMARC1; p=reject"\n', ["3 spf records"]),
    # Not SPF, not DMARC: "v=spf10", "v=DMARC1x".
    ('a MX 0 .\na TXT "v=spf10 -all"\n_dmarc.a TXT "v=DMARC1x; p=reject"\n',
     ["spf missing", "dmarc missing"]),
    # Octets other than printable ASCII are written as \DDD.
    ('a MX 0 .\na TXT "v=spf1 \\007?all\\\\"\n_dmarc.a TXT "v=DMARC1; p=reject"\n',
     ["spf 'v=spf1 \\007?all\\092' is not -all"]),
    # Long records are cut.
    ('a MX 0 .\na TXT "v=spf1 ' + "a " * 100 + '~all"\n'
     '_dmarc.a TXT "v=DMARC1; p=reject"\n',
     ["spf 'v=spf1 " + "a " * 46 + "a...' is not -all"]),
    # A wildcard stands for _dmarc.a: its TXT records are the answer.
    ('a MX 0 .\na TXT "v=spf1 -all"\n*.a TXT "v=spf1 -all"\n', ["dmarc missing"]),
    ('a MX 0 .\na TXT "v=spf1 -all"\n*.a TXT "v=DMARC1; p=reject"\n', []),
    # A delegated _dmarc is another zone's.
    ('a MX 0 .\na TXT "v=spf1 -all"\n_dmarc.a NS ns.example.\n', []),
    # The apex is a name like the others.
    ('@ MX 0 .\n', ["spf missing", "dmarc missing"]),
])
def test_records_judged(check, tmp_path, body, details):
    r = check("-q", str(zone_file(tmp_path, body)))
    assert [line.split(", detail ")[1].rsplit(", action", 1)[0]
            for line in policy_lines(r.out)] == details


# --no-mail-records: the lines a zone needs, to add to its file.

RECORDS = [
    "; no-mail records for zone no-mail-policy.test. (no-mail-policy.zone)",
    '*._domainkey.good.no-mail-policy.test. 300 IN TXT "v=DKIM1; p="',
    'bare.no-mail-policy.test. 300 IN TXT "v=spf1 -all"',
    f'_dmarc.bare.no-mail-policy.test. 300 IN TXT "{DMARC}"',
    '*._domainkey.bare.no-mail-policy.test. 300 IN TXT "v=DKIM1; p="',
    '*._domainkey.soft.no-mail-policy.test. 300 IN TXT "v=DKIM1; p="',
    '*._domainkey.twice.no-mail-policy.test. 300 IN TXT "v=DKIM1; p="',
    '*._domainkey.exp.no-mail-policy.test. 300 IN TXT "v=DKIM1; p="',
    'other.no-mail-policy.test. 300 IN TXT "v=spf1 -all"',
    f'_dmarc.other.no-mail-policy.test. 300 IN TXT "{DMARC}"',
    '*._domainkey.other.no-mail-policy.test. 300 IN TXT "v=DKIM1; p="',
    '*._domainkey.handed.no-mail-policy.test. 300 IN TXT "v=DKIM1; p="',
]
WARNINGS = [
    "no-mail-policy.zone:16: warning: soft.no-mail-policy.test. has the SPF record "
    "'v=spf1 ~all': make it \"v=spf1 -all\"",
    "no-mail-policy.zone:17: warning: _dmarc.soft.no-mail-policy.test. has the DMARC "
    "record 'v=DMARC1; p=none': make p=reject its first tag",
    "no-mail-policy.zone:20: warning: twice.no-mail-policy.test. has 2 SPF records: "
    "keep one, \"v=spf1 -all\"",
    "no-mail-policy.zone:22: warning: _dmarc.twice.no-mail-policy.test. has the DMARC "
    "record 'v=DMARC1; sp=reject; p=reject': make p=reject its first tag",
    "no-mail-policy.zone:34: warning: _dmarc.handed.no-mail-policy.test. is a CNAME or "
    "below a delegation or a DNAME: its DMARC record is another zone's, not checked",
]


def test_no_mail_records(check):
    # No findings: the lines only, the TTL the SOA minimum's; the zone's
    # own records that must change instead are warnings.
    r = check("--no-mail-records", ZONE)
    assert r.out == RECORDS
    assert r.err == WARNINGS + [
        "no-mail-policy.zone: zone no-mail-policy.test.: 8 no-mail names, 11 lines to "
        "add, 5 warnings"]
    assert r.rc == 0
    assert check("-q", "--no-mail-records", ZONE).err == WARNINGS


def test_no_mail_records_listed(check):
    # A listed name gets its null MX too; the configured DMARC record.
    r = check("-q", "--no-mail-records", "-c", NO_MAIL_CONF, "--module-id", "every-record",
              "--no-mail", "parked.no-mail-policy.test", ZONE)
    assert r.out[-4:] == [
        "parked.no-mail-policy.test. 300 IN MX 0 .",
        'parked.no-mail-policy.test. 300 IN TXT "v=spf1 -all"',
        '_dmarc.parked.no-mail-policy.test. 300 IN TXT "v=DMARC1; p=reject; '
        'rua=mailto:dmarc@reports.example"',
        '*._domainkey.parked.no-mail-policy.test. 300 IN TXT "v=DKIM1; p="',
    ]
    assert r.rc == 0


def test_no_mail_records_json(check):
    r = check("--format", "json", "--no-mail-records", ZONE)
    objects = r.json()
    assert objects[1] == {
        "file": ZONE, "zone": "no-mail-policy.test.", "owner": "bare.no-mail-policy.test.",
        "record": "spf", "rr": 'bare.no-mail-policy.test. 300 IN TXT "v=spf1 -all"'}
    assert [o["rr"] for o in objects[:-1]] == RECORDS[1:]
    assert objects[-1] == {"file": ZONE, "zone": "no-mail-policy.test.",
                           "no_mail_names": 8, "lines": 11, "warnings": 5}
    assert r.err == WARNINGS


def test_no_mail_records_ttl(check, tmp_path):
    # An SOA minimum of 0 is no TTL to give: 3600.
    zone = zone_file(tmp_path, "a MX 0 .\n", minimum=0)
    r = check("-q", "--no-mail-records", str(zone))
    assert r.out[1:] == [
        'a.t.test. 3600 IN TXT "v=spf1 -all"',
        f'_dmarc.a.t.test. 3600 IN TXT "{DMARC}"',
        '*._domainkey.a.t.test. 3600 IN TXT "v=DKIM1; p="',
    ]


def test_no_mail_records_mx_to_replace(check, tmp_path):
    # A listed name with MX records of its own: a null MX beside them would
    # be a null-mx-conflict.
    zone = zone_file(tmp_path, "a MX 10 mail.example.\n")
    r = check("-q", "--no-mail-records", "--no-mail", "a.t.test", str(zone))
    assert r.err[0] == (f"{zone}:6: warning: a.t.test. has MX records: replace them "
                        "with MX 0 .")
    assert "IN MX" not in "\n".join(r.out)


def test_no_mail_records_round_trip(check, tmp_path):
    # The lines added to the zone file: what is left are the records the
    # warnings named, and nothing more to add.
    zone = tmp_path / ZONE
    shutil.copy(os.path.join(ZONES, ZONE), zone)
    listed = ["--no-mail", "parked.no-mail-policy.test"]
    lines = check("-q", "--no-mail-records", *listed, str(zone)).out
    with open(zone, "a") as f:
        f.write("\n".join(lines) + "\n")
    r = check("-q", "--knot-version", "3.4", *listed, str(zone))
    assert [line.split(":", 1)[1] for line in r.out] == \
        [line.split(":", 1)[1] for line in SOFT + TWICE + [CONFLICT]]
    r = check("--no-mail-records", *listed, str(zone))
    assert r.out == []
    assert r.err[-1].endswith("9 no-mail names, 0 lines to add, 5 warnings")


def test_no_mail_records_complete_zone(check, tmp_path):
    # A zone of parked names, brought to "no mail" in full by its own data.
    zone = zone_file(tmp_path, "@ MX 0 .\nwww A 203.0.114.80\nold MX 0 .\n"
                     'old TXT "site-verification=1"\n', name="parked.test")
    listed = ["--no-mail", "www.parked.test"]
    assert policy_lines(check("-q", *listed, str(zone)).out)
    with open(zone, "a") as f:
        f.write("\n".join(check("-q", "--no-mail-records", *listed, str(zone)).out) + "\n")
    r = check("-q", *listed, str(zone))
    assert (r.out, r.rc) == ([], 0)


# no-mail-dmarc: refused as knotd refuses it (test_config_peers.py has the
# rows that knotc conf-check runs too).

@pytest.mark.parametrize("value", ["v=DMARC1; p=none", "p=reject",
                                   "v=DMARC1; sp=reject; p=reject", "x" * 256])
def test_bad_no_mail_dmarc(check, tmp_path, value):
    conf = tmp_path / "knot.conf"
    conf.write_text(f"mod-mxguard:\n  - id: a\n    no-mail-dmarc: \"{value}\"\n")
    r = check("-c", str(conf), "clean.zone")
    assert r.rc == 2
    assert r.out == []
    why = ("one TXT string of at most 255 printable characters" if len(value) > 255 else
           "it must start with 'v=DMARC1;' and 'p=reject' as the first tag")
    # The line knotd gives: the section's end (here the file's).
    assert r.err == [f"mxguard-check: config, file '{conf}', line 4, section "
                     f"'mod-mxguard[a]' (invalid no-mail-dmarc '{value}', {why})"]
