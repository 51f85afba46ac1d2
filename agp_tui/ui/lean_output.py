"""Leaner bytes for partial screen updates: what an SSH link pays for a live table.

Textual turns a partial repaint into a `ChopsUpdate` and writes it with
`ChopsUpdate.render_segments`, which (Textual 8) has two costs that dominate a dashboard
whose cells change every second:

- each dirty span is sent from the *left edge of its widget* up to the span's end, so a
  changed cell at the right of a 120-column table resends the whole row;
- every segment is wrapped in its own colour sequence and reset (`ESC[…m text ESC[0m`),
  about 25 bytes a cell even when the neighbour has the same colours.

`install()` replaces that one method with `render_segments` below, which sends only the
segments that overlap each dirty span (segments hold whole characters, so a wide glyph is
never split) and emits a colour sequence only when the colours change. The screen a
terminal ends up showing is the same — `tests/ui/test_lean_output.py` replays both
versions into a terminal emulator (pyte) and compares — at about a third of the bytes
(`python -m agp_tui.bench bandwidth`). If a Textual upgrade moves the method, `install()`
leaves Textual alone (and that test fails, so we notice).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable

from rich.cells import cell_len
from rich.color import ColorSystem
from rich.console import Console
from rich.control import Control
from rich.segment import Segment
from textual._compositor import ChopsUpdate
from textual.strip import Strip

_RESET = "\x1b[0m"
_original = getattr(ChopsUpdate, "render_segments", None)


def _sgr_runs(segments: Iterable[Segment], color_system: ColorSystem, out: list[str]) -> None:
    """Append `segments` as text with a colour sequence only where the colours change."""
    active = ""  # the SGR parameters in force; "" is the terminal's default (after a reset)
    for text, style, _ in segments:
        if style is not None and style._link:  # hyperlinks: keep Textual's exact encoding
            if active:
                out.append(_RESET)
                active = ""
            out.append(Strip.render_style(style, text, color_system))
            continue
        ansi = ""
        if style is not None:
            ansi = style._ansi if style._ansi is not None else Strip.render_ansi(style, color_system)
        if ansi != active:
            out.append(f"\x1b[0;{ansi}m" if ansi else _RESET)
            active = ansi
        out.append(text)
    if active:
        out.append(_RESET)


def _overlapping(strip: Strip, x: int, x1: int, x2: int) -> tuple[int, list[Segment]]:
    """The parts of `strip` (starting at column `x`) that cover columns [x1, x2).

    A segment of narrow characters is cut exactly at x1 and x2 (a sparkline that gained a
    bar resends that bar, not the whole run); one holding wide characters is sent whole,
    so a double-width glyph is never split."""
    start = -1
    picked: list[Segment] = []
    for segment in strip:
        text = segment.text
        width = cell_len(text)
        if x >= x2:
            break
        if x + width > x1:
            if width == len(text):  # narrow characters only: cut at the span's edges
                cut_from, cut_to = max(x1 - x, 0), min(x2 - x, width)
                if (cut_from, cut_to) != (0, width):
                    segment = Segment(text[cut_from:cut_to], segment.style, segment.control)
                if start < 0:
                    start = x + cut_from
            elif start < 0:
                start = x
            picked.append(segment)
        x += width
    return start, picked


def render_segments(self: ChopsUpdate, console: Console) -> str:
    """`ChopsUpdate.render_segments`, cropped to the dirty spans at both ends."""
    color_system = console._color_system or ColorSystem.TRUECOLOR
    out: list[str] = []
    move_to = Control.move_to
    for y, x1, x2 in self.spans:
        line = self.chops[y]
        ends = self.chop_ends[y]
        for end, (x, strip) in zip(ends, line.items(), strict=False):
            if strip is None or x >= x2 or end <= x1:
                continue
            start, segments = _overlapping(strip, x, x1, x2)
            if start < 0:
                continue
            out.append(move_to(start, y).segment.text)
            _sgr_runs(segments, color_system, out)
    return "".join(out)


def install() -> bool:
    """Use the lean writer; False (and Textual untouched) if Textual's shape is not the one
    this was written against."""
    params = inspect.signature(ChopsUpdate.__init__).parameters
    if _original is None or not {"chops", "spans", "chop_ends"} <= params.keys():
        return False
    ChopsUpdate.render_segments = render_segments  # type: ignore[method-assign]
    return True

