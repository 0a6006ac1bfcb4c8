# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""knotd's log lines (the sample of logrun.py, or a live session's) in the
forms deployments keep them: syslog files (RFC 3164 in several locales,
RFC 5424) and journalctl's output modes.

Under systemd knotd logs to the journal with LOG_FLAG_NOINFO: its MESSAGE
is "[ZONE] module ..." at info and "notice: [ZONE] module ..." at other
levels (knot's log.c), with PRIORITY and, for a zone, ZONE; rsyslog and
journalctl print that message after their own prefixes. The journal's
fields below are those journald stores for knotd's sd_journal_send().
"""

import datetime
import json
import re

STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}) (\w+): ")
PRIORITIES = {"critical": 2, "error": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7}
BOOT = 4_000_000_000   # monotonic microseconds at the first line (about 66 min)
HOST, PID = "ns1", 812


class Entry:
    """One line of knotd's log file: time (aware), level, the message as
    the journal has it (without "info: "), and the zone if any."""

    def __init__(self, line):
        m = STAMP.match(line)
        self.time = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S%z")
        self.level = m.group(2)
        text = line[m.end():]
        self.message = text if self.level == "info" else f"{self.level}: {text}"
        zone = re.match(r"\[(\S+\.)\] ", text)
        self.zone = zone.group(1) if zone else None

    @property
    def micro(self):
        return int(self.time.timestamp()) * 1_000_000


def entries(text):
    return [Entry(line) for line in text.splitlines() if line]


def syslog_month(entry, months):
    """'Nov 22 08:38:20' with the month names of a locale."""
    t = entry.time
    return f"{months[t.month - 1]} {t.day:2d} {t:%H:%M:%S}"


def short(entry, style, months=None):
    """One line of journalctl -o STYLE (or of a syslog file)."""
    t = entry.time
    ident = f"knotd[{PID}]"
    stamp = {
        "short": lambda: syslog_month(entry, months or ENGLISH),
        "short-precise": lambda: syslog_month(entry, ENGLISH) + ".000000",
        "short-iso": lambda: t.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "short-iso-precise": lambda: t.strftime("%Y-%m-%dT%H:%M:%S.000000%z")[:-2] + ":00",
        "short-full": lambda: t.strftime("%a %Y-%m-%d %H:%M:%S UTC"),
        "with-unit": lambda: t.strftime("%a %Y-%m-%d %H:%M:%S UTC"),
        "short-unix": lambda: f"{entry.micro // 1_000_000}.000000",
        "short-monotonic": lambda: f"[{(BOOT + entry.micro - FIRST[0]) / 1e6:12.6f}]",
    }[style]()
    if style == "with-unit":
        ident = f"knot.service[{PID}]"
    return f"{stamp} {HOST} {ident}: {entry.message}"


FIRST = [0]   # microseconds of the first entry (for short-monotonic)
ENGLISH = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
# glibc's abbreviated month names (ABMON), as rsyslog and journalctl print
# them under these locales (German's "Nov" is English's: its "Mär", "Okt"
# are in test_forms.py).
LOCALE_MONTHS = {
    "fr_FR": "janv. févr. mars avril mai juin juil. août sept. oct. nov. déc.".split(),
    "cs_CZ": "led úno bře dub kvě čen čec srp zář říj lis pro".split(),
    "ru_RU": "янв фев мар апр мая июн июл авг сен окт ноя дек".split(),
    "ja_JP": [f"{n}月" for n in range(1, 13)],
}


def rfc5424(entry, structured=False):
    """A line of an RFC 5424 syslog file (rsyslog's
    RSYSLOG_SyslogProtocol23Format): PRI (facility daemon), version, time,
    host, app, procid, msgid, structured data, a BOM before the message."""
    pri = 3 * 8 + PRIORITIES[entry.level]
    t = entry.time.strftime("%Y-%m-%dT%H:%M:%S.000000%z")
    sd = '[timeQuality tzKnown="1" isSynced="1"]' if structured else "-"
    bom = "\ufeff" if structured else ""
    return f"<{pri}>1 {t[:-2]}:{t[-2:]} {HOST} knotd {PID} - {sd} {bom}{entry.message}"


def fields(entry, number):
    """The journal fields of an entry, in journald's order."""
    micro = entry.micro + number   # distinct times, as the journal has
    out = {
        "__CURSOR": f"s=0f1e2d3c4b5a69788796a5b4c3d2e1f0;i={0x1000 + number:x};"
                    f"b=6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d;m={BOOT + micro - FIRST[0]:x};"
                    f"t={micro:x};x={0xabc0 + number:x}",
        "__REALTIME_TIMESTAMP": str(micro),
        "__MONOTONIC_TIMESTAMP": str(BOOT + micro - FIRST[0]),
        "_BOOT_ID": "6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d",
        "PRIORITY": str(PRIORITIES[entry.level]),
        "_UID": "113", "_GID": "120",
        "CODE_FILE": "knot/common/log.c", "CODE_LINE": "163", "CODE_FUNC": "emit_log_msg",
        "SYSLOG_IDENTIFIER": "knotd",
        "MESSAGE": entry.message,
    }
    if entry.zone:
        out["ZONE"] = entry.zone
    out.update({
        "_TRANSPORT": "journal", "_PID": str(PID), "_COMM": "knotd",
        "_EXE": "/usr/sbin/knotd", "_CMDLINE": "/usr/sbin/knotd -m 512",
        "_SYSTEMD_CGROUP": "/system.slice/knot.service", "_SYSTEMD_UNIT": "knot.service",
        "_HOSTNAME": HOST, "_SOURCE_REALTIME_TIMESTAMP": str(micro - 17),
    })
    return out


# Another program's entry whose MESSAGE has a newline: journalctl prints it
# as an array of bytes (json) or a binary field (export) - 10 bytes, so
# that export's little-endian size holds a newline byte.
OTHER_MESSAGE = b"two\nlines!"
OTHER = {"PRIORITY": "6", "SYSLOG_IDENTIFIER": "postfix", "_PID": "77"}


def export(items):
    out = bytearray()
    for number, entry in enumerate(items):
        for name, value in fields(entry, number).items():
            out += f"{name}={value}\n".encode()
        out += b"\n"
        if number == 1:
            for name, value in OTHER.items():
                out += f"{name}={value}\n".encode()
            out += b"MESSAGE\n" + len(OTHER_MESSAGE).to_bytes(8, "little") + OTHER_MESSAGE
            out += b"\n\n"
    return bytes(out)


def verbose(items):
    out = []
    for number, entry in enumerate(items):
        f = fields(entry, number)
        t = datetime.datetime.fromtimestamp(int(f["__REALTIME_TIMESTAMP"]) / 1e6,
                                            datetime.timezone.utc)
        out.append(t.strftime("%a %Y-%m-%d %H:%M:%S.%f UTC") + f" [{f['__CURSOR']}]")
        out += [f"    {name}={value}" for name, value in f.items() if not name.startswith("__")]
    return "\n".join(out) + "\n"


def json_objects(items):
    for number, entry in enumerate(items):
        yield fields(entry, number)
        if number == 1:
            yield dict(OTHER, MESSAGE=list(OTHER_MESSAGE))


def json_form(items, style):
    if style == "json":
        return "".join(json.dumps(o) + "\n" for o in json_objects(items))
    if style == "json-pretty":
        return "".join(json.dumps(o, indent="\t", separators=(",", " : ")) + "\n"
                       for o in json_objects(items))
    if style == "json-sse":
        return "".join("data: " + json.dumps(o) + "\n\n" for o in json_objects(items))
    if style == "json-seq":
        return "".join("\x1e" + json.dumps(o) + "\n" for o in json_objects(items))
    raise ValueError(style)


# Every form: name -> the sample's text in it (bytes).
def render(text, form):
    items = entries(text)
    FIRST[0] = items[0].micro
    if form == "export":
        return export(items)
    if form == "verbose":
        return verbose(items).encode()
    if form.startswith("json"):
        return json_form(items, form).encode()
    if form == "cat":
        lines = [e.message for e in items]
    elif form in ("rfc5424", "rfc5424-sd"):
        lines = [rfc5424(e, form == "rfc5424-sd") for e in items]
    elif form.startswith("syslog-"):
        lines = [short(e, "short", LOCALE_MONTHS[form[len("syslog-"):]]) for e in items]
    else:
        lines = [short(e, form) for e in items]
    return ("\n".join(lines) + "\n").encode()


JOURNAL_FORMS = ["short", "short-precise", "short-iso", "short-iso-precise", "short-full",
                 "short-unix", "short-monotonic", "with-unit", "cat", "verbose", "export",
                 "json", "json-pretty", "json-sse", "json-seq"]
SYSLOG_FORMS = ["rfc5424", "rfc5424-sd"] + [f"syslog-{name}" for name in LOCALE_MONTHS]
# Forms whose time is the instant itself (UTC), or local time of day, or none.
UTC_FORMS = {"short-iso", "short-iso-precise", "short-full", "short-unix", "with-unit",
             "verbose", "export", "json", "json-pretty", "json-sse", "json-seq",
             "rfc5424", "rfc5424-sd"}
UNTIMED_FORMS = {"cat", "short-monotonic"}
