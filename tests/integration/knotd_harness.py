# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real knotd on 127.0.0.1 with the built module, for the integration tests.

Only loopback addresses are ever queried.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import dns.flags
import dns.message
import dns.query
import dns.rdatatype

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("MXGUARD_SRCDIR", os.path.dirname(os.path.dirname(HERE)))
MODULE = os.environ.get("MXGUARD_MODULE",
                        os.path.join(SRCDIR, ".libs", "mxguard.so"))
KNOTD = os.environ.get("KNOTD") or shutil.which("knotd") or "/usr/sbin/knotd"
KNOTC = os.environ.get("KNOTC") or shutil.which("knotc") or "/usr/sbin/knotc"
ZONES = os.path.join(HERE, "zones")


def knot_version():
    out = subprocess.run([KNOTD, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)


KNOT_VERSION = knot_version()
# Knot 3.4+ lets the module look exchanges up in the zones (ABI 600): exact
# verdicts, rewriting before the glue. Before, verdicts come from the glue.
EXACT_LOOKUPS = KNOT_VERSION >= (3, 4, 0)


def installed_module():
    """mxguard.so in knotd's module directory, which knotd always loads."""
    try:
        moddir = subprocess.run(["pkg-config", "--variable=module_instdir", "knotd"],
                                capture_output=True, text=True).stdout.strip()
    except FileNotFoundError:
        return None
    path = os.path.join(moddir, "mxguard.so")
    return path if moddir and os.path.exists(path) else None


INSTALLED = installed_module()

MODULE_SECTION = """
module:
  - id: mod-mxguard
    file: @MODULE@
"""


def wrap(argv):
    """The command that runs a knot program on the module under test.

    Without an installed copy, the configuration's module: section loads the
    built file. With one, knotd would load the installed copy (and refuse a
    second module of the same name), so the program runs in a private mount
    namespace where the built file is bound over the installed one.
    """
    if INSTALLED is None:
        return list(argv)
    return ["unshare", "--mount", "sh", "-c",
            'mount --bind "$0" "$1" && shift && exec "$@"',
            MODULE, INSTALLED, *argv]


def free_port():
    """A free high port on 127.0.0.1 for both UDP and TCP."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            if port > 1024:
                return port
    raise RuntimeError("no free port")


def big_zone_records(count=40):
    """An MX set whose glue does not fit into a 1232-byte UDP answer."""
    lines = []
    for i in range(count):
        lines.append(f"big MX {10 + i} mx-big-{i:02d}")
        lines.append(f"mx-big-{i:02d} A 93.184.216.{i + 1}")
        lines.append(f"mx-big-{i:02d} AAAA 2606:2800:220:1::{i + 1:x}")
    lines.append("big MX 99 mx-none")
    return "\n".join(lines) + "\n"


class Knotd:
    """knotd started from a configuration text with @DIR@, @PORT@, @MODULE@ and
    @ZONES@ placeholders."""

    def __init__(self, conf_text, zones=("example.test", "clean.test", "other.test")):
        self.dir = tempfile.mkdtemp(prefix="mxguard-it-")
        self.port = free_port()
        self.zonedir = os.path.join(self.dir, "zones")
        os.mkdir(self.zonedir)
        for zone in zones:
            src = os.path.join(ZONES, zone + ".zone")
            with open(src) as f:
                text = f.read()
            if zone == "example.test":
                text += big_zone_records()
            with open(os.path.join(self.zonedir, zone + ".zone"), "w") as f:
                f.write(text)
        self.conf = os.path.join(self.dir, "knot.conf")
        self.log = os.path.join(self.dir, "knotd.log")
        self.write_conf(conf_text)
        self.proc = None

    def write_conf(self, conf_text):
        text = (conf_text.replace("@DIR@", self.dir)
                .replace("@PORT@", str(self.port))
                .replace("@MODULE_SECTION@", "" if INSTALLED else MODULE_SECTION)
                .replace("@MODULE@", MODULE)
                .replace("@ZONES@", self.zonedir))
        with open(self.conf, "w") as f:
            f.write(text)

    def start(self):
        self.logfile = open(self.log, "ab")
        self.proc = subprocess.Popen(wrap([KNOTD, "-c", self.conf]),
                                     stdout=self.logfile, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("knotd exited:\n" + self.log_text())
            try:
                self.query("ns.example.test.", "A", timeout=0.5)
                if "loaded" in self.log_text() or "server started" in self.log_text():
                    return self
            except Exception:
                pass
            time.sleep(0.1)
        raise RuntimeError("knotd did not answer:\n" + self.log_text())

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.logfile.close()
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def knotc(self, *args):
        return subprocess.run(wrap([KNOTC, "-c", self.conf, "-s",
                                    os.path.join(self.dir, "knot.sock"), *args]),
                              capture_output=True, text=True, timeout=30)

    # Queries ---------------------------------------------------------------

    def query(self, name, rdtype="MX", tcp=False, timeout=3.0, **kw):
        q = dns.message.make_query(name, rdtype, **kw)
        if tcp:
            return dns.query.tcp(q, "127.0.0.1", port=self.port, timeout=timeout)
        return dns.query.udp(q, "127.0.0.1", port=self.port, timeout=timeout)

    def raw_query(self, wire, tcp=False, timeout=3.0):
        """Sends a query in wire format, returns the answer's exact bytes."""
        kind = socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM
        with socket.socket(socket.AF_INET, kind) as s:
            s.settimeout(timeout)
            if not tcp:
                s.sendto(wire, ("127.0.0.1", self.port))
                return s.recv(65535)
            s.connect(("127.0.0.1", self.port))
            s.sendall(len(wire).to_bytes(2, "big") + wire)
            data = b""
            while len(data) < 2 or len(data) < 2 + int.from_bytes(data[:2], "big"):
                chunk = s.recv(65535)
                if not chunk:
                    raise EOFError("connection closed")
                data += chunk
            return data[2:]

    # Log ---------------------------------------------------------------------

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_mark(self):
        return len(self.log_text())

    def module_lines(self, since=0, settle=0.05):
        """Module lines logged after the mark, without knotd's time stamp."""
        time.sleep(settle)
        text = self.log_text()[since:]
        out = []
        for line in text.splitlines():
            m = re.search(r"(\[[^\]]*\] )?module 'mod-mxguard[^']*', .*", line)
            if m:
                out.append(m.group(0))
        return out

    def violation_lines(self, since=0, settle=0.05):
        return [l for l in self.module_lines(since, settle) if ", violation " in l]


BASE_CONF = """
server:
    listen: 127.0.0.1@@PORT@
    rundir: @DIR@
    udp-workers: 2
    tcp-workers: 2
    background-workers: 1

log:
  - target: stdout
    any: info

database:
    storage: @DIR@
@MODULE_SECTION@
@MODULES@
acl:
  - id: local-xfr
    address: 127.0.0.1
    action: transfer

template:
  - id: default
    storage: @ZONES@
    file: "%s.zone"
    acl: local-xfr
    zonefile-sync: -1
    journal-content: none
"""


def conf(modules="", zones=""):
    """knot.conf text: module sections come before the template that may
    reference them."""
    return BASE_CONF.replace("@MODULES@", modules) + "\nzone:\n" + zones
