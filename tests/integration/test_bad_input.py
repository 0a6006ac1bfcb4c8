# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input the module meets: malformed packets, odd names, bad list files.

Each case is a row of docs/design/bad-inputs.md.
"""

import os
import socket
import struct
import subprocess

import dns.message
import dns.rcode
import pytest

from knotd_harness import ASAN, KNOTC, SLOW, Knotd, conf, wrap

MODULES = """
mod-mxguard:
  - id: enforce
    ip-literal: strip
    loopback: strip
    special-address: strip
    missing-address: strip
    self-exchange: log
    null-mx: [ parked.example.test ]
    null-mx-implicit: on
    log-interval: 0
"""

ZONES = "  - domain: example.test\n    module: mod-mxguard/enforce\n"


@pytest.fixture(scope="module")
def server():
    s = Knotd(conf(MODULES, ZONES), zones=("example.test",)).start()
    yield s
    s.cleanup()


def header(qd=1, an=0, ns=0, ar=0, flags=0x0100, ident=0x4242):
    return struct.pack("!6H", ident, flags, qd, an, ns, ar)


def qname(text):
    out = b""
    for label in text.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


MX_Q = qname("loop.example.test") + struct.pack("!HH", 15, 1)

PACKETS = {
    "empty": b"",
    "header-only": header(qd=0),
    "short-header": header()[:7],
    "question-cut": header() + MX_Q[:9],
    "qdcount-2": header(qd=2) + MX_Q + MX_Q,
    "qdcount-0-with-data": header(qd=0) + MX_Q,
    "pointer-loop-qname": header() + b"\xc0\x0c" + struct.pack("!HH", 15, 1),
    "forward-pointer": header() + b"\x04loop\xc0\x40" + struct.pack("!HH", 15, 1),
    "label-over-63": header() + b"\x40" + b"a" * 64 + b"\0" + struct.pack("!HH", 15, 1),
    "response-bit-set": header(flags=0x8100) + MX_Q,
    "opcode-notify-mx": header(flags=0x2000) + MX_Q,
    "opcode-update": header(flags=0x2800) + MX_Q,
    "class-ch-mx": header() + qname("loop.example.test") + struct.pack("!HH", 15, 3),
    "class-any-mx": header() + qname("loop.example.test") + struct.pack("!HH", 15, 255),
    "two-opt": header(ar=2) + MX_Q + (b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)) * 2,
    "opt-bad-len": header(ar=1) + MX_Q + b"\0" + struct.pack("!HHIH", 41, 1232, 0, 20),
    "opt-version-1": header(ar=1) + MX_Q + b"\0" + struct.pack("!HHIH", 41, 1232, 0x00010000, 0),
    "trailing-garbage": header() + MX_Q + b"\xff" * 33,
    "answer-in-query": header(an=1) + MX_Q + b"\xc0\x0c" + struct.pack("!HHIH", 15, 1, 60, 3) + b"\0\0\0",
    "mx-empty-rdata-in-query": header(an=1) + MX_Q + b"\xc0\x0c" + struct.pack("!HHIH", 15, 254, 0, 0),
    "random-64k": bytes((i * 37 + 11) & 0xff for i in range(65000)),
}


def send(server, wire, tcp):
    kind = socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as s:
        s.settimeout(0.5 * SLOW)
        try:
            if tcp:
                s.connect(("127.0.0.1", server.port))
                s.sendall(len(wire[:65535]).to_bytes(2, "big") + wire[:65535])
                data = s.recv(65535)
                return data[2:] if len(data) > 2 else None
            s.sendto(wire[:65000], ("127.0.0.1", server.port))
            return s.recv(65535)
        except (socket.timeout, ConnectionError, OSError):
            return None


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
@pytest.mark.parametrize("name", list(PACKETS))
def test_malformed_packet(server, name, tcp):
    answer = send(server, PACKETS[name], tcp)
    if answer is not None:
        # Whatever knotd says, it says in a well-formed response.
        assert len(answer) >= 12 and answer[2] & 0x80
        if answer[2] & 0x78 == 0:  # opcode QUERY (dnspython is strict on UPDATE)
            dns.message.from_wire(answer)
    assert server.alive()
    r = server.query("loop.example.test.", "MX", tcp=tcp)
    assert [rd.to_text() for rrset in r.answer for rd in rrset] == ["0 ."]


ODD_NAMES = [
    "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 41 + ".example.test.",  # 255 octets
    "LOOP.EXAMPLE.TEST.",
    "lo\\000op.example.test.",
    "lo\\.op.example.test.",
    "\\255\\254.wild.example.test.",
    "*.wild.example.test.",
    "localhost.example.test.",
    "192.0.2.1.example.test.",
]


@pytest.mark.parametrize("name", ODD_NAMES)
@pytest.mark.parametrize("rdtype", ["MX", "ANY"])
def test_odd_query_name(server, name, rdtype):
    r = server.query(name, rdtype)
    assert r.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN)
    tcp = server.query(name, rdtype, tcp=True)
    assert tcp.answer == r.answer or r.flags & 0x0200
    assert server.alive()


@pytest.mark.parametrize("content,message", [
    (b"ok.example.test\nbad\0name\n", "no-mail.list:2: invalid name: NUL character"),
    (b"\xff\xfe\xfd..\n", "no-mail.list:1:"),
    (b"ok.example.test\r\nx..y\r\n", "no-mail.list:2:"),
    (("a." * 130 + "test\n").encode(), "no-mail.list:1:"),
    (None, "no-mail.list"),  # a directory
])
def test_bad_list_file_content(content, message):
    if content is None and ASAN:
        # strerror() + preloaded libasan: hang at exit (test_null_mx.py).
        pytest.skip("strerror() + preloaded libasan + p11-kit: hang at exit")
    modules = "\nmod-mxguard:\n  - id: f\n    null-mx-file: @DIR@/no-mail.list\n"
    s = Knotd(conf(modules, "  - domain: example.test\n    module: mod-mxguard/f\n"),
              zones=("example.test",))
    try:
        path = os.path.join(s.dir, "no-mail.list")
        if content is None:
            os.mkdir(path)
        else:
            with open(path, "wb") as f:
                f.write(content)
        res = subprocess.run(wrap([KNOTC, "-c", s.conf, "conf-check"]),
                             capture_output=True, text=True, errors="replace",
                             timeout=30 * SLOW)
        out = res.stdout + res.stderr
        assert res.returncode != 0, out
        assert "null-mx-file" in out and message in out, out
    finally:
        s.cleanup()
