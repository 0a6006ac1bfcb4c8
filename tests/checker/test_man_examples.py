# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every command of the man page's EXAMPLES runs as written: each is taken
from docs/reference/mxguard-check.1 and run by sh in a private mount
namespace where /etc/knot and /var/lib/knot are sample directories, with
the built mxguard-check first in PATH."""

import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import checker_path

HERE = os.path.dirname(os.path.abspath(__file__))
MAN = os.path.join(HERE, "..", "..", "docs", "reference", "mxguard-check.1")

# The exit status of each example on the sample files below.
EXPECTED = {
    # The server's copy is clean.
    "mxguard-check /var/lib/knot/example.com.zone": 0,
    # The working copy has a provider mix and an exchange without address:
    # the server (loopback: strip) changes neither answer.
    "mxguard-check -c /etc/knot/knot.conf example.com.zone": 0,
    "mxguard-check --knot-version 3.4 -c /etc/knot/knot.conf example.com.zone": 0,
    # secondary.example is not transferred yet.
    "mxguard-check -c /etc/knot/knot.conf": 3,
    "mxguard-check -q -c /etc/knot/knot.conf || [ $? -eq 3 ]": 0,
    "mxguard-check -c /etc/knot/knot.conf --fail-on strip,missing-address "
    "example.com.zone": 1,
    # missing-address still fails.
    "mxguard-check --fail-on=-provider-mix example.com.zone": 1,
    "mxguard-check -o example.com --no-mail-file parked.list --fail-on "
    "null-mx-missing --format json db.example": 1,
    # Lines on standard output, no findings: 0.
    "mxguard-check -o example.com --no-mail-file parked.list --no-mail-records "
    "db.example": 0,
    "mxguard-check --implicit --fail-on never example.com.zone": 0,
}

SERVER_ZONE = """$ORIGIN example.com.
$TTL 3600
@    SOA  ns hostmaster 1 3600 900 604800 300
@    NS   ns
ns   A    203.0.114.53
@    MX   10 mail
mail A    203.0.114.25
www  A    203.0.114.80
"""

WORKING_ZONE = SERVER_ZONE + """@    MX   20 aspmx.l.google.com.
@    MX   30 example-com.mail.protection.outlook.com.
shop MX   10 nowhere
"""

FILES = {
    "etc/knot.conf": """mod-mxguard:
  - id: default
    loopback: strip
template:
  - id: default
    storage: /var/lib/knot
    module: mod-mxguard/default
  - id: members
    storage: /var/lib/knot
    module: mod-mxguard/default
include: zones.d/*.conf
""",
    "etc/zones.d/10-example.conf": """zone:
  - domain: example.com
  - domain: secondary.example
  - domain: catalog.example
    catalog-role: interpret
    catalog-template: members
""",
    "var/example.com.zone": SERVER_ZONE,
    "var/catalog.example.zone": """$ORIGIN catalog.example.
@ SOA ns.example.com. hostmaster.example.com. 1 3600 900 604800 300
@ NS ns.example.com.
version TXT "2"
m1.zones PTR member.example.
""",
    "var/member.example.zone": SERVER_ZONE.replace("example.com.", "member.example."),
    "work/example.com.zone": WORKING_ZONE,
    "work/parked.list": "parked.example.com\n",
    "work/db.example": """$TTL 3600
@      SOA ns hostmaster 1 3600 900 604800 300
@      NS  ns
ns     A   203.0.114.53
parked A   203.0.114.80
""",
}


def man_examples():
    """The commands of the EXAMPLES section, roff escapes undone."""
    with open(MAN) as f:
        text = f.read()
    section = text.split(".SH EXAMPLES\n", 1)[1].split("\n.SH ", 1)[0]
    blocks = re.findall(r"^\.RS 2\n(.*?)^\.RE$", section, re.M | re.S)
    return [b.strip().replace("\\-", "-").replace("\\e", "\\") for b in blocks]


def test_examples_listed():
    # A new example needs its expected status here.
    assert man_examples() == list(EXPECTED)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    root = tmp_path_factory.mktemp("man")
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "bin").mkdir()
    os.symlink(os.path.abspath(checker_path()), root / "bin" / "mxguard-check")
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True)
    if shutil.which("unshare") is None or probe.returncode != 0:
        pytest.skip("no private mount namespace (unshare --mount)")
    return root


def run_example(root, command):
    script = ('mount --bind "$1" /etc/knot && mount --bind "$2" /var/lib/knot && '
              'cd "$3" && PATH="$4:$PATH" && export PATH && exec sh -c "$5"')
    return subprocess.run(["unshare", "--mount", "sh", "-c", script, "sh",
                           str(root / "etc"), str(root / "var"), str(root / "work"),
                           str(root / "bin"), command],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("command", list(EXPECTED))
def test_example_runs(sandbox, command):
    r = run_example(sandbox, command)
    assert r.returncode == EXPECTED[command], (r.stdout, r.stderr)
    assert "Try 'mxguard-check --help'" not in r.stderr
    assert "mount" not in r.stderr and "unshare" not in r.stderr, r.stderr
    if "--no-mail-records" in command:
        assert r.stdout.splitlines()[1:] == [
            "parked.example.com. 300 IN MX 0 .",
            'parked.example.com. 300 IN TXT "v=spf1 -all"',
            '_dmarc.parked.example.com. 300 IN TXT "v=DMARC1; p=reject; sp=reject; '
            'np=reject; adkim=s; aspf=s"',
            '*._domainkey.parked.example.com. 300 IN TXT "v=DKIM1; p="',
        ]
    if "--format json" in command:
        found = [json.loads(line) for line in r.stdout.splitlines()]
        # parked has neither its null MX nor SPF and DMARC records; only
        # the first fails (--fail-on null-mx-missing).
        assert [o["violation"] for o in found if "violation" in o] == \
            ["null-mx-missing", "no-mail-policy", "no-mail-policy"]


def test_example_coverage(sandbox):
    # -c alone: the included zone file's zone, the catalog member, and the
    # secondary zone named as not checked.
    r = run_example(sandbox, "mxguard-check -c /etc/knot/knot.conf")
    assert r.stderr.splitlines() == [
        "/var/lib/knot/example.com.zone: zone example.com., module "
        "mod-mxguard/default: 6 records, 1 MX RRsets checked, 0 findings",
        "/var/lib/knot/secondary.example.zone: error: zone secondary.example. not "
        "checked: No such file or directory",
        "/var/lib/knot/catalog.example.zone: zone catalog.example., module "
        "mod-mxguard/default: 4 records, 0 MX RRsets checked, 0 findings",
        "/var/lib/knot/member.example.zone: zone member.example., module "
        "mod-mxguard/default, catalog catalog.example.: 6 records, 1 MX RRsets "
        "checked, 0 findings",
        "mxguard-check: /etc/knot/knot.conf: not checked: zone secondary.example.",
    ]
