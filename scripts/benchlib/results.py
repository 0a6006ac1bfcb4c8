# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""The results: medians and paired ratios, the targets, the Markdown
table, CSV files and the plot."""

import csv
import os
import platform
import re
import statistics
import subprocess

from .plan import CONFIG_TITLES, CONFIGS, MIX_TITLES, MIXES, TARGETS, log

# Every sample of the run, for the pairings of the targets table.
SAMPLES = []


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = ", %.1f GiB RAM" % (kb / 1048576)
    except (OSError, ValueError, IndexError):
        pass
    knot = subprocess.run(["knotd", "-V"], capture_output=True, text=True).stdout.strip()
    perf = subprocess.run(["dnsperf", "-h"], capture_output=True, text=True)
    ver = re.search(r"Version ([0-9.]+)", perf.stdout + perf.stderr)
    return "%s, %d CPUs%s; Linux %s; %s; dnsperf %s" % (
        model, os.cpu_count(), mem, platform.release(), knot,
        ver.group(1) if ver else "?")


def summarise(samples):
    """Medians per configuration and mix, and per-round ratios to bare knotd.

    A ratio compares two measurements taken seconds apart in the same round,
    so the median of those paired ratios is what the targets are judged on:
    noise that lasts longer than a round hits both sides alike."""
    med, rng = {}, {}
    for cfg in CONFIGS:
        for mix in MIXES:
            mine = [s for s in samples if s["config"] == cfg and s["mix"] == mix]
            q = [s["qps"] for s in mine]
            med[(cfg, mix)] = statistics.median(q)
            cpu = [s["server_cpu"] for s in mine]
            # Capacity: queries per second of knotd's own CPU time (user and
            # system), what one saturated core could serve.
            cap = [s["qps"] / s["server_cpu"] for s in mine if s["server_cpu"] > 0]
            rng[(cfg, mix)] = (min(q), max(q), statistics.median(cpu),
                               statistics.median(cap) if cap else 0.0)
    paired, paired_cap = {}, {}
    for s in samples:
        base = [b for b in samples if b["config"] == "bare" and b["mix"] == s["mix"]
                and b["round"] == s["round"]][0]
        paired.setdefault((s["config"], s["mix"]), []).append(s["qps"] / base["qps"])
        if s["server_cpu"] > 0 and base["server_cpu"] > 0:
            paired_cap.setdefault((s["config"], s["mix"]), []).append(
                (s["qps"] / s["server_cpu"]) / (base["qps"] / base["server_cpu"]))
    return med, rng, paired, paired_cap


def targets(med, paired, paired_cap, cg):
    rows = []
    for mix, goal in TARGETS:
        for cfg in ("log", "enforce"):
            p = paired[(cfg, mix)]
            ratio = statistics.median(p)
            cap = statistics.median(paired_cap.get((cfg, mix), [0]))
            cells = ["%.3f (%.3f–%.3f)" % (ratio, min(p), max(p)), "%.3f" % cap]
            if cg:
                cells.append("%.3f" % (cg[("bare", mix)]["ir_per_query"] /
                                       cg[(cfg, mix)]["ir_per_query"]))
            rows.append([MIX_TITLES[mix], CONFIG_TITLES[cfg], "≥ %.2f" % goal] + cells +
                        ["met" if cap >= goal else "**missed**"])
    # (d) against (s): the same round's enforce (d) and synthrecord (s).
    d = {s["round"]: s for s in SAMPLES if s["config"] == "enforce" and s["mix"] == "d"}
    sy = {s["round"]: s for s in SAMPLES if s["config"] == "synthrecord" and s["mix"] == "s"}
    p = [d[r]["qps"] / sy[r]["qps"] for r in d if r in sy]
    pc = [(d[r]["qps"] / d[r]["server_cpu"]) / (sy[r]["qps"] / sy[r]["server_cpu"])
          for r in d if r in sy and d[r]["server_cpu"] > 0 and sy[r]["server_cpu"] > 0]
    ratio = statistics.median(p)
    cap = statistics.median(pc) if pc else 0.0
    cells = ["%.3f (%.3f–%.3f)" % (ratio, min(p), max(p)), "%.3f" % cap]
    if cg:
        cells.append("%.3f" % (cg[("synthrecord", "s")]["ir_per_query"] /
                               cg[("enforce", "d")]["ir_per_query"]))
    rows.append(["(d) null MX vs (s) synthrecord A", "3. enforce (d) / 4. synthrecord (s)",
                 "≥ 1.00"] + cells + ["met" if cap >= 1.0 else "**missed**"])
    return rows


def fmt_qps(v):
    return "{:,.0f}".format(v)


def fmt_int(v):
    return "{:,.0f}".format(v)


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def report(args, samples, cg, started, elapsed, memory=None):
    lines = ["# mod-mxguard benchmark", "",
             "Date: %s. Machine: %s." % (started.strftime("%Y-%m-%d %H:%M %Z").strip(), machine()),
             "",
             "%d zones, null MX list of %d entries; knotd with one UDP worker on CPU %s, "
             "dnsperf (%d thread(s), %d outstanding, EDNS) on CPU %s; %d round(s) of %s s per "
             "configuration and mix, interleaved; %s warm-up. Whole run: %.0f s.%s" % (
                 args.zones, args.list_size, args.server_cpu, args.client_threads,
                 args.outstanding,
                 args.client_cpu, args.rounds, args.duration,
                 ("%s s" % args.warmup) if args.warmup else "no",
                 elapsed, " **Smoke mode: the numbers mean nothing.**" if args.smoke else "")]
    header = ["Mix"] + [CONFIG_TITLES[c] for c in CONFIGS]
    med = rng = paired = paired_cap = None
    SAMPLES[:] = samples
    if samples:
        med, rng, paired, paired_cap = summarise(samples)
        lines += ["", "## Queries per second (median) and ratio to bare knotd", ""]
        rows = []
        for mix in MIXES:
            base = med[("bare", mix)]
            rows.append([MIX_TITLES[mix]] + [
                fmt_qps(med[(c, mix)]) + ("" if c == "bare" else
                                           " (%.3f)" % (med[(c, mix)] / base if base else 0))
                for c in CONFIGS])
        lines.append(md_table(header, rows))
        lines += ["", "knotd's CPU use during the runs (median per mix; below 100%% "
                  "dnsperf, not knotd, set the pace): %s." % ", ".join(
                      "%s %.0f–%.0f%%" % (c, 100 * min(rng[(c, m)][2] for m in MIXES),
                                          100 * max(rng[(c, m)][2] for m in MIXES))
                      for c in CONFIGS)]
        lines += ["", "## Capacity: queries per second of knotd CPU time (median) and "
                  "ratio to bare knotd", ""]
        rows = []
        for mix in MIXES:
            base = rng[("bare", mix)][3]
            rows.append([MIX_TITLES[mix]] + [
                fmt_qps(rng[(c, mix)][3]) + ("" if c == "bare" else
                                              " (%.3f)" % (rng[(c, mix)][3] / base if base else 0))
                for c in CONFIGS])
        lines.append(md_table(header, rows))
    if cg:
        lines += ["", "## Instructions per query (callgrind, %d queries per mix)" %
                  args.callgrind_queries, "",
                  "Cell: knotd's instructions per query (ratio to bare); for mod-mxguard "
                  "also the module's instructions per query and their share of knotd's.", ""]
        rows = []
        for mix in MIXES:
            base = cg[("bare", mix)]["ir_per_query"]
            row = [MIX_TITLES[mix]]
            for c in CONFIGS:
                r = cg[(c, mix)]
                cell = fmt_int(r["ir_per_query"])
                if c != "bare":
                    cell += " (%.3f)" % (r["ir_per_query"] / base if base else 0)
                if c in ("log", "enforce", "nomail"):
                    cell += "; module %s = %.1f%%" % (fmt_int(r["module_per_query"]),
                                                      100 * r["module_share"])
                row.append(cell)
            rows.append(row)
        lines.append(md_table(header, rows))
    if samples and args.complete and not args.smoke:
        lines += ["", "## Targets", "",
                  "Judged on capacity (queries per second of knotd's CPU time, what "
                  "knotd would serve with its core saturated): the median of the "
                  "per-round ratios to bare knotd. When dnsperf cannot saturate knotd "
                  "(its CPU use above is below 100%), the queries-per-second ratio (median "
                  "of per-round ratios, range over rounds) shows mostly the client. "
                  "Instructions: bare knotd's instructions per query over the "
                  "configuration's (callgrind), the repeatable signal.", "",
                  md_table(["Mix", "Configuration", "Target", "q/s ratio", "capacity",
                            "instructions"][:6 if cg else 5] + ["Result"],
                           targets(med, paired, paired_cap, cg))]
    if memory is not None:
        names, rss = memory
        base = rss.get("bare")
        lines += ["", "## Resident memory", "",
                  "VmRSS of each knotd once every one of the %d MX names of mixes (b) "
                  "and (c) was asked (verdict caches holding all they serve):" % names, ""]
        lines += ["- %s: %.1f MiB%s" % (cfg, mib, "" if base is None or cfg == "bare" else
                                          " (%+.1f MiB against bare)" % (mib - base))
                  for cfg, mib in rss.items()]
    text = "\n".join(lines) + "\n"

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "samples.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["round", "mix", "config", "qps", "completed",
                                          "lost", "runtime", "server_cpu"])
        w.writeheader()
        for s in samples:
            w.writerow(s)
    if cg:
        with open(os.path.join(args.out, "callgrind.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["config", "mix", "ir_per_query", "module_ir_per_query",
                        "module_share", "idle_ir_per_s"])
            for (c, m), r in sorted(cg.items()):
                w.writerow([c, m, "%.1f" % r["ir_per_query"], "%.1f" % r["module_per_query"],
                            "%.4f" % r["module_share"], "%.0f" % r["idle_ir_per_s"]])
    if samples:
        plot(args, med, rng)
    return text


def plot(args, med, rng):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("python3-matplotlib is not installed: no plot")
        return
    # Left: queries per second as measured (bars: min-max over rounds);
    # right: capacity, queries per second of knotd's CPU time.
    fig, axes = plt.subplots(1, 2, figsize=(14, 5))
    width = 0.8 / len(CONFIGS)
    for ax, which in zip(axes, ("qps", "capacity")):
        for k, cfg in enumerate(CONFIGS):
            xs = [i + (k - (len(CONFIGS) - 1) / 2) * width for i in range(len(MIXES))]
            if which == "qps":
                ys = [med[(cfg, m)] / 1000 for m in MIXES]
                err = [[(med[(cfg, m)] - rng[(cfg, m)][0]) / 1000 for m in MIXES],
                       [(rng[(cfg, m)][1] - med[(cfg, m)]) / 1000 for m in MIXES]]
                ax.bar(xs, ys, width, yerr=err, capsize=2, label=CONFIG_TITLES[cfg])
            else:
                ys = [rng[(cfg, m)][3] / 1000 for m in MIXES]
                ax.bar(xs, ys, width, label=CONFIG_TITLES[cfg])
        ax.set_xticks(range(len(MIXES)))
        ax.set_xticklabels([MIX_TITLES[m].replace(", ", ",\n", 1) for m in MIXES], fontsize=8)
        ax.legend(fontsize=7, loc="lower left")
    axes[0].set_ylabel("thousand queries per second")
    axes[0].set_title("Queries per second (median; bars: min–max)", fontsize=10)
    axes[1].set_title("Capacity: queries per knotd CPU-second (median)", fontsize=10)
    fig.suptitle("knotd, one UDP worker, by configuration and query mix")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "qps.png"), dpi=100)
    plt.close(fig)
