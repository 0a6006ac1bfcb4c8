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

The zones, configurations and query cells are in diff_zones.py, the
wire reader in dns_wire.py.
"""

import os
import socket
import struct
import time

import dns.dnssec
import dns.exception
import dns.message
import dns.name
import dns.rdatatype
import pytest

import knotd_harness
from diff_zones import (CONFIGS, NSEC, NSEC3, NULL_MX_LISTED, OUT, SIGNED, UNSIGNED,
                        cells_for, is_bad, is_kept, relative, server_conf, write_zones,
                        zone_section)
from dns_wire import (Parsed, WireError, bitmap_start, bitmap_types, mx_parts, name_text,
                      rrsets)
from knotd_harness import SLOW, TSIG_KEYRING, Knotd, ask_dnssec, mx_and_sigs, wait_signed

SUMMARY = knotd_harness.SUMMARY


# --- The servers ----------------------------------------------------------------

def soa_with_sig(server, zone):
    return sorted(rrset.to_text() for rrset in ask_dnssec(server, zone + ".", "SOA").answer)


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


# --- Queries -------------------------------------------------------------------------

def exchange(server, wire, tcp, timeout):
    try:
        return server.raw_query(wire, tcp=tcp, timeout=timeout)
    except (socket.timeout, TimeoutError, EOFError, ConnectionError):
        return None


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
    mx, sigs = mx_and_sigs(strict_parse(wire, q), owner)
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
