# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""The counters as knotc prints them, as knotd's control socket gives them
(python3-libknot) and as Knot's Prometheus exporter serves them, scraped
for real.

knotd runs the README's rollout: a global observe instance plus zone
instances (a.test, b.test), and a zone without an instance of its own
(c.test) that the global one judges. The exporter is Debian's
'knot-exporter' (Debian 13: 3.4, Debian testing: 3.5); where it is not
installed (Debian 12) the exporter tests skip. Another exporter can be
named: MXGUARD_KNOT_EXPORTER (its command) and MXGUARD_KNOT_EXPORTER_VERSION.

What a scrape must be: every mxguard counter that knotd reports exactly
once, with the zone and the kind as labels, and no series twice (checked
with python3-prometheus-client's parser and, where installed, with
'promtool check metrics', Prometheus's own). What docs/operations.md
("Monitoring") says, by exporter version:

  3.5 and later  one exporter, as it comes: knot_zone_stats_<counter> and
                 knot_stats_<counter>, labels zone, module, type.
  3.3, 3.4       one exporter garbles the zone counters of a module that
                 also has a global instance (the zone as 'section', the kind
                 lost, duplicate series); two exporters, one for the global
                 and one for the zone statistics, give knot_<counter> with
                 labels zone, section, type.

The PromQL that the page shows is run on series named as scraped
('promtool test rules').
"""

import collections
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import subprocess
import time
import urllib.request

import pytest

from knotd_harness import KNOT_VERSION, SRCDIR, Knotd, conf, free_port

libknot = pytest.importorskip("libknot")
import libknot.control  # noqa: E402

DOC = os.path.join(SRCDIR, "docs", "operations.md")
MODULE = "mod-mxguard"
COUNTERS = ("inspected", "violation", "action", "truncated", "skipped",
            "synthesized", "error")

MODULES = """
mod-mxguard:
  - id: observe
    log-interval: 0
  - id: enforce
    loopback: strip
    ip-literal: null-mx
    null-mx: [ parked.a.test, parked.b.test ]
    log-interval: 0
"""

ZONE = """$ORIGIN @ZONE@.
$TTL 3600
@       SOA     ns hostmaster 1 3600 900 604800 300
@       NS      ns
ns      A       198.41.0.4
loop    MX      10 localhost.
iplit   MX      10 192.0.2.1.
lo2     MX      10 mx-lo
mx-lo   A       127.0.0.1
private MX      10 mx-private
mx-private A    10.1.2.3
clean   MX      10 ns
parked  A       93.184.215.20
"""

# Different queries per zone, so that a label on the wrong sample shows.
QUERIES = {
    "a.test": ["loop", "loop", "iplit", "lo2", "private", "clean", "parked"],
    "b.test": ["loop", "private", "private", "clean"],
    "c.test": ["loop", "iplit", "private"],
}

# The PromQL of docs/operations.md, by exporter version.
PROMQL_35_ZONES = ('sum by (zone, type) (increase('
                   'knot_zone_stats_violation_total{module="mod-mxguard"}[1h]))')
PROMQL_35_GLOBAL = ('sum by (type) (increase('
                    'knot_stats_violation_total{module="mod-mxguard"}[1h]))')
PROMQL_34 = ('sum by (zone, type) (increase('
             'knot_violation_total{section="mod-mxguard"}[1h]))')


@pytest.fixture(scope="module")
def server():
    zones = ("  - domain: a.test\n    module: mod-mxguard/enforce\n"
             "  - domain: b.test\n    module: mod-mxguard/enforce\n"
             "  - domain: c.test\n")
    text = conf(MODULES, zones).replace(
        "    journal-content: none\n",
        "    journal-content: none\n    global-module: mod-mxguard/observe\n")
    s = Knotd(text, zones=())
    for zone in QUERIES:
        with open(os.path.join(s.zonedir, zone + ".zone"), "w") as f:
            f.write(ZONE.replace("@ZONE@", zone))
    s.start(ready=lambda k: k.query("ns.c.test.", "A") is not None and
            k.query("ns.a.test.", "A") is not None)
    for zone, names in QUERIES.items():
        for name in names:
            s.query(f"{name}.{zone}.", "MX")
    yield s
    s.cleanup()


def control_stats(server, cmd, flags=""):
    """What knotd's control socket gives, as knot-exporter asks for it
    (flags "": no zero counters on knotd 3.4 and later)."""
    libknot.Knot()
    ctl = libknot.control.KnotCtl()
    ctl.connect(os.path.join(server.dir, "knot.sock"))
    try:
        ctl.send_block(cmd=cmd, flags=flags)
        return ctl.receive_stats()
    finally:
        ctl.send(libknot.control.KnotCtlType.END)
        ctl.close()


def module_counters(server):
    """{(zone or None, counter, kind or None): value} of mxguard, from the
    control socket."""
    out = {}
    zone_stats = control_stats(server, "zone-stats").get("zone", {})
    sections = [(zone, data.get(MODULE, {})) for zone, data in zone_stats.items()]
    sections.append((None, control_stats(server, "stats").get(MODULE, {})))
    for zone, items in sections:
        for item, value in items.items():
            if isinstance(value, dict):
                for kind, n in value.items():
                    out[(zone, item, kind)] = n
            else:
                out[(zone, item, None)] = value
    return out


# knotc and the control socket (every Knot version) ------------------------

def test_knotc_names(server):
    zone = server.knotc("zone-stats", "a.test", MODULE).stdout.splitlines()
    assert "[a.test.] mod-mxguard.violation[loopback] = 3" in zone
    assert "[a.test.] mod-mxguard.violation[ip-literal] = 1" in zone
    assert "[a.test.] mod-mxguard.action[strip] = 3" in zone
    assert "[a.test.] mod-mxguard.action[null-mx] = 1" in zone
    assert "[a.test.] mod-mxguard.synthesized = 1" in zone
    assert "[a.test.] mod-mxguard.inspected = 6" in zone
    glob = server.knotc("stats", MODULE).stdout.splitlines()
    # The global observer judges only the answers no zone instance judged
    # (c.test's): the counters add up, no answer counted twice.
    assert "mod-mxguard.inspected = 3" in glob
    assert "mod-mxguard.violation[loopback] = 1" in glob


def test_control_socket_counters(server):
    """What every exporter reads: the module's section, the kind as a key."""
    got = module_counters(server)
    want = {
        ("a.test.", "inspected", None): 6,
        ("a.test.", "violation", "loopback"): 3,
        ("a.test.", "violation", "ip-literal"): 1,
        ("a.test.", "violation", "special-address"): 2,  # 192.0.2.1 too
        ("a.test.", "action", "strip"): 3,
        ("a.test.", "action", "null-mx"): 1,
        ("a.test.", "action", "log"): 1,
        ("a.test.", "synthesized", None): 1,
        ("b.test.", "inspected", None): 4,
        ("b.test.", "violation", "loopback"): 1,
        ("b.test.", "violation", "special-address"): 2,
        ("b.test.", "action", "strip"): 1,
        ("b.test.", "action", "log"): 2,
        (None, "inspected", None): 3,
        (None, "violation", "loopback"): 1,
        (None, "violation", "ip-literal"): 1,
        (None, "violation", "special-address"): 2,
        (None, "action", "log"): 3,
    }
    # knotd 3.2 also reports the single counters that are zero.
    assert {k: v for k, v in got.items() if v} == want
    assert {item for _, item, _ in got} <= set(COUNTERS)
    # With knotc's force flag every counter is there, zero or not.
    forced = control_stats(server, "zone-stats", flags="F")["zone"]["b.test."][MODULE]
    assert set(forced) == set(COUNTERS)


def test_stacked_instances_are_one_set_for_exporters():
    """Two instances on one zone: knotc prints both, unnamed, and the control
    socket's reader (python3-libknot, the exporter's) keeps one set, later
    instances' values over earlier ones' (docs/operations.md says so)."""
    modules = ("\nmod-mxguard:\n  - id: logonly\n    log-interval: 0\n"
               "  - id: enforce\n    loopback: strip\n    log-interval: 0\n")
    zones = "  - domain: a.test\n    module: [ mod-mxguard/logonly, mod-mxguard/enforce ]\n"
    s = Knotd(conf(modules, zones), zones=())
    try:
        with open(os.path.join(s.zonedir, "a.test.zone"), "w") as f:
            f.write(ZONE.replace("@ZONE@", "a.test"))
        s.start(ready=lambda k: k.query("ns.a.test.", "A") is not None)
        for name in ("loop", "private"):
            s.query(name + ".a.test.", "MX")
        out = s.knotc("zone-stats", "a.test").stdout.splitlines()
        assert out.count("[a.test.] mod-mxguard.inspected = 2") == 2
        assert "[a.test.] mod-mxguard.action[log] = 2" in out     # logonly
        assert "[a.test.] mod-mxguard.action[log] = 1" in out     # enforce
        # Asked for mod-mxguard by name, knotd 3.2 prints the first set only.
        named = s.knotc("zone-stats", "a.test", MODULE).stdout.splitlines()
        assert named.count("[a.test.] mod-mxguard.inspected = 2") == (
            1 if KNOT_VERSION < (3, 4, 0) else 2)
        got = control_stats(s, "zone-stats")["zone"]["a.test."][MODULE]
        assert got["inspected"] == 2
        assert got["action"] == {"log": 1, "strip": 1}
    finally:
        s.cleanup()


# Knot's exporter ---------------------------------------------------------------

def exporter_command():
    """(command, version tuple) of the exporter, or a reason to skip."""
    given = os.environ.get("MXGUARD_KNOT_EXPORTER")
    if given:
        version = os.environ.get("MXGUARD_KNOT_EXPORTER_VERSION", "")
        if not re.match(r"^\d+\.\d+", version):
            return None, "MXGUARD_KNOT_EXPORTER needs MXGUARD_KNOT_EXPORTER_VERSION"
        return shlex.split(given), tuple(int(x) for x in version.split(".")[:2])
    path = shutil.which("knot-exporter") or (
        "/usr/sbin/knot-exporter" if os.path.exists("/usr/sbin/knot-exporter") else None)
    if path is None:
        return None, ("knot-exporter is not installed (Debian packages it from "
                      "Debian 13 on); docs/operations.md says what works without it")
    try:
        version = importlib.metadata.version("knot_exporter")
    except importlib.metadata.PackageNotFoundError:
        return None, "knot-exporter's version is unknown (no knot_exporter metadata)"
    return [path], tuple(int(x) for x in version.split(".")[:2])


EXPORTER, EXPORTER_VERSION = exporter_command()
needs_exporter = pytest.mark.skipif(EXPORTER is None, reason=str(EXPORTER_VERSION))
PROMTOOL = shutil.which("promtool")
# A plain HTTP client: no proxy from the environment for 127.0.0.1.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Exporter:
    """knot-exporter on 127.0.0.1 and a free port, reading the server's
    control socket. Memory figures are left out (--no-meminfo): they come
    from every knotd the exporter sees, not only this one."""

    def __init__(self, server, *flags):
        self.port = free_port()
        self.log = os.path.join(server.dir, f"exporter-{self.port}.log")
        self.logfile = open(self.log, "wb")
        self.proc = subprocess.Popen(
            EXPORTER + ["--web-listen-addr", "127.0.0.1", "--web-listen-port", str(self.port),
                        "--knot-socket-path", os.path.join(server.dir, "knot.sock"),
                        "--no-meminfo", *flags],
            stdout=self.logfile, stderr=subprocess.STDOUT)

    def scrape(self, timeout=20):
        url = f"http://127.0.0.1:{self.port}/metrics"
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("knot-exporter exited:\n" + self.log_text())
            try:
                with HTTP.open(url, timeout=5) as r:
                    return r.read().decode()
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("knot-exporter does not answer:\n" + self.log_text())
                time.sleep(0.1)

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logfile.close()


def scrape(server, *flags):
    exporter = Exporter(server, *flags)
    try:
        return exporter.scrape()
    finally:
        exporter.stop()


def parse(text):
    """[(sample name, sorted labels, value)] through prometheus_client's
    parser of the exposition format. A label with an empty value is no label
    to Prometheus: left out."""
    parser = pytest.importorskip("prometheus_client.parser")
    out = []
    for family in parser.text_string_to_metric_families(text):
        for s in family.samples:
            labels = tuple(sorted((k, v) for k, v in s.labels.items() if v != ""))
            out.append((s.name, labels, s.value))
    return out


def duplicates(samples):
    count = collections.Counter((name, labels) for name, labels, _ in samples)
    return sorted(key for key, n in count.items() if n > 1)


def promtool_says(text):
    """promtool's complaints that make a scrape unfit: a parse error or a
    series twice ('metric not unique'). Its other lint (no help text, a
    '_count' suffix) is about the exporter's style, not the data. None
    without promtool."""
    if PROMTOOL is None:
        return None
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    lines = (r.stdout + r.stderr).splitlines()
    if r.returncode not in (0, 3):  # 3: lint problems only
        return [f"promtool check metrics: exit {r.returncode}"] + lines
    return [line for line in lines if "not unique" in line]


def assert_accepted(text):
    samples = parse(text)
    assert samples, "an empty scrape"
    assert duplicates(samples) == []
    problems = promtool_says(text)
    assert not problems, "\n".join(problems)
    return samples


def expected_series(counters, scheme):
    """{(sample name, labels): value} of every mxguard counter, gauge and
    '_total' counter, in the exporter's naming scheme."""
    out = {}
    for (zone, item, kind), value in counters.items():
        base = item.replace("-", "_")
        if scheme == "3.5":
            name = ("knot_zone_stats_" if zone else "knot_stats_") + base
            labels = {"module": MODULE}
        else:
            name = "knot_" + base
            labels = {"section": MODULE}
        if zone:
            labels["zone"] = zone
        if kind is not None:
            labels["type"] = kind
        key = tuple(sorted(labels.items()))
        out[(name, key)] = value
        out[(name + "_total", key)] = value
    return out


def mxguard_series(samples):
    """The samples of mxguard's counters: module or section mod-mxguard."""
    out = {}
    for name, labels, value in samples:
        d = dict(labels)
        if d.get("module") == MODULE or d.get("section") == MODULE:
            assert (name, labels) not in out
            out[(name, labels)] = value
    return out


def assert_every_counter_once(samples, counters, scheme):
    want = expected_series(counters, scheme)
    got = mxguard_series(samples)
    assert got == want
    # The test has something to show: counters of both zones and the
    # global instance, several kinds and actions.
    zones = {dict(labels).get("zone") for _, labels in got}
    assert zones == {"a.test.", "b.test.", None}
    kinds = {dict(labels).get("type") for name, labels in got if "violation" in name}
    assert kinds == {"loopback", "ip-literal", "special-address"}


@needs_exporter
def test_one_exporter(server):
    """The exporter as it comes, against a global and zone instances."""
    counters = module_counters(server)
    text = scrape(server)
    if EXPORTER_VERSION >= (3, 5):
        samples = assert_accepted(text)
        assert_every_counter_once(samples, counters, "3.5")
        return
    # Knot 3.3/3.4's exporter: the labels of a metric are those of its first
    # sample, a global one here; the zone samples of the same counter get
    # the zone as 'section' and the module as 'type', so the kinds of a
    # zone become duplicates (what docs/operations.md describes).
    samples = parse(text)
    dup = duplicates(samples)
    for zone in ("a.test.", "b.test."):
        values = [n for (z, item, _), n in counters.items()
                  if z == zone and item == "violation"]
        assert len(values) > 1
        key = ("knot_violation", (("section", zone), ("type", MODULE)))
        assert sorted(v for name, labels, v in samples
                      if (name, labels) == key) == sorted(values)
        assert key in dup
        # The single counters lose the module: knot_inspected{section=ZONE}.
        assert ("knot_inspected", (("section", zone),),
                counters[(zone, "inspected", None)]) in samples
    if PROMTOOL:
        assert any("knot_violation metric not unique" in line
                   for line in promtool_says(text))


@needs_exporter
def test_two_exporters(server):
    """One exporter for the global statistics, one for the zones': every
    version gets the labels right (the route for 3.3 and 3.4)."""
    counters = module_counters(server)
    glob = scrape(server, "--no-zone-stats", "--no-zone-status")
    zones = scrape(server, "--no-global-stats")
    scheme = "3.5" if EXPORTER_VERSION >= (3, 5) else "3.4"
    samples = assert_accepted(glob) + assert_accepted(zones)
    assert_every_counter_once(samples, counters, scheme)


def promql_test(exprs, series):
    """'promtool test rules' of exprs [(PromQL, {labels: value})] on series
    {(name, labels): per-minute increase}, counters from 0 over 2 hours
    (labels: sorted (name, value) pairs)."""
    def labels_text(labels):
        return "{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}"
    doc = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [{"series": name + labels_text(labels),
                              "values": f"0+{value:g}x120"}
                             for (name, labels), value in sorted(series.items())],
            "promql_expr_test": [{
                "expr": expr,
                "eval_time": "100m",
                "exp_samples": [{"labels": labels_text(labels), "value": value}
                                for labels, value in want.items()],
            } for expr, want in exprs],
        }],
    }
    return json.dumps(doc, indent=1)


def increases_per_hour(counters, zoned):
    """{(zone, kind): violations in an hour} when each counter grows by its
    value every minute."""
    out = {}
    for (zone, item, kind), value in counters.items():
        if item == "violation" and (zone is not None) == zoned:
            out[(zone, kind)] = 60 * value
    return out


@needs_exporter
@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")
def test_documented_promql(server, tmp_path):
    """The page's PromQL, on the series of this version's working route
    (one exporter from 3.5 on, two before), each a target of its own."""
    counters = module_counters(server)
    if EXPORTER_VERSION >= (3, 5):
        targets = {"one": scrape(server)}
    else:
        targets = {"global": scrape(server, "--no-zone-stats", "--no-zone-status"),
                   "zones": scrape(server, "--no-global-stats")}
    series = {}
    for instance, text in targets.items():
        for name, labels, value in parse(text):
            if name.endswith("_total") and dict(labels).get(
                    "module", dict(labels).get("section")) == MODULE:
                key = (name, tuple(sorted(labels + (("instance", instance),
                                                    ("job", "knot")))))
                series[key] = value
    zoned = increases_per_hour(counters, True)
    glob = increases_per_hour(counters, False)
    if EXPORTER_VERSION >= (3, 5):
        exprs = [(PROMQL_35_ZONES, {(("type", k), ("zone", z)): v
                                    for (z, k), v in zoned.items()}),
                 (PROMQL_35_GLOBAL, {(("type", k),): v for (_, k), v in glob.items()})]
    else:
        want = {(("type", k), ("zone", z)): v for (z, k), v in zoned.items()}
        want.update({(("type", k),): v for (_, k), v in glob.items()})
        exprs = [(PROMQL_34, want)]
    path = tmp_path / "promql.json"
    path.write_text(promql_test(exprs, series))
    r = subprocess.run([PROMTOOL, "test", "rules", str(path)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_docs_show_the_promql():
    with open(DOC) as f:
        text = f.read()
    for expr in (PROMQL_35_ZONES, PROMQL_35_GLOBAL, PROMQL_34):
        assert expr in text, expr
