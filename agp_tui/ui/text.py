"""Server strings shown literally: no markup, no control characters, no escape sequences.

Everything that came over the network (agent names, errors, first messages, model names,
ids) goes through `safe_text` before it reaches a widget, and into a `rich.text.Text`
(never a markup string), so `[bold]` stays `[bold]` and `\\x1b[2J` cannot clear the screen.
"""

from __future__ import annotations

import re
import unicodedata

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

ELLIPSIS = "…"

# ANSI/VT escape sequences: CSI, OSC, DCS/SOS/PM/APC strings, two-byte escapes, 8-bit CSI.
_ESCAPES = re.compile(
    r"""
      \x1b\[[0-?]*[ -/]*[@-~]              # CSI ... final byte
    | \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?   # OSC ... BEL or ST (or cut short)
    | \x1b[PX^_][^\x1b]*(?:\x1b\\)?        # DCS / SOS / PM / APC ... ST
    | \x1b[@-Z\\-_]                        # two-byte escapes (ESC c, ESC 7 ...)
    | \x9b[0-?]*[ -/]*[@-~]                # 8-bit CSI
    """,
    re.VERBOSE,
)
_BREAKS = re.compile(r"[\r\n\t\v\f\u2028\u2029\x85]+")
# Bidi overrides/isolates can reorder what the user reads; zero-width chars can hide text.
_INVISIBLE = frozenset(
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
)


def _keep(ch: str) -> bool:
    if ch in _INVISIBLE:
        return False
    return unicodedata.category(ch) != "Cc"


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


def safe_text(value: object, max_len: int | None = None) -> str:
    """One printable line: escapes and control characters removed, line breaks as spaces."""
    if value is None:
        return ""
    s = value if isinstance(value, str) else str(value)
    s = _ESCAPES.sub("", s)
    s = _BREAKS.sub(" ", s)
    s = "".join(ch for ch in s if _keep(ch))
    s = s.strip()
    return truncate_cells(s, max_len) if max_len is not None else s


def literal(value: object, max_len: int | None = None, style: str | Style = "") -> Text:
    """`safe_text` as a `Text`: rendered exactly as written, whatever brackets it holds."""
    return Text(safe_text(value, max_len), style=style, no_wrap=True, overflow="ellipsis")
