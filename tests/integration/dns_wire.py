# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""DNS messages read as they are on the wire, which dnspython does not keep:
the letter case of names, the order of records, the OPT and TSIG records
as bytes; NSEC and NSEC3 type bitmaps (test_differential.py)."""

import struct

import dns.rdatatype


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
