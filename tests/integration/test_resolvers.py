# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""Null MX answers through real validating resolvers that reuse cached
denial records (RFC 8198): unbound, PowerDNS Recursor and Knot Resolver,
from Debian's packages, started here on loopback (resolvers.py).

Zones signed by knotd with NSEC (nsec.test, impl.test) and NSEC3
(nsec3.test, impl3.test); no-mail names listed (nsec*.test) or implicit
(impl*.test). After a denial record of a no-mail name reached the
resolver's cache (a NODATA answer for AAAA, an NXDOMAIN below it, a
wildcard), an MX query must still give "0 ." with AD.
"""

import re
import time

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import pytest

import resolvers
from knotd_harness import Knotd, conf

ZONES = ("nsec.test", "nsec3.test", "impl.test", "impl3.test")

MODULES = """
policy:
  - id: nsec3
    nsec3: on
    nsec3-iterations: 0
    nsec3-salt-length: 0

mod-mxguard:
"""
for z in ("nsec.test", "nsec3.test"):
    MODULES += f"""  - id: list-{z.split('.')[0]}
    null-mx: [ parked.{z}, "*.cdn.{z}", baz.wildnomx.{z} ]
    log-interval: 0
"""
MODULES += """  - id: implicit
    null-mx-implicit: on
    log-interval: 0
"""

ZONE_CONF = """  - domain: nsec.test
    dnssec-signing: on
    module: mod-mxguard/list-nsec
  - domain: nsec3.test
    dnssec-signing: on
    dnssec-policy: nsec3
    module: mod-mxguard/list-nsec3
  - domain: impl.test
    dnssec-signing: on
    module: mod-mxguard/implicit
  - domain: impl3.test
    dnssec-signing: on
    dnssec-policy: nsec3
    module: mod-mxguard/implicit
"""


@pytest.fixture(scope="module")
def signed():
    s = resolvers.start_signed(Knotd, conf(MODULES, ZONE_CONF), ZONES)
    yield s
    s.cleanup()


@pytest.fixture(scope="module", params=resolvers.ALL, ids=lambda c: c.name)
def resolver(request, signed):
    r, why = resolvers.start_for(request.param, signed)
    if r is None:
        pytest.skip(why)
    yield r
    r.stop()


def null_mx(r, name):
    mx = r.get_rrset(r.answer, dns.name.from_text(name), 1, dns.rdatatype.MX)
    return mx is not None and [rd.to_text() for rd in mx] == ["0 ."]


def ask(res, name, rdtype="MX"):
    r = res.query(name, rdtype)
    assert r.rcode() != dns.rcode.SERVFAIL, f"{res.name}: {name} {rdtype} SERVFAIL\n" + \
        res.log_text()[-3000:]
    return r


def expect_null_mx(res, name):
    r = ask(res, name)
    assert null_mx(r, name), f"{res.name}: {name} MX\n{r}"
    assert r.flags & dns.flags.AD, f"{res.name}: {name} MX without AD\n{r}"


def expect_validated_denial(res, name, rdtype, rcode):
    r = ask(res, name, rdtype)
    assert r.rcode() == rcode, f"{res.name}: {name} {rdtype}\n{r}"
    assert r.flags & dns.flags.AD, f"{res.name}: {name} {rdtype} without AD\n{r}"


@pytest.mark.parametrize("zone", ZONES)
def test_aaaa_then_mx(resolver, zone):
    name = f"parked.{zone}."
    expect_validated_denial(resolver, name, "AAAA", dns.rcode.NOERROR)
    expect_null_mx(resolver, name)
    # The answer again, from the cache.
    expect_null_mx(resolver, name)


@pytest.mark.parametrize("zone", ZONES)
def test_nxdomain_below_then_mx(resolver, zone):
    # a.cdn: a listed subtree's name (nsec*.test), any name (impl*.test).
    expect_validated_denial(resolver, f"nothing.a.cdn.{zone}.", "AAAA", dns.rcode.NXDOMAIN)
    expect_validated_denial(resolver, f"a.cdn.{zone}.", "TXT", dns.rcode.NOERROR)
    expect_null_mx(resolver, f"a.cdn.{zone}.")


@pytest.mark.parametrize("zone", ZONES)
def test_wildcard_then_mx(resolver, zone):
    # Another name under the wildcard first: its NODATA carries the
    # wildcard's denial record.
    expect_validated_denial(resolver, f"other.wildnomx.{zone}.", "AAAA", dns.rcode.NOERROR)
    expect_validated_denial(resolver, f"baz.wildnomx.{zone}.", "AAAA", dns.rcode.NOERROR)
    expect_null_mx(resolver, f"baz.wildnomx.{zone}.")


@pytest.mark.parametrize("zone", ("impl.test", "impl3.test"))
def test_implicit_names(resolver, zone):
    expect_validated_denial(resolver, f"www.{zone}.", "AAAA", dns.rcode.NOERROR)
    expect_validated_denial(resolver, f"nothing.www.{zone}.", "A", dns.rcode.NXDOMAIN)
    expect_null_mx(resolver, f"www.{zone}.")
    expect_null_mx(resolver, f"{zone}.")


@pytest.mark.parametrize("zone", ("nsec.test", "nsec3.test"))
def test_unlisted_names_keep_their_nodata(resolver, zone):
    # www is not listed: its MX NODATA must still validate.
    expect_validated_denial(resolver, f"www.{zone}.", "AAAA", dns.rcode.NOERROR)
    r = ask(resolver, f"www.{zone}.")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer, f"{resolver.name}\n{r}"
    assert r.flags & dns.flags.AD
    r = ask(resolver, f"other.wildnomx.{zone}.")
    assert not null_mx(r, f"other.wildnomx.{zone}."), f"{resolver.name}\n{r}"
    assert r.flags & dns.flags.AD


def _nsec3_owner(server, zone, name):
    q = dns.message.make_query(zone, "NSEC3PARAM")
    r = dns.message.from_wire(server.raw_query(q.to_wire(), True))
    param = r.answer[0][0]
    return dns.dnssec.nsec3_hash(name, param.salt, param.iterations,
                                 param.algorithm).lower()


def _proof_holding(server, zone, owner):
    """A name below ZONE whose NXDOMAIN proof holds the NSEC3 OWNER."""
    for i in range(2000):
        name = f"n{i}.{zone}"
        q = dns.message.make_query(name, "A", want_dnssec=True)
        r = dns.message.from_wire(server.raw_query(q.to_wire(), True))
        if any(rrset.rdtype == dns.rdatatype.NSEC3 and
               rrset.name.labels[0].decode().lower() == owner for rrset in r.authority):
            return name
    raise AssertionError(f"no NXDOMAIN proof below {zone} holds {owner}")


def test_subtree_member_met_in_another_proof_then_mx(resolver, signed):
    """b.cdn (below the listed *.cdn) first reaches the resolver only as a
    covering NSEC3 in another name's NXDOMAIN proof; its MX must still be
    the null MX (PowerDNS Recursor and Knot Resolver reuse such records)."""
    zone = "nsec3.test."
    owner = _nsec3_owner(signed, zone, "b.cdn." + zone)
    other = _proof_holding(signed, zone, owner)
    expect_validated_denial(resolver, other, "A", dns.rcode.NXDOMAIN)
    expect_null_mx(resolver, "b.cdn." + zone)


@pytest.mark.parametrize("name", ["parked", "a.cdn"])
def test_no_mail_names_nsec3_lists_mx_in_every_proof(signed, name):
    """A no-mail name's NSEC3 covers the hashes after its own, so it is part
    of unrelated names' NXDOMAIN proofs; a resolver may cache it there
    (RFC 8198). Wherever it appears, it lists MX: for a listed name (parked)
    and for a member of a listed subtree (a.cdn, below *.cdn), whose hash
    the module cannot know ahead."""
    zone = "nsec3.test."
    q = dns.message.make_query(zone, "NSEC3PARAM")
    r = dns.message.from_wire(signed.raw_query(q.to_wire(), True))
    param = r.answer[0][0]
    target = dns.dnssec.nsec3_hash(f"{name}.{zone}", param.salt, param.iterations,
                                   param.algorithm).lower()
    seen = 0
    for i in range(400):
        q = dns.message.make_query(f"n{i}.{zone}", "A", want_dnssec=True)
        r = dns.message.from_wire(signed.raw_query(q.to_wire(), True))
        for rrset in r.authority:
            if rrset.rdtype != dns.rdatatype.NSEC3:
                continue
            if rrset.name.labels[0].decode().lower() != target:
                continue
            seen += 1
            types = {dns.rdatatype.to_text(t) for rd in rrset for t in _bitmap_types(rd)}
            assert "MX" in types, rrset.to_text()
        if seen >= 3:
            break
    assert seen > 0, f"no proof held the NSEC3 of {name}"


def _bitmap_types(rd):
    for window, bits in rd.windows:
        for i, byte in enumerate(bits):
            for bit in range(8):
                if byte & (0x80 >> bit):
                    yield window * 256 + i * 8 + bit


@pytest.mark.parametrize("zone", ("nsec.test", "impl.test"))
def test_empty_non_terminal_is_logged(signed, zone):
    """e.cdn exists only because x.e.cdn does: in an NSEC zone it has no NSEC
    of its own to list MX, and the module says so."""
    name = f"e.cdn.{zone}."
    q = dns.message.make_query(name, "AAAA", want_dnssec=True)
    r = dns.message.from_wire(signed.raw_query(q.to_wire(), True))
    assert r.rcode() == dns.rcode.NOERROR and not r.answer, r
    line = f"not enforced, owner {name}, action null-mx, reason empty-non-terminal"
    deadline = time.monotonic() + 5
    while line not in signed.log_text():
        assert time.monotonic() < deadline, f"{r}\n" + signed.log_text()[-3000:]
        time.sleep(0.1)
    # A name with an NSEC of its own is not reported.
    q = dns.message.make_query(f"a.cdn.{zone}.", "AAAA", want_dnssec=True)
    signed.raw_query(q.to_wire(), True)
    time.sleep(0.3)
    assert f"owner a.cdn.{zone}., action null-mx, reason empty" not in signed.log_text()


def _skipped(server, zone):
    out = server.knotc("zone-stats", zone, "mod-mxguard").stdout
    m = re.search(r"mod-mxguard\.skipped = (\d+)", out)
    return int(m.group(1)) if m else 0


@pytest.mark.parametrize("rdtype", ("TXT", "AAAA"))
def test_apex_nodata_is_no_empty_non_terminal(signed, rdtype):
    """With null-mx-implicit the apex's own NSEC lists MX (the module adds
    it): a NODATA there is no empty non-terminal, logs no 'not enforced'
    line and adds nothing to 'skipped'."""
    zone = "impl.test"
    before = _skipped(signed, zone)
    mark = signed.log_mark()
    q = dns.message.make_query(f"{zone}.", rdtype, want_dnssec=True)
    r = dns.message.from_wire(signed.raw_query(q.to_wire(), True))
    assert r.rcode() == dns.rcode.NOERROR and not r.answer, r
    nsec = [rr for rr in r.authority if rr.rdtype == dns.rdatatype.NSEC]
    assert nsec and nsec[0].name == dns.name.from_text(f"{zone}."), r
    assert "MX" in {dns.rdatatype.to_text(t) for rd in nsec[0] for t in _bitmap_types(rd)}
    time.sleep(0.3)
    assert "not enforced" not in signed.log_text()[mark:], signed.log_text()[mark:]
    assert _skipped(signed, zone) == before


def _labels(name):
    return len(dns.name.from_text(name).labels) - 1


@pytest.mark.parametrize("zone", ZONES)
def test_null_mx_under_wildcard_agrees_with_its_proof(signed, zone):
    """A no-mail name a wildcard stands for (issue 23, D4). With
    null-mx-implicit the wildcard itself takes no mail: the null MX is signed
    as its expansion (RRSIG labels of "*.wildnomx") beside knotd's proof that
    the name does not exist. A listed name is signed as a name of its own,
    with no such proof: a resolver would give a wildcard's null MX to every
    name below it, listed or not."""
    name = f"baz.wildnomx.{zone}."
    implicit = zone.startswith("impl")
    q = dns.message.make_query(name, "MX", want_dnssec=True)
    r = dns.message.from_wire(signed.raw_query(q.to_wire(), True))
    mx = r.get_rrset(r.answer, dns.name.from_text(name), 1, dns.rdatatype.MX)
    sig = r.get_rrset(r.answer, dns.name.from_text(name), 1, dns.rdatatype.RRSIG,
                      dns.rdatatype.MX)
    assert mx is not None and [rd.to_text() for rd in mx] == ["0 ."], r
    labels = _labels(f"wildnomx.{zone}.") if implicit else _labels(name)
    assert sig is not None and sig[0].labels == labels, r
    zone_name = dns.name.from_text(zone + ".")
    dns.dnssec.validate(mx, sig, {zone_name: signed.anchors[zone_name]})
    proofs = [rr for rr in r.authority
              if rr.rdtype in (dns.rdatatype.NSEC, dns.rdatatype.NSEC3)]
    assert bool(proofs) == implicit, r.to_text()
    assert implicit or not r.authority, r.to_text()


@pytest.mark.parametrize("zone", ("nsec.test", "impl.test"))
def test_wildcard_lists_mx_only_where_it_stands_for_no_mail_names(signed, zone):
    """*.wildweb can stand for no listed name of nsec.test: its NSEC keeps
    its bitmap; with null-mx-implicit every name it stands for is one."""
    q = dns.message.make_query(f"x.wildweb.{zone}.", "AAAA", want_dnssec=True)
    r = dns.message.from_wire(signed.raw_query(q.to_wire(), True))
    wild = dns.name.from_text(f"*.wildweb.{zone}.")
    nsec = r.get_rrset(r.authority, wild, 1, dns.rdatatype.NSEC)
    assert nsec is not None, r.to_text()
    types = {dns.rdatatype.to_text(t) for rd in nsec for t in _bitmap_types(rd)}
    assert ("MX" in types) == (zone == "impl.test"), nsec
