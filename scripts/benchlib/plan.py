# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""What scripts/bench runs: the configurations and query mixes, their
titles, the targets; and log(), its progress on stderr."""

import sys

CONFIGS = ["bare", "log", "enforce", "synthrecord"]
# Run only when asked for (--configs): 'enforce' with no-mail-records.
EXTRA_CONFIGS = ["nomail"]
CONFIG_TITLES = {
    "bare": "1. bare knotd",
    "log": "2. mxguard, log",
    "enforce": "3. mxguard, enforce",
    "synthrecord": "4. mod-synthrecord",
    "nomail": "5. mxguard, enforce, no-mail-records",
}

# Query mixes; 's' answers with mod-synthrecord's synthesis (NXDOMAIN
# without it), the peer of 'd'.
MIXES = ["a", "b", "c", "d", "e", "s"]
MIX_TITLES = {
    "a": "(a) realistic, 5% MX",
    "b": "(b) MX, clean",
    "c": "(c) MX, rewritten",
    "d": "(d) MX, null MX synthesised",
    "e": "(e) no MX",
    "s": "(s) synthrecord A",
    "f": "(f) TXT at no-mail names (SPF)",
    "g": "(g) TXT at _dmarc of no-mail names",
    "h": "(h) TXT at SELECTOR._domainkey of no-mail names",
}
# Run only when asked for (--mixes): the no-mail records each
# configuration 5 synthesises (NODATA or NXDOMAIN elsewhere).
EXTRA_MIXES = ["f", "g", "h"]

# Ratio to bare knotd (same mix, same run) each configuration must reach.
TARGETS = [("e", 0.99), ("a", 0.98), ("b", 0.95), ("c", 0.85)]


def log(msg):
    print(msg, file=sys.stderr, flush=True)
