# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""The differential test's zones, the module's configurations, the two
servers' knot.conf, the query cells, and which MX records of the zones
every Knot version strips or keeps (test_differential.py)."""

import os
import random

import dns.edns
import dns.message

from knotd_harness import EXACT_LOOKUPS, TSIG_KEY_CONF, conf, use_tsig, with_tsig

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
                 ({"mx-none"} if EXACT_LOOKUPS else set()))

# Exchanges whose records every Knot version keeps under 'enforce': mx-alias
# is a CNAME (cname-exchange: log, mail to it is delivered); mx-none on Knot
# 3.2 and 3.3 (an inferred missing-address is never enforced).
KEPT_EXCHANGES = {"mx-alias"} | (set() if EXACT_LOOKUPS else {"mx-none"})

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


# --- The servers' configuration ------------------------------------------------

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


# --- What 'enforce' strips and keeps -----------------------------------------------

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


def cells_for(zone, seed):
    """(cell id, query message, tcp, qname text, qtype) for each cell of ZONE."""
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
