# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bounded counting: the most frequent keys of a stream in bounded memory."""

import array
import heapq
import itertools
import zlib


class TopK:
    """The most frequent keys of a weighted stream, in bounded memory:
    Filtered Space-Saving (Metwally, Agrawal, El Abbadi, ICDT 2005; Homem,
    Carvalho, ICC 2010). At most 'capacity' keys are kept (0: every key,
    exactly), each with a count and an error, and a filter of 'cells'
    counters stands for the keys not kept: a key that is not kept has a
    true count of at most its cell's value (the cell adds up the
    occurrences of such keys, and takes the count of a key dropped from the
    table). When the table is full a new key comes in only when its cell's
    value plus its weight reaches the smallest count in the table; it then
    takes the place of the key of that count, starting from its cell's
    value, which is its error. So each kept key's count is an upper bound
    and count - error a lower bound of its true count; totals are exact. A
    lazy min-heap (counts only grow) finds the smallest count. Each key has
    a payload made by 'make' (details since it came in)."""

    def __init__(self, capacity, make=lambda: None, cells=None):
        self.capacity = capacity
        self.make = make
        self.entries = {}   # key: [count, error, payload]
        self.heap = None    # (count then, sequence, key) of each key, once full
        self.sequence = itertools.count()
        self.filter = array.array("q", bytes(8 * (cells or max(32 * capacity, 1024))))
        self.total = 0
        self.dropped = 0    # times a key was not kept or dropped

    def cell(self, key):
        """The filter's cell of a key (the same in every run)."""
        return zlib.crc32(repr(key).encode("utf-8", "replace")) % len(self.filter)

    def add(self, key, weight=1):
        """Counts weight occurrences of key; returns its payload, None when
        it is not kept."""
        self.total += weight
        entry = self.entries.get(key)
        if entry is not None:
            entry[0] += weight
            return entry[2]
        floor = 0
        if self.capacity and len(self.entries) >= self.capacity:
            self.dropped += 1
            cell = self.cell(key)
            floor = self.filter[cell]
            smallest, count = self.smallest()
            if floor + weight < count:
                self.filter[cell] = floor + weight
                return None
            cell = self.cell(smallest)
            self.filter[cell] = max(self.filter[cell], count)
            del self.entries[smallest]
            heapq.heapreplace(self.heap, (floor + weight, next(self.sequence), key))
        entry = self.entries[key] = [floor + weight, floor, self.make()]
        return entry[2]

    def smallest(self):
        """(key, count) of the smallest count in the full table."""
        heap = self.heap
        if heap is None:
            heap = self.heap = [(e[0], next(self.sequence), k)
                                for k, e in self.entries.items()]
            heapq.heapify(heap)
        while True:
            count, _, key = heap[0]
            now = self.entries[key][0]
            if now == count:
                return key, count
            heapq.heapreplace(heap, (now, next(self.sequence), key))

    def rows(self, limit, order):
        """(key, count, error, payload) of the 'limit' (0: all) largest
        counts, the largest first, equal counts by order(key)."""
        items = sorted(self.entries.items(), key=lambda kv: (-kv[1][0], order(kv[0])))
        if limit:
            items = items[:limit]
        return [(k, e[0], e[1], e[2]) for k, e in items]

    def certain(self, limit):
        """Whether the 'limit' largest counts are certainly those of the
        true 'limit' most frequent keys: the smallest lower bound shown is
        at least every count not shown, in the table or the filter."""
        if not self.dropped:
            return True
        counts = sorted(((e[0], e[0] - e[1]) for e in self.entries.values()), reverse=True)
        shown, rest = counts[:limit], counts[limit:]
        bound = max([c for c, _ in rest[:1]] + [max(self.filter)])
        return min(low for _, low in shown) >= bound


def tally(counts, key, n, kept):
    """Counts n for key in counts, a dict of at most 'kept' keys (0: any
    number). False when a new key found no room."""
    if key in counts:
        counts[key] += n
    elif kept and len(counts) >= kept:
        return False
    else:
        counts[key] = n
    return True
