# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""knotd instances of each configuration, as the integration suite starts
them, and the answers that show they serve what is measured."""

import os
import sys
import time

from .inputs import zone_name
from .plan import log

# This source tree (scripts/benchlib/ is two folders below it).
SRCDIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def harness():
    """tests/integration/knotd_harness.py of this source tree: the one way
    knotd is started for tests (the module under test, an installed copy
    bound over, memory checkers). Imported late: it needs dnspython, which
    the full run installs first."""
    if "knotd_harness" not in sys.modules:
        sys.path.insert(0, os.path.join(SRCDIR, "tests", "integration"))
        os.environ["MXGUARD_MODULE"] = ARGS_MODULE[0]
    import knotd_harness
    knotd_harness.MODULE = ARGS_MODULE[0]
    return knotd_harness


# The module file (--module), for the harness.
ARGS_MODULE = [os.environ.get("MXGUARD_MODULE") or os.path.join(SRCDIR, ".libs", "mxguard.so")]


# --- knotd -----------------------------------------------------------------

MXGUARD_LOG = """
mod-mxguard:
  - id: log
    # Every kind logged, nothing rewritten (the defaults). log-interval stays
    # at its default of 300 s: one line per key, repeats only counted.
    log-interval: 300
"""

MXGUARD_ENFORCE = """
mod-mxguard:
  - id: enforce
    ip-literal: strip
    loopback: strip
    special-address: strip
    missing-address: strip
    null-mx-conflict: strip
    self-exchange: log
    cname-exchange: log
    provider-mix: log
    log-interval: 300
    null-mx-file: @WORK@/no-mail.list
"""

SYNTHRECORD = """
mod-synthrecord:
  - id: forward
    type: forward
    prefix: dynamic-
    ttl: 3600
    network: 192.0.2.0/24
"""

MXGUARD_NO_MAIL = MXGUARD_ENFORCE.replace("id: enforce", "id: nomail").replace(
    "    log-interval: 300\n",
    "    log-interval: 300\n    no-mail-records: [ spf, dmarc, dkim ]\n")

MODULE_OF = {"bare": ("", None), "log": (MXGUARD_LOG, "mod-mxguard/log"),
             "enforce": (MXGUARD_ENFORCE, "mod-mxguard/enforce"),
             "synthrecord": (SYNTHRECORD, "mod-synthrecord/forward"),
             "nomail": (MXGUARD_NO_MAIL, "mod-mxguard/nomail")}


def knot_conf(config, work, zones, cache=None, max_age=None):
    """The configuration text, with the harness's placeholders (@PORT@, @DIR@
    the instance's folder, @MODULE_SECTION@ loading the module under test
    unless an installed copy is bound over); cache: verdict-cache-size;
    max_age: verdict-max-age (text, e.g. '0' or '1h')."""
    modules, ref = MODULE_OF[config]
    if cache is not None and modules:
        modules = modules.replace("    log-interval: 300\n",
                                  "    log-interval: 300\n    verdict-cache-size: %d\n" % cache)
    if max_age is not None and modules:
        modules = modules.replace("    log-interval: 300\n",
                                  "    log-interval: 300\n    verdict-max-age: %s\n" % max_age)
    load = "@MODULE_SECTION@\n" if config in ("log", "enforce", "nomail") else ""
    text = """server:
    listen: 127.0.0.1@@PORT@
    rundir: @DIR@
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stdout
    any: info
database:
    storage: @DIR@
%(load)s%(modules)s
template:
  - id: default
    storage: %(work)s/zones
    file: "%%s.zone"
    zonefile-sync: -1
    journal-content: none
%(ref)s
zone:
""" % {"work": work, "load": load,
       "modules": modules.replace("@WORK@", work),
       "ref": ("    module: %s\n" % ref) if ref else ""}
    text += "".join("  - domain: %s\n" % zone_name(i) for i in range(zones))
    return text


def dns_query(port, name, qtype, timeout=1.0):
    """One UDP query; returns (rcode, answer records as text) or None."""
    import dns.message
    import dns.query
    q = dns.message.make_query(name, qtype)
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout)
    except Exception:
        return None
    return r.rcode(), [rd.to_text() for rrset in r.answer for rd in rrset
                       if rrset.rdtype == dns.rdatatype.from_text(qtype)]


class Server:
    """One configuration's knotd: a knotd_harness.Knotd in work/CONFIG."""

    def __init__(self, config, args, work, zones):
        self.config = config
        self.args = args
        self.zones = zones
        self.knotd = harness().Knotd(knot_conf(config, work, zones, args.verdict_cache_size,
                                               args.verdict_max_age),
                                     zones=(),
                                     workdir=os.path.join(work, config))
        self.dir, self.conf, self.port = self.knotd.dir, self.knotd.conf, self.knotd.port

    @property
    def proc(self):
        return self.knotd.proc

    def start(self, valgrind=None, timeout=60):
        # Every zone answers once the last one does (loaded in order).
        last = zone_name(self.zones - 1)

        def ready(knotd):
            r = dns_query(knotd.port, last, "SOA", timeout=0.5)
            return r is not None and r[0] == 0 and bool(r[1])

        prefix = []
        if self.args.server_cpu is not None:
            prefix = ["taskset", "-c", str(self.args.server_cpu)]
        log_name = "knotd-cg.log" if valgrind else "knotd.log"
        try:
            self.knotd.start(ready=ready, timeout=timeout, tool=valgrind or (),
                             prefix=prefix, log=os.path.join(self.dir, log_name))
        except RuntimeError as e:
            raise RuntimeError("knotd (%s): %s" % (self.config, e)) from None
        return self

    def settle(self, quiet=0.02, timeout=300):
        """Waits until knotd uses less than 'quiet' of a CPU over a second."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            cpu0 = self.cpu_seconds()
            time.sleep(1.0)
            if self.cpu_seconds() - cpu0 < quiet:
                return
        log("%s: knotd still busy after %d s" % (self.config, timeout))

    def cpu_seconds(self):
        """User + system time of all of knotd's threads."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.knotd.stop()


def resident_memory(servers, files):
    """Each instance's resident memory once every MX name of mixes (b) and (c)
    was asked (the verdict caches then hold every MX RRset they serve)."""
    names = set()
    for mix in [m for m in ("b", "c") if m in files]:  # those run
        with open(files[mix]) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[1] == "MX":
                    names.add(parts[0])
    out = {}
    for cfg, srv in servers.items():
        for name in sorted(names):
            dns_query(srv.port, name, "MX")
        with open("/proc/%d/status" % srv.proc.pid) as f:
            kib = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        out[cfg] = kib / 1024
    return len(names), out


def sanity(server):
    """The instance answers what the benchmark says it measures."""
    z = zone_name(0)
    port, cfg = server.port, server.config
    checks = [("h1." + z, "A", lambda r: r[0] == 0 and len(r[1]) == 1)]
    v0 = dns_query(port, "v0." + z, "MX")
    w0 = dns_query(port, "w0." + z, "MX")
    s1 = dns_query(port, "dynamic-192-0-2-1." + z, "A")
    m0 = dns_query(port, "m0." + z, "MX")
    problems = []
    if m0 is None or len(m0[1]) != 2:
        problems.append("m0 MX: %r" % (m0,))
    if cfg in ("enforce", "nomail"):
        if v0 is None or v0[1] != ["10 mx1." + z]:
            problems.append("v0 MX not stripped: %r" % (v0,))
        if w0 is None or w0[1] != ["0 ."]:
            problems.append("w0 MX not a null MX: %r" % (w0,))
    else:
        if v0 is None or len(v0[1]) != 2:
            problems.append("v0 MX changed: %r" % (v0,))
        if w0 is None or w0[0] != 0 or w0[1]:
            problems.append("w0 MX not NODATA: %r" % (w0,))
    if cfg == "synthrecord":
        if s1 is None or s1[1] != ["192.0.2.1"]:
            problems.append("no synthesised A: %r" % (s1,))
    elif s1 is None or s1[0] != 3:
        problems.append("dynamic- name not NXDOMAIN: %r" % (s1,))
    if cfg == "nomail":
        spf = dns_query(port, "w0." + z, "TXT")
        if spf is None or spf[1] != ['"v=spf1 -all"']:
            problems.append("w0 TXT not the no-mail SPF: %r" % (spf,))
    for name, qtype, ok in checks:
        r = dns_query(port, name, qtype)
        if r is None or not ok(r):
            problems.append("%s %s: %r" % (name, qtype, r))
    if problems:
        raise RuntimeError("%s: unexpected answers: %s" % (cfg, "; ".join(problems)))
