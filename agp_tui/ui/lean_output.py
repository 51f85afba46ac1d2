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
(`python -m agp_tui.bench bandwidth`).

This is the one module of agp-tui allowed to touch Textual's private names (the compositor's
`ChopsUpdate`, Rich's cached SGR strings): `tests/test_textual_private.py` keeps every other
module on public API. It is proven against exactly one Textual release, `TEXTUAL_VERSION`, which
`install()` compares with `==` (a test fails when the installed Textual is another release,
until the writer is proven against it); `install()`, called once by `make_app`, leaves any
other version alone and says so in one line, and the dashboard then sends Textual's own,
larger, updates. (pyproject.toml accepts the whole `textual>=8.2,<9` range: the table and
the rest of the app are on public API, so only this writer cares about the exact release.)
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version

from rich.cells import cell_len
from rich.color import ColorSystem
from rich.console import Console
from rich.control import Control
from rich.segment import Segment
from textual.strip import Strip

try:
    from textual._compositor import ChopsUpdate
except ImportError:  # pragma: no cover - a Textual release that moved it: stand aside
    ChopsUpdate = None  # type: ignore[assignment,misc]

TEXTUAL_VERSION = "8.2.8"  # the release tests/ui/test_lean_output.py proves this writer against
_RESET = "\x1b[0m"
_original = getattr(ChopsUpdate, "render_segments", None)
# False: `install()` stands aside (what `python -m agp_tui.bench bandwidth --writer textual`
# measures the lean writer against).
ENABLED = True


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


def textual_version() -> str:
    try:
        return version("textual")
    except PackageNotFoundError:  # pragma: no cover - Textual run from a source tree
        return "unknown"


def install() -> str | None:
    """Use the lean writer. Returns None when installed, else the one-line reason it stood
    aside (another Textual release, or one whose `ChopsUpdate` has another shape), with
    Textual left untouched."""
    if not ENABLED:
        return ""  # switched off on purpose: nothing to warn about
    found = textual_version()
    if found != TEXTUAL_VERSION:
        return (f"Textual {found} is not the {TEXTUAL_VERSION} agp-tui was tested with: "
                "screen updates use Textual's own writer (more bytes over SSH)")
    if ChopsUpdate is None or _original is None:
        return "Textual's screen updates have moved: using Textual's own writer"
    params = inspect.signature(ChopsUpdate.__init__).parameters
    if not {"chops", "spans", "chop_ends"} <= params.keys():
        return "Textual's screen updates have changed shape: using Textual's own writer"
    ChopsUpdate.render_segments = render_segments  # type: ignore[method-assign]
    return None


def installed() -> bool:
    return ChopsUpdate is not None and ChopsUpdate.render_segments is render_segments


def uninstall() -> None:
    """Textual's own writer again (tests compare the two)."""
    if ChopsUpdate is not None and _original is not None:
        ChopsUpdate.render_segments = _original  # type: ignore[method-assign]
