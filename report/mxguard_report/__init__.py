# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""mxguard-report's code, which report/mxguard-report runs (cli.main).

A line goes from inputs (the log's forms, compression, journal entries)
through message (the module's prefix and its text), failures (load
failures) and timestamps (time and level) to summary, which counts it into
its groups with topk's bounded tables; output writes the summary as text,
CSV or JSON.
"""
