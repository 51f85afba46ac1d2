"""Strings from the server made safe to print: one line, no escapes, no invisible characters.

Shared by the dashboard (`ui/text.py`, which also bounds the result in terminal cells) and
the headless commands (`headless/output.py`, which bounds it in characters). Nothing here
trusts the input: a hostile agent name must not be able to drive, clear or re-title a
terminal, reorder what the user reads, or hide text.
"""

from __future__ import annotations

import re
import unicodedata

# ESC-introduced sequences (CSI, OSC, DCS/SOS/PM/APC strings, two-byte escapes) and their
# 8-bit C1 forms. An unterminated string sequence swallows the rest of the text: showing
# less of a hostile string is better than letting any of it reach the terminal.
_ESCAPES = re.compile(
    r"""
      \x1b\[[0-?]*[ -/]*[@-~]?
    | \x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?
    | \x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?
    | \x1b[ -/]*[0-~]?
    | \x9b[0-?]*[ -/]*[@-~]?
    | [\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?
    """,
    re.VERBOSE,
)
_BREAKS = re.compile("[\t\n\v\f\r\x85\u2028\u2029]+")
# Consecutive combining marks kept after a base character: real scripts stack two or three,
# "zalgo" text stacks hundreds, which some terminals paint over the neighbouring lines.
MAX_COMBINING = 4
# Dropped by category: Cc (C0, DEL, C1), Cf (bidi overrides and isolates that reorder what
# the user reads, zero-width and tag characters that hide text, the BOM), Cs (a lone
# surrogate, which JSON can carry, cannot even be encoded for the terminal).
_DROPPED = frozenset({"Cc", "Cf", "Cs"})
_COMBINING = frozenset({"Mn", "Me"})


def _printable(s: str) -> str:
    out: list[str] = []
    marks = 0
    for ch in s:
        if " " <= ch < "\x7f":  # printable ASCII, the common case, decided cheaply
            out.append(ch)
            marks = 0
            continue
        cat = unicodedata.category(ch)
        if cat in _DROPPED:
            continue
        if cat in _COMBINING:
            marks += 1
            if marks > MAX_COMBINING:
                continue
        else:
            marks = 0
        out.append(ch)
    return "".join(out)


def printable_line(value: object, keep: int) -> str:
    """`value` as one printable line: escape sequences and the dropped categories removed,
    line breaks and tabs as spaces, runs of combining marks capped.

    Only the head of a huge string is looked at — `keep` is how many characters the caller
    will show at most; every kept character takes a cell (or is one of a few combining
    marks), so 8x that plus room for dropped sequences is plenty.
    """
    s = "" if value is None else value if isinstance(value, str) else str(value)
    window = keep * 8 + 4096
    if len(s) > window:
        s = s[:window]
    return _printable(_BREAKS.sub(" ", _ESCAPES.sub("", s)))
