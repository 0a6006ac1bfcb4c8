# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""no-mail-records in signed zones (issue 24): SPF, DMARC and DKIM of
no-mail names served signed, and denial of existence that never denies
them. Zones signed by knotd with NSEC (kit.test, kitimp.test) and NSEC3
with salt and iterations (kit3.test, kit3imp.test; kit3o.test with
opt-out and an unsigned delegation); no-mail names listed
(parked, withtxt, an empty non-terminal ent, a subtree member a.sub, and
filed from null-mx-file), a zone's own lone null MX
(zonenull), and every name without MX (kit*imp.test, null-mx-implicit).

Direct queries: every record of every answer validates (dnspython), and no
NSEC or NSEC3 record of any answer covers a name the module serves, or
owns one without listing what is served there. Through real validating
resolvers (unbound with aggressive NSEC, PowerDNS Recursor, Knot
Resolver): the sequences that would poison their caches first, each
ending with the record and AD.
"""

import base64

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import pytest

import resolvers
from knotd_harness import Knotd, conf

LISTED = ("kit.test", "kit3.test", "kit3o.test")
IMPLICIT = ("kitimp.test", "kit3imp.test")
ZONES = LISTED + IMPLICIT
NSEC3_ZONES = ("kit3.test", "kit3o.test", "kit3imp.test")
NAMES = {z: ["parked", "withtxt", "zonenull", "ent", "a.sub", "filed"] for z in LISTED}
NAMES.update({z: ["parked", "www", "zonenull", "ent"] for z in IMPLICIT})
DMARC = "v=DMARC1; p=reject; sp=reject; np=reject; adkim=s; aspf=s"
DKIM = "v=DKIM1; p="

MODULES = """
policy:
  - id: nsec3
    nsec3: on
    nsec3-iterations: 5
    nsec3-salt-length: 8
  - id: optout
    nsec3: on
    nsec3-opt-out: on
    nsec3-iterations: 1
    nsec3-salt-length: 4

mod-mxguard:
"""
for _z in LISTED:
    MODULES += f"""  - id: list-{_z.split('.')[0]}
    null-mx: [ parked.{_z}, withtxt.{_z}, ent.{_z}, "*.sub.{_z}" ]
    null-mx-file: @DIR@/no-mail.list
    no-mail-records: [ spf, dmarc, dkim ]
    log-interval: 0
"""
MODULES += """  - id: implicit
    null-mx-implicit: on
    no-mail-records: [ spf, dmarc, dkim ]
    log-interval: 0
"""
ZONE_CONF = ""
for _z in ZONES:
    _inst = "implicit" if _z in IMPLICIT else "list-" + _z.split(".")[0]
    ZONE_CONF += f"  - domain: {_z}\n    dnssec-signing: on\n    module: mod-mxguard/{_inst}\n"
    if "3" in _z:
        ZONE_CONF += "    dnssec-policy: " + ("optout" if _z.endswith("o.test") else "nsec3") + "\n"


@pytest.fixture(scope="module")
def signed():
    listed = "".join(f"filed.{z}\n" for z in LISTED)
    s = resolvers.start_signed(Knotd, conf(MODULES, ZONE_CONF), ZONES,
                               files={"no-mail.list": listed})
    yield s
    s.cleanup()


def served(zone, n):
    """The names served below a no-mail name, with their TXT (or None)."""
    base = f"{n}.{zone}."
    return {f"_dmarc.{base}": DMARC, f"_domainkey.{base}": None,
            f"sel._domainkey.{base}": DKIM, f"x1._domainkey.{base}": DKIM}


def direct(server, name, rdtype, payload=None):
    """Over TCP; over UDP with this EDNS buffer size if given."""
    q = dns.message.make_query(name, rdtype, want_dnssec=True,
                               payload=payload or 1232)
    q.flags &= ~dns.flags.RD
    return dns.message.from_wire(server.raw_query(q.to_wire(), payload is None))


def validate_all(r, zone, keys):
    """Every RRset of the answer and authority sections is validly signed."""
    for section in (r.answer, r.authority):
        sigs = {(s.name, s.covers): s for s in section if s.rdtype == dns.rdatatype.RRSIG}
        for rrset in section:
            if rrset.rdtype == dns.rdatatype.RRSIG:
                continue
            sig = sigs.get((rrset.name, rrset.rdtype))
            assert sig is not None, f"unsigned {rrset}\n{r}"
            dns.dnssec.validate(rrset, sig, {dns.name.from_text(zone + "."): keys})


def nsec3_of(zone, name, rd):
    return dns.dnssec.nsec3_hash(name, rd.salt, rd.iterations, rd.algorithm).lower()


def between(first, x, last):
    return first < x < last if first < last else x > first or x < last


def denies(rrset, rd, zone, name, txt):
    """Whether this denial record says NAME does not exist, or has no TXT
    where TXT is served."""
    target = dns.name.from_text(name)
    if rrset.rdtype == dns.rdatatype.NSEC:
        if rrset.name == target:
            return txt and dns.rdatatype.TXT not in [t for w in rd.windows for t in _types(w)]
        return between(rrset.name, target, rd.next)
    own = rrset.name.labels[0].decode().lower()
    h = nsec3_of(zone, name, rd)
    nxt = _b32(rd.next)
    if own == h:
        return txt and dns.rdatatype.TXT not in [t for w in rd.windows for t in _types(w)]
    return between(own, h, nxt)


def _types(window):
    base, bits = window
    return [base * 256 + i * 8 + b for i, byte in enumerate(bits)
            for b in range(8) if byte & (0x80 >> b)]


def _b32(raw):
    return base64.b32encode(raw).decode().translate(
        str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789ABCDEFGHIJKLMNOPQRSTUV")).lower()


def check_no_denial(r, zone, n):
    for rrset in r.answer + r.authority:
        if rrset.rdtype not in (dns.rdatatype.NSEC, dns.rdatatype.NSEC3):
            continue
        for rd in rrset:
            for name, txt in served(zone, n).items():
                assert not denies(rrset, rd, zone, name, txt is not None), \
                    f"{rrset} denies {name}\n{r}"
            assert not denies(rrset, rd, zone, f"{n}.{zone}.", True), \
                f"{rrset} denies the SPF of {n}.{zone}\n{r}"


QUERIES = ["{n}", "_dmarc.{n}", "_domainkey.{n}", "sel._domainkey.{n}", "zzz.{n}", "{n}0",
           "x._dmarc.{n}", "a.b._domainkey.{n}", "*.{n}", "-.{n}", "0.{n}", "x.{n}"]


@pytest.mark.parametrize("zone", ZONES)
def test_every_answer_validates_and_denies_nothing_served(signed, zone):
    keys = signed.anchors[dns.name.from_text(zone + ".")]
    for n in NAMES[zone]:
        for form in QUERIES:
            name = form.format(n=n) + f".{zone}."
            # The query's letter case (0x20) changes nothing a validator sees.
            mixed = "".join(c.upper() if i % 2 else c for i, c in enumerate(name))
            for rdtype, qname in [(t, name) for t in ("A", "TXT", "MX", "AAAA", "NSEC", "DS")] + \
                    [("TXT", mixed), ("A", mixed)]:
                r = direct(signed, qname, rdtype)
                assert r.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN), f"{qname} {rdtype}\n{r}"
                assert not r.flags & dns.flags.TC
                validate_all(r, zone, keys)
                check_no_denial(r, zone, n)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("payload", [512, 1232])
def test_udp_answers_fit_or_are_cut_never_deny(signed, zone, payload):
    # The white lies make some answers larger than knotd's: over UDP they
    # fit the buffer or are cut with TC=1, and what goes out denies nothing
    # served.
    keys = signed.anchors[dns.name.from_text(zone + ".")]
    for n in NAMES[zone]:
        for form in QUERIES:
            name = form.format(n=n) + f".{zone}."
            for rdtype in ("A", "TXT", "MX"):
                q = dns.message.make_query(name, rdtype, want_dnssec=True, payload=payload)
                wire = signed.raw_query(q.to_wire(), False)
                assert len(wire) <= payload
                r = dns.message.from_wire(wire)
                check_no_denial(r, zone, n)
                if not r.flags & dns.flags.TC:
                    validate_all(r, zone, keys)


@pytest.mark.parametrize("zone", ZONES)
def test_nxdomain_proofs_hold_what_they_need(signed, zone):
    # RFC 5155's proof of a name that does not exist is three NSEC3
    # records at most (closest encloser, next closer name, wildcard); NSEC
    # needs two. Ranges of ancestors above the closest encloser that knotd
    # gave go with its ranges: kept as records of their own they grew the
    # answer up to 5 NSEC3 records (1,152 octets), and Knot Resolver
    # answered SERVFAIL when its reply to a 1,232-octet client no longer fit.
    most = 3 if zone in NSEC3_ZONES else 2
    for n in NAMES[zone]:
        for form in QUERIES:
            name = form.format(n=n) + f".{zone}."
            for rdtype in ("A", "TXT", "MX", "DS"):
                r = direct(signed, name, rdtype)
                if r.rcode() != dns.rcode.NXDOMAIN:
                    continue
                proofs = [rs for rs in r.authority
                          if rs.rdtype in (dns.rdatatype.NSEC, dns.rdatatype.NSEC3)]
                assert len(proofs) <= most, f"{name} {rdtype}\n{r}"


@pytest.mark.parametrize("zone", ZONES)
def test_records_served_signed(signed, zone):
    for n in NAMES[zone]:
        base = f"{n}.{zone}."
        r = direct(signed, base, "TXT")
        txt = sorted(b"".join(rd.strings).decode() for rs in r.answer
                     if rs.rdtype == dns.rdatatype.TXT for rd in rs)
        assert "v=spf1 -all" in txt, f"{base}\n{r}"
        for name, want in served(zone, n).items():
            r = direct(signed, name, "TXT")
            assert r.rcode() == dns.rcode.NOERROR, f"{name}\n{r}"
            got = [b"".join(rd.strings).decode() for rs in r.answer
                   if rs.rdtype == dns.rdatatype.TXT for rd in rs]
            assert got == ([want] if want else []), f"{name}\n{r}"
        r = direct(signed, base, "MX")
        assert [rd.to_text() for rs in r.answer if rs.rdtype == dns.rdatatype.MX
                for rd in rs] == ["0 ."], f"{base}\n{r}"


def test_zone_data_wins_and_other_names_keep_nxdomain(signed):
    r = direct(signed, "_dmarc.own.kit.test.", "TXT")
    assert [b"".join(rd.strings).decode() for rs in r.answer
            if rs.rdtype == dns.rdatatype.TXT for rd in rs] == ["v=DMARC1; p=reject"]
    # www takes no null MX in the listed zone: nothing is served below it.
    r = direct(signed, "_dmarc.www.kit.test.", "TXT")
    assert r.rcode() == dns.rcode.NXDOMAIN, r
    # An attribute leaf is no no-mail name: nothing below _dmarc.N.
    r = direct(signed, "_dmarc._dmarc.parked.kit.test.", "TXT")
    assert r.rcode() == dns.rcode.NXDOMAIN and not r.answer, r


@pytest.fixture(scope="module", params=resolvers.ALL, ids=lambda c: c.name)
def resolver(request, signed):
    r, why = resolvers.start_for(request.param, signed)
    if r is None:
        pytest.skip(why)
    yield r
    r.stop()


def ask(res, name, rdtype):
    r = res.query(name, rdtype)
    assert r.rcode() != dns.rcode.SERVFAIL, f"{res.name}: {name} {rdtype} SERVFAIL\n" + \
        res.log_text()[-3000:]
    return r


# (first query, then) -> the record that must follow, with AD.
SEQUENCES = [
    (("_dmarc.{n}", "A"), ("_dmarc.{n}", "TXT", DMARC)),
    (("zzz.{n}", "A"), ("_dmarc.{n}", "TXT", DMARC)),
    (("{n}0", "A"), ("sel._domainkey.{n}", "TXT", DKIM)),
    (("{n}", "AAAA"), ("{n}", "TXT", "v=spf1 -all")),
    (("x._domainkey.{n}", "A"), ("y._domainkey.{n}", "TXT", DKIM)),
    (("a.b._domainkey.{n}", "A"), ("_domainkey.{n}", "TXT", None)),
    (("x._dmarc.{n}", "A"), ("_dmarc.{n}", "TXT", DMARC)),
    (("-.{n}", "A"), ("{n}", "MX", "0 .")),
]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("seq", range(len(SEQUENCES)))
def test_poisoning_sequences(resolver, zone, seq):
    (first, ftype), (then, ttype, want) = SEQUENCES[seq]
    for n in NAMES[zone]:
        ask(resolver, first.format(n=n) + f".{zone}.", ftype)
        name = then.format(n=n) + f".{zone}."
        r = ask(resolver, name, ttype)
        assert r.rcode() == dns.rcode.NOERROR, f"{resolver.name}: {name} {ttype}\n{r}"
        assert r.flags & dns.flags.AD, f"{resolver.name}: {name} {ttype} without AD\n{r}"
        rds = [rd for rs in r.answer if rs.rdtype == dns.rdatatype.from_text(ttype)
               for rd in rs]
        if ttype == "TXT":
            got = sorted(b"".join(rd.strings).decode() for rd in rds)
            assert (want in got) if want else got == [], f"{resolver.name}: {name}\n{r}"
        else:
            assert [rd.to_text() for rd in rds] == [want], f"{resolver.name}: {name}\n{r}"


@pytest.mark.parametrize("name, nxt", [("www.kit.test.", "zonenull.kit.test."),
                                       ("mail.kit.test.", "mx.kit.test.")])
def test_other_names_keep_the_zones_own_records(signed, name, nxt):
    # NSEC: a range that meets no name served below a no-mail name goes out
    # as knotd has it (no signature made for it).
    r = direct(signed, name, "AAAA")
    nsec = [rs for rs in r.authority if rs.rdtype == dns.rdatatype.NSEC]
    assert len(nsec) == 1 and nsec[0].name == dns.name.from_text(name), r
    assert nsec[0][0].next == dns.name.from_text(nxt), r


@pytest.mark.parametrize("zone", ZONES)
def test_internet_nl_and_checkdmarc_parked_rules_validated(resolver, zone):
    """The same published rules as test_no_mail_records.py, on what a
    validating resolver gives (AD) for the signed zones."""
    from test_no_mail_records import INTERNET_NL_DMARC, INTERNET_NL_SPF

    def texts(r):
        assert r.flags & dns.flags.AD, f"{resolver.name}\n{r}"
        return [b"".join(rd.strings).decode() for rs in r.answer
                if rs.rdtype == dns.rdatatype.TXT for rd in rs]

    for n in NAMES[zone]:
        base = f"{n}.{zone}."
        mx = ask(resolver, base, "MX")
        assert [rd.to_text() for rs in mx.answer if rs.rdtype == dns.rdatatype.MX
                for rd in rs] == ["0 ."], f"{resolver.name}: {base}\n{mx}"
        spf = [t for t in texts(ask(resolver, base, "TXT")) if t.lower().startswith("v=spf1")]
        assert len(spf) == 1 and INTERNET_NL_SPF.match(spf[0]) and spf[0] == "v=spf1 -all"
        dmarc = texts(ask(resolver, "_dmarc." + base, "TXT"))
        assert len(dmarc) == 1 and INTERNET_NL_DMARC.match(dmarc[0])
        tags = dict(t.strip().split("=", 1) for t in dmarc[0].split(";") if "=" in t)
        assert tags["p"] == "reject" and tags.get("sp", tags["p"]) == "reject"
        # internet.nl tells "no DKIM" from NXDOMAIN at _domainkey.
        r = ask(resolver, "_domainkey." + base, "TXT")
        assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AD
