"""Server strings shown literally: no markup, no control characters, no escape sequences.

Everything that came over the network (agent names, errors, first messages, model names,
ids) goes through `safe_text` before it reaches a widget, and into a `rich.text.Text`
(never a markup string), so `[bold]` stays `[bold]` and `\\x1b[2J` cannot clear the screen.
Every result is bounded in terminal cells, so 100 KB of text costs no more than a line.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

from agp_tui.printable import printable_line

ELLIPSIS = "…"
# Without a `max_len`, a string is still cut to this many cells: no widget shows more of
# one server string, and 100 KB of text must not be scanned and laid out on every frame.
DEFAULT_MAX = 1000


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
    """One printable line: escapes and control characters removed, line breaks as spaces.

    At most `max_len` terminal cells (`DEFAULT_MAX` when not given), ending in an ellipsis
    when cut.
    """
    limit = DEFAULT_MAX if max_len is None else max_len
    return truncate_cells(printable_line(value, limit).strip(), limit)


def literal(value: object, max_len: int | None = None, style: str | Style = "") -> Text:
    """`safe_text` as a `Text`: rendered exactly as written, whatever brackets it holds."""
    return Text(safe_text(value, max_len), style=style, no_wrap=True, overflow="ellipsis")


def safe_lines(value: object, max_lines: int, max_len: int = DEFAULT_MAX) -> list[str]:
    """Multi-line server text (reasoning, an answer, pretty JSON) as printable lines: each
    cleaned like `safe_text` but keeping its indentation, at most `max_lines` of them (then
    one saying how many more)."""
    text = value if isinstance(value, str) else str(value)
    lines = text.expandtabs(4).splitlines() or [""]
    out = []
    for line in lines[:max_lines]:
        indent = len(line) - len(line.lstrip(" "))
        out.append(" " * min(indent, 40) + safe_text(line, max_len))
    if len(lines) > max_lines:
        out.append(f"… {len(lines) - max_lines:,} more lines (c copies the whole event)")
    return out
