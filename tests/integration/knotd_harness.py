# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real knotd on 127.0.0.1 with the built module, for the integration tests.

Only loopback addresses are ever queried.

Memory checking (scripts/check-memory), by environment variable:

  MXGUARD_ASAN=1      the module was built with --enable-sanitizers: knotd
                      and knotc run with the ASan runtime preloaded
                      (MXGUARD_LIBASAN, default gcc's libasan.so) and
                      knotd's own leaks ignored (detect_leaks=0).
  MXGUARD_VALGRIND=1  knotd runs under valgrind --tool=memcheck.

Either way a knotd that is stopped, and the session at its end, fail on any
report: an ASan or UBSan report; for valgrind an invalid read, write or
free anywhere, a definite leak or any other error whose stack holds the
module. Reports are kept in MXGUARD_REPORT_DIR (default: a temporary
directory, printed when something is found).
"""

import glob
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
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.tsigkeyring

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

# Lines for the session's summary (conftest.py prints them), e.g. how many
# cells the differential test compared.
SUMMARY = []
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


def _flag(name):
    return os.environ.get(name, "") not in ("", "0", "no")


ASAN = _flag("MXGUARD_ASAN")
VALGRIND = _flag("MXGUARD_VALGRIND")
# Timeouts grow with the checker's slowdown.
SLOW = 15 if VALGRIND else (3 if ASAN else 1)
REPORT_DIR = None
if ASAN or VALGRIND:
    REPORT_DIR = (os.environ.get("MXGUARD_REPORT_DIR") or
                  tempfile.mkdtemp(prefix="mxguard-memcheck-"))
    os.makedirs(REPORT_DIR, exist_ok=True)


def libasan():
    path = os.environ.get("MXGUARD_LIBASAN")
    if not path:
        cc = os.environ.get("CC", "gcc").split()[0]
        path = subprocess.run([cc, "-print-file-name=libasan.so"],
                              capture_output=True, text=True).stdout.strip()
    return os.path.realpath(path)


def checker_prefix(program):
    """What runs knotd or knotc under the memory checker (or nothing)."""
    name = os.path.basename(program)
    if ASAN and name in ("knotd", "knotc"):
        opts = f"log_path={REPORT_DIR}/asan:detect_leaks=0:halt_on_error=1"
        return ["env", "LD_PRELOAD=" + libasan(), "ASAN_OPTIONS=" + opts,
                f"UBSAN_OPTIONS=log_path={REPORT_DIR}/ubsan:print_stacktrace=1:halt_on_error=1"]
    if VALGRIND and name == "knotd":
        return ["valgrind", "--tool=memcheck", "--leak-check=full",
                "--show-leak-kinds=definite", "--errors-for-leak-kinds=definite",
                "--num-callers=40", "--track-fds=no",
                f"--log-file={REPORT_DIR}/valgrind.%p"]
    return []


def _source_files():
    """The module's C sources and headers: the library (libmxguard/) and the
    knotd adapter (module/), whatever their names are today."""
    names = set()
    for sub in ("libmxguard", "module"):
        for path in glob.glob(os.path.join(SRCDIR, sub, "*.[ch]")):
            names.add(os.path.basename(path))
    return sorted(names)


# A frame of the module in a valgrind stack: the file, or any of its sources
# (valgrind names a source by its base name, or with a directory).
SOURCE_FILES = _source_files()
MODULE_FRAME = re.compile(
    r"mxguard\.so|\((?:[^()\s]*/)?(?:libmxguard|module)/[^()\s/]+\.[ch]:\d+\)" +
    (r"|\((?:[^()\s]*/)?(?:%s):\d+\)" % "|".join(re.escape(n) for n in SOURCE_FILES)
     if SOURCE_FILES else ""))
ALWAYS_BAD = re.compile(r"^(Invalid (read|write|free)|Mismatched free|"
                        r"Source and destination overlap)")


def valgrind_problems(text):
    """The blocks of a valgrind log that fail the run."""
    problems = []
    for block in re.split(r"\n==\d+== \n", text):
        lines = [re.sub(r"^==\d+== ?", "", l) for l in block.splitlines()]
        lines = [l for l in lines if l.strip()]
        if not lines:
            continue
        head = lines[0]
        body = "\n".join(lines)
        if ALWAYS_BAD.search(head):
            problems.append(body)
        elif "definitely lost" in head and MODULE_FRAME.search(body):
            problems.append(body)
        elif (re.search(r"^(Conditional jump|Use of uninitialised|Syscall param|"
                        r"Invalid|Argument)", head) and MODULE_FRAME.search(body)):
            problems.append(body)
    return problems


def memcheck_problems(pid=None):
    """Reports in REPORT_DIR (of one process, or all)."""
    if REPORT_DIR is None:
        return []
    problems = []
    suffix = "" if pid is None else f".{pid}"
    for path in sorted(glob.glob(os.path.join(REPORT_DIR, "*" + suffix))):
        with open(path, errors="replace") as f:
            text = f.read()
        base = os.path.basename(path)
        if base.startswith("valgrind."):
            problems += [f"{path}:\n{p}" for p in valgrind_problems(text)]
        elif text.strip():
            problems.append(f"{path}:\n{text[:4000]}")
    return problems

MODULE_SECTION = """
module:
  - id: mod-mxguard
    file: @MODULE@
"""


def wrap(argv, tool=()):
    """The command that runs a knot program on the module under test.

    Without an installed copy, the configuration's module: section loads the
    built file. With one, knotd would load the installed copy (and refuse a
    second module of the same name), so the program runs in a private mount
    namespace where the built file is bound over the installed one. 'tool'
    (e.g. valgrind --tool=callgrind) runs the program; unshare and sh exec,
    so the process id stays the program's.
    """
    argv = checker_prefix(argv[0]) + list(tool) + list(argv)
    if INSTALLED is None:
        return argv
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
    @ZONES@ placeholders.

    The zones are copied from tests/integration/zones (example.test gets the
    40-record MX set); zones=() copies none, for callers that write their own
    into .zonedir (or point @ZONES@ elsewhere). workdir: the folder to use
    (made if needed) instead of a fresh temporary one."""

    def __init__(self, conf_text, zones=("example.test", "clean.test", "other.test"),
                 workdir=None):
        if workdir is None:
            self.dir = tempfile.mkdtemp(prefix="mxguard-it-")
        else:
            self.dir = workdir
            os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.zonedir = os.path.join(self.dir, "zones")
        os.makedirs(self.zonedir, exist_ok=True)
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

    def default_ready(self):
        """ns.example.test. answers and the log says the zones loaded."""
        self.query("ns.example.test.", "A", timeout=0.5 * SLOW)
        text = self.log_text()
        return "loaded" in text or "server started" in text

    def start(self, ready=None, timeout=None, tool=(), prefix=(), log=None):
        """Starts knotd and waits until ready(self) is true (default: see
        default_ready; exceptions count as not yet). tool: what runs knotd
        (valgrind ...); prefix: what runs all of it (taskset ...); log: the
        file that gets knotd's output (default knotd.log)."""
        if log is not None:
            self.log = log
        ready = ready or Knotd.default_ready
        timeout = 20 * SLOW if timeout is None else timeout
        self.logfile = open(self.log, "ab")
        self.proc = subprocess.Popen(list(prefix) + wrap([KNOTD, "-c", self.conf], tool),
                                     stdout=self.logfile, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("knotd exited:\n" + self.log_text())
            try:
                if ready(self):
                    return self
            except Exception:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("knotd did not answer:\n" + self.log_text())

    def stop(self):
        """Stops knotd; fails if the memory checker reported anything."""
        pid = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                # valgrind checks for leaks at the exit.
                self.proc.wait(timeout=20 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            pid = self.proc.pid
            self.logfile.close()
        self.proc = None
        problems = memcheck_problems(pid) if pid is not None else []
        if problems:
            raise AssertionError(f"memory checker reports for knotd (log {self.log}):\n" +
                                 "\n".join(problems))

    def cleanup(self):
        try:
            self.stop()
        except AssertionError:
            raise  # keep the directory and its log
        shutil.rmtree(self.dir, ignore_errors=True)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def knotc(self, *args):
        return subprocess.run(wrap([KNOTC, "-c", self.conf, "-s",
                                    os.path.join(self.dir, "knot.sock"), *args]),
                              capture_output=True, text=True, timeout=30 * SLOW)

    # Queries ---------------------------------------------------------------

    def query(self, name, rdtype="MX", tcp=False, timeout=None, **kw):
        timeout = 3.0 * SLOW if timeout is None else timeout
        q = dns.message.make_query(name, rdtype, **kw)
        if tcp:
            return dns.query.tcp(q, "127.0.0.1", port=self.port, timeout=timeout)
        return dns.query.udp(q, "127.0.0.1", port=self.port, timeout=timeout)

    def raw_query(self, wire, tcp=False, timeout=None):
        """Sends a query in wire format, returns the answer's exact bytes."""
        timeout = 3.0 * SLOW if timeout is None else timeout
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


# DNSSEC ------------------------------------------------------------------------

def ask_dnssec(server, name, rdtype="MX", do=True, tcp=True, payload=1232):
    """A query with DO (or without), parsed strictly."""
    q = dns.message.make_query(name, rdtype, want_dnssec=do, payload=payload)
    return dns.message.from_wire(server.raw_query(q.to_wire(), tcp))


def dnskey(server, zone="example.test."):
    """The zone's DNSKEY RRset as served (None if there is none)."""
    r = ask_dnssec(server, zone, "DNSKEY")
    return r.get_rrset(r.answer, dns.name.from_text(zone), dns.rdataclass.IN,
                       dns.rdatatype.DNSKEY)


def rrset_and_sigs(r, owner, rdtype=dns.rdatatype.MX):
    """(the RRset, its RRSIGs) of one owner in the answer section, or None."""
    name = dns.name.from_text(owner)
    return (r.get_rrset(r.answer, name, dns.rdataclass.IN, rdtype),
            r.get_rrset(r.answer, name, dns.rdataclass.IN, dns.rdatatype.RRSIG, rdtype))


def mx_and_sigs(r, owner):
    return rrset_and_sigs(r, owner, dns.rdatatype.MX)


def wait_signed(server, zone="example.test.", timeout=30):
    """Waits until knotd serves the zone's DNSKEY (dnssec-signing: on)."""
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        try:
            if dnskey(server, zone) is not None:
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"zone {zone} not signed:\n" + server.log_text())


# TSIG --------------------------------------------------------------------------

TSIG_NAME = "mxguard-test."
TSIG_ALGORITHM = "hmac-sha256"
TSIG_SECRET = "c2VjcmV0LWtleS1mb3ItbXhndWFyZC10ZXN0cw=="
TSIG_KEYRING = dns.tsigkeyring.from_text({TSIG_NAME: (TSIG_ALGORITHM, TSIG_SECRET)})
# The key: section, for the modules text of conf().
TSIG_KEY_CONF = f"""
key:
  - id: {TSIG_NAME}
    algorithm: {TSIG_ALGORITHM}
    secret: {TSIG_SECRET}
"""


def with_tsig(conf_text):
    """A conf() text whose zones accept queries signed with the test key:
    knotd verifies TSIG of queries only with keys that an ACL uses. The
    modules text must hold TSIG_KEY_CONF."""
    assert "key:\n  - id: " + TSIG_NAME in conf_text, "TSIG_KEY_CONF missing"
    text = conf_text.replace("acl:\n", "acl:\n  - id: tsig-xfr\n    key: %s\n"
                             "    action: transfer\n" % TSIG_NAME, 1)
    return text.replace("    acl: local-xfr\n", "    acl: [ local-xfr, tsig-xfr ]\n")


def use_tsig(query):
    """Signs a dnspython query with the test key (its .mac then verifies the
    answer: dns.message.from_wire(wire, keyring=TSIG_KEYRING, request_mac=q.mac))."""
    query.use_tsig(TSIG_KEYRING, keyname=TSIG_NAME, algorithm=TSIG_ALGORITHM)
    return query
