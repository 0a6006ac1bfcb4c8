# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""Denial rewrites against the oracle (issue 23).

M is knotd with the module, listing parked.ZONE as a no-mail name; O is a
bare knotd serving the zone as the rewrite should leave it: "parked MX 0 ."
in the zone, so that its own NSEC or NSEC3 lists MX. Both sign with the same
keys and NSEC3 salt (O starts from a copy of M's key database), so every
answer of O is what M must serve: byte for byte the same size, the same
records in the same order, the same owners in the same letter case, the
signatures' bytes and validity times aside. Each cell sends the same query
bytes to both (0x20 letter case, long names near the client's buffer,
buffers from 512 to 1600 bytes, UDP and TCP). An answer that does not fit
is cut as knotd cuts it (TC=1), and never carries a record that denies MX
at the no-mail name."""

import os
import random
import shutil
import struct
import time

import dns.message
import dns.name
import dns.rdatatype
import pytest

from knotd_harness import SLOW, Knotd, conf, wait_signed

ZONES = {
    # zone: policy
    "o-nsec.test": "o-nsec",
    "o-nsec3.test": "o-nsec3",
    "o-rsa3.test": "o-rsa3",
}

POLICIES = """
policy:
  - id: o-nsec
    algorithm: ecdsap256sha256
  - id: o-nsec3
    algorithm: ecdsap256sha256
    nsec3: on
    nsec3-iterations: 3
    nsec3-salt-length: 8
  - id: o-rsa3
    algorithm: rsasha256
    ksk-size: 2048
    zsk-size: 1536
    nsec3: on
    nsec3-iterations: 1
    nsec3-salt-length: 4
"""

FILLER = [f"n{i:02d}" for i in range(30)]


def zone_text(origin, oracle):
    lines = [f"$ORIGIN {origin}.", "$TTL 300",
             "@ SOA ns hostmaster 1 3600 900 604800 300", "@ NS ns",
             "ns A 192.0.2.53", "parked A 192.0.2.10", "parked TXT \"web only\"",
             "www A 192.0.2.11", "mail MX 10 mx", "mx A 192.0.2.25",
             "x.sub.parked A 192.0.2.12"]
    lines += [f"{n} A 192.0.2.{100 + i}" for i, n in enumerate(FILLER)]
    if oracle:
        lines.append("parked MX 0 .")
    return "\n".join(lines) + "\n"


def zone_conf(module):
    out = ""
    for zone, policy in ZONES.items():
        out += (f"  - domain: {zone}\n    dnssec-signing: on\n"
                f"    dnssec-policy: {policy}\n")
        if module:
            out += "    module: mod-mxguard/parked\n"
    return out


MODULE = "mod-mxguard:\n  - id: parked\n    null-mx: [ " + \
    ", ".join(f"parked.{z}" for z in ZONES) + " ]\n    null-mx-ttl: 300\n    log-interval: 0\n"


def soa(server, zone):
    q = dns.message.make_query(zone + ".", "SOA", want_dnssec=True, payload=1232)
    r = dns.message.from_wire(server.raw_query(q.to_wire(), tcp=True))
    rr = r.get_rrset(r.answer, dns.name.from_text(zone + "."), 1, dns.rdatatype.SOA)
    return None if rr is None else rr[0].serial


def dnskeys(server, zone):
    q = dns.message.make_query(zone + ".", "DNSKEY", want_dnssec=True, payload=4096)
    r = dns.message.from_wire(server.raw_query(q.to_wire(), tcp=True))
    rr = r.get_rrset(r.answer, dns.name.from_text(zone + "."), 1, dns.rdatatype.DNSKEY)
    return None if rr is None else sorted(rd.to_text() for rd in rr)


@pytest.fixture(scope="module")
def servers():
    ready = lambda s: all(soa(s, z) for z in ZONES)  # noqa: E731
    m = Knotd(conf(POLICIES + MODULE, zone_conf(True)), zones=())
    o = None
    for z in ZONES:
        with open(os.path.join(m.zonedir, z + ".zone"), "w") as f:
            f.write(zone_text(z, False))
    try:
        m.start(ready=ready)
        for z in ZONES:
            wait_signed(m, z + ".")
        # Keys made after the module loaded: it sees them when it loads again.
        for z in ZONES:
            res = m.knotc("zone-reload", "-f", z)
            assert res.returncode == 0, res.stdout + res.stderr
        time.sleep(1.0)
        for z in ZONES:
            wait_signed(m, z + ".")
        # The oracle signs with M's keys and salt (its key database).
        o = Knotd(conf(POLICIES, zone_conf(False)), zones=())
        shutil.copytree(os.path.join(m.dir, "keys"), os.path.join(o.dir, "keys"))
        for z in ZONES:
            with open(os.path.join(o.zonedir, z + ".zone"), "w") as f:
                f.write(zone_text(z, True))
        o.start(ready=ready)
        deadline = time.monotonic() + 30 * SLOW
        while not all(soa(o, z) == soa(m, z) and dnskeys(o, z) == dnskeys(m, z)
                      for z in ZONES):
            assert time.monotonic() < deadline, (
                [(soa(o, z), soa(m, z)) for z in ZONES], o.log_text()[-2000:])
            time.sleep(0.2)
        yield m, o
    finally:
        m.cleanup()
        if o is not None:
            o.cleanup()


def records(wire):
    """(header fields, [(section, owner text as written, type, class, ttl,
    rdata to compare)]) of a message; RRSIGs without their times and
    signature bytes."""
    msg = dns.message.from_wire(wire)
    out = []
    for sec, rrsets in (("an", msg.answer), ("au", msg.authority), ("ad", msg.additional)):
        for rrset in rrsets:
            for rd in rrset:
                if rrset.rdtype == dns.rdatatype.RRSIG:
                    data = (rd.type_covered, rd.algorithm, rd.labels, rd.original_ttl,
                            rd.key_tag, rd.signer.to_text(), len(rd.signature))
                else:
                    data = rd.to_text()
                out.append((sec, rrset.name.to_text(), rrset.rdtype, rrset.rdclass,
                            rrset.ttl, data))
    return (msg.flags, msg.rcode(), msg.edns, msg.payload), out


def cased(name, rnd):
    return "".join(c.upper() if rnd.random() < 0.5 else c for c in name)


def cells(zone, rnd):
    long1, long2, long3 = "a" * 63, "b" * 63, "c" * 50
    names = ["parked", "nx.parked", "zzz.parked", "sub.parked", "y.sub.parked",
             "parked0", "n00", "n15", "nothere", f"{long1}.parked",
             f"{long1}.{long2}.parked", f"{long1}.{long2}.{long3}.parked",
             f"{long1}.{long2}.{long3}.n07"]
    for name in names:
        for rdtype in ("TXT", "A", "AAAA", "MX"):
            for payload in (512, 700, 752, 790, 826, 900, 1232, 1600, None):
                yield f"{name}.{zone}.", rdtype, payload


def ask(server, wire, tcp):
    return server.raw_query(wire, tcp)


def denies_mx_at_parked(wire, zone):
    """An NSEC at parked.ZONE whose bitmap lacks MX (NSEC zones)."""
    msg = dns.message.from_wire(wire)
    parked = dns.name.from_text(f"parked.{zone}.")
    for rrset in msg.authority + msg.answer:
        if rrset.rdtype == dns.rdatatype.NSEC and rrset.name == parked:
            types = {t for rd in rrset for w, bits in rd.windows
                     for i, b in enumerate(bits) for k in range(8)
                     if b & (0x80 >> k) for t in [w * 256 + i * 8 + k]}
            if dns.rdatatype.MX not in types:
                return True
    return False


@pytest.mark.parametrize("zone", sorted(ZONES))
def test_denial_answers_equal_the_oracle(servers, zone):
    m, o = servers
    rnd = random.Random(f"oracle-{zone}")
    problems, compared, truncated = [], 0, 0
    for qname, rdtype, payload in cells(zone, rnd):
        for tcp in (False, True):
            if tcp and payload not in (None, 1232):
                continue
            q = dns.message.make_query(cased(qname, rnd), rdtype, want_dnssec=True,
                                       use_edns=0, payload=payload or 1232)
            q.id = rnd.randrange(65536)
            wire = q.to_wire()
            mw, ow = ask(m, wire, tcp), ask(o, wire, tcp)
            compared += 1
            truncated += bool(struct.unpack("!H", ow[2:4])[0] & 0x0200)
            cell = f"{qname} {rdtype} payload={payload} tcp={tcp}"
            if len(mw) != len(ow):
                problems.append(f"{cell}: size {len(mw)} != oracle {len(ow)}")
                continue
            mr, orr = records(mw), records(ow)
            if mr != orr:
                diff = [f"  M {a}\n  O {b}" for a, b in zip(mr[1], orr[1]) if a != b][:3]
                problems.append(f"{cell}: differs\n" + "\n".join(diff or [str(mr[0]),
                                                                         str(orr[0])]))
            if denies_mx_at_parked(mw, zone):
                problems.append(f"{cell}: an NSEC denies MX at parked")
    print(f"\n{zone}: {compared} cells, {truncated} truncated by the oracle")
    assert compared > 400
    assert not problems, f"{len(problems)} of {compared}:\n" + "\n".join(problems[:15])
