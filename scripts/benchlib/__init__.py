# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""scripts/bench's parts: plan (configurations, mixes, targets), inputs
(zones, list, queries), servers (knotd), measure (dnsperf, callgrind) and
results (tables, files, plot)."""
