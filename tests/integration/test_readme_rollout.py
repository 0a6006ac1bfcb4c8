# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""The README's rollout, as written (issue 25): its configuration blocks are
read from the README itself, put into a knot.conf (paths moved into the
test's folder), and each step does what the README says: step 1 changes no
answer and the report lists the problems by zone; step 3 enforces on the
template's zones, the observer keeps the others, and each violation is
counted once."""

import json
import os
import re
import subprocess
import sys
import time

from knotd_harness import BASE_CONF, SRCDIR, Knotd

README = os.path.join(SRCDIR, "README")
REPORT = os.path.join(SRCDIR, "report", "mxguard-report")


def readme_blocks(step):
    """The indented configuration blocks of a numbered rollout step."""
    text = open(README).read()
    start = text.index(f"\n{step}. ")
    end = text.index(f"\n{step + 1}. ", start) if f"\n{step + 1}. " in text[start:] \
        else text.index("\nWARNING", start)
    blocks, current = [], []
    for line in text[start:end].splitlines():
        if line.startswith("     ") and line.strip():
            current.append(line[5:])
        elif current:
            blocks.append("\n".join(current))
            current = []
    return [b for b in blocks if ":" in b and "mxguard-report" not in b]


def conf_from(blocks, zones):
    """BASE_CONF without its template, then the README's blocks merged by
    section (their storage moved to the test's zones)."""
    base = BASE_CONF.split("\ntemplate:")[0].replace("@MODULES@", "")
    sections = {}
    for block in blocks:
        name = None
        for line in block.splitlines():
            if not line.startswith(" "):
                name = line.rstrip(":")
                sections.setdefault(name, [])
            else:
                sections[name].append(line)
    text = base
    for name in ("mod-mxguard", "template", "zone"):
        lines = sections.get(name, [])
        if name == "zone":
            lines = lines + zones
        if lines:
            text += f"\n{name}:\n" + "\n".join(lines) + "\n"
    return text.replace('"/var/lib/knot"', "@ZONES@")


def report(server):
    res = subprocess.run([sys.executable, REPORT, "--format", "json", server.log],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout)


def ask_all(server):
    for name in ("loop.example.test.", "loop.customer1.example.", "clean.example.test."):
        server.query(name, "MX")
    time.sleep(0.3)


def customer_zone(server):
    with open(os.path.join(server.zonedir, "customer1.example.zone"), "w") as f:
        f.write("$ORIGIN customer1.example.\n$TTL 3600\n"
                "@ SOA ns hostmaster 1 3600 900 604800 300\n@ NS ns\n"
                "ns A 198.41.0.4\nloop MX 10 localhost.\n")


def test_readme_rollout_steps():
    zones = ["  - domain: example.test", "  - domain: customer1.example"]
    step1 = conf_from(readme_blocks(1), zones)
    assert "global-module: mod-mxguard/observe" in step1
    s = Knotd(step1, zones=("example.test",))
    customer_zone(s)
    s.start()
    try:
        ask_all(s)
        r = s.query("loop.customer1.example.", "MX")
        assert [rd.to_text() for rd in r.answer[0]] == ["10 localhost."]  # unchanged
        doc = report(s)
        zones_seen = {v["zone"] for v in doc["violations"]}
        assert {"example.test.", "customer1.example."} <= zones_seen, doc["violations"]
        s.stop()

        # Step 3: the README's blocks added to step 1's configuration.
        step3 = conf_from(readme_blocks(1) + readme_blocks(3),
                          ["  - domain: example.test"])
        assert "module: mod-mxguard/enforce" in step3
        s.write_conf(step3)
        mark = s.log_mark()
        s.start()
        ask_all(s)
        r = s.query("loop.customer1.example.", "MX")
        assert [rd.to_text() for rd in r.answer[0]] == ["0 ."]
        r = s.query("loop.example.test.", "MX")
        assert [rd.to_text() for rd in r.answer[0]] == ["10 localhost."]  # observed only
        lines = [l for l in s.violation_lines(mark, settle=0.3)]
        customer = [l for l in lines if "owner loop.customer1.example." in l]
        # Counted once: by the zone's instance, not by the observer too.
        assert len(customer) == 1 and "mod-mxguard/enforce" in customer[0], lines
        observed = [l for l in lines if "owner loop.example.test." in l]
        assert observed and all(l.endswith("zone example.test.") for l in observed), lines
    finally:
        s.cleanup()
