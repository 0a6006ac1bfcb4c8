# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report written: text tables, CSV or JSON."""

import csv
import json

from .summary import GROUP_KEYS
from .timestamps import time_text


def counter_text(counter):
    return ", ".join(f"{k} {v}" for k, v in
                     sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def zone_text(zone):
    return zone if zone is not None else "-"


def count_text(count, error):
    """A count, or its bounds when it is approximate."""
    return str(count) if not error else f"{count - error}..{count}"


def owners_text(group):
    owners = group.get("owners")
    more = "+" if group.left_out and "owners" in group.left_out else ""
    return f"{len(owners)}{more}"


NUMERIC = {"COUNT", "OWNERS", "NAMES", "LINES", "VIOLATIONS", "NULL MX", "NOT ENFORCED"}


def table(out, header, rows):
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(str(c))) for w, c in zip(widths, row)]
    for row in [header] + rows:
        cells = [str(c).rjust(w) if h in NUMERIC else str(c).ljust(w)
                 for c, w, h in zip(row, widths, header)]
        out.write("  " + "  ".join(cells).rstrip() + "\n")


def seen(group):
    return [time_text(group.first) or "-", time_text(group.last) or "-"]


# Text tables: (kind, title, header, cells of a group's key).
TEXT_SECTIONS = [
    ("violation", "Violations by zone, kind and exchange",
     ["ZONE", "KIND", "EXCHANGE", "COUNT", "OWNERS", "ACTIONS", "FIRST SEEN", "LAST SEEN"],
     lambda k, c, e, g: [zone_text(k[0]), k[1], k[2], count_text(c, e), owners_text(g),
                         counter_text(g.get("actions"))] + seen(g)),
    ("synthesized", "Null MX synthesized, by zone and reason",
     ["ZONE", "REASON", "COUNT", "NAMES", "FIRST SEEN", "LAST SEEN"],
     lambda k, c, e, g: [zone_text(k[0]), k[1], count_text(c, e), owners_text(g)] + seen(g)),
    ("not-enforced", "Rewrites not done (signed answers), by zone, action and reason",
     ["ZONE", "ACTION", "REASON", "COUNT", "OWNERS", "FIRST SEEN", "LAST SEEN"],
     lambda k, c, e, g: [zone_text(k[0]), k[1], k[2], count_text(c, e), owners_text(g)]
     + seen(g)),
]


def write_failures(report, out):
    """The load failures, first and loud."""
    rows = report.failures()
    if not rows:
        return
    out.write(f"LOAD FAILURES: {report.totals()['load_failures']} line(s) say mod-mxguard "
              "was not loaded, or was loaded with errors\n")
    table(out, ["FIRST SEEN", "LAST SEEN", "COUNT", "LEVEL", "ZONE", "MESSAGE"],
          [seen(g) + [count_text(c, e), k[1], zone_text(k[0]), k[2]]
           for k, c, e, g in rows])
    cut_note(report, "load-failure", out)
    out.write("  knotd refused its configuration (it did not start or reload), or runs "
              "without the\n  instance or part of what it does: see the messages and "
              "mod-mxguard(7).\n\n")


def write_totals(report, out):
    out.write("\nTotals by zone\n")
    rows = [[zone_text(k[0]), count_text(c, e)] + g for k, c, e, g in report.rows("zone")]
    if rows:
        table(out, ["ZONE", "COUNT", "VIOLATIONS", "NULL MX", "NOT ENFORCED"], rows)
    else:
        out.write("  none\n")
    cut_note(report, "zone", out)
    out.write("\nViolations by kind\n")
    rows = [[k[0], count_text(c, e), g.lines, counter_text(g.actions)]
            for k, c, e, g in report.rows("kind")]
    if rows:
        table(out, ["KIND", "COUNT", "LINES", "ACTIONS"], rows)
    else:
        out.write("  none\n")
    cut_note(report, "kind", out)


def write_text(report, out):
    write_failures(report, out)
    totals = report.totals()
    period = ""
    if report.span.first is not None:
        period = f", {time_text(report.span.first)} to {time_text(report.span.last)}"
    out.write(f"mod-mxguard report: {report.module_lines} module lines in "
              f"{len(report.inputs)} input(s){period}\n")
    if report.since or report.until:
        out.write(f"  period asked: {time_text(report.since) or '...'} to "
                  f"{time_text(report.until) or '...'} "
                  f"({report.filtered} lines outside it)\n")
    out.write(f"  violations {totals['violations']}, null MX synthesized "
              f"{totals['synthesized']}, not enforced {totals['not_enforced']}\n")
    write_totals(report, out)

    for kind, title, header, cells in TEXT_SECTIONS:
        out.write(f"\n{title}\n")
        rows = [cells(*row) for row in report.rows(kind)]
        if rows:
            table(out, header, rows)
        else:
            out.write("  none\n")
        cut_note(report, kind, out)

    if report.groups["other"].entries:
        out.write("\nOther module messages\n")
        rows = [[zone_text(k[0]), k[1] or "-", count_text(c, e), k[2]]
                for k, c, e, _ in report.rows("other")]
        table(out, ["ZONE", "LEVEL", "COUNT", "MESSAGE"], rows)
        cut_note(report, "other", out)
    if report.malformed:
        out.write(f"\n{report.malformed} line(s) of the module were not "
                  "understood (see standard error)\n")


def cut_note(report, kind, out):
    if report.cut(kind):
        which = "certainly" if report.certain(kind) else "probably"
        out.write(f"  (bounded memory: the {report.top} most frequent groups at most, "
                  f"{which} the right ones; a count LOW..HIGH is approximate: see --top)\n")


CSV_HEADER = ["record", "zone", "kind", "exchange", "action", "reason", "count",
              "lines", "owners", "actions", "first_seen", "last_seen", "modules",
              "count_error", "level", "message"]


def write_csv(report, out):
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_HEADER)

    def common(count, error, g):
        return [count, g.lines, owners_text(g), counter_text(g.get("actions")),
                time_text(g.first) or "", time_text(g.last) or "",
                " ".join(sorted(g.get("modules"))), error, "", ""]

    for k, c, e, g in report.failures():
        w.writerow(["load-failure", zone_text(k[0]), "", "", "", "", c, c, "", "",
                    time_text(g.first) or "", time_text(g.last) or "", "", e, k[1], k[2]])
    for k, c, e, g in report.rows("violation"):
        w.writerow(["violation", zone_text(k[0]), k[1], k[2], "", ""] + common(c, e, g))
    for k, c, e, g in report.rows("synthesized"):
        w.writerow(["synthesized", zone_text(k[0]), "", "", "null-mx", k[1]] + common(c, e, g))
    for k, c, e, g in report.rows("not-enforced"):
        w.writerow(["not-enforced", zone_text(k[0]), "", "", k[1], k[2]] + common(c, e, g))


def write_json(report, out):
    def common(count, error, g):
        d = {"count": count, "count_error": error, "lines": g.lines,
             "first_seen": time_text(g.first), "last_seen": time_text(g.last),
             "owners": dict(sorted(g.get("owners").items())),
             "modules": sorted(g.get("modules"))}
        if g.get("actions"):
            d["actions"] = dict(sorted(g.get("actions").items()))
        for name in ("addresses", "providers"):
            if g.get(name):
                d[name] = sorted(g.get(name))
        if g.left_out:
            d["left_out"] = dict(sorted(g.left_out.items()))
        return d

    def seen(g):
        return {"first_seen": time_text(g.first), "last_seen": time_text(g.last)}

    tables = {kind: kind for kind in GROUP_KEYS}
    tables.update({"zone": "totals_by_zone", "kind": "totals_by_kind",
                   "load-failure": "load_failures"})
    doc = {
        "version": 1,
        "load_failures": [dict(zone=k[0], level=k[1], message=k[2], count=c, count_error=e,
                               **seen(g), first_line=g.where)
                          for k, c, e, g in report.failures()],
        "input": {"files": report.inputs, "lines": report.lines_read,
                  "module_lines": report.module_lines, "malformed": report.malformed,
                  "ignored": report.ignored,
                  "without_time": report.untimed, "outside_period": report.filtered},
        "period": {"since": time_text(report.since), "until": time_text(report.until),
                   "first_seen": time_text(report.span.first),
                   "last_seen": time_text(report.span.last)},
        "limits": {"top": report.top, "table": report.table,
                   "exact": {name: not report.cut(kind) for kind, name in tables.items()},
                   "certain": {name: report.certain(kind) for kind, name in tables.items()}},
        "totals": report.totals(),
        "totals_by_zone": [dict(zone=k[0], count=c, count_error=e,
                                **dict(zip(("violations", "synthesized", "not_enforced"),
                                           g)))
                           for k, c, e, g in report.rows("zone")],
        "totals_by_kind": [dict(kind=k[0], count=c, count_error=e, lines=g.lines,
                                actions=dict(sorted(g.actions.items())),
                                **({"left_out": {"actions": g.left_out}} if g.left_out
                                   else {}))
                           for k, c, e, g in report.rows("kind")],
        "violations": [dict(zone=k[0], kind=k[1], exchange=k[2], **common(c, e, g))
                       for k, c, e, g in report.rows("violation")],
        "synthesized": [dict(zone=k[0], reason=k[1], **common(c, e, g))
                        for k, c, e, g in report.rows("synthesized")],
        "not_enforced": [dict(zone=k[0], action=k[1], reason=k[2], **common(c, e, g))
                         for k, c, e, g in report.rows("not-enforced")],
        "other": [{"zone": k[0], "level": k[1] or None, "message": k[2], "count": c,
                   "count_error": e}
                  for k, c, e, _ in report.rows("other")],
    }
    json.dump(doc, out, indent=2, ensure_ascii=False)
    out.write("\n")
