"""SVG snapshots of the main screen, the detail pane, the tree and the help screen.

Deterministic: a fake server with fixed data, a frozen wall clock, no 1 s clock tick.
Regenerate with `pytest tests/ui --snapshot-update` and look at the SVGs before committing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from helpers import Clock, add_tree, frame, loaded, make_engine, sid, wait_for
from textual.pilot import Pilot
from ui_world import standard_world

from agp_tui.sim.fake_backend import FakeBackend
from agp_tui.ui.app import AgpApp, make_app
from agp_tui.ui.screens.discover import DiscoverScreen
from agp_tui.ui.widgets.detail import DetailPane

Snap = Callable[..., bool]


def build(size_hint: str = "", read_only: bool = False) -> tuple[AgpApp, FakeBackend]:
    fake = FakeBackend()
    ids = standard_world(fake)
    add_tree(fake, 3, [3, 2], start=100)
    engine = make_engine(fake, Clock())
    app = make_app(engine, initial_ids=ids, clock=engine._wall, tick_clock=False, profile="demo",
                   region="eu", read_only=read_only)
    return app, fake


Step = Callable[[Pilot[Any]], Awaitable[None]]


def ready(then: Step | None = None) -> Step:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, AgpApp)
        await wait_for(pilot, lambda: app.engine.started and loaded(app.engine)
                       and app.engine.quota is not None
                       and all(app.engine.view(sid(n)).cost is not None for n in (2, 5)))  # type: ignore[union-attr]
        await frame(pilot)
        if then is not None:
            await then(pilot)
        await frame(pilot)
        await frame(pilot)  # widgets mounted by the step fill in on the frame after

    return run_before


def test_main_80x24(snap_compare: Snap) -> None:
    app, _ = build()
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready())


async def now_line_shown(pilot: Pilot[Any]) -> None:
    """The detail pane's "now" line comes from the shown session's followed events, which
    arrive a moment after the selection rests: wait for them, then draw."""
    app = pilot.app
    assert isinstance(app, AgpApp)
    pane = app.main.query_one(DetailPane)
    await wait_for(pilot, lambda: pane.session_id is not None
                   and (events := app.engine.trajectory(pane.session_id)) is not None
                   and events.latest() is not None)
    await frame(pilot)
    pane.refresh_view()


def test_main_with_detail_200x50(snap_compare: Snap) -> None:
    async def select_failed(pilot: Pilot[Any]) -> None:
        await pilot.press("down")
        await now_line_shown(pilot)

    app, _ = build()
    assert snap_compare(app, terminal_size=(200, 50), run_before=ready(select_failed))


def test_detail_80x24(snap_compare: Snap) -> None:
    async def show_detail(pilot: Pilot[Any]) -> None:
        await pilot.press("i")
        await now_line_shown(pilot)

    app, _ = build()
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready(show_detail))


def test_tree_120x36(snap_compare: Snap) -> None:
    async def open_tree(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, AgpApp)
        await pilot.press("down", "down", "enter")
        await wait_for(pilot, lambda: (r := app.engine.rollup(sid(3))).sessions == 10 and r.unknown == 0)
        await frame(pilot)
        await pilot.press("e")

    app, _ = build()
    assert snap_compare(app, terminal_size=(120, 36), run_before=ready(open_tree))


def test_help_80x24(snap_compare: Snap) -> None:
    async def open_help(pilot: Pilot[Any]) -> None:
        await pilot.press("question_mark")

    app, _ = build()
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready(open_help))


def test_problems_filter_80x24(snap_compare: Snap) -> None:
    async def problems(pilot: Pilot[Any]) -> None:
        await pilot.press("exclamation_mark", "s", "s", "s")

    app, _ = build()
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready(problems))


def test_discover_80x24(snap_compare: Snap) -> None:
    async def discover(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await pilot.press("l")
        assert isinstance(app.screen, DiscoverScreen)
        screen = app.screen
        await wait_for(pilot, lambda: screen.loads == 1)
        await pilot.press("down", "space", "down")

    app, _ = build()
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready(discover))


def test_cancel_confirm_80x24(snap_compare: Snap) -> None:
    async def cancel(pilot: Pilot[Any]) -> None:
        await pilot.press("space", "down", "space", "x")

    app, _ = build()
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready(cancel))


def test_read_only_80x24(snap_compare: Snap) -> None:
    app, _ = build(read_only=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready())
