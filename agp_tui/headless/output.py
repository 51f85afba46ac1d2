"""Terminal-safe, pipe-friendly output shared by every headless command.

Two modes, chosen from the stream itself:
- a terminal gets aligned columns with a header, colour (unless NO_COLOR is set or
  TERM=dumb), box drawing and columns cut to the window width;
- anything else (a pipe, a file) gets tab-separated rows without a header, no colour,
  no box drawing and nothing truncated: `agp-tui ls | cut -f1` gives ids.

Strings from the server are printed literally but never raw: `clean()` removes escape
sequences and control characters, so a hostile agent name cannot drive the terminal.
JSON keeps the server's strings exact, escaped so no control byte reaches the terminal.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

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
# The other C0/C1 controls, DEL, and the bidi overrides that reorder what follows them.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Characters JSON may legally carry raw that a terminal would still act on.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean(text: object) -> str:
    """One printable line: escape sequences dropped, line breaks and tabs made spaces."""
    s = "" if text is None else str(text)
    s = _ESCAPES.sub("", s)
    s = _BREAKS.sub(" ", s)
    return _CONTROLS.sub("", s)


def cell_width(text: str) -> int:
    """Columns `text` occupies: wide East Asian characters count two, combining marks none."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def cut(text: str, width: int) -> str:
    """`text` shortened to `width` columns, ending in an ellipsis when something was cut."""
    if cell_width(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    out, used = [], 0
    for ch in text:
        w = cell_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


_COLOURS = {
    "completed": "32", "failed": "31", "timed_out": "33", "interrupted": "35",
    "running": "36", "pending": "34", "queued": "34",
    "idle": "2", "paused": "2", "awaiting_tool_results": "2",
    "error": "31", "warning": "33", "dim": "2", "bold": "1",
}


@dataclass(frozen=True, slots=True)
class Style:
    """How to write to one stream: `tty` picks the layout, `color` the escapes."""

    tty: bool = False
    color: bool = False
    width: int = 80

    @classmethod
    def detect(cls, stream: IO[str] | None = None, env: Mapping[str, str] | None = None) -> Style:
        stream = sys.stdout if stream is None else stream
        env = os.environ if env is None else env
        try:
            tty = stream.isatty()
        except (AttributeError, ValueError):
            tty = False
        color = tty and not env.get("NO_COLOR") and env.get("TERM") != "dumb"
        width = shutil.get_terminal_size((80, 24)).columns if tty else 0
        return cls(tty=tty, color=color, width=max(width, 20) if tty else 0)

    def paint(self, text: str, key: str) -> str:
        code = _COLOURS.get(key)
        if not self.color or code is None or not text:
            return text
        return f"\x1b[{code}m{text}\x1b[0m"

    def status(self, status: str) -> str:
        return self.paint(status, status)

    @property
    def arrow(self) -> str:
        return "→" if self.tty else "->"


Painter = Callable[[str], str]


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    style: Style,
    *,
    right: frozenset[int] = frozenset(),
    fit: Sequence[tuple[int, int]] = (),
    paint: Mapping[int, Painter] | None = None,
) -> list[str]:
    """Rows as lines: aligned with a header on a terminal, tab-separated without one elsewhere.

    Cells must already be `clean()`. On a terminal, the `fit` columns (index, min width) are
    cut in that order so rows fit the window; if even that cannot make them fit, nothing is
    cut and the terminal wraps: losing information for nothing helps no one. `paint`
    colours a column after alignment (widths ignore escapes).
    """
    if not style.tty:
        return ["\t".join(row) for row in rows]
    widths = [cell_width(h) for h in headers]
    for row in rows:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], cell_width(value))
    over = sum(widths) + 2 * (len(widths) - 1) - style.width
    if over > 0 and sum(max(widths[i] - least, 0) for i, least in fit) >= over:
        for i, least in fit:
            cut_by = min(over, max(widths[i] - least, 0))
            widths[i] -= cut_by
            over -= cut_by
    painters = paint or {}
    bold = {i: (lambda h: style.paint(h, "bold")) for i in range(len(headers))}
    lines = [_line(headers, widths, right, bold)]
    lines += [_line(row, widths, right, painters) for row in rows]
    return lines


def _line(cells: Sequence[str], widths: Sequence[int], right: frozenset[int],
          painters: Mapping[int, Painter]) -> str:
    parts = []
    last = len(cells) - 1
    for i, value in enumerate(cells):
        text = cut(value, widths[i])
        pad = " " * (widths[i] - cell_width(text))
        shown = painters[i](text) if i in painters else text
        if i in right:
            parts.append(pad + shown)
        else:
            parts.append(shown + ("" if i == last else pad))
    return "  ".join(parts).rstrip()


def json_text(value: object, *, indent: int | None = 2) -> str:
    """JSON with UTF-8 kept readable but every character a terminal could act on escaped."""
    text = json.dumps(value, indent=indent, ensure_ascii=False,
                      separators=None if indent else (",", ":"))
    # Outside strings JSON is pure ASCII, so these can only sit inside string literals,
    # where a \\uXXXX escape means exactly the same character.
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def iso(value: datetime | float | None) -> str | None:
    """UTC ISO 8601 with a `Z`, milliseconds only when present; None stays None."""
    if value is None:
        return None
    dt = datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else value
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    dt = dt.astimezone(UTC)
    spec = "milliseconds" if dt.microsecond else "seconds"
    return dt.isoformat(timespec=spec).replace("+00:00", "Z")


def local_time(value: datetime | None) -> str:
    """A terminal-friendly local timestamp, `YYYY-MM-DD HH:MM`."""
    if value is None:
        return "-"
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def out(line: str = "", *, stream: IO[str] | None = None, flush: bool = False) -> None:
    target = sys.stdout if stream is None else stream
    target.write(line + "\n")
    if flush:
        target.flush()


def err(message: str) -> None:
    """One line on stderr, prefixed like every agp-tui error; the message is cleaned."""
    sys.stderr.write(f"agp-tui: {clean(message)}\n")
    sys.stderr.flush()


def warn(message: str) -> None:
    err(f"warning: {message}")


def dash(value: object) -> str:
    """A cell for an optional value: cleaned text, or `-` when absent or blank."""
    text = clean(value) if value is not None else ""
    return text if text.strip() else "-"


def tokens_json(input_tokens: int, output_tokens: int, reasoning_tokens: int) -> dict[str, int]:
    return {
        "input": input_tokens, "output": output_tokens, "reasoning": reasoning_tokens,
        "total": input_tokens + output_tokens + reasoning_tokens,
    }


def print_json(value: Any) -> int:
    out(json_text(value))
    return 0


__all__ = [
    "Style", "cell_width", "clean", "cut", "dash", "err", "iso", "json_text",
    "local_time", "out", "print_json", "table", "tokens_json", "warn",
]
