# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("MXGUARD_SRCDIR", os.path.dirname(os.path.dirname(HERE)))
REPORT = os.environ.get("MXGUARD_REPORT", os.path.join(SRCDIR, "report", "mxguard-report"))
SAMPLE = os.path.join(HERE, "sample")

sys.path.insert(0, HERE)


def run_report(*args, stdin=None):
    """mxguard-report under Debian's python3: (exit code, stdout, stderr)."""
    proc = subprocess.run([sys.executable, REPORT, *args], input=stdin,
                          capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


def report_json(*args, stdin=None):
    code, out, err = run_report("--format", "json", *args, stdin=stdin)
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="session")
def live_session(tmp_path_factory):
    """One knotd session of logrun.py: its log file and counter texts."""
    import logrun
    log, zone_stats, stats = logrun.session()
    path = tmp_path_factory.mktemp("live") / "knotd.log"
    path.write_text(log)
    return str(path), log, zone_stats, stats
