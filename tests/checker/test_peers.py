# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""mxguard-check against its peers on the same zones.

BIND's named-checkzone (-m warn -M warn -i full) has three MX rules that
mxguard-check shares: an MX target that is a CNAME, an MX target written
as an address, and an in-zone MX target with no A or AAAA record. (named
also calls a target below a DNAME illegal; for mxguard-check, as for the
module, such a target is out of the zone.) Where both tools have a rule
they must agree, record for record; where they differ, the difference is
listed here (and in docs/design/checker.md) and asserted, so that a change
on either side shows.

Zonemaster's Zone08 (MX is not an alias) and Zone09 (MX record present,
null MX rules) have no offline tool; their cases are asserted as verdicts
of mxguard-check on the sample zones.
"""

import os
import re
import shutil
import subprocess

import pytest

from conftest import ZONES

NAMED_CHECKZONE = os.environ.get("NAMED_CHECKZONE") or shutil.which("named-checkzone") \
    or ("/usr/bin/named-checkzone" if os.access("/usr/bin/named-checkzone", os.X_OK) else None)

# Sample zones with an SOA, which named-checkzone can load.
ZONE_FILES = [
    "clean", "cname-exchange", "delegation", "dname", "ent", "implicit", "include",
    "ip-literal", "loopback", "missing-address", "no-mail", "null-mx", "out-of-zone",
    "provider-mix", "self-exchange", "special-address", "wildcard",
]

# Records that only named-checkzone reports under a shared rule.
NAMED_ONLY = {
    # "203.0.114.7" without a trailing dot: named reads the text as written
    # and calls it an address; the server serves 203.0.114.7.ip-literal.test.,
    # a host name, and mxguard-check reports that name as missing-address
    # (as named-checkzone does too, see below).
    "ip-literal": {("address", 9)},
    # Below a DNAME: named says "is below a DNAME (illegal)". The server
    # answers for such a name with a synthesized CNAME to the DNAME's target,
    # and the module, like mxguard-check, takes the name as out of the zone.
    "dname": {("cname", "dname.test.", "mx.old.dname.test."),
              ("cname", "dname.test.", "mx.dn.dname.test.")},
}

# Records that only mxguard-check reports under a shared rule.
MXGUARD_ONLY = {
    # An address literal in brackets: named-checkzone warns only "bad name
    # (check-names)", a host name syntax rule, not "MX is an address".
    "ip-literal": {("address", 10)},
}


def named_findings(zone, origin):
    """The MX findings of named-checkzone under the shared rules."""
    proc = subprocess.run(
        [NAMED_CHECKZONE, "-m", "warn", "-M", "warn", "-i", "full", origin, zone + ".zone"],
        cwd=ZONES, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = set()
    for line in (proc.stdout + proc.stderr).splitlines():
        m = re.match(r"^[^:]+:(\d+): warning: .*: MX is an address$", line)
        if m:
            found.add(("address", int(m.group(1))))
            continue
        m = re.match(r"^zone [^ ]+: ([^ ]+)/MX '([^']+)' (.*)$", line)
        if not m:
            continue
        owner, target, what = m.group(1).lower() + ".", m.group(2).lower() + ".", m.group(3)
        if what == "is a CNAME (illegal)" or what.startswith("is below a DNAME"):
            found.add(("cname", owner, target))
        elif what == "has no address records (A or AAAA)":
            found.add(("missing", owner, target))
        # "(out of zone) has no addresses records": named resolves names of
        # other zones (and below delegations) over the network; mxguard-check
        # never does, by design. Not a shared rule.
    return found


def mxguard_findings(check, zone):
    r = check("-q", "--format", "json", zone + ".zone")
    assert r.rc in (0, 1), r.err
    found = set()
    for f in r.json():
        if "violation" not in f:
            continue  # a note for Knot 3.2 or 3.3: no finding
        if f["violation"] == "ip-literal":
            found.add(("address", f["line"]))
        elif f["violation"] == "cname-exchange":
            found.add(("cname", f["owner"].lower(), f["exchange"].lower()))
        elif f["violation"] == "missing-address":
            found.add(("missing", f["owner"].lower(), f["exchange"].lower()))
    return found


def origin_of(zone):
    with open(os.path.join(ZONES, zone + ".zone")) as f:
        for line in f:
            if line.startswith("$ORIGIN"):
                return line.split()[1]
    raise AssertionError("no $ORIGIN in " + zone)


@pytest.fixture(scope="module")
def named():
    if NAMED_CHECKZONE is None:
        pytest.skip("named-checkzone not installed (Debian: bind9-utils)")
    return NAMED_CHECKZONE


@pytest.mark.parametrize("zone", ZONE_FILES)
def test_agree_with_named_checkzone(check, named, zone):
    ours = mxguard_findings(check, zone)
    theirs = named_findings(zone, origin_of(zone))
    assert theirs - ours == NAMED_ONLY.get(zone, set())
    assert ours - theirs == MXGUARD_ONLY.get(zone, set())


def test_shared_rules_are_exercised(check, named):
    """The comparison is not vacuous: each shared rule fires somewhere."""
    both = set()
    for zone in ZONE_FILES:
        both |= mxguard_findings(check, zone) & named_findings(zone, origin_of(zone))
    assert {f[0] for f in both} == {"address", "cname", "missing"}
    assert ("cname", "wildcard.test.", "mx.alias.wildcard.test.") in both
    assert ("missing", "ent.test.", "b.ent.ent.test.") in both


def test_both_reject_syntax_error(check, named):
    proc = subprocess.run([named, "-m", "warn", "-M", "warn", "-i", "full",
                           "syntax-error.test.", "syntax-error.zone"],
                          cwd=ZONES, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "syntax-error.zone:7:" in proc.stdout + proc.stderr
    r = check("syntax-error.zone")
    assert r.rc == 2
    assert r.err[0].startswith("syntax-error.zone:7: error:")


# Zonemaster test specifications, as mxguard-check verdicts on the samples.
# Zone08 (MX is not an alias): an MX target must not be a CNAME
#   (RFC 2181 §10.3) -> MX_RECORD_IS_CNAME.
# Zone09 (MX record present): a null MX (RFC 7505) must be the only MX of
#   its name -> Z09_NULL_MX_WITH_OTHER_MX; a null MX should have preference
#   0 -> Z09_NULL_MX_NON_ZERO_PREF.
ZONEMASTER_CASES = [
    ("Zone08 MX_RECORD_IS_CNAME", "cname-exchange.zone",
     "cname-exchange.zone:6: violation cname-exchange, owner cname-exchange.test., "
     "exchange alias.cname-exchange.test., preference 10, action log"),
    ("Zone08 MX_RECORD_IS_CNAME (wildcard CNAME)", "wildcard.zone",
     "wildcard.zone:8: violation cname-exchange, owner wildcard.test., "
     "exchange mx.alias.wildcard.test., preference 30, action log"),
    ("Zone09 Z09_NULL_MX_WITH_OTHER_MX", "null-mx.zone",
     "null-mx.zone:7: violation null-mx-conflict, owner mixed.null-mx.test., "
     "exchange ., preference 0, action log"),
    ("Zone09 Z09_NULL_MX_NON_ZERO_PREF", "null-mx.zone",
     "null-mx.zone:9: violation null-mx-conflict, owner pref.null-mx.test., "
     "exchange ., preference 10, action log"),
]


@pytest.mark.parametrize("case,zone,line", ZONEMASTER_CASES, ids=[c[0] for c in ZONEMASTER_CASES])
def test_zonemaster_cases(check, case, zone, line):
    assert line in check("-q", zone).out


def test_zonemaster_lone_null_mx_is_fine(check):
    # A lone "MX 0 ." at the apex of null-mx.test is what Zone09 expects of
    # a domain that receives no mail.
    out = check("-q", "null-mx.zone").out
    assert not any("owner null-mx.test.," in line for line in out)
