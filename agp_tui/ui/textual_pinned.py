"""Everything agp-tui does through Textual's private names, in one place, pinned to one release.

Textual's private names move between releases, and when they do the failure is stale cells
on screen or a silent crash, which nothing reports. So `tests/test_textual_private.py`
keeps every other module on public API, and this module holds the three things that have
no public route, each proven by a test against exactly `TEXTUAL_VERSION` (pyproject pins
`textual==` that release; `install()`, called once by `make_app`, checks it again):

1. The lean screen writer (leaner bytes for partial screen updates: what an SSH link pays
   for a live table). Textual turns a partial repaint into a `ChopsUpdate` and writes it
   with `ChopsUpdate.render_segments`, which (Textual 8) has two costs that dominate a
   dashboard whose cells change every second:

   - each dirty span is sent from the *left edge of its widget* up to the span's end, so a
     changed cell at the right of a 120-column table resends the whole row;
   - every segment is wrapped in its own colour sequence and reset (`ESC[…m text ESC[0m`),
     about 25 bytes a cell even when the neighbour has the same colours.

   `render_segments` below sends only the segments that overlap each dirty span (segments
   hold whole characters, so a wide glyph is never split) and emits a colour sequence only
   when the colours change. The screen a terminal ends up showing is the same —
   `tests/ui/test_lean_output.py` replays both versions into a terminal emulator (pyte) and
   compares — at about a third of the bytes (`python -m agp_tui.bench bandwidth`).
   On another release it stands aside with a one-line warning: Textual's own, larger, updates.

2. The crash report without local variables. Textual prints its crash report with
   `show_locals=True`; a frame inside an HTTP library holds the request headers, the API
   key among them, and such reports get pasted into bug reports. No public hook turns
   locals off, so `App._fatal_error` is replaced (on `AgpApp` only) by one that calls only
   public API: `bell()`, and `panic()` with a traceback without locals. This one is
   installed on every release that still has the hook: on a release without it, Textual
   never calls it and nothing changes (tests/reliability/test_secrets.py fails then).

3. The command palette closing under a burst of keys. Textual's palette searches on every
   change of its input; a search still running while Textual removes a closing palette's
   widgets sets its list visibility, whose watcher looks the (removed) list up:
   `NoMatches: CommandList` ended the app (tests/ui/test_monkey.py, seed 2). The guard
   lets that watcher act only while the list is there (tests/ui/test_palette_close.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import rich
from rich.cells import cell_len
from rich.color import ColorSystem
from rich.console import Console
from rich.control import Control
from rich.segment import Segment
from rich.traceback import Traceback
from textual.app import App
from textual.command import CommandList, CommandPalette
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


def _quiet_fatal_error(app: App[Any]) -> None:
    """Textual's crash report, minus local variables (2. above)."""
    app.bell()
    app.panic(Traceback(show_locals=False, width=None, suppress=[rich]))


def _palette_list_visible(palette: CommandPalette) -> None:
    """The palette's list-visibility watcher, once its list is there (3. above)."""
    if palette.query(CommandList):
        CommandPalette._watch__list_visible(palette)


def install(app_class: type[App[Any]] | None = None,
            palette_class: type[CommandPalette] | None = None) -> str | None:
    """Install the hooks. `app_class` gets the crash report without locals (on any release
    that has the hook); on the proven release `palette_class` gets the closing guard and
    the lean writer replaces Textual's. Returns None when all is installed, else the
    one-line reason the writer and the guard stood aside, with Textual left untouched."""
    if app_class is not None and hasattr(App, "_fatal_error"):
        app_class._fatal_error = _quiet_fatal_error  # type: ignore[method-assign,assignment]
    found = textual_version()
    if found != TEXTUAL_VERSION:
        return (f"Textual {found} is not the {TEXTUAL_VERSION} agp-tui was tested with: "
                "screen updates use Textual's own writer (more bytes over SSH)")
    if palette_class is not None and hasattr(CommandPalette, "_watch__list_visible"):
        palette_class._watch__list_visible = _palette_list_visible  # type: ignore[method-assign,assignment]
    if not ENABLED:
        return ""  # the writer switched off on purpose: nothing to warn about
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
