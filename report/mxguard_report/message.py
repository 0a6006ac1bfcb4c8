# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module's message: knotd's module prefix found in a line, and the
text after it read by the stable log format of docs/reference/mxguard.rst
("Log format").
"""

import re


class Malformed(ValueError):
    pass


# knotd's module prefix (knotd's query_module.c): "[ZONE] module
# 'mod-mxguard/ID', " for a zone module, "module 'mod-mxguard/ID', " for a
# global one ("/ID" is absent for an instance without a configuration
# section). It is found wherever it stands, whatever comes before it.
MODULE_MARK = "module 'mod-mxguard"
MODULE_NAME = re.compile(r"module '(mod-mxguard(?:/[^']*)?)', ")

TOKEN = r"[a-z0-9][a-z0-9-]*"
NUMBER = r"(?:0|[1-9]\d*)"

# The text after the prefix is "key value" pairs joined by ", " (values
# never contain ", "). Known keys come in this order; keys added by later
# versions may appear between or after them and are ignored.
VIOLATION_KEYS = [
    # key, required, value pattern
    ("violation", True, TOKEN),
    ("owner", True, r"\S+"),
    ("exchange", True, r"\S+"),
    ("preference", True, NUMBER),
    ("address", False, r"\S+"),
    ("provider", False, TOKEN),
    ("action", True, TOKEN),
    ("verdict", False, TOKEN),
    ("suppressed", False, NUMBER),
    ("zone", False, r"\S+"),       # a global instance's line
]
SYNTHESIZED_KEYS = [
    ("synthesized", True, r"null-mx|spf|dmarc|dkim"),
    ("owner", True, r"\S+"),
    ("reason", True, TOKEN),
    ("suppressed", False, NUMBER),
]
NOT_ENFORCED_KEYS = [
    ("owner", True, r"\S+"),
    ("action", True, TOKEN),
    ("reason", True, TOKEN),
    ("suppressed", False, NUMBER),
]

# Names group whatever their letter case (resolvers' 0x20 randomisation,
# logs of versions before the module logged lower case).
NAME_KEYS = ("owner", "exchange")

TOKEN_RE = re.compile(TOKEN)


def compile_spec(spec):
    """spec as (names in order, {key: (index, required, value regex)}, one
    regex of the text with the known keys only, the usual case)."""
    parts = []
    for i, (name, required, pattern) in enumerate(spec):
        part = f"{', ' if i else ''}{name} (?P<{name}>{pattern})"
        parts.append(part if required else f"(?:{part})?")
    return ([name for name, _, _ in spec],
            {name: (i, required, re.compile(pattern))
             for i, (name, required, pattern) in enumerate(spec)},
            re.compile("".join(parts)))


def parse_pairs(text, spec):
    """The values of the keys of spec, in spec's order; unknown keys are
    skipped. Raises Malformed when the text does not follow the format."""
    names, keys, known_only = spec
    m = known_only.fullmatch(text)
    if m:
        return fold_names(m.groupdict())   # an absent optional key is None
    values = {}
    pos = 0  # index into spec of the next key allowed
    for part in text.split(", "):
        key, sep, value = part.partition(" ")
        if not sep or not value or " " in value:
            raise Malformed(f"'{part}' is not 'key value'")
        known = keys.get(key)
        if known is None:
            if not TOKEN_RE.fullmatch(key):
                raise Malformed(f"'{key}' is not a key")
            continue  # a key of a later version
        index, _, pattern = known
        if index < pos:
            raise Malformed(f"key '{key}' out of order or repeated")
        for name in names[pos:index]:
            if keys[name][1]:
                raise Malformed(f"key '{name}' missing")
        if not pattern.fullmatch(value):
            raise Malformed(f"bad value '{value}' of key '{key}'")
        values[key] = value
        pos = index + 1
    for name in names[pos:]:
        if keys[name][1]:
            raise Malformed(f"key '{name}' missing")
    return fold_names(values)


def fold_names(values):
    for key in NAME_KEYS:
        value = values.get(key)
        if value:
            values[key] = value.lower()
    return values


BODIES = [
    # (start of the text, kind, text parsed from, spec)
    ("violation ", "violation", 0, compile_spec(VIOLATION_KEYS)),
    ("synthesized ", "synthesized", 0, compile_spec(SYNTHESIZED_KEYS)),
    ("not enforced, ", "not-enforced", len("not enforced, "),
     compile_spec(NOT_ENFORCED_KEYS)),
]


def locate(text):
    """(text before knotd's module prefix, zone or None, module, text after
    it) of a message of the module; None when text has no such prefix (it
    is not the module's line, whatever else it says)."""
    i = text.find(MODULE_MARK)
    m = MODULE_NAME.match(text, i) if i >= 0 else None
    if m is None:
        return None
    head, zone = text[:i], None
    # The zone is the bracketed name right before "module" (a name ends
    # with a dot and has no blank); journalctl's "[ 123.456]" never is.
    if head.endswith("] "):
        j = head.rfind("[", 0, -2)
        name = head[j + 1:-2]
        if j >= 0 and name.endswith(".") and len(name.split()) == 1 and "[" not in name:
            head, zone = head[:j], name.lower()
    return head, zone, m.group(1), text[m.end():]


def parse_body(body):
    """The kind and fields of the text after the module prefix."""
    for start, kind, skip, spec in BODIES:
        if body.startswith(start):
            rec = parse_pairs(body[skip:], spec)
            rec["type"] = kind
            return rec
    return {"type": "other", "message": body}
