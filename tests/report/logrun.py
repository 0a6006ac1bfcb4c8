# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""A knotd session whose log holds every kind of line mxguard-report reads.

knotd (the integration suite's harness, the built module, 127.0.0.1 only)
serves example.test with mod-mxguard/enforce before mod-onlinesign and
the zones without a module list of their own with the global module
mod-mxguard/global (lines without a zone); the session asks MX
questions that give violations of each kind, null MX answers and DO
answers signed by onlinesign (the module rewrites and signs them again;
versions that could not logged "not enforced"), repeats them within
the 1-second log interval (so lines carry 'suppressed N'), and asks each
once more after it, so that every occurrence is in the log. It returns knotd's log and the module counters.

  python3 tests/report/logrun.py DIR   writes DIR/knotd.log and DIR/stats.txt
  (how tests/report/sample/ was made)
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import dns.message  # noqa: E402

from knotd_harness import EXACT_LOOKUPS, Knotd, conf  # noqa: E402,F401

MODULES = """
mod-mxguard:
  - id: enforce
    ip-literal: null-mx
    loopback: strip
    special-address: strip
    missing-address: strip
    self-exchange: log
    null-mx: [ parked.example.test, "*.nomail.example.test" ]
    log-interval: 1s
  - id: global
    log-interval: 0
"""

ZONES = """  - domain: example.test
    module: [ mod-mxguard/enforce, mod-onlinesign ]
  - domain: clean.test
  - domain: global.test
"""

# A zone without a module list of its own: the global module serves it
# (knotd 3.2 runs a global module's answer hooks only for such zones).
GLOBAL_ZONE = """$ORIGIN global.test.
$TTL 3600
@               SOA     ns hostmaster 1 3600 900 604800 300
@               NS      ns
ns              A       198.41.0.4
@               MX      10 localhost.
"""

# Names with violations (see tests/integration/zones/example.test.zone).
VIOLATING = ["iplit", "loop", "loopaddr", "special", "missing", "nullmix",
             "nullpref", "self", "mix", "partial", "foo.wild"]
NULL_MX = ["parked", "a.nomail"]
SIGNED = ["loop", "iplit"]  # asked with DO as well: their rewrites (strip, null-mx) signed


def ask(server, name, do=False):
    q = dns.message.make_query(name + ".example.test.", "MX", want_dnssec=do,
                               payload=1232)
    server.raw_query(q.to_wire(), tcp=True)


def session(keep_dir=None):
    """(log text, zone-stats text, stats text) of one knotd session."""
    text = conf(MODULES, ZONES).replace(
        "    journal-content: none\n",
        "    journal-content: none\n    global-module: mod-mxguard/global\n")
    server = Knotd(text, zones=("example.test", "clean.test"))
    with open(os.path.join(server.zonedir, "global.test.zone"), "w") as f:
        f.write(GLOBAL_ZONE)
    server.start()
    try:
        # Three rounds inside one log interval, then one after it.
        for _ in range(3):
            for name in VIOLATING + NULL_MX:
                ask(server, name)
            for name in SIGNED:
                ask(server, name, do=True)
        time.sleep(1.2)
        # Each key once: its line then carries every repeat (loop and iplit
        # are asked with DO only, as their DO answers share the key).
        for name in VIOLATING + NULL_MX:
            if name not in SIGNED:
                ask(server, name)
        for name in SIGNED:
            ask(server, name, do=True)
        ask(server, "clean")
        for name in ("clean.test.", "global.test."):
            server.query(name, "MX")
        time.sleep(0.2)
        zone_stats = server.knotc("zone-stats", "example.test", "mod-mxguard").stdout
        stats = server.knotc("stats", "mod-mxguard").stdout
        server.stop()
        log = server.log_text()
    finally:
        if keep_dir is None:
            server.cleanup()
        else:
            server.stop()
    return log, zone_stats, stats


def main(outdir):
    log, zone_stats, stats = session()
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "knotd.log"), "w") as f:
        f.write(log)
    with open(os.path.join(outdir, "stats.txt"), "w") as f:
        f.write(zone_stats + stats)


if __name__ == "__main__":
    main(sys.argv[1])
