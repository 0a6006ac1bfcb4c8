# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""-c covers what knotd serves (issue 25, item 3): include items followed as
knotc follows them (each row goes through `knotc conf-check` too), catalog
members checked as knotd configures them (a real knotd serves the same
catalog), and zones that cannot be checked named, with exit status 3."""

import os
import subprocess
import sys

import pytest

from conftest import checker_path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from knotd_harness import (INSTALLED, KNOT_VERSION, KNOTC, MODULE, MODULE_SECTION,  # noqa: E402
                           Knotd, wrap)

LOOPBACK_ZONE = ("$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 203.0.114.53\n"
                 "@ MX 10 localhost.\n")
CLEAN_ZONE = ("$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 203.0.114.53\n"
              "@ MX 10 ns\n")


def run(*args, cwd=None):
    return subprocess.run([checker_path(), *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd)


def module_section():
    """What makes knotc load the built module (nothing when installed)."""
    return "" if INSTALLED else MODULE_SECTION.replace("@MODULE@", MODULE)


def write_tree(root, files):
    """Writes {relative path: text}; a text of None makes a FIFO."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            os.mkfifo(path)
        else:
            path.write_text(text.replace("@DIR@", str(root)))


def first(lines, prefix):
    for line in lines:
        if line.startswith(prefix):
            return line[len(prefix):]
    return None


# include: the same verdict and the same words as knotc conf-check.

MODS = "mod-mxguard:\n  - id: a\n    loopback: strip\n"
ZONE_A = "zone:\n  - domain: a.test\n    module: mod-mxguard/a\n"
TPL = "template:\n  - id: default\n    storage: @DIR@/zones\n"

OK, REFUSE = "accept", "refuse"

INCLUDES = [
    # Relative to the directory of the file that holds the item, nested.
    ("relative-nested", {"knot.conf": "include: sub/mods.conf\n" + ZONE_A,
                         "sub/mods.conf": MODS + "include: ../tpl.conf\n",
                         "tpl.conf": TPL}, OK, None),
    ("absolute", {"knot.conf": "include: @DIR@/sub/mods.conf\n" + ZONE_A,
                  "sub/mods.conf": MODS}, OK, None),
    # Matches are read in sorted order: 2.conf uses the id 1.conf defines.
    ("glob-sorted", {"knot.conf": "include: d/*.conf\n" + ZONE_A,
                     "d/2.conf": "zone:\n  - domain: b.test\n    module: mod-mxguard/x\n",
                     "d/1.conf": MODS + "  - id: x\n"}, OK, None),
    ("glob-no-match", {"knot.conf": MODS + "include: empty/*.conf\n" + ZONE_A,
                       "empty/readme.txt": "nothing\n"}, OK, None),
    ("glob-missing-directory", {"knot.conf": MODS + "include: none/*.conf\n" + ZONE_A},
     OK, None),
    ("directory", {"knot.conf": MODS + "include: sub\n" + ZONE_A,
                   "sub/x.txt": "x\n"}, OK, None),
    ("fifo", {"knot.conf": MODS + "include: pipe.conf\n" + ZONE_A,
              "pipe.conf": None}, OK, None),
    # Knot 3.2 and 3.3 skip an include without a value, 3.4 refuses it.
    ("empty-value", {"knot.conf": MODS + "include: \n" + ZONE_A},
     *((REFUSE, "missing value") if KNOT_VERSION >= (3, 4) else (OK, None))),
    ("missing-file", {"knot.conf": MODS + "include: nothere.conf\n" + ZONE_A},
     REFUSE, "'include', value 'nothere.conf'"),
    # Only '*' makes a pattern that may match nothing.
    ("missing-question-mark", {"knot.conf": MODS + "include: d/?.conf\n" + ZONE_A,
                               "d/ab.conf": "\n"}, REFUSE, "'include', value 'd/?.conf'"),
    ("error-in-included", {"knot.conf": "include: d/*.conf\n" + ZONE_A,
                           "d/bad.conf": MODS + "  - id: b\n    loopback: blah\n"},
     REFUSE, "d/bad.conf', line 5, item 'loopback', value 'blah'"),
    ("error-via-dotdot", {"knot.conf": "include: sub/mods.conf\n" + ZONE_A,
                          "sub/mods.conf": MODS + "include: ../bad.conf\n",
                          "bad.conf": "mod-mxguard:\n  - id: c\n    ip-literal: no\n"},
     REFUSE, "sub/../bad.conf', line 3, item 'ip-literal', value 'no'"),
    ("loop", {"knot.conf": "include: loop.conf\n", "loop.conf": "include: loop.conf\n"},
     REFUSE, "include loop detected"),
    # Six nested includes are followed.
    ("six-deep", {"knot.conf": MODS + "include: 1.conf\n" + ZONE_A,
                  **{f"{i}.conf": f"include: {i + 1}.conf\n" for i in range(1, 6)},
                  "6.conf": "template:\n  - id: six\n"}, OK, None),
    ("seven-deep", {"knot.conf": MODS + "include: 1.conf\n" + ZONE_A,
                    **{f"{i}.conf": f"include: {i + 1}.conf\n" for i in range(1, 7)},
                    "7.conf": "template:\n  - id: seven\n"}, REFUSE,
     "include loop detected"),
    ("duplicate-id-across-files", {"knot.conf": MODS + "include: more.conf\n" + ZONE_A,
                                   "more.conf": "mod-mxguard:\n  - id: a\n"},
     REFUSE, "more.conf', line 2, item 'id', value 'a'"),
    # A reference to an id that an include defines only later.
    ("reference-before-include", {"knot.conf": ZONE_A + "include: mods.conf\n",
                                  "mods.conf": MODS},
     REFUSE, "item 'module', value 'mod-mxguard/a'"),
    # The last section of an included file is checked at its end.
    ("section-ends-with-file", {"knot.conf": "include: mods.conf\n" + ZONE_A,
                                "mods.conf": "mod-mxguard:\n  - id: a\n"
                                "    allow-address: 10.0.0.9-10.0.0.1\n"},
     REFUSE, "section 'mod-mxguard[a]'"),
    # catalog-template names a template read before.
    ("catalog-template-later", {"knot.conf": MODS + "zone:\n  - domain: cat.test\n"
                                "    catalog-role: interpret\n"
                                "    catalog-template: members\n"
                                "template:\n  - id: members\n"},
     REFUSE, "item 'catalog-template', value 'members'"),
    ("catalog-template-in-include", {"knot.conf": MODS + "include: tpl.conf\n"
                                     "zone:\n  - domain: cat.test\n"
                                     "    catalog-role: interpret\n"
                                     "    catalog-template: members\n",
                                     "tpl.conf": "template:\n  - id: members\n"
                                     "    module: mod-mxguard/a\n"}, OK, None),
]


@pytest.mark.parametrize("files,verdict,words", [p[1:] for p in INCLUDES],
                         ids=[p[0] for p in INCLUDES])
def test_include_like_knotc(tmp_path, files, verdict, words):
    files = dict(files)
    files["knot.conf"] = module_section() + files["knot.conf"]
    write_tree(tmp_path, files)
    (tmp_path / "zones").mkdir(exist_ok=True)
    conf = str(tmp_path / "knot.conf")
    knotc = subprocess.run(wrap([KNOTC, "-c", conf, "conf-check"]), capture_output=True,
                           text=True, timeout=30)
    knotc_lines = (knotc.stdout + knotc.stderr).splitlines()
    mine = run("-q", "--fail-on", "never", "-c", conf, "--module-id", "a",
               os.path.join(HERE, "zones", "clean.zone"))

    # knotd's warnings (an include file skipped), in its words.
    def warnings(lines):
        return sorted(line for line in lines if line.startswith("warning: config, "))
    assert warnings(mine.stderr.splitlines()) == warnings(knotc_lines), knotc_lines
    if verdict == OK:
        assert knotc.returncode == 0, knotc_lines
        assert mine.returncode == 0, mine.stderr
        return
    assert knotc.returncode != 0, knotc_lines
    assert mine.returncode == 2, mine.stderr
    msg = first(mine.stderr.splitlines(), "mxguard-check: ")
    assert msg == first(knotc_lines, "error: "), (mine.stderr, knotc_lines)
    assert words in msg


def test_include_table_is_large_enough():
    assert len(INCLUDES) >= 15
    assert {OK, REFUSE} == {p[2] for p in INCLUDES}


def test_zones_of_included_files_checked(tmp_path):
    # Zones and templates from included files, in the order knotd reads them.
    write_tree(tmp_path, {
        "knot.conf": MODS + "include: tpl.conf\ninclude: zones.d/*.conf\n"
                     "zone:\n  - domain: z.test\n    module: mod-mxguard/a\n",
        "tpl.conf": TPL + "    module: mod-mxguard/a\n",
        "zones.d/10-x.conf": "zone:\n  - domain: x.test\n",
        "zones.d/20-y.conf": "zone:\n  - domain: y.test\n",
        "zones/x.test.zone": LOOPBACK_ZONE, "zones/y.test.zone": CLEAN_ZONE,
        "zones/z.test.zone": LOOPBACK_ZONE,
    })
    r = run("-c", str(tmp_path / "knot.conf"))
    assert [line.split(":")[0] for line in r.stderr.splitlines()] == \
        [str(tmp_path / "zones" / f"{z}.test.zone") for z in "xyz"]
    assert r.returncode == 1


# Zones without their file: named, the others checked, exit status 3.

def served_conf(tmp_path, zones):
    text = MODS + TPL + "    module: mod-mxguard/a\nzone:\n" + "".join(
        f"  - domain: {z}\n" for z in zones)
    (tmp_path / "knot.conf").write_text(text.replace("@DIR@", str(tmp_path)))
    (tmp_path / "zones").mkdir(exist_ok=True)
    return str(tmp_path / "knot.conf")


def test_missing_zone_file(tmp_path):
    conf = served_conf(tmp_path, ["a.test", "b.test", "c.test"])
    (tmp_path / "zones" / "a.test.zone").write_text(CLEAN_ZONE)
    (tmp_path / "zones" / "c.test.zone").write_text(CLEAN_ZONE)
    z = tmp_path / "zones"
    r = run("-c", conf)
    assert r.returncode == 3
    assert r.stdout == ""
    assert r.stderr.splitlines() == [
        f"{z}/a.test.zone: zone a.test., module mod-mxguard/a: 4 records, "
        "1 MX RRsets checked, 0 findings",
        f"{z}/b.test.zone: error: zone b.test. not checked: No such file or directory",
        f"{z}/c.test.zone: zone c.test., module mod-mxguard/a: 4 records, "
        "1 MX RRsets checked, 0 findings",
        f"mxguard-check: {conf}: not checked: zone b.test.",
    ]
    # -q drops the summaries and the last line, never the zone's error.
    r = run("-q", "-c", conf)
    assert (r.returncode, r.stderr.splitlines()) == (3, [
        f"{z}/b.test.zone: error: zone b.test. not checked: No such file or directory"])
    # JSON: an object naming the zone, with or without -q.
    r = run("-q", "--format", "json", "-c", conf)
    assert r.stdout.splitlines() == [
        '{"file": "%s/b.test.zone", "zone": "b.test.", "error": "zone b.test. not '
        'checked: No such file or directory", "reason": "missing"}' % z]
    # Findings win over zones not checked; bad zone files over both.
    (tmp_path / "zones" / "c.test.zone").write_text(LOOPBACK_ZONE)
    assert run("-q", "-c", conf).returncode == 1
    (tmp_path / "zones" / "a.test.zone").write_text("@ SOA ns hm 1 2 3 4 5\nns A x\n")
    assert run("-q", "-c", conf).returncode == 2


def test_missing_storage_directory(tmp_path):
    conf = served_conf(tmp_path, ["a.test"])
    (tmp_path / "zones").rmdir()
    r = run("-q", "-c", conf)
    assert r.returncode == 3
    assert "zone a.test. not checked: No such file or directory" in r.stderr


def test_other_file_problems_stay_errors(tmp_path):
    # Only a file that is not there is a zone not checked yet.
    conf = served_conf(tmp_path, ["a.test"])
    (tmp_path / "zones" / "a.test.zone").mkdir()
    r = run("-q", "--format", "json", "-c", conf)
    assert r.returncode == 2
    assert [(o["zone"], o["reason"]) for o in map(__import__("json").loads,
                                                   r.stdout.splitlines())] == \
        [("a.test.", "unreadable")]


def test_missing_file_on_command_line_is_bad_input(tmp_path):
    conf = served_conf(tmp_path, ["a.test"])
    r = run("-q", "-c", conf, str(tmp_path / "zones" / "a.test.zone"))
    assert r.returncode == 2
