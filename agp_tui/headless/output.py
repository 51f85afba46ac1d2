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
import math
import os
import re
import shutil
import sys
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from agp_tui.printable import printable_line

# Characters JSON may legally carry raw that a terminal would still act on, or could not
# even encode: C1 controls, DEL, the line separators, every format character (bidi
# overrides, zero-width and tag characters) and lone surrogates.
_JSON_UNSAFE = re.compile(
    "[\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]"
)
# A cleaned string is cut to this many characters, ending in an ellipsis: pipes get whole
# values otherwise, but no server string may turn one output line into 100 KB (`--json`
# keeps every string whole).
CLEAN_LIMIT = 1000
def clean(text: object, limit: int = CLEAN_LIMIT) -> str:
    """One printable line: escape sequences dropped, line breaks and tabs made spaces,
    at most `limit` characters (the last an ellipsis when cut)."""
    s = printable_line(text, limit)
    return s if len(s) <= limit else s[: max(limit - 1, 0)] + "…"


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
    clip: frozenset[int] = frozenset(),
) -> list[str]:
    """Rows as lines: aligned with a header on a terminal, tab-separated without one elsewhere.

    Every cell is `clean()`ed here (again: cleaning is idempotent), so a caller that forgot
    one, such as an id from the server, still cannot drive the terminal. On a terminal, the
    `fit` columns (index, min width) are cut in that order, each only as far as the rows
    still overflow, so the last column keeps whatever width is left; if even that cannot
    make them fit, nothing is cut and the terminal wraps: losing information for nothing
    helps no one. A `clip` column is cut all at once to its min width and without an
    ellipsis: a session id's first 8 characters are still an id every command accepts (a
    short id), where an id cut anywhere else is neither whole nor usable. `paint` colours a
    column after alignment (widths ignore escapes).
    """
    rows = [[clean(cell) for cell in row] for row in rows]
    if not style.tty:
        return ["\t".join(row) for row in rows]
    widths = _widths(headers, rows, style, fit, clip)
    painters = paint or {}
    bold = {i: (lambda h: style.paint(h, "bold")) for i in range(len(headers))}
    lines = [_line(headers, widths, right, bold, clip)]
    lines += [_line(row, widths, right, painters, clip) for row in rows]
    return lines


def _widths(headers: Sequence[str], rows: Sequence[Sequence[str]], style: Style,
            fit: Sequence[tuple[int, int]], clip: frozenset[int]) -> list[int]:
    """Column widths for cleaned `rows` on a terminal, cut as `table` describes."""
    widths = [cell_width(h) for h in headers]
    for row in rows:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], cell_width(value))
    over = sum(widths) + 2 * (len(widths) - 1) - style.width
    floor: dict[int, int] = {}  # a column may appear in `fit` more than once: its last word counts
    for i, least in fit:
        floor[i] = min(least, floor.get(i, least))
    if over > 0 and sum(max(widths[i] - least, 0) for i, least in floor.items()) >= over:
        for i, least in fit:
            if over <= 0:
                break
            room = max(widths[i] - least, 0)
            cut_by = room if i in clip else min(over, room)
            widths[i] -= cut_by
            over -= cut_by
    return widths


class StreamTable:
    """`table`, printed as rows come instead of all at the end, in bounded memory.

    Piped, each row is written at once (tab-separated, as `table` writes it). On a terminal
    the first `sample` rows are held to size the columns, then printed with the header;
    later rows keep those widths, a longer cell cut with an ellipsis (a `clip` column: to
    its width), except the last column, which may take what the terminal has left.
    `close()` prints whatever is still held.
    """

    def __init__(self, headers: Sequence[str], style: Style, *, right: frozenset[int] = frozenset(),
                 fit: Sequence[tuple[int, int]] = (), paint: Mapping[int, Painter] | None = None,
                 clip: frozenset[int] = frozenset(), sample: int = 100) -> None:
        self.headers, self.style, self.right, self.fit = headers, style, right, fit
        self.paint, self.clip, self.sample = paint or {}, clip, sample
        self.held: list[list[str]] = []
        self.widths: list[int] | None = None
        self.later: list[int] = []

    def add(self, row: Sequence[str]) -> None:
        cells = [clean(cell) for cell in row]
        if not self.style.tty:
            out("\t".join(cells), flush=True)
            return
        if self.widths is None:
            self.held.append(cells)
            if len(self.held) >= self.sample:
                self._start()
            return
        out(_line(cells, self.later, self.right, self.paint, self.clip), flush=True)

    def _start(self) -> None:
        self.widths = _widths(self.headers, self.held, self.style, self.fit, self.clip)
        # Later rows: the last column (never padded) may use what the terminal has left.
        left = self.style.width - sum(self.widths[:-1]) - 2 * (len(self.widths) - 1)
        self.later = [*self.widths[:-1], max(self.widths[-1], left)]
        bold = {i: (lambda h: self.style.paint(h, "bold")) for i in range(len(self.headers))}
        out(_line(self.headers, self.widths, self.right, bold, self.clip))
        for cells in self.held:
            out(_line(cells, self.widths, self.right, self.paint, self.clip))
        self.held = []
        sys.stdout.flush()

    def close(self) -> None:
        if self.widths is None and self.held:
            self._start()


class JsonArray:
    """A JSON array written element by element, the same text `print_json` gives a list:
    memory stays flat however long it is, and a reader sees each element as it is read.
    Nothing is written before the first element or `close()` (an empty array: `[]`)."""

    def __init__(self, *, flush: bool = True) -> None:
        self.count = 0
        self.flush = flush
        self.closed = False

    def add(self, value: object) -> None:
        body = json_text(value).replace("\n", "\n  ")
        sys.stdout.write(("[\n  " if self.count == 0 else ",\n  ") + body)
        self.count += 1
        if self.flush:
            sys.stdout.flush()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        sys.stdout.write("[]\n" if self.count == 0 else "\n]\n")
        sys.stdout.flush()


def _line(cells: Sequence[str], widths: Sequence[int], right: frozenset[int],
          painters: Mapping[int, Painter], clip: frozenset[int] = frozenset()) -> str:
    parts = []
    last = len(cells) - 1
    for i, value in enumerate(cells):
        text = value[: widths[i]] if i in clip else cut(value, widths[i])
        pad = " " * (widths[i] - cell_width(text))
        shown = painters[i](text) if i in painters else text
        if i in right:
            parts.append(pad + shown)
        else:
            parts.append(shown + ("" if i == last else pad))
    return "  ".join(parts).rstrip()


def _finite_json(value: object) -> object:
    """`value` with NaN and infinities as null: Python's json reads and writes them, but
    they are not JSON and `jq` and friends reject the whole line."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_json(v) for v in value]
    return value


def json_text(value: object, *, indent: int | None = 2) -> str:
    """JSON with UTF-8 kept readable but every character a terminal could act on escaped."""
    separators = None if indent else (",", ":")
    try:
        text = json.dumps(value, indent=indent, ensure_ascii=False, allow_nan=False,
                          separators=separators)
    except ValueError:  # a non-finite float somewhere (rare: only then walk the value)
        text = json.dumps(_finite_json(value), indent=indent, ensure_ascii=False,
                          separators=separators)
    # Outside strings JSON is pure ASCII, so these can only sit inside string literals,
    # where a \\uXXXX escape means exactly the same character.
    return _JSON_UNSAFE.sub(_json_escape, text)


def _json_escape(m: re.Match[str]) -> str:
    """`\\uXXXX`, as a UTF-16 surrogate pair past U+FFFF (JSON's only way to write those)."""
    code = ord(m.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


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


def tokens_json(
    input_tokens: int, output_tokens: int, reasoning_tokens: int, cached_tokens: int | None = None
) -> dict[str, int | None]:
    """`cached` is part of `input` (served from a model's cache), so it is not in `total`;
    null when no model reported it, which is not the same as none cached."""
    return {
        "input": input_tokens, "output": output_tokens, "reasoning": reasoning_tokens,
        "cached": cached_tokens, "total": input_tokens + output_tokens + reasoning_tokens,
    }


def print_json(value: Any) -> int:
    out(json_text(value))
    return 0


__all__ = [
    "JsonArray", "StreamTable", "Style", "cell_width", "clean", "cut", "dash", "err", "iso", "json_text",
    "local_time", "out", "print_json", "table", "tokens_json", "warn",
]
