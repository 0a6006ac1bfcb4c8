# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""no-mail-records (issue 24): beside the null MX of a no-mail name, the
records that say no mail goes out either, in an unsigned zone: SPF at the
name, DMARC at _dmarc, an empty DKIM key at any selector, _domainkey as a
name that exists; the zone's own data wins, and a record of its own that
lets mail through is logged (no-mail-policy). The checks are those of
internet.nl (no-mail decision) and checkdmarc --parked, from their
published rules."""

import re
import time

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from knotd_harness import Knotd, conf

ZONE = "nm.test"
LISTED = ["parked", "withtxt", "weakspf", "twospf", "goodspf", "dmarcweak"]
DMARC = "v=DMARC1; p=reject; sp=reject; np=reject; adkim=s; aspf=s"
MODULES = f"""
mod-mxguard:
  - id: nm
    null-mx: [ {", ".join(f"{n}.{ZONE}" for n in LISTED)} ]
    no-mail-records: [ spf, dmarc, dkim ]
    log-interval: 0
"""

# internet.nl (checks/tasks/mail.py): a non-sending domain's SPF and DMARC.
INTERNET_NL_SPF = re.compile(r"^v=spf1 +(exp=[^ ]+ +)?-all;?(\s*)?$", re.I)
INTERNET_NL_DMARC = re.compile(r"^v=DMARC1; *p=reject;?", re.I)


@pytest.fixture(scope="module")
def server():
    s = Knotd(conf(MODULES, f"  - domain: {ZONE}\n    module: mod-mxguard/nm\n"),
              zones=(ZONE,))
    s.start(ready=lambda k: k.query(f"ns.{ZONE}.", "A", timeout=1).answer != [])
    yield s
    s.cleanup()


def ask(server, name, rdtype):
    return server.query(f"{name}.{ZONE}." if name != "@" else f"{ZONE}.", rdtype)


def texts(r, rdtype=dns.rdatatype.TXT):
    out = []
    for rrset in r.answer:
        if rrset.rdtype == rdtype:
            out += [b"".join(rd.strings).decode() for rd in rrset]
    return sorted(out)


def lines(server, mark):
    time.sleep(0.2)
    return server.module_lines(mark)


def test_spf_served_where_the_name_has_none(server):
    mark = server.log_mark()
    r = ask(server, "parked", "TXT")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    assert texts(r) == ["v=spf1 -all"]
    assert r.answer[0].ttl == 3600  # null-mx-ttl
    assert any(f"synthesized spf, owner parked.{ZONE}., reason list" in l
               for l in lines(server, mark))


def test_spf_added_to_the_names_txt_records(server):
    r = ask(server, "withtxt", "TXT")
    assert texts(r) == ["site-verification=abc", "v=spf1 -all"]


@pytest.mark.parametrize("name", ["weakspf", "twospf"])
def test_zones_spf_served_alone_and_a_weak_one_logged(server, name):
    mark = server.log_mark()
    r = ask(server, name, "TXT")
    assert texts(r) == sorted({"weakspf": ["v=spf1 ~all"],
                               "twospf": ["v=spf1 -all", "v=spf1 a -all"]}[name])
    assert any(f"violation no-mail-policy, owner {name}.{ZONE}., exchange ., "
               "preference 0, record spf, action log" in l for l in lines(server, mark))


def test_zones_spf_and_dmarc_that_reject_are_not_logged(server):
    mark = server.log_mark()
    assert texts(ask(server, "goodspf", "TXT")) == ["v=spf1 -all"]
    assert texts(ask(server, "_dmarc.goodspf", "TXT")) == ["v=DMARC1; p=reject"]
    assert not [l for l in lines(server, mark) if "no-mail-policy" in l]


def test_dmarc_served_and_other_types_nodata(server):
    r = ask(server, "_dmarc.parked", "TXT")
    assert r.rcode() == dns.rcode.NOERROR and texts(r) == [DMARC]
    for rdtype in ("A", "AAAA", "MX", "CNAME"):
        r = ask(server, "_dmarc.parked", rdtype)
        assert r.rcode() == dns.rcode.NOERROR and not r.answer, (rdtype, r)
        assert r.authority and r.authority[0].rdtype == dns.rdatatype.SOA


def test_zones_dmarc_wins_and_one_that_does_not_reject_is_logged(server):
    mark = server.log_mark()
    r = ask(server, "_dmarc.dmarcweak", "TXT")
    assert texts(r) == ["v=DMARC1; p=none; rua=mailto:d@example.net"]
    assert any(f"violation no-mail-policy, owner _dmarc.dmarcweak.{ZONE}., exchange ., "
               "preference 0, record dmarc, action log" in l for l in lines(server, mark))


def test_dkim_key_empty_and_domainkey_exists(server):
    for sel in ("default", "s1", "google"):
        r = ask(server, f"{sel}._domainkey.parked", "TXT")
        assert r.rcode() == dns.rcode.NOERROR and texts(r) == ["v=DKIM1; p="]
        r = ask(server, f"{sel}._domainkey.parked", "A")
        assert r.rcode() == dns.rcode.NOERROR and not r.answer
    for rdtype in ("TXT", "A"):
        r = ask(server, "_domainkey.parked", rdtype)
        assert r.rcode() == dns.rcode.NOERROR and not r.answer, r


def test_zone_null_mx_name_gets_the_set(server):
    mark = server.log_mark()
    assert texts(ask(server, "zonenull", "TXT")) == ["v=spf1 -all"]
    assert texts(ask(server, "_dmarc.zonenull", "TXT")) == [DMARC]
    assert any(f"synthesized spf, owner zonenull.{ZONE}., reason zone" in l
               for l in lines(server, mark))


def test_a_name_that_takes_mail_gets_nothing(server):
    r = ask(server, "mailer", "TXT")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer
    r = ask(server, "_dmarc.mailer", "TXT")
    assert r.rcode() == dns.rcode.NXDOMAIN
    r = ask(server, "zzz.parked", "TXT")
    assert r.rcode() == dns.rcode.NXDOMAIN


def test_attribute_names_are_never_no_mail_names(server):
    r = ask(server, "_dmarc.parked", "MX")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer, r
    r = ask(server, "_dmarc.goodspf", "MX")
    assert not [rr for rr in r.answer if rr.rdtype == dns.rdatatype.MX], r


def test_internet_nl_and_checkdmarc_parked_rules(server):
    """internet.nl: null MX, SPF '-all', DMARC p=reject as the first tag,
    _domainkey NOERROR (DKIM 'available'); checkdmarc --parked: SPF exactly
    'v=spf1 -all', DMARC p and sp reject."""
    for name in ("parked", "zonenull"):
        mx = ask(server, name, "MX")
        assert [rd.to_text() for rrset in mx.answer for rd in rrset] == ["0 ."]
        spf = [t for t in texts(ask(server, name, "TXT")) if t.lower().startswith("v=spf1")]
        assert len(spf) == 1 and INTERNET_NL_SPF.match(spf[0]) and spf[0] == "v=spf1 -all"
        dmarc = texts(ask(server, f"_dmarc.{name}", "TXT"))
        assert len(dmarc) == 1 and INTERNET_NL_DMARC.match(dmarc[0])
        tags = dict(t.strip().split("=", 1) for t in dmarc[0].split(";") if "=" in t)
        assert tags["p"] == "reject" and tags.get("sp", tags["p"]) == "reject"
        assert ask(server, f"_domainkey.{name}", "TXT").rcode() == dns.rcode.NOERROR


def test_bad_dmarc_refused_naming_item_and_value():
    modules = """
mod-mxguard:
  - id: bad
    no-mail-dmarc: "v=DMARC1; p=none"
"""
    s = Knotd(conf(modules, f"  - domain: {ZONE}\n    module: mod-mxguard/bad\n"),
              zones=(ZONE,))
    try:
        res = s.knotc("conf-check")
        out = res.stdout + res.stderr
        assert res.returncode != 0
        assert "no-mail-dmarc" in out and "v=DMARC1; p=none" in out, out
    finally:
        s.cleanup()
