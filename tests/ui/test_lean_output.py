"""The lean screen writer (`agp_tui.ui.textual_pinned`) leaves a terminal showing exactly what
Textual's own writer would, for fewer bytes.

Everything the dashboard would write is replayed into two terminal emulators (pyte): one
fed by our writer, one by Textual's. After every frame both terminals must hold the same
characters with the same colours and attributes, and that must be the screen the
compositor has in memory.
"""

from __future__ import annotations

from typing import Any

import pyte
from helpers import Clock, frame, running, sid, wait_for
from rich.segment import Segment
from rich.style import Style
from textual._compositor import ChopsUpdate, CompositorUpdate
from textual.strip import Strip
from ui_world import standard_world

from agp_tui.sim.fake_backend import FakeBackend
from agp_tui.ui import textual_pinned

COLS, ROWS = 120, 40


class Terminal:
    """A pyte screen fed with raw terminal output."""

    def __init__(self) -> None:
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.Stream(self.screen)
        self.bytes = 0

    def feed(self, data: str) -> None:
        self.bytes += len(data.encode())
        self.stream.feed(data)

    def cells(self) -> list[list[tuple[Any, ...]]]:
        buf = self.screen.buffer
        return [[(c.data, c.fg, c.bg, c.bold, c.italics, c.underscore, c.reverse)
                 for c in (buf[y][x] for x in range(COLS))] for y in range(ROWS)]

    def text(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display]


def _chops(strip: Strip, x1: int, x2: int) -> ChopsUpdate:
    return ChopsUpdate([{0: strip}], [(0, x1, x2)], [[strip.cell_length]])


def test_a_span_in_the_middle_of_a_line_sends_just_its_columns() -> None:
    blue, red = Style(color="blue"), Style(color="red", bold=True)
    strip = Strip([Segment("a" * 20, blue), Segment("b" * 20, blue), Segment("c" * 20, red),
                   Segment("好" * 10, red)])
    console = _console()
    lean = textual_pinned.render_segments(_chops(strip, 30, 45), console)
    assert lean.startswith("\x1b[1;31H")  # column 30 (0-based), exactly
    assert "a" not in lean and "b" * 10 in lean and "b" * 11 not in lean
    assert "c" * 5 in lean and "c" * 6 not in lean and "好" not in lean
    _same_screen(strip, _chops(strip, 30, 45), console)


def test_a_wide_character_is_never_split() -> None:
    red = Style(color="red")
    strip = Strip([Segment("a" * 10, red), Segment("好好好", red), Segment("z" * 10, red)])
    console = _console()
    lean = textual_pinned.render_segments(_chops(strip, 13, 14), console)  # the middle of a 好
    assert lean.startswith("\x1b[1;11H") and "好好好" in lean  # the whole wide run, from its start
    _same_screen(strip, _chops(strip, 13, 14), console)


def _same_screen(strip: Strip, update: ChopsUpdate, console: Any) -> None:
    """Over the same first frame, our writer and Textual's leave the same terminal."""
    ours, theirs = Terminal(), Terminal()
    full = _full(strip, console)
    for term in (ours, theirs):
        term.feed(full)
    ours.feed(textual_pinned.render_segments(update, console))
    assert textual_pinned._original is not None
    theirs.feed(textual_pinned._original(update, console))
    assert ours.cells() == theirs.cells()


def test_colours_are_sent_once_per_run_of_equal_style() -> None:
    grey = Style(color="grey50", bgcolor="black")
    strip = Strip([Segment(f"{n:>5}", grey) for n in range(10)])
    update = ChopsUpdate([{0: strip}], [(0, 0, 50)], [[50]])
    lean = textual_pinned.render_segments(update, _console())
    assert lean.count("\x1b[0;") == 1 and lean.endswith("\x1b[0m")
    assert textual_pinned._original is not None
    assert len(lean) < len(textual_pinned._original(update, _console())) / 3


def test_links_keep_their_osc8_encoding() -> None:
    link = Style(link="https://example.com/x")
    strip = Strip([Segment("go", link), Segment(" there", Style(color="red"))])
    lean = textual_pinned.render_segments(ChopsUpdate([{0: strip}], [(0, 0, 8)], [[8]]), _console())
    assert "\x1b]8;id=" in lean and "https://example.com/x" in lean


async def test_the_dashboard_looks_the_same_through_both_writers(fake: FakeBackend, clock: Clock) -> None:
    """Frames of a live 120x40 dashboard, replayed through both writers into two terminals."""
    ids = standard_world(fake)
    ids += [fake.pin(n, steps=n, status="running", usage=[("holo3-1-35b-a3b", 100 * n, 10, 0)]).id
            for n in range(10, 40)]
    ours, theirs = Terminal(), Terminal()
    async with running(fake, clock, ids, (COLS, ROWS)) as (app, pilot):
        real_display = app._display
        console = app.console

        def display(screen: Any, renderable: Any) -> None:
            if isinstance(renderable, CompositorUpdate) and screen is app.screen and not app._batch_count:
                ours.feed(renderable.render_segments(console))
                if isinstance(renderable, ChopsUpdate):
                    assert textual_pinned._original is not None
                    theirs.feed(textual_pinned._original(renderable, console))
                else:
                    theirs.feed(renderable.render_segments(console))
            real_display(screen, renderable)

        app._display = display  # type: ignore[method-assign]
        app.screen.refresh()  # a full frame first: both terminals start from the same screen
        await frame(pilot)
        start = ours.bytes, theirs.bytes
        for round_ in range(1, 6):
            for n in range(10, 40, 3):
                fake.set(sid(n), steps=fake.get(sid(n)).steps + round_,
                         usage=[("holo3-1-35b-a3b", 100 * n + 997 * round_, 10 * round_, 0)])
            clock.advance(7)
            app.engine.refresh()
            await wait_for(pilot, lambda r=round_: app.engine.view(sid(37)).steps == 37 + r * (r + 1) // 2)  # type: ignore[union-attr]
            await pilot.press("down")
            await frame(pilot)
            assert ours.cells() == theirs.cells(), f"terminals differ after round {round_}"
            shown = [strip.text.rstrip() for strip in app.screen._compositor.render_strips()]
            assert ours.text() == shown, f"terminal is not the compositor's screen after round {round_}"
        ours_sent, theirs_sent = ours.bytes - start[0], theirs.bytes - start[1]
        assert ours_sent > 0
        assert ours_sent < theirs_sent * 0.6, (ours_sent, theirs_sent)


def _console() -> Any:
    from rich.console import Console

    return Console(color_system="256", force_terminal=True, width=COLS)


def _full(strip: Strip, console: Any) -> str:
    return "\x1b[1;1H" + strip.render(console)


def test_the_writer_is_pinned_to_the_textual_release_these_tests_prove() -> None:
    """A Textual upgrade fails here until this file has proven the writer against it again
    (then bump `TEXTUAL_VERSION`); users on another release get Textual's own writer."""
    assert textual_pinned.textual_version() == textual_pinned.TEXTUAL_VERSION


def test_on_another_textual_release_it_stands_aside_with_one_line(monkeypatch: Any) -> None:
    textual_pinned.uninstall()
    try:
        monkeypatch.setattr(textual_pinned, "textual_version", lambda: "8.3.0")
        reason = textual_pinned.install()
        assert reason is not None and "\n" not in reason and "8.3.0" in reason
        assert not textual_pinned.installed()  # Textual's own writer, untouched
        assert ChopsUpdate.render_segments is textual_pinned._original
    finally:
        monkeypatch.undo()
        assert textual_pinned.install() is None  # as every other test runs: installed
    assert textual_pinned.installed()


def test_make_app_shows_the_stand_aside_line_as_a_startup_warning(monkeypatch: Any, fake: FakeBackend,
                                                                   clock: Clock) -> None:
    from helpers import make_engine

    from agp_tui.ui.app import make_app

    textual_pinned.uninstall()
    try:
        monkeypatch.setattr(textual_pinned, "textual_version", lambda: "9.0.0")
        app = make_app(make_engine(fake, clock), clock=clock)  # built, never run
        assert any("Textual 9.0.0" in w for w in app.startup_warnings)
    finally:
        monkeypatch.undo()
        textual_pinned.install()
