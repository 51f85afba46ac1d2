"""Server strings shown literally: no markup, no control characters, no escape sequences.

Everything that came over the network (agent names, errors, first messages, model names,
ids) goes through `safe_text` before it reaches a widget, and into a `rich.text.Text`
(never a markup string), so `[bold]` stays `[bold]` and `\\x1b[2J` cannot clear the screen.
Every result is bounded in terminal cells, so 100 KB of text costs no more than a line.
"""

from __future__ import annotations

import re
import unicodedata

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

ELLIPSIS = "…"
# Without a `max_len`, a string is still cut to this many cells: no widget shows more of
# one server string, and 100 KB of text must not be scanned and laid out on every frame.
DEFAULT_MAX = 1000
# Consecutive combining marks kept after a base character: real scripts stack two or three,
# "zalgo" text stacks hundreds, which some terminals paint over the neighbouring lines.
MAX_COMBINING = 4

# ANSI/VT escape sequences: CSI, OSC, DCS/SOS/PM/APC strings, two-byte escapes, and their
# 8-bit C1 forms. An unterminated sequence swallows the rest of the text (the same rules as
# the headless `clean()`): showing less of a hostile string beats showing its payload.
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
_BREAKS = re.compile(r"[\r\n\t\v\f\u2028\u2029\x85]+")
# Dropped by category: Cc (C0, DEL, C1), Cf (bidi overrides and isolates that reorder what
# the user reads, zero-width characters and tag characters that hide text, the BOM), Cs (a
# lone surrogate, which JSON can carry, cannot even be encoded for the terminal).
_DROPPED = frozenset({"Cc", "Cf", "Cs"})
_COMBINING = frozenset({"Mn", "Me"})


def truncate_cells(text: str, max_len: int) -> str:
    """Cut `text` to at most `max_len` terminal cells, ending in an ellipsis if cut."""
    if max_len <= 0:
        return ""
    if cell_len(text) <= max_len:
        return text
    out: list[str] = []
    used = 0
    for ch in text:
        w = cell_len(ch)
        if used + w > max_len - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + ELLIPSIS


def _printable(s: str) -> str:
    """`s` without the dropped categories, and with runs of combining marks capped."""
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


def safe_text(value: object, max_len: int | None = None) -> str:
    """One printable line: escapes and control characters removed, line breaks as spaces.

    At most `max_len` terminal cells (`DEFAULT_MAX` when not given), ending in an ellipsis
    when cut.
    """
    if value is None:
        return ""
    limit = DEFAULT_MAX if max_len is None else max_len
    s = value if isinstance(value, str) else str(value)
    # Only the head of a huge string is looked at: every kept character takes a cell (or is
    # one of a few combining marks), so 8x the limit, plus room for sequences that get
    # dropped, is plenty; a sequence cut at the window's end is dropped like any other.
    window = limit * 8 + 4096
    if len(s) > window:
        s = s[:window]
    s = _ESCAPES.sub("", s)
    s = _BREAKS.sub(" ", s)
    s = _printable(s).strip()
    return truncate_cells(s, limit)


def literal(value: object, max_len: int | None = None, style: str | Style = "") -> Text:
    """`safe_text` as a `Text`: rendered exactly as written, whatever brackets it holds."""
    return Text(safe_text(value, max_len), style=style, no_wrap=True, overflow="ellipsis")
