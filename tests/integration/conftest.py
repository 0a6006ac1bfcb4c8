# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from knotd_harness import REPORT_DIR, SUMMARY, Knotd, conf, memcheck_problems  # noqa: E402

MAIN_MODULES = """
mod-mxguard:
  - id: default
    allow-address: [ 192.168.1.0/24, 2001:db8:25::-2001:db8:25::ff ]
    log-interval: 0
"""

MAIN_ZONES = """
  - domain: example.test
    module: mod-mxguard/default
  - domain: clean.test
    module: mod-mxguard
  - domain: other.test
"""


@pytest.fixture(scope="session", autouse=True)
def memory_checker():
    """Under MXGUARD_ASAN or MXGUARD_VALGRIND: no report from any knotd or
    knotc of the whole session (see knotd_harness)."""
    yield
    problems = memcheck_problems()
    assert not problems, (f"memory checker reports in {REPORT_DIR}:\n" +
                          "\n".join(problems))


@pytest.fixture(scope="session")
def knotd():
    """knotd with the module on example.test (log-interval 0) and, with no
    configuration section, on clean.test."""
    server = Knotd(conf(MAIN_MODULES, MAIN_ZONES)).start()
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def bare_knotd():
    """The same zones without the module: the reference answers."""
    zones = "  - domain: example.test\n  - domain: clean.test\n  - domain: other.test\n"
    server = Knotd(conf("", zones)).start()
    yield server
    server.cleanup()


def pytest_terminal_summary(terminalreporter):
    """What tests recorded for the log (knotd_harness.SUMMARY)."""
    if SUMMARY:
        terminalreporter.section("knotd_harness summary")
        for line in SUMMARY:
            terminalreporter.write_line(line)
