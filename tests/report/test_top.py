# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""--top: the most frequent groups in bounded memory (Filtered
Space-Saving), on skewed data where the exact answer is known."""

import collections
import importlib.machinery
import importlib.util
import io
import json
import os
import random
import re
import subprocess
import sys

import pytest

from conftest import REPORT, SRCDIR, report_json, run_report


def load_report():
    """mxguard-report's modules summary and topk, from where the script
    REPORT finds them (loading it puts their folder on the path)."""
    loader = importlib.machinery.SourceFileLoader("mxguard_report_script", REPORT)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    loader.exec_module(importlib.util.module_from_spec(spec))
    return (importlib.import_module("mxguard_report.summary"),
            importlib.import_module("mxguard_report.topk"))


summary, topk = load_report()

LINE = ("2026-11-22T10:{m:02d}:{s:02d}+0000 info: [{zone}] module 'mod-mxguard/x', "
        "violation loopback, owner {owner}, exchange {exchange}, preference 10, "
        "action log{suppressed}\n")


def skewed(seed, lines, groups, heavy):
    """A log whose groups (zone, exchange) follow a Zipf-like law over
    'heavy' frequent groups, the rest spread over 'groups' rare ones; some
    lines carry repeats ('suppressed'). Returns (text, exact counts)."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(heavy)]
    exact = collections.Counter()
    out = []
    for i in range(lines):
        if rng.random() < 0.6:
            g = rng.choices(range(heavy), weights)[0]
        else:
            g = heavy + rng.randrange(groups)
        zone, exchange = f"z{g % 7}.test.", f"mx{g}.example."
        n = rng.choice((0, 0, 0, 2))
        exact[(zone, exchange)] += 1 + n
        out.append(LINE.format(m=i // 60 % 60, s=i % 60, zone=zone, owner=f"o{i % 13}.{zone}",
                               exchange=exchange, suppressed=f", suppressed {n}" if n else ""))
    return "".join(out), exact


@pytest.fixture(scope="module")
def skewed_log():
    return skewed(seed=7, lines=20000, groups=6000, heavy=300)


def test_top_groups_are_the_exact_top_groups(skewed_log):
    text, exact = skewed_log
    doc = report_json("--top", "10", "-", stdin=text)
    got = [((v["zone"], v["exchange"]), v["count"], v["count_error"])
           for v in doc["violations"]]
    assert len(got) == 10
    truth = exact.most_common()
    # The ten largest true counts, with their groups (no ties among them here).
    assert truth[9][1] > truth[10][1]
    assert [k for k, _, _ in got] == [k for k, _ in truth[:10]]
    for key, count, error in got:
        assert count - error <= exact[key] <= count
    # The heavy groups were never evicted: exact counts and details.
    assert all(error == 0 and count == exact[key] for key, count, error in got)
    # Totals are exact whatever was left out; the report says it was cut.
    assert doc["totals"]["violations"] == sum(exact.values())
    # The 7 zones and the one kind are counted exactly.
    exact_tables = {"violation": False, "synthesized": True, "not-enforced": True,
                    "other": True, "totals_by_zone": True, "totals_by_kind": True,
                    "load_failures": True}
    assert doc["limits"] == {"top": 10, "table": 10 * summary.TABLE_FACTOR,
                             "exact": exact_tables,
                             "certain": dict.fromkeys(exact_tables, True)}
    assert sum(z["count"] for z in doc["totals_by_zone"]) == sum(exact.values())
    assert doc["totals_by_kind"][0]["count"] == sum(exact.values())
    code, out, _ = run_report("--top", "10", "-", stdin=text)
    assert code == 0
    assert "bounded memory: the 10 most frequent groups at most, certainly the right ones" in out


def test_top_zero_is_every_group_exactly(skewed_log):
    text, exact = skewed_log
    doc = report_json("--top", "0", "-", stdin=text)
    assert {(v["zone"], v["exchange"]): v["count"] for v in doc["violations"]} == dict(exact)
    assert all(v["count_error"] == 0 for v in doc["violations"])
    assert doc["limits"]["exact"]["violation"] is True
    # Every owner kept (the bounded default keeps OWNERS_KEPT per group).
    assert max(len(v["owners"]) for v in doc["violations"]) == 13


def test_bounds_hold_for_every_group_of_a_small_table(skewed_log):
    text, exact = skewed_log
    doc = report_json("--top", "50", "-", stdin=text)
    total = doc["totals"]["violations"]
    table = doc["limits"]["table"]
    for v in doc["violations"]:
        key = (v["zone"], v["exchange"])
        assert v["count"] - v["count_error"] <= exact[key] <= v["count"]
        assert v["count_error"] <= total / table
    # Every group above total/table is listed (Space-Saving's guarantee).
    listed = {(v["zone"], v["exchange"]) for v in doc["violations"]}
    assert {k for k, n in exact.items() if n > total / table} <= listed


def test_table_size_is_bounded_whatever_the_number_of_groups():
    report = summary.Report(top=5)
    lines = "".join(LINE.format(m=0, s=0, zone="a.test.", owner=f"o{i}.a.test.",
                                exchange=f"mx{i % 2500}.example.", suppressed="")
                    for i in range(5000))
    report.feed("x", io.BytesIO(lines.encode()))
    table = report.groups["violation"]
    assert len(table.entries) == 5 * summary.TABLE_FACTOR and len(table.heap) == len(table.entries)
    assert table.total == 5000 and table.dropped > 0
    for key, (count, error, _) in table.entries.items():
        assert count - error <= 2 <= count


def test_filtered_space_saving_on_an_adversarial_stream():
    """Distinct keys between the repeats of one heavy key: it stays, with
    its exact count; every key's true count stays within its bounds, and a
    key not kept has at most its filter cell's count."""
    table = topk.TopK(4, cells=64)
    truth = collections.Counter()
    for i in range(10000):
        table.add(("new", str(i)))
        truth[("new", str(i))] += 1
        if i % 3 == 0:
            table.add(("heavy", ""), 2)
            truth[("heavy", "")] += 2
    assert table.entries[("heavy", "")][:2] == [truth[("heavy", "")], 0]
    assert len(table.entries) == 4 and table.total == sum(truth.values())
    for key, (count, error, _) in table.entries.items():
        assert count - error <= truth[key] <= count
    for key, n in truth.items():
        if key not in table.entries:
            assert n <= table.filter[table.cell(key)]
    assert table.certain(1) and not table.certain(2)


def test_owners_kept_per_group_are_bounded():
    lines = "".join(LINE.format(m=0, s=0, zone="a.test.", owner=f"o{i}.a.test.",
                                exchange="localhost.", suppressed="") for i in range(50))
    doc = report_json("-", stdin=lines)
    v = doc["violations"][0]
    assert v["count"] == 50 and len(v["owners"]) == summary.OWNERS_KEPT
    assert v["left_out"] == {"owners": 50 - summary.OWNERS_KEPT}
    code, out, _ = run_report("-", stdin=lines)
    groups = out.split("Violations by zone, kind and exchange\n")[1].splitlines()
    assert f"{summary.OWNERS_KEPT}+" in groups[1].split()


def test_totals_by_zone_in_bounded_memory():
    """More zones than the table holds: the largest are listed with counts
    that bound the true ones; the totals stay exact."""
    rng = random.Random(3)
    exact = collections.Counter()
    lines = []
    for i in range(6000):
        z = min(int(rng.paretovariate(1.2)), 400)
        zone = f"z{z}.test."
        exact[zone] += 1
        lines.append(LINE.format(m=0, s=0, zone=zone, owner=f"a.{zone}",
                                 exchange="localhost.", suppressed=""))
    doc = report_json("--top", "5", "-", stdin="".join(lines))
    zones = doc["totals_by_zone"]
    assert len(zones) == 5 and doc["limits"]["exact"]["totals_by_zone"] is False
    assert [z["zone"] for z in zones] == [k for k, _ in exact.most_common(5)]
    for z in zones:
        assert z["count"] - z["count_error"] <= exact[z["zone"]] <= z["count"]
    assert doc["totals"]["violations"] == 6000


def test_top_option_checked():
    for bad in ("-1", "many"):
        code, _, err = run_report("--top", bad, "-", stdin="")
        assert code == 2 and "--top" in err
    assert json.loads(run_report("-f", "json", "-", stdin="")[1])["limits"]["top"] == 1000


def test_benchmark_script_runs_on_a_small_log():
    """scripts/bench-report (the measurement of the man page) on 1 MB."""
    proc = subprocess.run([sys.executable, os.path.join(SRCDIR, "scripts", "bench-report"),
                           "--report", REPORT, "--mb", "1", "--format", "text"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    log, run = proc.stdout.splitlines()
    assert re.search(r": 1\.0 MB, \d+ lines, \d+ of the module, \d+ groups \(seed 1\)$", log)
    assert re.match(r"text: \d+\.\d s, \d+ MB max resident, exit 0 ", run)
