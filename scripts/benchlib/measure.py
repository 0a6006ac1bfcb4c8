# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""The measurements: dnsperf's queries per second in interleaved rounds,
and instructions per query under callgrind."""

import os
import re
import subprocess
import time

from .plan import CONFIGS, MIXES, log

# Entry points of mod-mxguard: everything the module does runs below them.
MODULE_HOOKS = ("mxguard_answer", "mxguard_no_mail", "mxg_denial_authority",
                "mxguard_end_guard", "mxguard_end_observe")


def dnsperf(args, port, qfile, seconds=None, passes=None, outstanding=None, qps_limit=None):
    argv = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", qfile, "-e",
            "-c", str(args.client_threads), "-T", str(args.client_threads),
            "-q", str(outstanding or args.outstanding)]
    if seconds is not None:
        argv += ["-l", str(seconds)]
    if passes is not None:
        argv += ["-n", str(passes)]
    if qps_limit:
        argv += ["-Q", str(qps_limit)]
    if args.client_cpu is not None:
        argv = ["taskset", "-c", str(args.client_cpu)] + argv
    out = subprocess.run(argv, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("dnsperf failed:\n" + out.stdout + out.stderr)

    def num(label):
        m = re.search(r"%s:\s+([0-9.]+)" % label, out.stdout)
        if m is None:
            raise RuntimeError("no '%s' in dnsperf's output:\n%s" % (label, out.stdout))
        return float(m.group(1))
    return {"qps": num("Queries per second"), "completed": int(num("Queries completed")),
            "lost": int(num("Queries lost")), "runtime": num(r"Run time \(s\)")}


def measure(args, servers, files):
    """Interleaved rounds; returns the list of samples."""
    samples = []
    if args.warmup > 0 and args.rounds > 0:
        log("warm-up: %.1f s per configuration and mix" % args.warmup)
        for mix in MIXES:
            for cfg in CONFIGS:
                dnsperf(args, servers[cfg].port, files[mix], seconds=args.warmup,
                        qps_limit=args.qps_limit)
    for rnd in range(args.rounds):
        # The order of configurations turns each round: none is always first.
        order = CONFIGS[rnd % len(CONFIGS):] + CONFIGS[:rnd % len(CONFIGS)]
        for mix in MIXES:
            for cfg in order:
                srv = servers[cfg]
                cpu0 = srv.cpu_seconds()
                r = dnsperf(args, srv.port, files[mix], seconds=args.duration,
                            qps_limit=args.qps_limit)
                cpu = srv.cpu_seconds() - cpu0
                r.update(round=rnd + 1, config=cfg, mix=mix,
                         server_cpu=cpu / r["runtime"] if r["runtime"] else 0.0)
                samples.append(r)
            log("round %d/%d, mix %s: %s" % (
                rnd + 1, args.rounds, mix,
                ", ".join("%s %.0f" % (s["config"], s["qps"])
                          for s in samples[-len(CONFIGS):])))
    return samples


# --- callgrind -------------------------------------------------------------

def callgrind_control(*argv):
    subprocess.run(["callgrind_control", *argv], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def annotate(path):
    """(total Ir, inclusive Ir of the module's hooks) of one callgrind dump.

    callgrind_annotate may list one function under several spellings of its
    file (and lists code inlined from headers apart): the largest inclusive
    count of each hook is its cost. It runs in the dump's folder, where no
    relative source path resolves."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100",
                          "--auto=no", os.path.basename(path)], cwd=os.path.dirname(path),
                         capture_output=True, text=True, check=True).stdout
    total = None
    hooks = dict.fromkeys(MODULE_HOOKS, 0)
    for line in out.splitlines():
        m = re.match(r"\s*([0-9,]+)\s+(\(\s*[0-9.]+%\)\s+)?(.*)$", line)
        if not m:
            continue
        ir = int(m.group(1).replace(",", ""))
        what = m.group(3)
        if what.startswith("PROGRAM TOTALS"):
            total = ir
        fn = re.match(r"\S*:(\w+)", what)
        if fn and fn.group(1) in hooks:
            hooks[fn.group(1)] = max(hooks[fn.group(1)], ir)
    if total is None:
        raise RuntimeError("no totals in " + path)
    return total, sum(hooks.values())


def run_callgrind(args, servers, files, work):
    """Instructions per query of each configuration and mix. knotd starts
    uninstrumented (zone loading would take minutes); instrumentation is
    switched on once it answers. Each mix's file is sent once to warm up
    (first log lines, caches), then the counters are zeroed, the file is
    sent again and the counts dumped. The idle cost per second, measured
    the same way without queries, is subtracted."""
    results = {}
    cgdir = os.path.join(work, "callgrind")
    os.makedirs(cgdir, exist_ok=True)
    n = args.callgrind_queries
    cg_files = {}
    for mix in MIXES:
        cg_files[mix] = os.path.join(cgdir, "queries-%s.txt" % mix)
        with open(files[mix]) as src, open(cg_files[mix], "w") as dst:
            for _ in range(n):
                dst.write(src.readline())
    for cfg in CONFIGS:
        srv = servers[cfg]
        out = os.path.join(cgdir, cfg + ".out")
        log("callgrind: %s" % cfg)
        srv.start(valgrind=["valgrind", "--tool=callgrind", "--instr-atstart=no",
                            "--callgrind-out-file=" + out], timeout=600)
        pid = str(srv.proc.pid)
        try:
            # knotd's own work after start-up (timers of every zone) is not
            # the price of queries: wait until it is idle.
            srv.settle()
            callgrind_control("-i", "on", pid)
            dumps = {}
            for mix in MIXES:
                dnsperf(args, srv.port, cg_files[mix], passes=1, outstanding=10)
                callgrind_control("-z", pid)
                t0 = time.monotonic()
                r = dnsperf(args, srv.port, cg_files[mix], passes=1, outstanding=10)
                callgrind_control("-d", "mix-" + mix, pid)
                dumps[mix] = (time.monotonic() - t0, r)
                # Verdicts are reused unread for verdict-max-age: how long
                # since each name was last asked matters.
                log("callgrind: %s mix %s, %d queries in %.1f s" % (
                    cfg, mix, r["completed"], dumps[mix][0]))
            callgrind_control("-z", pid)
            t0 = time.monotonic()
            time.sleep(1.0)
            callgrind_control("-d", "idle", pid)
            idle_time = time.monotonic() - t0
        finally:
            srv.stop()
        # Dumps are numbered in order: the mixes, then idle.
        parts = sorted((p for p in os.listdir(cgdir) if p.startswith(cfg + ".out.")),
                       key=lambda p: int(p.rsplit(".", 1)[1]))
        if len(parts) < 1 + len(MIXES):
            raise RuntimeError("callgrind wrote %d dumps for %s" % (len(parts), cfg))
        idle_ir, _ = annotate(os.path.join(cgdir, parts[len(MIXES)]))
        idle_rate = idle_ir / idle_time
        for part, mix in zip(parts, MIXES):
            total, module = annotate(os.path.join(cgdir, part))
            elapsed, r = dumps[mix]
            queries = r["completed"]
            if r["lost"]:
                log("callgrind: %s mix %s lost %d queries" % (cfg, mix, r["lost"]))
            busy = max(total - idle_rate * elapsed, 0)
            results[(cfg, mix)] = {"ir_per_query": busy / queries,
                                   "module_share": module / total if total else 0.0,
                                   "module_per_query": module / queries,
                                   "idle_ir_per_s": idle_rate}
    return results
