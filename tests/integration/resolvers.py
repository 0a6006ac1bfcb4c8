# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validating resolvers from Debian's packages, started on loopback for the
tests and pointed at the test knotd: unbound, PowerDNS Recursor and Knot
Resolver. Each runs in the foreground from its own directory; no packaged
service is used, and no query leaves 127.0.0.0/8 (the root hints, where a
resolver wants them, name 127.0.0.254).

    with Unbound(knotd_port, anchors) as r:
        r.query("parked.nsec.test.", "MX")

anchors maps each zone name to its DNSKEY RRset (dnspython); the resolver
trusts the zone's keys directly and asks knotd for everything below them.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import dns.dnssec
import dns.flags
import dns.message
import dns.query
import dns.rdatatype

from knotd_harness import free_port

FAKE_ROOT = "127.0.0.254"


class Resolver:
    name = "resolver"
    program = None

    def __init__(self, knotd_port, anchors):
        self.knotd_port = knotd_port
        self.anchors = anchors
        self.dir = tempfile.mkdtemp(prefix="mxguard-res-")
        self.port = free_port()
        self.proc = None
        self.log = os.path.join(self.dir, "resolver.log")

    @classmethod
    def missing(cls):
        """Why this resolver cannot run here, or None."""
        if shutil.which(cls.program) is None and not os.path.exists(cls.program):
            return f"{cls.name}: {cls.program} is not installed (scripts/deps)"
        return None

    def argv(self):
        raise NotImplementedError

    def start(self):
        self.write_conf()
        self.logfile = open(self.log, "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=self.logfile,
                                     stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_text()}")
            try:
                q = dns.message.make_query("version.bind.", "TXT", "CH")
                dns.query.udp(q, "127.0.0.1", port=self.port, timeout=0.5)
                return self
            except Exception:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer:\n{self.log_text()}")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.logfile.close()
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def query(self, name, rdtype="MX", timeout=5.0):
        """A validating stub's query: RD, AD and DO set."""
        q = dns.message.make_query(name, rdtype, want_dnssec=True, payload=1232)
        q.flags |= dns.flags.AD | dns.flags.RD
        try:
            return dns.query.udp(q, "127.0.0.1", port=self.port, timeout=timeout)
        except dns.message.Truncated:
            return dns.query.tcp(q, "127.0.0.1", port=self.port, timeout=timeout)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def dnskey_lines(self):
        out = []
        for zone, keys in self.anchors.items():
            for rd in keys:
                out.append(f"{zone} 300 IN DNSKEY {rd.to_text()}")
        return out

    def ds_lines(self):
        out = []
        for zone, keys in self.anchors.items():
            for rd in keys:
                if rd.flags & 0x0001:  # SEP: the KSK
                    ds = dns.dnssec.make_ds(zone, rd, "SHA256")
                    out.append((zone, ds.to_text()))
        return out


class Unbound(Resolver):
    """unbound with aggressive NSEC (RFC 8198) on, as Debian ships it."""
    name = "unbound"
    program = "/usr/sbin/unbound"

    def write_conf(self):
        lines = [
            "server:",
            f"  interface: 127.0.0.1@{self.port}",
            f"  port: {self.port}",
            "  do-daemonize: no", '  username: ""', '  chroot: ""',
            f'  directory: "{self.dir}"', f'  pidfile: "{self.dir}/unbound.pid"',
            "  use-syslog: no", "  logfile: \"\"", "  verbosity: 1",
            "  val-log-level: 2", "  do-ip6: no", "  do-not-query-localhost: no",
            "  aggressive-nsec: yes", "  qname-minimisation: no",
            "  access-control: 127.0.0.0/8 allow",
            '  local-zone: "test." nodefault',
        ]
        for line in self.dnskey_lines():
            lines.append(f'  trust-anchor: "{line}"')
        lines += ["remote-control:", "  control-enable: no"]
        for zone in list(self.anchors) + ["."]:
            lines += ["stub-zone:", f'  name: "{zone}"',
                      f"  stub-addr: 127.0.0.1@{self.knotd_port}"]
        self.conf = self.write("unbound.conf", "\n".join(lines) + "\n")

    def argv(self):
        return [self.program, "-d", "-c", self.conf]


class PdnsRecursor(Resolver):
    """PowerDNS Recursor: NSEC and NSEC3 aggressive cache on."""
    name = "pdns-recursor"
    program = "/usr/sbin/pdns_recursor"

    def write_conf(self):
        lua = "".join(f'addTA("{zone}", "{ds}")\n' for zone, ds in self.ds_lines())
        self.write("recursor.lua", lua)
        hints = self.write("root.hints", f". 3600 NS a.root.fake.\n"
                                         f"a.root.fake. 3600 A {FAKE_ROOT}\n")
        fwd = ",".join(f"{zone.rstrip('.')}=127.0.0.1:{self.knotd_port}"
                       for zone in self.anchors)
        conf = "\n".join([
            "local-address=127.0.0.1", f"local-port={self.port}",
            f"socket-dir={self.dir}", "daemon=no", "write-pid=no",
            f"config-dir={self.dir}", f"lua-config-file={self.dir}/recursor.lua",
            f"hint-file={hints}", "dnssec=validate", "dont-query=",
            "aggressive-nsec-cache-size=100000", f"forward-zones={fwd}",
            "loglevel=6", "quiet=no", "threads=1",
        ]) + "\n"
        self.write("recursor.conf", conf)

    def argv(self):
        argv = [self.program, f"--config-dir={self.dir}"]
        # PowerDNS Recursor 5 reads this old-style file only when asked to.
        out = subprocess.run([self.program, "--version"], capture_output=True, text=True)
        version = re.search(r"Recursor (\d+)\.", out.stdout + out.stderr)
        if version and int(version.group(1)) >= 5:
            argv.append("--enable-old-settings")
        return argv


class Kresd(Resolver):
    """Knot Resolver: NSEC aggressive cache (on by default); FORWARD to
    knotd, as STUB answers are not validated."""
    name = "kresd"
    program = "/usr/sbin/kresd"

    def write_conf(self):
        lines = [
            f"net.listen('127.0.0.1', {self.port}, {{ kind = 'dns' }})",
            "trust_anchors.remove('.')",
            f"cache.open(10 * MB, 'lmdb://{self.dir}/cache')",
            "modules.load('hints > iterate')",
            f"hints.root({{['a.root.fake.'] = '{FAKE_ROOT}'}})",
        ]
        for zone, ds in self.ds_lines():
            lines.append(f"trust_anchors.add('{zone} 300 IN DS {ds}')")
        for zone in self.anchors:
            # STUB does not validate (Knot Resolver's documentation); FORWARD
            # does, and knotd answers its RD=1 queries as the authority.
            lines.append(f"policy.add(policy.suffix(policy.FORWARD('127.0.0.1@{self.knotd_port}'),"
                         f" {{todname('{zone}')}}))")
        self.write("kresd.conf", "\n".join(lines) + "\n")

    def argv(self):
        return [self.program, "-n", "-c", os.path.join(self.dir, "kresd.conf"), self.dir]


ALL = (Unbound, PdnsRecursor, Kresd)


def start_signed(knotd_cls, conf_text, zones, files=None):
    """A knotd signing ZONES (names without the final dot), started, its
    keys seen by the module; .anchors maps each zone to its DNSKEY RRset.
    FILES: {name: text} written into its folder first (@DIR@/name)."""
    import time
    import dns.name
    from knotd_harness import dnskey
    s = knotd_cls(conf_text, zones=zones)
    for name, text in (files or {}).items():
        with open(os.path.join(s.dir, name), "w") as f:
            f.write(text)
    s.start()
    deadline = time.monotonic() + 30
    while any(dnskey(s, z + ".") is None for z in zones):
        assert time.monotonic() < deadline, s.log_text()
        time.sleep(0.2)
    # Keys made after the module loaded are seen when it loads again.
    for z in zones:
        res = s.knotc("zone-reload", "-f", z)
        assert res.returncode == 0, res.stdout + res.stderr
    time.sleep(1.0)
    s.anchors = {dns.name.from_text(z + "."): dnskey(s, z + ".") for z in zones}
    return s


def start_for(cls, server):
    """A resolver of class CLS in front of SERVER (its anchors), or the
    reason it cannot run here (for pytest.skip)."""
    why = cls.missing()
    if why:
        return None, why
    r = cls(server.port, {z.to_text(): k for z, k in server.anchors.items()})
    try:
        r.start()
    except RuntimeError as e:
        r.stop()
        return None, f"{cls.name} does not run here: {e}"
    return r, None
