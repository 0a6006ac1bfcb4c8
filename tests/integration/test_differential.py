# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""The differential test: a bare knotd is the oracle.

Two knotd instances on 127.0.0.1 serve the same zones: one bare, one with
the module. Each cell sends the same query bytes (same ID) to both, over UDP
or TCP, and compares the answers. Everything the module does not mean to
change must be what knotd alone serves:

- log-only (the defaults): the whole message, byte for byte;
- enforcing: the MX RRsets of the answer may lose records or become
  ``0 .``, their RRSIGs may change (and must validate), the glue of removed
  exchanges may disappear, the counts follow. Everything else is the same:
  header flags and RCODE, the question's bytes (letter case), the OPT
  record (options in order, none twice), the authority section, the
  additional records of kept exchanges (owner case, TTLs), and the size is
  never larger. A no-mail name may get a null MX instead of NODATA (then
  the NODATA proof goes). Never TC=1 over TCP. A record the policy strips
  never appears, and one of a kind that is only logged is never removed
  (self-exchange and cname-exchange take only off or log; on Knot 3.2 and
  3.3 missing-address for a name the zone lacks is only inferred, never
  enforced); over UDP an answer the module cannot rewrite may be an empty
  TC=1 answer (fail closed), and a TSIG-signed one may get no answer.

Signed zones (NSEC, NSEC3) are signed by the module's knotd
(dnssec-signing: on, so the module can sign its rewrites); the bare knotd
is its secondary, so that both serve the very same signatures. Unsigned
zones are loaded from the same files by both. The one thing that differs
by construction is the EDNS EXPIRE value of a transferred zone (the
secondary's timer, RFC 7314): its value is not compared there.

Each (configuration, zone) is one test that sends all its cells and lists
every mismatch. The number of cells compared is printed in the session
summary (conftest.py).
"""

import os
import random
import socket
import struct
import time

import dns.dnssec
import dns.edns
import dns.exception
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import pytest

import knotd_harness
from knotd_harness import (SLOW, TSIG_KEY_CONF, TSIG_KEYRING, Knotd, conf, use_tsig,
                           wait_signed, with_tsig)

UNSIGNED, NSEC, NSEC3 = "diff.test", "nsec.test", "nsec3.test"
OUT = "out.test"
SIGNED = (NSEC, NSEC3)

ENFORCE_KINDS = """    ip-literal: strip
    loopback: strip
    special-address: strip
    missing-address: strip
    null-mx-conflict: strip
    self-exchange: log
    cname-exchange: log
"""

CONFIGS = {
    # Every kind logged, nothing rewritten.
    "log": "  - id: cfg\n    log-interval: 0\n",
    "enforce": "  - id: cfg\n    log-interval: 0\n" + ENFORCE_KINDS,
    "nullmx": ("  - id: cfg\n    log-interval: 0\n" + ENFORCE_KINDS +
               "    null-mx: [ %s ]\n    null-mx-implicit: on\n" %
               ", ".join(f"parked.{z}, nomail.{z}, \"*.nolist.{z}\""
                         for z in (UNSIGNED, NSEC, NSEC3))),
}

POLICIES = """
policy:
  - id: p-nsec
    algorithm: ecdsap256sha256
  - id: p-nsec3
    algorithm: ecdsap256sha256
    nsec3: on
"""

# Long exchange labels: the 'size744' answer (six exchanges with A and
# AAAA, one ip literal) is about 744 bytes without DO.
LONG = 51


def zone_text(origin, big1500=False):
    lines = [f"$ORIGIN {origin}.", "$TTL 3600",
             "@ SOA ns hostmaster 1 3600 900 604800 300",
             "@ NS ns", "ns A 198.41.0.4", "ns AAAA 2001:500:2::c",
             # clean
             "clean MX 10 mx1", "clean MX 20 mx2",
             "mx1 A 93.184.215.14", "mx1 AAAA 2606:2800:21f:cb07:6820:80da:af6b:8b2c",
             "mx2 A 93.184.215.15", "mx2 600 AAAA 2606:2800:21f::15",
             "Upper-Case MX 10 MX1", "Upper-Case MX 20 Mx2",
             # every kind
             "iplit MX 10 192.0.2.1.",
             "loop MX 10 localhost.",
             "loopaddr MX 10 mx-lo", "mx-lo A 127.0.0.1",
             "special MX 10 mx-private", "mx-private A 10.1.2.3",
             "special6 MX 10 mx-ula", "mx-ula AAAA fd00::25",
             "missing MX 10 mx-none",
             "nullmix MX 0 .", "nullmix MX 10 mx1",
             "nullpref MX 10 .",
             "nullok MX 0 .",
             "self MX 10 self", "self A 93.184.215.16",
             "cnamex MX 10 mx-alias", "mx-alias CNAME mx1",
             # partly bad sets
             "partial MX 10 mx1", "partial MX 20 mx-lo", "partial MX 30 mx2",
             "mixed MX 5 mx2", "mixed MX 10 localhost.", "mixed MX 20 192.0.2.7.",
             "mixed MX 30 mx1", "mixed MX 40 mx-private",
             "allbad MX 10 localhost.", "allbad MX 20 mx-lo",
             # CNAME chains, in and out of the zone
             "chain CNAME loop", "chain2 CNAME chain", "chainclean CNAME clean",
             "chainpartial CNAME partial", f"chainout CNAME loop.{OUT}.",
             f"chainoutclean CNAME clean.{OUT}.",
             "chainnx CNAME nothere", "chainnodata CNAME parked",
             # wildcards
             "*.wild MX 10 localhost.",
             "*.wildp MX 10 mx1", "*.wildp MX 20 mx-lo",
             "*.wildc MX 10 mx1",
             "wildex MX 10 host.wildhosts", "*.wildhosts A 127.0.0.2",
             "wildexok MX 10 host.wildok", "*.wildok A 93.184.215.30",
             "wildexmix MX 10 host.wildhosts", "wildexmix MX 20 host.wildok",
             # DNAME
             "dnamed MX 10 mx.dn", f"dn DNAME {OUT}.",
             "dnin DNAME inner", "x.inner MX 10 localhost.", "x.inner MX 20 mx1",
             # delegations
             "deleg NS ns.elsewhere.example.",
             "delegated MX 10 mail.deleg", "mail.deleg A 127.0.0.3",
             "sub NS ns.sub", "ns.sub A 93.184.215.53",
             "subexch MX 10 mail.sub", "subexch MX 20 mx1",
             # ANY, no-mail names, empty non-terminals
             "anymx MX 10 localhost.", 'anymx TXT "mail here"',
             "anyclean MX 10 mx1", 'anyclean TXT "clean"',
             "parked A 93.184.215.20",
             'nomail TXT "no mail here"', "a.nomail A 93.184.215.21",
             "b.ent A 93.184.215.22", "c.nolist A 93.184.215.23",
             f"otherzone MX 10 mx1.{OUT}.", f"otherloop MX 10 loop.{OUT}.",
             ]
    # size744: six long in-zone exchanges with A and AAAA, one ip literal.
    for i in range(6):
        label = f"mx{i}-" + "x" * (LONG - 4)
        lines += [f"size744 MX {10 + i} {label}", f"{label} A 93.184.216.{10 + i}",
                  f"{label} AAAA 2606:2800:220:1::{10 + i:x}"]
    lines.append("size744 MX 99 192.0.2.99.")
    # big40: glue does not fit 1232 bytes; one exchange has no address.
    for i in range(40):
        lines += [f"big40 MX {10 + i} mx-big-{i:02d}", f"mx-big-{i:02d} A 93.184.217.{i + 1}",
                  f"mx-big-{i:02d} AAAA 2606:2800:220:2::{i + 1:x}"]
    lines.append("big40 MX 99 mx-none")
    if big1500:
        # big1500: glue overflows 64 KiB over TCP; one exchange is localhost.
        for i in range(1500):
            lines += [f"big1500 MX {i % 60000} m{i:04d}",
                      f"m{i:04d} A 93.185.{i // 250}.{i % 250 + 1}",
                      f"m{i:04d} AAAA 2606:2800:221::{i + 1:x}"]
        lines.append("big1500 MX 7 localhost.")
    return "\n".join(lines) + "\n"


OUT_ZONE = f"""$ORIGIN {OUT}.
$TTL 3600
@ SOA ns hostmaster 1 3600 900 604800 300
@ NS ns
ns A 198.41.0.5
loop MX 10 localhost.
clean MX 10 mx1
mx1 A 93.184.215.40
mx MX 10 mx1
"""

# Queries: (name relative to the zone, type). '@' is the apex.
QUERIES = [
    ("clean", "MX"), ("upper-case", "MX"), ("iplit", "MX"), ("loop", "MX"),
    ("loopaddr", "MX"), ("special", "MX"), ("special6", "MX"), ("missing", "MX"),
    ("nullmix", "MX"), ("nullpref", "MX"), ("nullok", "MX"), ("self", "MX"),
    ("cnamex", "MX"), ("partial", "MX"), ("mixed", "MX"), ("allbad", "MX"),
    ("chain", "MX"), ("chain2", "MX"), ("chainclean", "MX"), ("chainpartial", "MX"),
    ("chainout", "MX"), ("chainoutclean", "MX"), ("chainnx", "MX"), ("chainnodata", "MX"),
    ("foo.wild", "MX"), ("foo.wildp", "MX"), ("foo.wildc", "MX"), ("wildex", "MX"),
    ("wildexok", "MX"), ("wildexmix", "MX"), ("host.wildhosts", "MX"),
    ("dnamed", "MX"), ("loop.dn", "MX"), ("x.dnin", "MX"),
    ("delegated", "MX"), ("deleg", "MX"), ("x.deleg", "MX"), ("subexch", "MX"),
    ("mx.sub", "MX"),
    ("anymx", "ANY"), ("anyclean", "ANY"), ("anymx", "MX"), ("anymx", "TXT"),
    ("parked", "MX"), ("nomail", "MX"), ("a.nomail", "MX"), ("ent", "MX"),
    ("c.nolist", "MX"), ("nothere", "MX"), ("nothere", "A"), ("mx1", "A"),
    ("@", "MX"), ("@", "SOA"),
    ("otherzone", "MX"), ("otherloop", "MX"),
    ("size744", "MX"), ("big40", "MX"),
]
BIG1500 = [("big1500", "MX")]

# Names whose MX the enforcing configurations must rewrite to null MX.
NULL_MX_LISTED = {"parked", "nomail"}

# Exchanges (relative to the zone, or absolute) that every Knot version
# judges the same way: a record with one never survives 'enforce'. mx-none,
# which the zone has no name for, is proven missing only on Knot 3.4+ (on
# 3.2 and 3.3 it might lie below a zone cut: inferred, logged, kept).
BAD_EXCHANGES = ({"localhost.", "192.0.2.1.", "192.0.2.7.", "192.0.2.99.", "mx-lo",
                  "mx-private", "mx-ula", "host.wildhosts"} |
                 ({"mx-none"} if knotd_harness.EXACT_LOOKUPS else set()))

# Exchanges whose records every Knot version keeps under 'enforce': mx-alias
# is a CNAME (cname-exchange: log, mail to it is delivered); mx-none on Knot
# 3.2 and 3.3 (an inferred missing-address is never enforced).
KEPT_EXCHANGES = {"mx-alias"} | (set() if knotd_harness.EXACT_LOOKUPS else {"mx-none"})

EDNS_OPTION_SETS = {
    "cookie": [dns.edns.GenericOption(10, bytes.fromhex("0123456789abcdef"))],
    "nsid": [dns.edns.GenericOption(3, b"")],
    "ecs": [dns.edns.ECSOption("192.0.2.0", 24)],
    "padding": [dns.edns.GenericOption(12, b"\0" * 16)],
    "expire": [dns.edns.GenericOption(9, b"")],
    "unknown": [dns.edns.GenericOption(65001, b"mxguard")],
    "all": [dns.edns.GenericOption(3, b""), dns.edns.GenericOption(10, bytes.fromhex(
        "fedcba9876543210")), dns.edns.GenericOption(9, b""),
        dns.edns.ECSOption("2001:db8::", 48), dns.edns.GenericOption(65001, b"x"),
        dns.edns.GenericOption(12, b"\0" * 8)],
}

SUMMARY = knotd_harness.SUMMARY


# --- The servers ----------------------------------------------------------------

def zone_section(module, signed_by_this, master=None):
    out = ""
    for z in (UNSIGNED, OUT):
        out += f"  - domain: {z}\n"
        if module:
            out += "    module: mod-mxguard/cfg\n"
    for z, pol in ((NSEC, "p-nsec"), (NSEC3, "p-nsec3")):
        out += f"  - domain: {z}\n"
        if signed_by_this:
            out += f"    dnssec-signing: on\n    dnssec-policy: {pol}\n"
        if master:
            out += f"    master: {master}\n    file: \"@DIR@/secondary-%s.zone\"\n"
        if module:
            out += "    module: mod-mxguard/cfg\n"
    return out


def write_zones(server):
    for z in (UNSIGNED, NSEC, NSEC3):
        with open(os.path.join(server.zonedir, z + ".zone"), "w") as f:
            f.write(zone_text(z, big1500=(z == UNSIGNED)))
    with open(os.path.join(server.zonedir, OUT + ".zone"), "w") as f:
        f.write(OUT_ZONE)


def server_conf(modules, zones):
    text = with_tsig(conf(TSIG_KEY_CONF + POLICIES + modules, zones))
    return text.replace("server:\n", "server:\n    nsid: mxguard-diff\n", 1)


def soa_with_sig(server, zone):
    q = dns.message.make_query(zone + ".", "SOA", want_dnssec=True, payload=1232)
    r = dns.message.from_wire(server.raw_query(q.to_wire(), tcp=True))
    return sorted(rrset.to_text() for rrset in r.answer)


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def pair(request):
    config = request.param
    ready = lambda s: bool(soa_with_sig(s, OUT))  # noqa: E731
    mod = Knotd(server_conf("mod-mxguard:\n" + CONFIGS[config],
                            zone_section(True, True)), zones=())
    write_zones(mod)
    bare = None
    try:
        mod.start(ready=ready)
        for z in SIGNED:
            wait_signed(mod, z + ".")
        # Keys made after the module loaded: it sees them when it loads again.
        for z in SIGNED:
            res = mod.knotc("zone-reload", "-f", z)
            assert res.returncode == 0, res.stdout + res.stderr
        time.sleep(1.0)
        for z in SIGNED:
            wait_signed(mod, z + ".")
        remote = f"remote:\n  - id: signer\n    address: 127.0.0.1@{mod.port}\n"
        bare = Knotd(server_conf(remote, zone_section(False, False, master="signer")),
                     zones=())
        write_zones(bare)
        for z in SIGNED:
            os.unlink(os.path.join(bare.zonedir, z + ".zone"))
        bare.start(ready=ready)
        # The secondary serves the signer's very zone (signatures included).
        deadline = time.monotonic() + 30 * SLOW
        while True:
            same = all(soa_with_sig(bare, z) == soa_with_sig(mod, z) for z in SIGNED)
            if same:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the secondary did not get the signed zones:\n" +
                                   bare.log_text())
            time.sleep(0.2)
        keys = {}
        for z in SIGNED:
            keys[z] = knotd_harness.dnskey(mod, z + ".")
            assert keys[z] is not None
        yield config, bare, mod, keys
    finally:
        if bare is not None:
            bare.cleanup()
        mod.cleanup()


# --- Wire parsing ------------------------------------------------------------------

class WireError(Exception):
    pass


def read_name(wire, pos):
    """(labels with their case, position after the name)."""
    labels, end, hops = [], None, 0
    while True:
        if pos >= len(wire):
            raise WireError("name runs past the end")
        n = wire[pos]
        if n & 0xC0 == 0xC0:
            if pos + 1 >= len(wire):
                raise WireError("cut pointer")
            if end is None:
                end = pos + 2
            pos = ((n & 0x3F) << 8) | wire[pos + 1]
            hops += 1
            if hops > 128:
                raise WireError("pointer loop")
            continue
        if n & 0xC0:
            raise WireError("bad label type")
        if n == 0:
            return tuple(labels), (end if end is not None else pos + 1)
        labels.append(bytes(wire[pos + 1:pos + 1 + n]))
        pos += 1 + n


def name_text(labels):
    return ".".join(l.decode("latin-1") for l in labels) + "."


NAME_RDATA = {2: (0,), 5: (0,), 12: (0,), 39: (0,)}


def rdata_form(wire, rtype, start, length):
    """RDATA with compressed names expanded (letter case kept)."""
    raw = bytes(wire[start:start + length])
    if rtype == 15:
        labels, _ = read_name(wire, start + 2)
        return raw[:2] + b"|" + name_text(labels).encode("latin-1")
    if rtype in NAME_RDATA:
        labels, _ = read_name(wire, start)
        return name_text(labels).encode("latin-1")
    if rtype == 6:
        m, p = read_name(wire, start)
        r, p = read_name(wire, p)
        return (name_text(m) + " " + name_text(r)).encode("latin-1") + wire[p:start + length]
    return raw


class RR:
    __slots__ = ("owner", "rtype", "rclass", "ttl", "rdata", "raw", "covered")

    def __init__(self, owner, rtype, rclass, ttl, rdata, raw):
        self.owner, self.rtype, self.rclass, self.ttl = owner, rtype, rclass, ttl
        self.rdata, self.raw = rdata, raw
        self.covered = struct.unpack("!H", raw[:2])[0] if rtype == 46 and len(raw) >= 2 else None

    def key(self):
        return (self.owner, self.rtype, self.rclass, self.ttl, self.rdata)

    def set_key(self):
        """What makes consecutive records one RRset (names without case)."""
        return (name_text(self.owner).lower(), self.rtype, self.rclass, self.covered)

    def text(self):
        t = dns.rdatatype.to_text(self.rtype)
        if self.rtype == 15:
            pref, exch = self.rdata[:2], self.rdata[3:]
            data = "%d %s" % (struct.unpack("!H", pref)[0], exch.decode("latin-1"))
        elif self.rtype in NAME_RDATA or self.rtype == 6:
            data = self.rdata.decode("latin-1")
        elif self.rtype == 46:
            data = "covers %s labels %d" % (dns.rdatatype.to_text(self.covered), self.raw[3])
        else:
            data = self.raw.hex()[:40]
        return f"{name_text(self.owner)} {self.ttl} {t} {data}"


class Parsed:
    def __init__(self, wire):
        if len(wire) < 12:
            raise WireError("short header")
        self.wire = wire
        (self.id, self.flags, qd, an, ns, ar) = struct.unpack("!6H", wire[:12])
        pos = 12
        for _ in range(qd):
            _, pos = read_name(wire, pos)
            pos += 4
        self.question = bytes(wire[12:pos])
        self.sections = []
        self.opt = None
        self.tsig = None
        self.tsig_start = None
        for count in (an, ns, ar):
            sec = []
            for _ in range(count):
                rr_start = pos
                owner, pos = read_name(wire, pos)
                if pos + 10 > len(wire):
                    raise WireError("cut record")
                rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", wire[pos:pos + 10])
                pos += 10
                if pos + rdlen > len(wire):
                    raise WireError("cut rdata")
                raw = bytes(wire[pos:pos + rdlen])
                if rtype == 41:
                    if self.opt is not None:
                        raise WireError("two OPT records")
                    self.opt = bytes(wire[rr_start:pos + rdlen])
                    self.opt_rdata = raw
                elif rtype == 250:
                    self.tsig = raw
                    self.tsig_start = rr_start
                else:
                    sec.append(RR(owner, rtype, rclass, ttl,
                                  rdata_form(wire, rtype, pos, rdlen), raw))
                pos += rdlen
            self.sections.append(sec)
        if pos != len(wire):
            raise WireError("trailing bytes")
        self.answer, self.authority, self.additional = self.sections

    @property
    def tc(self):
        return bool(self.flags & 0x0200)

    @property
    def rcode(self):
        return self.flags & 0x000F

    def option_codes(self):
        codes, p, data = [], 0, self.opt_rdata if self.opt else b""
        while p + 4 <= len(data):
            code, ln = struct.unpack("!HH", data[p:p + 4])
            codes.append(code)
            p += 4 + ln
        return codes

    def opt_without_expire_value(self):
        """The OPT record with the EXPIRE option's value blanked."""
        if self.opt is None:
            return None
        out, p, data = b"", 0, self.opt_rdata
        while p + 4 <= len(data):
            code, ln = struct.unpack("!HH", data[p:p + 4])
            val = data[p + 4:p + 4 + ln]
            out += struct.pack("!HH", code, ln) + (b"?" * ln if code == 9 else val)
            p += 4 + ln
        return self.opt[:len(self.opt) - len(data)] + out


def rrsets(section):
    """Consecutive records of one owner, type (and covered type) as RRsets."""
    out = []
    for rr in section:
        if out and out[-1][0] == rr.set_key():
            out[-1][1].append(rr)
        else:
            out.append((rr.set_key(), [rr]))
    return out


def mx_parts(rr):
    pref, exch = rr.rdata[:2], rr.rdata[3:]
    return struct.unpack("!H", pref)[0], exch.decode("latin-1").lower()


def relative(name, zone):
    name = name.lower()
    suffix = "." + zone + "."
    if name.endswith(suffix):
        return name[:-len(suffix)]
    return name


def is_bad(owner, pref, exch, zone):
    """A record every Knot version strips (or replaces) under 'enforce'."""
    rel = relative(exch, zone)
    orel = relative(owner, zone)
    if rel in BAD_EXCHANGES or exch in BAD_EXCHANGES:
        return True
    if exch == "." and pref != 0:
        return True           # null-mx-conflict (preference)
    if orel in ("nullmix",) and exch != ".":
        return True           # null-mx-conflict (beside 0 .)
    return False


def is_kept(owner, pref, exch, zone):
    """A record every Knot version serves under 'enforce' as the zone has it:
    its kind is only logged, and it has no other problem."""
    if relative(exch, zone) in KEPT_EXCHANGES:
        return True
    return exch == owner.lower() and exch != "."    # self-exchange: log


# --- Queries -------------------------------------------------------------------------

def cased(name, case, rnd):
    if case == "lower":
        return name.lower()
    if case == "upper":
        return name.upper()
    return "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in name)


def exchange(server, wire, tcp, timeout):
    try:
        return server.raw_query(wire, tcp=tcp, timeout=timeout)
    except (socket.timeout, TimeoutError, EOFError, ConnectionError):
        return None


def cells_for(zone, seed):
    """(cell id, query message, tcp, zone signed, qname text, qtype)."""
    rnd = random.Random(seed)
    queries = QUERIES + (BIG1500 if zone == UNSIGNED else [])
    signed = zone in SIGNED
    out = []
    ident = 0x1000
    for rel, qtype in queries:
        name = zone + "." if rel == "@" else f"{rel}.{zone}."
        for case in ("lower", "upper", "random"):
            qname = cased(name, case, rnd)
            for tcp in (False, True):
                for edns in (None, 512, 1232, 4096):
                    for do in ((False, True) if signed and edns else (False,)):
                        if case != "lower" and do is False and signed and edns:
                            continue    # the letter case is tried with DO there
                        ident = (ident + 7919) & 0xFFFF
                        q = dns.message.make_query(
                            qname, qtype, use_edns=(0 if edns else None),
                            payload=edns, want_dnssec=do, id=ident)
                        cid = (f"{rel} {qtype} case={case} {'tcp' if tcp else 'udp'} "
                               f"edns={edns or 'none'}{' do' if do else ''}")
                        out.append((cid, q, tcp, qname, qtype))
        # EDNS options and TSIG, at 1232 (with DO on signed zones).
        for tcp in (False, True):
            for opt_name, options in list(EDNS_OPTION_SETS.items()) + [("tsig", None),
                                                                        ("tsig+all", "all")]:
                ident = (ident + 7919) & 0xFFFF
                opts = EDNS_OPTION_SETS["all"] if options == "all" else options
                q = dns.message.make_query(name, qtype, use_edns=0, payload=1232,
                                           want_dnssec=signed, id=ident, options=opts)
                if opt_name.startswith("tsig"):
                    use_tsig(q)
                cid = (f"{rel} {qtype} {'tcp' if tcp else 'udp'} edns=1232"
                       f"{' do' if signed else ''} {opt_name}")
                out.append((cid, q, tcp, name, qtype))
    return out


# --- The comparison ----------------------------------------------------------------

def strict_parse(wire, q):
    if q.had_tsig:
        return dns.message.from_wire(wire, keyring=TSIG_KEYRING, request_mac=q.mac)
    return dns.message.from_wire(wire)


def compare(config, zone, cell, q, wire_q, bare_wire, mod_wire, tcp, keys, stats):
    """The mismatches of one cell (empty if none)."""
    problems = []
    tsig = q.had_tsig
    if bare_wire is None:
        return ["the bare knotd did not answer"]
    try:
        strict_parse(bare_wire, q)
        bare = Parsed(bare_wire)
    except (dns.exception.DNSException, WireError) as e:
        return [f"the bare answer does not parse: {e!r}"]
    if mod_wire is None:
        if tsig and not tcp and config != "log":
            stats["dropped"] += 1       # fail closed for a signed query
            return []
        return ["no answer from the module's knotd"]
    try:
        strict_parse(mod_wire, q)
        mod = Parsed(mod_wire)
    except (dns.exception.DNSException, WireError) as e:
        return [f"the module's answer does not parse strictly: {e!r}"]

    if mod.tc and tcp:
        problems.append("TC=1 over TCP")
    if mod.opt is not None and len(set(mod.option_codes())) != len(mod.option_codes()):
        problems.append(f"duplicate EDNS option: {mod.option_codes()}")
    transferred = zone in SIGNED

    def same_opt():
        if transferred:
            return bare.opt_without_expire_value() == mod.opt_without_expire_value()
        return bare.opt == mod.opt

    if config == "log":
        # Nothing may change: the whole message (TSIG: up to its record, whose
        # time and MAC are each server's own).
        if tsig:
            b, m = bare_wire[:bare.tsig_start], mod_wire[:mod.tsig_start]
        else:
            b, m = bare_wire, mod_wire
        if transferred and bare.opt is not None and mod.opt is not None:
            b = b.replace(bare.opt, bare.opt_without_expire_value())
            m = m.replace(mod.opt, mod.opt_without_expire_value())
        if b != m:
            problems.append("log-only answer differs: " + describe_diff(bare, mod))
        return problems

    # Enforcing.
    if mod.question != bare.question:
        problems.append(f"question bytes {mod.question!r}, bare {bare.question!r}")
    opt_ok = same_opt()
    if not opt_ok and mod.opt is not None and bare.opt is not None and \
            max(len(mod_wire), len(bare_wire)) > size_limit(q, tcp) - 100:
        # knotd adds EXPIRE only where room is left: beside a message filled
        # with glue one of the two answers may go without it (nothing else).
        opt_ok = set(bare.option_codes()) ^ set(mod.option_codes()) <= {9}
    if not opt_ok:
        problems.append(f"OPT {mod.opt.hex() if mod.opt else None}, "
                        f"bare {bare.opt.hex() if bare.opt else None}")
    if mod.id != bare.id:
        problems.append("ID differs")
    for rr in mod.answer + mod.authority + mod.additional:
        if rr.rtype == 15:
            pref, exch = mx_parts(rr)
            if is_bad(name_text(rr.owner), pref, exch, zone):
                problems.append(f"stripped record served: {rr.text()}")
    if mod.tc and tcp:
        return problems     # (reported above)
    bare_sets, mod_sets = rrsets(bare.answer), rrsets(mod.answer)
    if (not tcp and mod.tc and
            (not bare.tc or [rr.key() for rr in mod.answer] != [rr.key() for rr in bare.answer])):
        # Fail closed: an empty TC=1 answer, the rest as knotd made it.
        stats["fail-closed"] += 1
        if (mod.flags & ~0x0200) != (bare.flags & ~0x0200):
            problems.append(f"flags {mod.flags:#06x} (TC guard), bare {bare.flags:#06x}")
        if mod.answer or mod.authority or mod.additional:
            problems.append("TC guard answer is not empty: " +
                            "; ".join(rr.text() for rr in mod.answer[:3]))
        return problems

    synth = False
    bare_mx_owners = {k[0] for k, _ in bare_sets if k[1] == 15}
    if (len(mod_sets) > len(bare_sets) and q.question[0].rdtype == 15 and
            config == "nullmx" and bare.rcode == 0 and not bare_mx_owners):
        # NODATA made a null MX: the bare answer (CNAMEs) plus the null MX.
        extra = mod_sets[len(bare_sets):]
        ok = (extra and extra[0][0][1] == 15 and len(extra[0][1]) == 1 and
              mx_parts(extra[0][1][0]) == (0, ".") and
              all(k[1] == 46 and k[3] == 15 for k, _ in extra[1:]) and
              len(extra) <= 2)
        if not ok:
            problems.append("null MX synthesis: unexpected answer " +
                            "; ".join(rr.text() for _, s in extra for rr in s))
        synth = True
        stats["synthesized"] += 1
        mod_sets = mod_sets[:len(bare_sets)]
    # A null MX that replaced a truncated NODATA answer may fit: TC may go.
    flag_mask = ~0x0200 if synth and bare.tc and not mod.tc else ~0
    if (mod.flags & flag_mask) != (bare.flags & flag_mask):
        problems.append(f"header flags/rcode {mod.flags:#06x}, bare {bare.flags:#06x}")
    rel = relative(q.question[0].name.to_text(), zone)
    if (config == "nullmx" and q.question[0].rdtype == 15 and rel in NULL_MX_LISTED and
            not synth and not mod.tc):
        problems.append("listed no-mail name: no null MX made")

    # The exchanges removed and kept, per owner (whatever the order).
    removed, kept = set(), set()
    changed_mx = set()
    mod_by_key = {}
    for key, mset in mod_sets:
        mod_by_key.setdefault(key, []).extend(mset)
    for key, bset in bare_sets:
        if key[1] != 15 or key not in mod_by_key:
            continue
        mset = mod_by_key[key]
        bkeys = [rr.key() for rr in bset]
        mkeys = [rr.key() for rr in mset]
        null = (len(mset) == 1 and mx_parts(mset[0]) == (0, ".") and
                mset[0].owner == bset[0].owner and mset[0].ttl == bset[0].ttl)
        if mkeys != bkeys:
            changed_mx.add(key[0])
        if mkeys != [k for k in bkeys if k in mkeys] and not null:
            # A rewritten RRset is written as knotd writes those records alone:
            # its compressor points an exchange at the last suffix it wrote,
            # so an exchange's letters may take the question's case once the
            # records between them are gone. Names compare without case there.
            lower = lambda rr: (rr.owner, rr.ttl, rr.rdata.lower())  # noqa: E731
            if ([lower(rr) for rr in mset] !=
                    [lower(rr) for rr in bset if lower(rr) in {lower(m) for m in mset}]):
                problems.append("MX RRset is not the bare one less records: " +
                                "; ".join(rr.text() for rr in mset) + " / bare " +
                                "; ".join(rr.text() for rr in bset))
        mexch = {mx_parts(rr)[1] for rr in mset}
        for rr in bset:
            (kept if mx_parts(rr)[1] in mexch else removed).add(mx_parts(rr)[1])
            if mx_parts(rr)[1] not in mexch and \
                    is_kept(name_text(rr.owner), *mx_parts(rr), zone):
                problems.append(f"record of a kind only logged removed: {rr.text()}")

    if [k for k, _ in mod_sets] != [k for k, _ in bare_sets]:
        problems.append("answer RRset order " + ", ".join(show_key(k) for k, _ in mod_sets) +
                        "; bare " + ", ".join(show_key(k) for k, _ in bare_sets))
    bare_by_key = {}
    for key, bset in bare_sets:
        bare_by_key.setdefault(key, []).extend(bset)
    for key, mset in mod_by_key.items():
        bset = bare_by_key.get(key)
        if bset is None:
            problems.append(f"answer {show_key(key)} not in the bare answer")
        elif key[1] == 15:
            continue
        elif key[1] == 46 and key[3] == 15 and key[0] in changed_mx:
            blabels = {rr.raw[3] for rr in bset}
            mlabels = {rr.raw[3] for rr in mset}
            if blabels != mlabels:
                problems.append(f"RRSIG MX labels {sorted(mlabels)}, "
                                f"bare {sorted(blabels)} ({key[0]})")
            problems += validate_mx(mod_wire, q, key[0], zone, keys)
        elif [rr.key() for rr in mset] != [rr.key() for rr in bset]:
            problems.append(f"answer {show_key(key)} differs: " +
                            "; ".join(rr.text() for rr in mset) + " / bare " +
                            "; ".join(rr.text() for rr in bset))
    for key in bare_by_key:
        if key not in mod_by_key:
            problems.append(f"answer {show_key(key)} missing")
    if synth:
        problems += validate_synth(mod_wire, q, zone, keys)

    # Authority: as knotd made it (denial records of no-mail names list MX).
    denial_changed = False
    if config == "nullmx":
        found, denial_changed = authority_problems(mod, bare, synth,
                                                   q.question[0].name.to_text(), zone)
        problems += found
    elif [rr.key() for rr in mod.authority] != [rr.key() for rr in bare.authority]:
        problems.append("authority differs: " + "; ".join(rr.text() for rr in mod.authority) +
                        " / bare " + "; ".join(rr.text() for rr in bare.authority))
    # Additional: the bare glue less that of removed exchanges only.
    gone = {n for n in removed if n not in kept}
    expect = [rr for rr in bare.additional if name_text(rr.owner).lower() not in gone]
    got = [rr.key() for rr in mod.additional]
    rewritten = bool(removed - kept or changed_mx)
    if rewritten:
        # knotd adds the kept exchanges' glue after the rewrite: what the bare
        # answer had of it stays, and what did not fit beside the removed
        # records may now fit. Only glue of kept exchanges; names without case.
        low_key = lambda rr: (name_text(rr.owner).lower(),) + tuple(rr.key()[1:])  # noqa: E731
        got_low = {low_key(rr) for rr in mod.additional}
        lost = [rr.text() for rr in expect if low_key(rr) not in got_low]
        kept_low = {n.lower() for n in kept}
        alien = [rr.text() for rr in mod.additional
                 if rr.rtype != 41 and name_text(rr.owner).lower() not in kept_low]
        # Glue is optional: knotd stops at the first that does not fit, so
        # near the size limit it may keep another kept exchange's glue.
        if lost and len(mod_wire) > size_limit(q, tcp) - 512:
            lost = []
        if lost or alien:
            problems.append("additional after a rewrite: lost " + "; ".join(lost[:4]) +
                            ", not of a kept exchange " + "; ".join(alien[:4]) +
                            " (size %d, bare %d, %d and %d glue records)" % (
                                len(mod_wire), len(bare_wire), len(mod.additional),
                                len(bare.additional)))
    elif got != [rr.key() for rr in expect] and not (
            # MX listed in a proof's bitmap may take a byte that knotd then
            # lacks for its last optional glue, as a bare knotd serving the
            # zone with the null MX would (knotd stops at the first that
            # does not fit): a prefix near the size limit.
            got == [rr.key() for rr in expect][:len(got)] and
            len(mod_wire) > size_limit(q, tcp) - 512):
        extra = [rr.text() for rr in mod.additional if rr.key() not in
                 {e.key() for e in expect}]
        missing = [rr.text() for rr in expect if rr.key() not in set(got)]
        low = lambda texts: sorted(t.lower() for t in texts)  # noqa: E731
        if extra and low(extra) == low(missing):
            problems.append("letter case of glue owners: " + "; ".join(extra[:4]) +
                            " / bare " + "; ".join(missing[:4]))
        else:
            problems.append(f"additional differs: {len(got)} records, expected {len(expect)}"
                            f"; extra: {'; '.join(extra[:4])}; missing: {'; '.join(missing[:4])}"
                            + ("" if extra or missing else "; order differs"))
    # A rewrite only removes answer records; more of the kept exchanges' glue
    # may then fit (above), so the size is compared only without a rewrite.
    if not synth and not rewritten and not denial_changed and len(mod_wire) > len(bare_wire):
        problems.append(f"size {len(mod_wire)} > bare {len(bare_wire)}")
    if rewritten and sum(len(x) for _, x in mod_sets) > sum(len(x) for _, x in bare_sets):
        problems.append("a rewrite made the answer section larger")
    if rewritten:
        stats["rewritten"] += 1
    return problems


def size_limit(q, tcp):
    """The largest response knotd sends: what the query allows, over UDP at
    most knotd's udp-max-payload (1232 by default)."""
    if tcp:
        return 65535
    return min(max(q.payload, 512), 1232) if q.edns >= 0 else 512


def bitmap_start(rr):
    """Where the type bitmap of an NSEC or NSEC3 rdata begins."""
    raw = rr.raw
    if rr.rtype == 47:  # NSEC: the next name, never compressed
        p = 0
        while raw[p] != 0:
            p += raw[p] + 1
        return p + 1
    salt = raw[4]  # NSEC3: algorithm, flags, iterations, salt, hash
    return 5 + salt + 1 + raw[5 + salt]


def bitmap_types(rr):
    raw, p, types = rr.raw, bitmap_start(rr), set()
    while p + 2 <= len(raw):
        window, length = raw[p], raw[p + 1]
        for i, byte in enumerate(raw[p + 2:p + 2 + length]):
            for bit in range(8):
                if byte & (0x80 >> bit):
                    types.add(window * 256 + i * 8 + bit)
        p += 2 + length
    return types


def denial_with_mx(mod_rr, bare_rr):
    """The module's NSEC/NSEC3 is knotd's with MX added to its bitmap."""
    return (mod_rr.rtype == bare_rr.rtype and mod_rr.rtype in (47, 50) and
            mod_rr.owner == bare_rr.owner and mod_rr.ttl == bare_rr.ttl and
            mod_rr.raw[:bitmap_start(mod_rr)] == bare_rr.raw[:bitmap_start(bare_rr)] and
            bitmap_types(mod_rr) == bitmap_types(bare_rr) | {15})


def names_denied_by(rr, qname, zone):
    """Whether an NSEC or NSEC3 record matches the query name or a wildcard
    that could stand for it (a record that covers a name proves only that it
    does not exist: a wildcard's answer has one)."""
    labels = qname.lower().rstrip(".").split(".")
    zone_labels = len(zone.rstrip(".").split("."))
    names = [qname.lower()] + ["*." + ".".join(labels[i:]) + "."
                               for i in range(1, len(labels) - zone_labels + 1)]
    owner = name_text(rr.owner).lower()
    if rr.rtype == 47:
        return owner in names
    raw = rr.raw
    algorithm, iterations, salt = raw[0], struct.unpack("!H", raw[2:4])[0], raw[5:5 + raw[4]]
    first = owner.split(".")[0].upper()
    return any(dns.dnssec.nsec3_hash(n, salt, iterations, algorithm) == first for n in names)


def authority_problems(mod, bare, synth, qname, zone):
    """knotd's authority section, where the only change allowed is the one a
    no-mail instance makes: MX added to the bitmap of denial records (and
    their signatures made again). After a synthesised null MX no record that
    matches the name or its wildcard may deny MX."""
    problems = []
    changed = set()
    if synth:
        # knotd answers the null MX as a positive answer (a wildcard's proof
        # at most); nothing of the bare NODATA answer's authority stays.
        for m in mod.authority:
            if m.rtype in (47, 50) and 15 not in bitmap_types(m) and \
                    names_denied_by(m, qname, zone):
                problems.append("null MX made beside a record denying MX: " + m.text())
            elif m.rtype not in (46, 47, 50):
                problems.append("null MX made, but the NODATA proof stayed: " + m.text())
        return problems, True
    if len(mod.authority) != len(bare.authority):
        return ["authority differs: " + "; ".join(rr.text() for rr in mod.authority) +
                " / bare " + "; ".join(rr.text() for rr in bare.authority)], False
    for m, b in zip(mod.authority, bare.authority):
        if m.key() == b.key():
            continue
        if denial_with_mx(m, b):
            changed.add((name_text(m.owner).lower(), m.rtype))
            continue
        if m.rtype == 46 and b.rtype == 46 and m.owner == b.owner and m.covered == b.covered:
            continue  # a signature, checked below
        problems.append("authority differs: %s / bare %s" % (m.text(), b.text()))
    for m in mod.authority:
        if m.rtype == 46 and m.covered in (47, 50) and \
                (name_text(m.owner).lower(), m.covered) not in changed and \
                m.key() not in {b.key() for b in bare.authority}:
            problems.append("RRSIG of an unchanged denial record differs: " + m.text())
    return problems, bool(changed)


def show_key(k):
    t = dns.rdatatype.to_text(k[1])
    if k[3] is not None:
        t += "(" + dns.rdatatype.to_text(k[3]) + ")"
    return f"{k[0]} {t}"


def validate_mx(wire, q, owner, zone, keys):
    if zone not in keys:
        return []
    r = strict_parse(wire, q)
    name = dns.name.from_text(owner)
    mx = r.get_rrset(r.answer, name, dns.rdataclass.IN, dns.rdatatype.MX)
    sigs = r.get_rrset(r.answer, name, dns.rdataclass.IN, dns.rdatatype.RRSIG,
                       dns.rdatatype.MX)
    try:
        dns.dnssec.validate(mx, sigs, {dns.name.from_text(zone + "."): keys[zone]})
    except Exception as e:
        return [f"rewritten MX of {owner} does not validate: {e!r}"]
    return []


def validate_synth(wire, q, zone, keys):
    if zone not in keys or not (q.ednsflags & 0x8000):
        return []
    r = strict_parse(wire, q)
    for rrset in r.answer:
        if rrset.rdtype == dns.rdatatype.MX:
            return validate_mx(wire, q, rrset.name.to_text(), zone, keys)
    return []


def describe_diff(bare, mod):
    out = []
    if mod.flags != bare.flags:
        out.append(f"flags {mod.flags:#06x} vs {bare.flags:#06x}")
    if mod.question != bare.question:
        out.append("question")
    if mod.opt != bare.opt:
        out.append("OPT")
    for i, name in enumerate(("answer", "authority", "additional")):
        m = [rr.key() for rr in mod.sections[i]]
        b = [rr.key() for rr in bare.sections[i]]
        if m != b:
            out.append(f"{name}: {len(m)} vs {len(b)} records" +
                       ("" if len(m) != len(b) else " (same count, content/order)"))
    if len(mod.wire) != len(bare.wire):
        out.append(f"size {len(mod.wire)} vs {len(bare.wire)}")
    return ", ".join(out) or "compression only"


@pytest.mark.parametrize("zone", [UNSIGNED, NSEC, NSEC3])
def test_differential(pair, zone):
    config, bare, mod, keys = pair
    seed = f"mxguard-{config}-{zone}"
    stats = {"cells": 0, "fail-closed": 0, "dropped": 0, "synthesized": 0, "rewritten": 0}
    failures = []
    timeout = 1.0 * SLOW
    for cid, q, tcp, qname, qtype in cells_for(zone, seed):
        wire = q.to_wire()
        bare_wire = exchange(bare, wire, tcp, 3.0 * SLOW)
        mod_wire = exchange(mod, wire, tcp, timeout)
        stats["cells"] += 1
        for p in compare(config, zone, cid, q, wire, bare_wire, mod_wire, tcp, keys, stats):
            failures.append(f"[{config} {zone}] {cid}: {p}")
    assert mod.alive() and bare.alive()
    line = (f"differential {config:7s} {zone:10s}: {stats['cells']} cells compared, "
            f"{len(failures)} mismatches, {stats['rewritten']} rewritten, "
            f"{stats['synthesized']} null MX made, {stats['fail-closed']} fail-closed TC, "
            f"{stats['dropped']} dropped (TSIG)")
    SUMMARY.append(line)
    print(line)
    assert not failures, f"{len(failures)} of {stats['cells']} cells differ:\n" + \
        "\n".join(failures)
