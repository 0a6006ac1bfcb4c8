# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unload: after a reload that removes the module, nothing of it runs.

mxguard_unload frees the instance (ctx_free), whose log table waits for its
pending RCU callbacks (rcu_barrier in mx_log_limit_free) before knotd may
dlclose the file. Under MXGUARD_ASAN / MXGUARD_VALGRIND a callback into
freed or unmapped code would be reported; here the answers and the log say
that the module is gone.
"""

import time

from knotd_harness import INSTALLED, Knotd, conf

MODULES = """
mod-mxguard:
  - id: enforce
    loopback: strip
    special-address: strip
    null-mx: [ parked.example.test ]
    log-interval: 3600
    log-table-size: 16
"""

ZONES_WITH = """  - domain: example.test
    module: mod-mxguard/enforce
  - domain: clean.test
"""

ZONES_WITHOUT = """  - domain: example.test
  - domain: clean.test
"""

# A global instance only observes (rewriting ones are refused there).
OBSERVE = """
  - id: observe
    log-interval: 3600
    log-table-size: 16
"""

NAMES = ["loop", "loopaddr", "special", "special6", "twice", "partial", "chain",
         "a.wild", "parked", "clean"]


def answers(server):
    out = {}
    for name in NAMES:
        r = server.query(f"{name}.example.test.", "MX")
        out[name] = sorted(rr.to_text() for rr in r.answer)
    return out


def fill_log_table(server):
    # Distinct owners: more keys than log-table-size, so the table prunes
    # (call_rcu) while it is in use.
    for i in range(40):
        server.query(f"n{i}.wild.example.test.", "MX")
    for name in NAMES:
        server.query(f"{name}.example.test.", "MX", tcp=True)


def reload_without_module(server, text):
    server.write_conf(text)
    res = server.knotc("reload")
    assert res.returncode == 0, res.stdout + res.stderr
    time.sleep(1)
    # The module's own objects: its .so file stays mapped only if knotd
    # loads it from its module directory (INSTALLED).
    return res


def check_gone(server, bare):
    assert answers(server) == bare
    mark = server.log_mark()
    fill_log_table(server)
    assert answers(server) == bare
    assert server.module_lines(mark, settle=0.5) == []
    assert server.alive()


def test_reload_removes_zone_module(knotd, bare_knotd):
    bare = answers(bare_knotd)
    s = Knotd(conf(MODULES, ZONES_WITH)).start()
    try:
        assert answers(s) != bare  # enforcing
        fill_log_table(s)
        assert s.module_lines() != []
        reload_without_module(s, conf(MODULES, ZONES_WITHOUT))
        check_gone(s, bare)
    finally:
        s.cleanup()


def test_reload_removes_global_module_and_file(bare_knotd):
    bare = answers(bare_knotd)
    text = conf(MODULES + OBSERVE, ZONES_WITHOUT).replace(
        "template:\n  - id: default\n", "template:\n  - id: default\n"
        "    global-module: mod-mxguard/observe\n")
    s = Knotd(text).start()
    try:
        assert answers(s) == bare  # observing
        mark = s.log_mark()
        fill_log_table(s)
        assert s.module_lines(mark) != []
        # Neither a mod-mxguard section nor a module: section any more.
        plain = conf("", ZONES_WITHOUT).replace("@MODULE_SECTION@", "")
        reload_without_module(s, plain)
        check_gone(s, bare)
        if INSTALLED is None:
            with open(f"/proc/{s.proc.pid}/maps") as f:
                assert "mxguard.so" not in f.read()
        # And back: a new instance loads and logs again.
        s.write_conf(text)
        assert s.knotc("reload").returncode == 0
        time.sleep(1)
        mark = s.log_mark()
        answers(s)
        assert s.module_lines(mark) != []
    finally:
        s.cleanup()
