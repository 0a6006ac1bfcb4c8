# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""The summary: each line read, placed, counted into its group and the
totals, within the period asked and in bounded memory.
"""

import functools
import operator
import re
import sys

from .failures import FOLLOW_LINES, load_failure, module_load_failure
from .inputs import Entries
from .message import MODULE_NAME, Malformed, locate, parse_body
from .timestamps import EPOCH, comparable, journal_level, journal_time, parse_head
from .topk import TopK, tally


EXAMPLES = 5           # lines not understood shown on stderr
DEFAULT_TOP = 1000     # groups shown per kind
TABLE_FACTOR = 8       # groups counted in memory per group shown
OWNERS_KEPT = 10       # owner names kept per group (with bounded memory)
DETAILS_KEPT = 10      # actions, modules, addresses, providers kept per group


# A group's details: (field of the record, name in the output, values kept
# with bounded memory: owners or others).
DETAILS = (("owner", "owners", True), ("action", "actions", False),
           ("module", "modules", False), ("address", "addresses", False),
           ("provider", "providers", False))


class Span:
    """When something was first and last seen (times as the log gave them,
    compared as aware times)."""

    __slots__ = ("first", "last", "first_key", "last_key")

    def __init__(self):
        self.first = self.last = self.first_key = self.last_key = None

    def see(self, t, key):
        if self.first_key is None or key < self.first_key:
            self.first, self.first_key = t, key
        if self.last_key is None or key > self.last_key:
            self.last, self.last_key = t, key


class Group(Span):
    """Occurrences of one key: lines, first and last seen, and what varied
    (each detail with at most 'kept' values; the occurrences of the others
    are counted in left_out)."""

    __slots__ = ("lines", "left_out", "owners_kept", "details_kept") + tuple(
        name for _, name, _ in DETAILS)

    def __init__(self, owners_kept, details_kept):
        self.first = self.last = self.first_key = self.last_key = None
        self.lines = 0
        self.owners = self.actions = self.modules = self.addresses = self.providers = None
        self.left_out = None
        self.owners_kept = owners_kept
        self.details_kept = details_kept

    def add(self, rec, t, key, n):
        self.lines += 1
        if t is not None:
            self.see(t, key)
        for field, name, owners in DETAILS:
            value = rec.get(field)
            if value is None:
                continue
            counts = getattr(self, name)
            if counts is None:
                counts = {}
                setattr(self, name, counts)
            if not tally(counts, value, n, self.owners_kept if owners else self.details_kept):
                if self.left_out is None:
                    self.left_out = {}
                self.left_out[name] = self.left_out.get(name, 0) + n

    def get(self, name):
        """A detail's values and their counts."""
        return getattr(self, name) or {}


GROUP_KEYS = {
    "violation": ("zone", "violation", "exchange"),
    "synthesized": ("zone", "reason"),
    "not-enforced": ("zone", "action", "reason"),
    "other": ("zone", "level", "message"),
}
GROUP_KEY_OF = {kind: operator.itemgetter(*keys) for kind, keys in GROUP_KEYS.items()}
# Totals by zone (every record type) and by kind of violation; load failures.
TOTAL_KEYS = {
    "zone": ("zone",),
    "kind": ("violation",),
    "load-failure": ("zone", "level", "message"),
}
RECORD_INDEX = {"violation": 0, "synthesized": 1, "not-enforced": 2}
NAME_FIELDS = ("zone", "exchange")
LABEL = re.compile(r"((?:[^.\\]|\\\d{3}|\\.)*)\.")
ESCAPE = re.compile(r"\\(\d{3}|.)")


def canonical(name):
    """A sort key of a domain name in DNSSEC's canonical order (RFC 4034
    6.1): labels compared from the root, as lower-case octets; no name
    (the global instance) first."""
    if name is None:
        return ()
    labels = LABEL.findall(name if name.endswith(".") else name + ".")
    return tuple(ESCAPE.sub(lambda m: chr(int(m.group(1))) if m.group(1).isdigit()
                            else m.group(1), label).encode("latin-1", "replace").lower()
                 for label in reversed(labels))


def key_order(kind):
    fields = GROUP_KEYS.get(kind) or TOTAL_KEYS[kind]
    return lambda key: tuple(canonical(v) if f in NAME_FIELDS else (v or "")
                             for f, v in zip(fields, key))


def zone_totals():
    """A zone's occurrences by record type (RECORD_INDEX)."""
    return [0, 0, 0]


class KindTotals:
    """Occurrences of a kind of violation: lines and actions (at most
    'kept' values; the occurrences of others in left_out)."""

    __slots__ = ("lines", "actions", "left_out", "kept")

    def __init__(self, kept):
        self.lines = self.left_out = 0
        self.actions = {}
        self.kept = kept

    def add(self, action, n):
        self.lines += 1
        if not tally(self.actions, action, n, self.kept):
            self.left_out += n


class Failure(Span):
    """Lines of one load failure: first and last seen, where it was first."""

    __slots__ = ("where",)

    def __init__(self):
        self.first = self.last = self.first_key = self.last_key = None
        self.where = None


class Report:
    def __init__(self, since=None, until=None, year=None, top=DEFAULT_TOP, warn=print):
        self.since = comparable(since) if since else None
        self.until = comparable(until) if until else None
        self.year = year
        self.top = top
        self.table = top * TABLE_FACTOR
        owners_kept, details_kept = (OWNERS_KEPT, DETAILS_KEPT) if top else (0, 0)
        make = functools.partial(Group, owners_kept, details_kept)
        self.groups = {kind: TopK(self.table, make) for kind in GROUP_KEYS}
        self.groups["other"].make = lambda: None
        self.groups["zone"] = TopK(self.table, zone_totals)
        # Few keys: a small filter.
        self.groups["kind"] = TopK(self.table, functools.partial(KindTotals, details_kept),
                                   cells=1024)
        self.groups["load-failure"] = TopK(self.table, Failure, cells=1024)
        self.warn = warn
        self.inputs = []
        self.lines_read = 0
        self.module_lines = 0
        self.malformed = 0
        self.ignored = 0
        self.untimed = 0
        self.filtered = 0
        self.unknown_months = {}
        self.span = Span()

    def not_understood(self, where, reason, text):
        self.malformed += 1
        if self.malformed <= EXAMPLES:
            self.warn(f"{where}: not understood ({reason}): {text[:300]}")

    def feed(self, name, stream):
        self.inputs.append(name)
        source = Entries(stream)
        for number, text, fields in source:
            if isinstance(fields, str):
                # An entry that cannot be read: not understood if it is
                # the module's, else not the module's.
                if MODULE_NAME.search(text):
                    self.not_understood(f"{name}:{number}", fields, text)
                elif "mod-mxguard" in text:
                    self.ignored += 1
                continue
            found = locate(text)
            if found is None:
                failure = load_failure(text, number <= source.follow_until)
                if failure is None:
                    self.ignored += "mod-mxguard" in text
                    continue
                head, zone, level, message = failure
                t, _, month = parse_head(head, self.year)
                if fields is not None:
                    t = journal_time(fields)
                if self.failed(zone, level, message, f"{name}:{number}", t, month):
                    source.follow_until = number + FOLLOW_LINES
                continue
            head, zone, module, body = found
            try:
                rec = parse_body(body)
            except Malformed as e:
                self.not_understood(f"{name}:{number}", e, text)
                continue
            t, level, month = parse_head(head, self.year)
            if fields is not None:
                t, level = journal_time(fields), level or journal_level(fields)
            if rec["type"] == "other" and module_load_failure(body, level):
                if self.failed(zone, level, f"module '{module}', {body}", f"{name}:{number}",
                               t, month):
                    source.follow_until = number + FOLLOW_LINES
                continue
            # Values shared by many groups are kept once.
            zone = zone or rec.get("zone")  # a global instance names it last
            rec["zone"], rec["module"], rec["level"] = (zone and sys.intern(zone),
                                                        sys.intern(module), level)
            if rec.get("action"):
                rec["action"] = sys.intern(rec["action"])
            self.count(rec, t, month)
        self.lines_read += source.lines

    def when(self, t, month):
        """The comparable time of a line (None: it has none), False when it
        is outside the period asked."""
        if t is None:
            self.untimed += 1
            if month is not None:
                tally(self.unknown_months, month, 1, EXAMPLES)
            return None
        key = comparable(t)
        if (self.since and key < self.since) or (self.until and key >= self.until):
            self.filtered += 1
            return False
        self.span.see(t, key)
        return key

    def failed(self, zone, level, message, where, t, month):
        """Counts a load failure; False when it is outside the period."""
        key = self.when(t, month)
        if key is False:
            return False
        failure = self.groups["load-failure"].add((zone, level, message))
        if failure is not None:
            if failure.where is None:
                failure.where = where
            if t is not None:
                failure.see(t, key)
        return True

    def count(self, rec, t, month):
        key = self.when(t, month)
        if key is False:
            return
        self.module_lines += 1
        kind = rec["type"]
        group_key = GROUP_KEY_OF[kind](rec)
        if kind == "other":
            self.groups[kind].add(group_key)
            return
        n = 1 + int(rec.get("suppressed") or 0)
        group = self.groups[kind].add(group_key, n)
        if group is not None:
            group.add(rec, t, key, n)
        # Totals (their times are the groups').
        totals = self.groups["zone"].add((rec["zone"],), n)
        if totals is not None:
            totals[RECORD_INDEX[kind]] += n
        if kind == "violation":
            totals = self.groups["kind"].add((rec["violation"],), n)
            if totals is not None:
                totals.add(rec["action"], n)

    def rows(self, kind):
        """(key, count, error, group) of the groups shown, the most frequent
        first, equal counts in canonical order."""
        return self.groups[kind].rows(self.top, key_order(kind))

    def failures(self):
        """The load failures' rows (the --top most frequent), in the order
        they were first seen (lines without a time last), then read."""
        table = self.groups["load-failure"]
        shown = {k for k, _, _, _ in self.rows("load-failure")}
        rows = [(k, e[0], e[1], e[2]) for k, e in table.entries.items() if k in shown]
        rows.sort(key=lambda row: (row[3].first_key is None, row[3].first_key or EPOCH))
        return rows

    def cut(self, kind):
        """Whether groups of a kind were left out or counted approximately."""
        table = self.groups[kind]
        return bool(table.dropped or (self.top and len(table.entries) > self.top))

    def certain(self, kind):
        """Whether the groups shown are certainly the most frequent ones."""
        return self.groups[kind].certain(self.top)

    def totals(self):
        """Occurrences by record type: violations, synthesized, not_enforced;
        lines of load failures (exact whatever was left out)."""
        return {"violations": self.groups["violation"].total,
                "synthesized": self.groups["synthesized"].total,
                "not_enforced": self.groups["not-enforced"].total,
                "load_failures": self.groups["load-failure"].total}
