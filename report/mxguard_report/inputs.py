# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""The forms of the log: plain lines, journalctl's export, verbose and JSON
entries, read from files or standard input, compressed or not; only the
entries that mention mxguard are kept.
"""

import bz2
import contextlib
import functools
import gzip
import io
import json
import lzma
import re
import sys


# journalctl -o export: "NAME=value" lines (a binary value: "NAME", its size
# as 8 bytes little-endian, the bytes, a newline), an empty line after each
# entry. -o verbose: a heading with the time and the cursor (t= is the
# time in microseconds, hexadecimal), then "    NAME=value" lines.
FIELD = re.compile(rb"([A-Z0-9_]+)(?:=(.*?))?\r?\n?", re.S)
VERBOSE_HEADING = re.compile(
    rb"\S.* \[s=[0-9a-f]+;i=[0-9a-f]+;b=[0-9a-f]+;m=[0-9a-f]+;t=([0-9a-f]+);x=[0-9a-f]+\]\r?\n?")
FIELDS_KEPT = {"MESSAGE", "PRIORITY", "__REALTIME_TIMESTAMP", "_SOURCE_REALTIME_TIMESTAMP"}
# json, json-pretty (one object over several lines), json-sse ("data: "
# before the object), json-seq (RS before it).
JSON_STARTS = (b"{", b"data: {", b"\x1e{")
MARK = b"mxguard"      # mod-mxguard, and the module's file in knotd's load errors
FOLLOW_MARK = b"failed to "   # knotd's lines after a load failure (FOLLOWING)
LONGEST = 1 << 20   # bytes of a line read at once (knotd's messages have 511 at most)


def decode(data):
    return data.decode("utf-8", "replace").rstrip("\r\n")


def json_text(value):
    """A journal field's text from journalctl's JSON: a string, an array of
    bytes (not UTF-8 or with control characters), or an array of those
    (the field given more than once: the first). null (a field too large
    for journalctl) is no text."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        if all(isinstance(v, int) for v in value):
            return bytes(v & 0xFF for v in value).decode("utf-8", "replace")
        return json_text(value[0])
    return None


def json_entry(number, data, follow):
    """(number, text, fields) of a journal entry in JSON, None when its
    MESSAGE is not wanted (see Entries.wanted); fields is the reason when
    it is not an entry."""
    text = decode(data).strip().lstrip("\x1e")
    if text.startswith("data: "):
        text = text[len("data: "):]
    try:
        obj = json.loads(text)
    except ValueError as e:
        return number, text, f"not valid JSON ({e})"
    if not isinstance(obj, dict):
        return number, text, "not a journal entry"
    fields = {name: json_text(obj.get(name)) or "" for name in FIELDS_KEPT}
    wanted = Entries.wanted(fields["MESSAGE"].encode("utf-8", "replace"), follow)
    return (number, fields["MESSAGE"], fields) if wanted else None


def binary_field(stream):
    """The value of a binary field of journalctl -o export: its size (8
    bytes, little-endian), the bytes, a newline; at most LONGEST kept."""
    size = int.from_bytes(stream.read(8), "little")
    value = stream.read(min(size, LONGEST))
    size -= len(value)
    while size > 0:
        size -= len(stream.read(min(size, LONGEST))) or size
    stream.read(1)
    return value


class Entries:
    """The log entries of a binary stream that mention mxguard, as (line
    number, text, fields): a plain line as its text and fields None; a
    journal entry (journalctl -o export, verbose, json and its kinds) as
    its MESSAGE and its fields ({name: text}); fields is a text, the reason,
    for an entry that mentions the module but cannot be read. Up to line
    'follow_until' (set by the reader after a load failure), knotd's
    "failed to ..." lines too."""

    def __init__(self, stream):
        self.stream = stream
        self.lines = 0
        self.follow_until = 0

    @staticmethod
    def wanted(data, follow):
        return MARK in data or (follow and FOLLOW_MARK in data)

    def __iter__(self):
        stream = self.stream
        readline = functools.partial(stream.readline, LONGEST)
        record, indent, start = None, b"", 0   # an export or verbose entry being read
        number = 0
        while True:
            raw = readline()
            number += 1
            if record is None and raw.startswith(b"__") and FIELD.fullmatch(raw):
                record, indent, start = {}, b"", number     # export
            if record is not None:
                m = FIELD.fullmatch(raw, len(indent)) if raw.startswith(indent) else None
                if m and (m.group(2) is not None or not indent):
                    value = m.group(2)
                    if value is None:  # export's binary field
                        value = binary_field(stream)
                        number += value.count(b"\n") + 1
                    name = m.group(1).decode("ascii")
                    if name in FIELDS_KEPT:
                        record[name] = decode(value)
                    continue
                if self.wanted(record.get("MESSAGE", "").encode("utf-8", "replace"),
                               start <= self.follow_until):
                    yield start, record["MESSAGE"], record
                record = None
                if raw.strip() == b"" and raw:   # the end of an export entry
                    continue
            if not raw:
                break
            if raw.startswith(JSON_STARTS):
                start = number
                if raw.rstrip() == b"{":   # json-pretty: the lines up to "}"
                    lines = [raw]
                    while lines[-1] and lines[-1].rstrip() != b"}" and len(lines) < 10000:
                        lines.append(readline())
                        number += 1
                    raw = b"".join(lines)
                follow = start <= self.follow_until
                entry = json_entry(start, raw, follow) if self.wanted(raw, follow) else None
                if entry:
                    yield entry
                continue
            m = VERBOSE_HEADING.fullmatch(raw) if b" [s=" in raw else None
            if m:
                record, indent, start = {}, b"    ", number
                record["__REALTIME_TIMESTAMP"] = str(int(m.group(1), 16))
                continue
            if MARK in raw or (number <= self.follow_until and FOLLOW_MARK in raw):
                yield number, decode(raw), None
        self.lines = number - 1


class Replay(io.RawIOBase):
    """A stream whose first bytes were read to tell its compression."""

    def __init__(self, head, rest):
        self.head, self.rest = head, rest

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n], self.head = self.head[:n], self.head[n:]
            return n
        return self.rest.readinto(buffer)


COMPRESSED = [(b"\x1f\x8b", lambda f: gzip.GzipFile(fileobj=f)), (b"BZh", bz2.BZ2File),
              (b"\xfd7zXZ\x00", lzma.LZMAFile)]


@contextlib.contextmanager
def open_input(name):
    """A binary stream of a file or standard input ('-'), decompressed
    when its first bytes are those of gzip, bzip2 or xz."""
    src = sys.stdin.buffer if name == "-" else open(name, "rb")
    try:
        head = src.read(6)
        stream = io.BufferedReader(Replay(head, src), 1 << 16)
        for magic, opener in COMPRESSED:
            if head.startswith(magic):
                stream = opener(stream)
                break
        yield stream
    finally:
        if src is not sys.stdin.buffer:
            src.close()
