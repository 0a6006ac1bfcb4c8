# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""Load failures: lines of knotd and knotc that say mod-mxguard was not
loaded, or was loaded with errors.
"""

import re

from .timestamps import LEVELS


# Lines that say mod-mxguard was not loaded, or was loaded with errors: knotd
# refused its configuration (and did not start or reload), or runs without
# an instance or part of what it does. knotd's and knotc's texts (Knot's
# src/knot/conf/module.c, base.c, tools.c, src/utils/knotd/main.c) are
#   module, failed to open '/usr/lib/.../mxguard.so' (DLERROR)
#   module, invalid library '.../mxguard.so' (...)          (the file only)
#   module 'mod-mxguard', incompatible version | module name mismatch |
#     duplicate module | failed to load (...)
#   [ZONE] module 'mod-mxguard/ID', failed to open | out of scope |
#     failed to load (...)
#   config, file 'F', line N, unknown module 'mod-mxguard'
#   config, file 'F', line N, item 'module', value 'mod-mxguard/ID' (...)
#   config, file 'F', line N, section 'mod-mxguard[ID]' (...)   (its check)
#   config, file 'F', line N, section 'module[mod-mxguard]' (not exists)
# at level error, then, naming no module (critical in knotd, error in knotc):
#   failed to load configuration file 'F' (...)
#   failed to activate query modules (...) | config, failed to activate modules (...)
# The module itself logs at level error only when it loads (module/mxguard.c,
# signing.c): "invalid null-mx-file, ...", the refusal of rewrites in a
# global instance, "DNSSEC, key stores not read (...)".
FAILURE_LEVELS = ("error", "critical")
# knotd's and knotc's level at the start of their message: first, or after
# a time stamp, a syslog tag ("knotd[812]: "), RFC 5424's "- ", "] " or BOM.
LEVEL_START = re.compile(r"(?:^|(?<=: )|(?<=[\dZ\]-] )|(?<=\ufeff))(" + "|".join(LEVELS)
                         + r"): ")
# What the module and knotd say of an instance at load, when the line has
# no level (journalctl -o cat of an info line has none; errors always do).
LOAD_BODY = re.compile(
    r"failed to (?:open|load)\b|out of scope$|empty module|incompatible version$"
    r"|module name mismatch$|duplicate module$|invalid "
    r"|strip, null-mx and null MX names work only in zone scope"
    r"|DNSSEC, key stores not read")
LIBRARY = re.compile(
    r"module, (?:failed to open|invalid library) '(?:[^']*/)?[^'/]*mxguard[^'/]*' ")
ZONE_START = re.compile(r"\[([^\s\[\]]+\.)\] ")
FOLLOWING = re.compile(
    r"(?:config, )?failed to (?:load configuration file|activate (?:query )?modules) ")
FOLLOW_LINES = 1000    # lines after a load failure where FOLLOWING is one too


def module_load_failure(body, level):
    """Whether a module line of no known kind says the instance failed at
    load: its level when the line has one, else its text."""
    return level in FAILURE_LEVELS if level else bool(LOAD_BODY.match(body))


def load_failure(text, following):
    """(head, zone, level, message) of a line of knotd or knotc that is not
    a module line and says mod-mxguard was not loaded, or failed at load
    ('following': a load failure was seen a few lines before); else None.
    It needs its level (error or critical) in the text: a shell command or
    another program naming the module never is one."""
    m = LEVEL_START.search(text)
    if m is None or m.group(1) not in FAILURE_LEVELS:
        return None
    head, message, zone = text[:m.end()], text[m.end():], None
    z = ZONE_START.match(message)
    if z:
        zone, message = z.group(1).lower(), message[z.end():]
    if ("mod-mxguard" in message or LIBRARY.match(message)
            or (following and FOLLOWING.match(message))):
        return head, zone, m.group(1), message
    return None
