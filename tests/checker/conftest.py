# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later

import json
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ZONES = os.path.join(HERE, "zones")
CONF = os.path.join(HERE, "conf")


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout.splitlines()
        self.err = proc.stderr.splitlines()

    def json(self):
        return [json.loads(line) for line in self.out]


def checker_path():
    path = os.environ.get("MXGUARD_CHECK")
    if not path:
        path = os.path.join(HERE, "..", "..", "mxguard-check")
    return path


@pytest.fixture(scope="session")
def check():
    """Runs the built mxguard-check in tests/checker/zones, so that file
    names in its output are the short relative ones."""
    path = checker_path()
    if not os.access(path, os.X_OK):
        pytest.fail("mxguard-check not built: %s (set MXGUARD_CHECK)" % path)

    def run(*args):
        proc = subprocess.run([path, *args], cwd=ZONES, capture_output=True,
                              text=True, timeout=60)
        return Result(proc)
    return run
