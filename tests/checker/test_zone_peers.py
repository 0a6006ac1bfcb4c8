# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""Zones as knotd finds them: every file of load-corpus/ is loaded by
knotd's own zone loader (`knotc zone-check`, which runs the loader and the
semantic checks knotd runs when it loads a zone) and by mxguard-check; both
must agree whether the zone loads. kzonecheck would be the natural peer,
but Debian's knot packages do not ship it; knotc zone-check is knotd's
verdict itself (kzonecheck also fails on warnings, such as a missing NS,
that knotd loads)."""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "load-corpus")
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from knotd_harness import KNOTC, wrap  # noqa: E402

FILES = sorted(f for f in os.listdir(CORPUS) if f.endswith(".zone"))


def zone_name(path):
    return os.path.basename(path)[:-len(".zone")]


def knotd_loads(tmp_path, path, name):
    conf = tmp_path / "knot.conf"
    conf.write_text(f'zone:\n  - domain: "{name}"\n    file: "{path}"\n')
    res = subprocess.run(wrap([KNOTC, "-c", str(conf), "zone-check", name]),
                         capture_output=True, text=True, timeout=60)
    return res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("name", FILES)
def test_same_load_verdict(check, tmp_path, name):
    path = os.path.join(CORPUS, name)
    zone = zone_name(path)
    loads, out = knotd_loads(tmp_path, path, zone)
    r = check("-q", "--fail-on", "never", "-o", zone, path)
    assert r.rc in (0, 2), r.err
    assert (r.rc == 0) == loads, (out, r.err)
    if not loads:
        # The checker says why, with the file (and the line where there is one).
        assert r.err and all(line.startswith(path) for line in r.err), r.err


@pytest.mark.parametrize("name", FILES)
def test_origin_without_option(check, name):
    # Without -o the origin is $ORIGIN before the first record, else the
    # file name: for files without $ORIGIN, the zone knotd was given.
    path = os.path.join(CORPUS, name)
    with open(path, errors="replace") as f:
        has_origin = "$ORIGIN" in f.read()
    a = check("--fail-on", "never", path)
    b = check("--fail-on", "never", "-o", zone_name(path), path)
    if not has_origin:
        assert (a.rc, a.out, a.err) == (b.rc, b.out, b.err)


def test_corpus_has_both_verdicts(check):
    codes = {check("-q", "--fail-on", "never", os.path.join(CORPUS, f)).rc for f in FILES}
    assert codes == {0, 2}
    assert len(FILES) >= 20
