# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""The counters as knotc prints them and as Knot's Prometheus exporter reads
them: knotd's control interface through Debian's python3-libknot (the
library knot_exporter uses), mapped to metric names by the rule that
docs/reference/mxguard.rst documents ("Statistics in knotc and Prometheus")."""

import os

import pytest

from knotd_harness import Knotd, conf

libknot = pytest.importorskip("libknot")
import libknot.control  # noqa: E402

MODULES = """
mod-mxguard:
  - id: enforce
    loopback: strip
    log-interval: 0
  - id: everywhere
    log-interval: 0
"""


@pytest.fixture(scope="module")
def server():
    zones = "  - domain: example.test\n    module: mod-mxguard/enforce\n  - domain: clean.test\n"
    text = conf(MODULES, zones).replace(
        "    journal-content: none\n",
        "    journal-content: none\n    global-module: mod-mxguard/everywhere\n")
    s = Knotd(text).start()
    s.query("loop.example.test.", "MX")
    s.query("loop.example.test.", "MX")
    s.query("clean.test.", "MX")
    yield s
    s.cleanup()


def control_stats(server, cmd):
    libknot.Knot()
    ctl = libknot.control.KnotCtl()
    ctl.connect(os.path.join(server.dir, "knot.sock"))
    try:
        ctl.send_block(cmd=cmd, flags="")
        return ctl.receive_stats()
    finally:
        ctl.send(libknot.control.KnotCtlType.END)
        ctl.close()


def exporter_metrics(section_data, labels):
    """knot_exporter's rule: knot_<item> with '-' as '_', the module as the
    'section' label, an index as the 'type' label."""
    out = {}
    for section, items in section_data.items():
        for item, value in items.items():
            name = ("knot_" + item).replace("-", "_")
            if isinstance(value, dict):
                for kind, n in value.items():
                    out[(name, tuple(sorted({**labels, "section": section,
                                             "type": kind}.items())))] = n
            else:
                out[(name, tuple(sorted({**labels, "section": section}.items())))] = value
    return out


def test_knotc_names(server):
    zone = server.knotc("zone-stats", "example.test", "mod-mxguard").stdout.splitlines()
    assert "[example.test.] mod-mxguard.violation[loopback] = 2" in zone
    assert "[example.test.] mod-mxguard.action[strip] = 2" in zone
    assert "[example.test.] mod-mxguard.inspected = 2" in zone
    glob = server.knotc("stats", "mod-mxguard").stdout.splitlines()
    # The global observer judges the answers no zone instance judged (here
    # clean.test's): the zone's and the global counters add up, no answer
    # counted twice.
    assert "mod-mxguard.inspected = 1" in glob
    assert not any("violation[" in line for line in glob)


def test_exporter_view_of_zone_counters(server):
    stats = control_stats(server, "zone-stats")
    zone = stats["zone"]["example.test."]
    metrics = exporter_metrics(zone, {"zone": "example.test."})
    key = lambda name, **labels: (name, tuple(sorted(labels.items())))  # noqa: E731
    assert metrics[key("knot_violation", zone="example.test.", section="mod-mxguard",
                       type="loopback")] == 2
    assert metrics[key("knot_action", zone="example.test.", section="mod-mxguard",
                       type="strip")] == 2
    assert metrics[key("knot_inspected", zone="example.test.", section="mod-mxguard")] == 2
    assert metrics[key("knot_skipped", zone="example.test.", section="mod-mxguard")] == 0


def test_exporter_view_of_global_counters(server):
    stats = control_stats(server, "stats")
    metrics = exporter_metrics({"mod-mxguard": stats["mod-mxguard"]}, {})
    assert metrics[("knot_inspected", (("section", "mod-mxguard"),))] == 1
    assert set(name for name, _ in metrics) == {
        "knot_inspected", "knot_truncated", "knot_skipped", "knot_synthesized", "knot_error"}
