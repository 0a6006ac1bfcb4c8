# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""The time stamp and level of a line, in each form of the log; the times
of --since and --until.
"""

import argparse
import datetime
import functools
import locale
import re


LEVELS = ("debug", "info", "notice", "warning", "error", "critical")
# Syslog severities 0-7 as knotd names its levels.
SEVERITY_LEVELS = ("critical", "critical", "critical", "error", "warning", "notice",
                   "info", "debug")
LEVEL_END = re.compile(r"(?:^|[\s\ufeff])(" + "|".join(LEVELS) + r"): $")

# What comes before the message: an optional syslog PRI (with RFC 5424's
# version), then the time stamp of knotd's log file, RFC 5424 or
# journalctl -o short-iso[-precise] (ISO 8601), short-full and with-unit
# (day name, date, time, zone abbreviation), RFC 3164 syslog and short or
# short-precise (month name in any language, day, time), short-unix
# (seconds since the epoch), short-monotonic (seconds since boot: no time
# of day) or none; then host, program and knotd's level, not needed here.
HEAD = re.compile(
    r"\ufeff?(?:<(?P<pri>\d{1,3})>(?:1 )?)?"
    r"(?:(?P<iso>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
    r"|\S+ (?P<full>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) (?P<tz>\S+)"
    r"|(?P<month>\S+) +(?P<day>\d{1,2}) (?P<hms>\d\d:\d\d:\d\d)(?:\.(?P<frac>\d+))?"
    r"|(?P<unix>\d{9,})(?:\.(?P<ufrac>\d+))?"
    r"|\[ *\d+\.\d+\]"
    r"|-)?(?: |$)")   # RFC 5424's NILVALUE

# RFC 3164 month names as syslog daemons and journalctl write them in
# common locales (glibc's abbreviations), compared without case and
# trailing dot; the current locale's are added, and a name holding its
# number (Japanese "11月") is read by the number.
MONTH_NAMES = [
    "jan feb mar apr may jun jul aug sep oct nov dec",            # en
    "jan feb mär apr mai jun jul aug sep okt nov dez",            # de
    "janv févr mars avr mai juin juil août sept oct nov déc",     # fr
    "- - - avril - - - - - - - -",                                # fr (glibc)
    "ene feb mar abr may jun jul ago sep oct nov dic",            # es
    "- - - - - - - - sept - - -",                                 # es
    "gen feb mar apr mag giu lug ago set ott nov dic",            # it
    "jan fev mar abr mai jun jul ago set out nov dez",            # pt
    "jan feb mrt apr mei jun jul aug sep okt nov dec",            # nl
    "jan feb mar apr maj jun jul aug sep okt nov dec",            # sv, da
    "- - - - - - - - - - - des",                                  # nb
    "sty lut mar kwi maj cze lip sie wrz paź lis gru",            # pl
    "led úno bře dub kvě čen čec srp zář říj lis pro",            # cs
    "янв фев мар апр мая июн июл авг сен окт ноя дек",            # ru
    "- - - - май - - - - - - -",                                  # ru
]


def month_key(name):
    return name.casefold().rstrip(".")


def month_table():
    table = {}
    for row in MONTH_NAMES:
        for number, name in enumerate(row.split(), 1):
            if name != "-":
                table[month_key(name)] = number
    try:
        old = locale.setlocale(locale.LC_TIME)
        locale.setlocale(locale.LC_TIME, "")
        try:
            for number in range(1, 13):
                name = locale.nl_langinfo(getattr(locale, f"ABMON_{number}"))
                table.setdefault(month_key(name), number)
        finally:
            locale.setlocale(locale.LC_TIME, old)
    except (locale.Error, AttributeError, ValueError):
        pass
    return table


MONTHS = month_table()


def month_number(name):
    number = MONTHS.get(month_key(name))
    if number is None:
        digits = re.fullmatch(r"\D*?(\d{1,2})\D*", name)
        if digits and 1 <= int(digits.group(1)) <= 12:
            number = int(digits.group(1))
    return number


UTC = datetime.timezone.utc
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)


def from_epoch(seconds, micro=0):
    return EPOCH + datetime.timedelta(seconds=seconds, microseconds=micro)


def fraction(digits):
    """Microseconds of the digits after a decimal point."""
    return int((digits or "0")[:6].ljust(6, "0"))


@functools.lru_cache(maxsize=4096)  # a busy log has many lines per second
def parse_head(head, year=None):
    """(time, level, unknown month name) of the text before the module
    prefix. The time is aware when the stamp has an offset, else naive local
    time; None for a stamp with no time of day. RFC 3164 stamps have no
    year: 'year', else this year (last year for a stamp more than a day
    ahead of now)."""
    m = LEVEL_END.search(head)
    level = m.group(1) if m else None
    m = HEAD.match(head)
    if m is None:
        return None, level, None
    if level is None and m.group("pri"):
        level = SEVERITY_LEVELS[int(m.group("pri")) % 8]
    try:
        if m.group("iso"):
            return parse_iso(m.group("iso")), level, None
        if m.group("full"):
            t = parse_iso(m.group("full"))
            return (t.replace(tzinfo=UTC) if m.group("tz") in ("UTC", "GMT") else t), level, None
        if m.group("unix"):
            return from_epoch(int(m.group("unix")), fraction(m.group("ufrac"))), level, None
        if m.group("month"):
            mon = month_number(m.group("month"))
            if mon is None:
                return None, level, m.group("month")
            now = datetime.datetime.now()
            y = year if year is not None else now.year
            hh, mm, ss = map(int, m.group("hms").split(":"))
            t = datetime.datetime(y, mon, int(m.group("day")), hh, mm, ss,
                                  fraction(m.group("frac")))
            if year is None and t - now > datetime.timedelta(days=1):
                t = t.replace(year=y - 1)
            return t, level, None
    except ValueError:
        pass
    return None, level, None


def parse_iso(text):
    t = text.strip().replace(" ", "T", 1)
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    # +0000 -> +00:00 (fromisoformat of Python 3.10 and older needs the colon)
    t = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", t)
    # At most 6 fractional digits.
    t = re.sub(r"(\.\d{6})\d+", r"\1", t)
    return datetime.datetime.fromisoformat(t)


def journal_time(fields):
    """The time of a journal entry (its microseconds since the epoch)."""
    for name in ("__REALTIME_TIMESTAMP", "_SOURCE_REALTIME_TIMESTAMP"):
        value = fields.get(name, "")
        if value.isdigit():
            return from_epoch(0, int(value))
    return None


def journal_level(fields):
    value = fields.get("PRIORITY", "")
    return SEVERITY_LEVELS[int(value)] if value.isdigit() and int(value) < 8 else None


@functools.lru_cache(maxsize=4096)
def comparable(t):
    """An aware datetime (naive ones are local time) for comparisons."""
    return t if t.tzinfo is not None else t.astimezone()


def time_text(t):
    """ISO 8601, with the offset when the log gave one."""
    return None if t is None else t.isoformat(timespec="seconds")


def arg_time(text):
    try:
        if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
            return datetime.datetime.fromisoformat(text + "T00:00:00")
        return parse_iso(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date or time (YYYY-MM-DD[THH:MM[:SS]][+HH:MM])")
