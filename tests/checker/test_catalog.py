# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""Catalog members (RFC 9432) with -c: the checker reads the catalog zone's
file and checks each member with the module of its catalog template, as
knotd configures it. A real knotd serves the same catalog and must log, for
each member, what the checker predicts."""

import json
import os
import re
import subprocess
import sys

import pytest

from conftest import checker_path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from knotd_harness import Knotd  # noqa: E402

LOOPBACK_ZONE = ("$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 203.0.114.53\n"
                 "@ MX 10 localhost.\n")

CATALOG = """$ORIGIN cat.test.
@ SOA ns hm 1 2 3 4 5
@ NS ns.example.
version TXT "2"
m1.zones PTR a.test.
m2.zones PTR b.test.
group.m2.zones TXT "special"
m3.zones PTR c.test.
group.m3.zones TXT "plain"
m4.zones PTR d.test.
group.m4.zones TXT "no-such-group"
m5.zones PTR conf.test.
m6.zones PTR A.test.
m7.zones PTR missing.test.
"""

# a: the first template (strict); b: its group's (lax); c: a template
# without the module; d: an unknown group, the first; conf.test: a zone of
# the configuration, not a member for knotd; A.test: a.test again, ignored;
# missing.test: no file.
CONF = """@MODULE_SECTION@
server:
    listen: 127.0.0.1@@PORT@
    rundir: @DIR@
log:
  - target: stdout
    any: info
database:
    storage: @DIR@
mod-mxguard:
  - id: strict
    loopback: strip
    log-interval: 0
  - id: lax
    log-interval: 0
template:
  - id: default
    storage: @ZONES@
  - id: members
    storage: @ZONES@
    file: "%s.member"
    module: mod-mxguard/strict
  - id: special
    storage: @ZONES@
    file: "%s.member"
    module: mod-mxguard/lax
  - id: plain
    storage: @ZONES@
zone:
  - domain: cat.test
    catalog-role: interpret
    catalog-template: [ members, special, plain ]
  - domain: conf.test
    module: mod-mxguard/lax
"""

LOADED = ["a.test.", "b.test.", "c.test.", "d.test.", "conf.test."]
LOG = re.compile(r"\[(?P<zone>[^\]]+)\] module 'mod-mxguard/(?P<id>[^']+)', violation "
                 r"(?P<kind>\S+), .* action (?P<action>\S+)")


def write_catalog(zonedir):
    with open(os.path.join(zonedir, "cat.test.zone"), "w") as f:
        f.write(CATALOG)
    for name in ("a.test.member", "b.test.member", "c.test.zone", "d.test.member",
                 "conf.test.zone", "conf.test.member"):
        with open(os.path.join(zonedir, name), "w") as f:
            f.write(LOOPBACK_ZONE)


def checker_view(conf):
    """(zone, instance, action) of each finding, the summaries, the errors."""
    r = subprocess.run([checker_path(), "--format", "json", "-c", conf],
                       capture_output=True, text=True, timeout=60)
    objects = [json.loads(line) for line in r.stdout.splitlines()]
    summaries = {o["zone"]: o for o in objects if "findings" in o}
    found = {(o["zone"], summaries[o["zone"]]["module"].split("/")[1], o["action"])
             for o in objects if "violation" in o}
    return r, found, summaries, [o for o in objects if "error" in o]


def test_members_as_knotd_serves_them():
    server = Knotd(CONF, zones=())
    try:
        write_catalog(server.zonedir)

        def ready(s):
            log = s.log_text()
            return all(f"[{z}] loaded" in log for z in LOADED) and \
                "[missing.test.] zone event 'load' failed" in log
        server.start(ready=ready)
        mark = server.log_mark()
        for zone in LOADED:
            server.query(zone, "MX", tcp=True)
        logged = set()
        for line in server.violation_lines(mark, settle=0.3):
            m = LOG.search(line)
            assert m, line
            logged.add((m["zone"], m["id"], m["action"]))
        log = server.log_text()
        assert "[conf.test.] member zone already configured, ignoring" in log

        r, found, summaries, errors = checker_view(server.conf)
        assert found == logged
        assert logged == {("a.test.", "strict", "strip"), ("b.test.", "lax", "log"),
                          ("d.test.", "strict", "strip"), ("conf.test.", "lax", "log")}
        # conf.test is checked once, as the configuration's zone.
        assert [(z, o.get("catalog")) for z, o in summaries.items()] == [
            ("conf.test.", None), ("a.test.", "cat.test."), ("b.test.", "cat.test."),
            ("d.test.", "cat.test.")]
        assert summaries["a.test."]["file"] == os.path.join(server.zonedir,
                                                            "a.test.member")
        assert errors == [{
            "file": os.path.join(server.zonedir, "missing.test.member"),
            "zone": "missing.test.", "reason": "missing",
            "error": "zone missing.test. not checked: No such file or directory"}]
        assert r.returncode == 1
        assert r.stderr.splitlines()[-1] == \
            f"mxguard-check: {server.conf}: not checked: zone missing.test."
    finally:
        server.cleanup()


# The checker alone.

SECTIONS = "mod-mxguard:\n  - id: strict\n    loopback: strip\n"
TEMPLATES = ("template:\n  - id: default\n    storage: @DIR@\n"
             "  - id: members\n    storage: @DIR@\n    module: mod-mxguard/strict\n")
MODS = SECTIONS + TEMPLATES
CAT_ZONE = "zone:\n  - domain: cat.test\n    catalog-role: interpret\n" \
           "    catalog-template: members\n"
HEAD = "$ORIGIN cat.test.\n@ SOA ns hm 1 2 3 4 5\n@ NS ns.example.\n"


def make_conf(tmp_path, conf_text, catalog=None, members=()):
    conf = tmp_path / "knot.conf"
    conf.write_text(conf_text.replace("@DIR@", str(tmp_path)))
    if catalog is not None:
        (tmp_path / "cat.test.zone").write_text(catalog)
    for m in members:
        (tmp_path / f"{m}.zone").write_text(LOOPBACK_ZONE)
    return str(conf)


def check(*args):
    return subprocess.run([checker_path(), *args], capture_output=True, text=True,
                          timeout=60)


def test_catalog_file_missing(tmp_path):
    conf = make_conf(tmp_path, MODS + CAT_ZONE)
    r = check("-c", conf)
    assert r.returncode == 3
    assert r.stderr.splitlines() == [
        f"{tmp_path}/cat.test.zone: error: catalog members of cat.test. not checked: "
        "their list is in the catalog zone's data, and its file is not there (No such "
        "file or directory)",
        f"mxguard-check: {conf}: not checked: the members of catalog cat.test.",
    ]
    r = check("-q", "--format", "json", "-c", conf)
    assert [json.loads(line) for line in r.stdout.splitlines()] == [{
        "file": f"{tmp_path}/cat.test.zone", "zone": "cat.test.", "reason": "catalog",
        "error": "catalog members of cat.test. not checked: their list is in the "
                 "catalog zone's data, and its file is not there (No such file or "
                 "directory)"}]


@pytest.mark.parametrize("body,message", [
    ("m1.zones PTR a.test.\n",
     "{f}: error: no TXT record \"2\" at version.cat.test.: knotd refuses it as a catalog"),
    ("version TXT \"2\"\nm1.zones PTR a.test.\nm1.zones PTR b.test.\n",
     "{f}:6: error: m1.zones.cat.test. has more than one member PTR record: knotd "
     "refuses the catalog"),
    ("version TXT \"2\"\nm1.zones PTR a.test.\ngroup.m1.zones TXT \"x\" \"y\"\n",
     "{f}:6: error: the group TXT record of m1.zones.cat.test. has more than one string"),
    ("version TXT \"2\"\nm1.zones PTR a.test.\nm1.zones TXT (\n",
     "{f}:7: error: unclosed last multiline block"),
])
def test_catalog_refused(tmp_path, body, message):
    conf = make_conf(tmp_path, MODS + CAT_ZONE, HEAD + body, ["a.test", "b.test"])
    r = check("-q", "-c", conf)
    f = tmp_path / "cat.test.zone"
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        message.format(f=f),
        f"{f}: error: catalog members of cat.test. not checked: their list is in the "
        "catalog zone's data, and knotd would not load its file (above)"]


def test_catalog_members_checked(tmp_path):
    catalog = HEAD + 'version TXT "2"\nx.zones PTR a.test.\ny.zones PTR B.Test.\n' \
        'deeper.y.zones PTR c.test.\nzones PTR c.test.\n'
    conf = make_conf(tmp_path, MODS + CAT_ZONE, catalog, ["a.test", "b.test"])
    r = check("-c", conf)
    assert r.stdout.splitlines() == [
        f"{tmp_path}/{z}.test.zone:5: violation loopback, owner {z}.test., exchange "
        "localhost., preference 10, action strip" for z in "ab"]
    assert r.stderr.splitlines() == [
        f"{tmp_path}/{z}.test.zone: zone {z}.test., module mod-mxguard/strict, "
        "catalog cat.test.: 4 records, 1 MX RRsets checked, 1 finding (loopback 1)"
        for z in "ab"]
    assert r.returncode == 1


def test_catalog_items_from_template(tmp_path):
    # catalog-role and catalog-template may come from the zone's template.
    text = MODS + "  - id: cat\n    catalog-role: interpret\n" \
        "    catalog-template: members\n    storage: @DIR@\n" \
        "zone:\n  - domain: cat.test\n    template: cat\n"
    conf = make_conf(tmp_path, text, HEAD + 'version TXT "2"\nx.zones PTR a.test.\n',
                 ["a.test"])
    r = check("-q", "-c", conf)
    assert len(r.stdout.splitlines()) == 1 and r.returncode == 1


def test_catalog_without_module_not_read(tmp_path):
    # No template of the catalog runs the module: its members are not
    # served with it, and the catalog is not read.
    text = MODS.replace("    module: mod-mxguard/strict\n", "") + CAT_ZONE
    conf = make_conf(tmp_path, text)
    r = check("-c", conf)
    assert r.returncode == 2
    assert r.stderr == f"mxguard-check: {conf}: no zone is served with mod-mxguard\n"


def test_catalog_members_global_module(tmp_path):
    # A template without the module: the global module serves the members.
    text = "mod-mxguard:\n  - id: g\n" \
        "template:\n  - id: default\n    storage: @DIR@\n    global-module: mod-mxguard/g\n" \
        "  - id: members\n    storage: @DIR@\n" + CAT_ZONE
    conf = make_conf(tmp_path, text, HEAD + 'version TXT "2"\nx.zones PTR a.test.\n',
                 ["a.test", "cat.test"])
    (tmp_path / "cat.test.zone").write_text(HEAD + 'version TXT "2"\nx.zones PTR a.test.\n')
    r = check("-c", conf)
    assert [line.split(":")[0] for line in r.stderr.splitlines()] == \
        [f"{tmp_path}/cat.test.zone", f"{tmp_path}/a.test.zone"]
    assert "module mod-mxguard/g, catalog cat.test." in r.stderr.splitlines()[1]


def test_member_of_two_catalogs(tmp_path):
    # knotd ignores a member an earlier catalog has: checked once.
    text = MODS + CAT_ZONE + "  - domain: cat2.test\n    catalog-role: interpret\n" \
        "    catalog-template: members\n"
    conf = make_conf(tmp_path, text, HEAD + 'version TXT "2"\nx.zones PTR a.test.\n',
                 ["a.test"])
    (tmp_path / "cat2.test.zone").write_text(
        HEAD.replace("cat.test.", "cat2.test.") +
        'version TXT "2"\nx.zones PTR a.test.\ny.zones PTR b.test.\n')
    (tmp_path / "b.test.zone").write_text(LOOPBACK_ZONE)
    r = check("-c", conf)
    assert [line.split(", catalog ")[1].split(":")[0]
            for line in r.stderr.splitlines()] == ["cat.test.", "cat2.test."]
    assert r.stderr.splitlines()[1].startswith(f"{tmp_path}/b.test.zone: ")


def test_module_id_for_members(tmp_path):
    # --module-id checks the members served with the module with its instance.
    text = SECTIONS + "  - id: quiet\n    loopback: off\n" + TEMPLATES + CAT_ZONE
    conf = make_conf(tmp_path, text, HEAD + 'version TXT "2"\nx.zones PTR a.test.\n',
                     ["a.test"])
    assert check("-q", "-c", conf).returncode == 1
    r = check("-q", "-c", conf, "--module-id", "quiet")
    assert (r.returncode, r.stdout) == (0, "")


def test_generated_catalog_not_checked(tmp_path):
    # knotd makes a generated catalog's data (no MX, maybe no file); its
    # members are zones of the configuration, checked as such.
    text = SECTIONS + "template:\n  - id: default\n    storage: @DIR@\n" \
        "    module: mod-mxguard/strict\n" \
        "zone:\n  - domain: gen.test\n    catalog-role: generate\n" \
        "  - domain: a.test\n    catalog-role: member\n    catalog-zone: gen.test\n"
    conf = make_conf(tmp_path, text, members=["a.test"])
    r = check("-c", conf)
    assert r.stderr.splitlines() == [
        f"{tmp_path}/a.test.zone: zone a.test., module mod-mxguard/strict: 4 records, "
        "1 MX RRsets checked, 1 finding (loopback 1)"]
    assert r.returncode == 1
