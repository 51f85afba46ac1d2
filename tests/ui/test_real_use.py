"""What a first hour of real use broke (issue 13): keys in bursts, Home/End, true numbers.

Bursts are posted the way the terminal driver delivers a held key or SSH's queued input:
all at once, with no pause for the app to catch up between them.
"""

from __future__ import annotations

from typing import Any

from fakes import Clock, FakeAgp, iso, sid
from helpers import frame, running, table_of
from rich.style import Style
from textual import events
from textual.pilot import Pilot

from agp_tui.ui.app import AgpApp
from agp_tui.ui.modals import AddSessionsModal
from agp_tui.ui.screens.main import MainScreen
from agp_tui.ui.screens.tree import TreeScreen
from agp_tui.ui.widgets.detail import DetailPane

KEYS = {"enter": "\r", "escape": "\x1b", "a": "a", "i": "i"}


def burst(app: AgpApp, *keys: str) -> None:
    for key in keys:
        app.post_message(events.Key(key, KEYS.get(key)))


def crashed(app: AgpApp) -> BaseException | None:
    return app._exception  # Textual keeps the exception that ended an app here


def fleet(fake: FakeAgp, n: int, clock: Clock) -> list[str]:
    ids = []
    for i in range(1, n + 1):
        models = [("holo3-1-35b-a3b", 1000 * i, 100 * i, 0), ("gpt-5-mini", 50 * i, 5 * i, 10),
                  ("holo3-122b-a10b", 70 * i, 7 * i, 0)]
        # 0 to 3 models: moving down the table adds and removes model lines in the detail pane.
        fake.session(i, status="running" if i % 3 else "completed", steps=i, usage=models[: i % 4],
                     started=iso(2), finished=None if i % 3 else iso(1))
        ids.append(sid(i))
    return ids


async def settle_burst(pilot: Pilot[Any]) -> None:
    for _ in range(3):
        await frame(pilot)


async def test_ten_quick_downs_with_the_detail_pane_open_keep_the_app_alive() -> None:
    fake, clock = FakeAgp(), Clock()
    ids = fleet(fake, 14, clock)
    async with running(fake, clock, ids, (120, 40)) as (app, pilot):
        assert app.main.detail.display
        for _ in range(5):
            burst(app, *["down"] * 10)
            await settle_burst(pilot)
            burst(app, *["up"] * 10)
            await settle_burst(pilot)
        assert crashed(app) is None and app.is_running
        table = table_of(app)
        assert app.main.detail.session_id == table.selected_id  # the pane follows the cursor


async def test_home_and_end_move_to_the_first_and_last_row() -> None:
    fake, clock = FakeAgp(), Clock()
    ids = fleet(fake, 30, clock)
    async with running(fake, clock, ids, (100, 24)) as (app, pilot):
        table = table_of(app)
        await pilot.press("end")
        assert table.selected_id == ids[-1]
        await pilot.press("home")
        assert table.selected_id == ids[0]


async def test_two_enters_in_a_burst_open_one_tree_and_escape_returns() -> None:
    fake, clock = FakeAgp(), Clock()
    fake.session(1, status="running", children=[sid(2)])
    fake.session(2, status="running", parent=sid(1))
    async with running(fake, clock, [sid(1)], (100, 30)) as (app, pilot):
        burst(app, "enter", "enter", "enter")
        await settle_burst(pilot)
        assert crashed(app) is None
        assert sum(isinstance(s, TreeScreen) for s in app.screen_stack) == 1
        burst(app, "escape", "escape", "escape")
        await settle_burst(pilot)
        assert crashed(app) is None and isinstance(app.screen, MainScreen)


async def test_a_modal_closed_twice_in_a_burst_closes_once() -> None:
    fake, clock = FakeAgp(), Clock()
    fake.session(1, status="running")
    results: list[object] = []
    async with running(fake, clock, [sid(1)], (100, 30)) as (app, pilot):
        modal = AddSessionsModal()
        await app.push_screen(modal, results.append)
        await pilot.pause()
        modal.dismiss(None)
        modal.dismiss(None)  # a second close queued by the same burst
        await settle_burst(pilot)
        assert results == [None]  # the callback ran once
        assert isinstance(app.screen, MainScreen)  # the main screen was not popped too


async def test_palette_pages_as_it_opens_and_closes_once() -> None:
    fake, clock = FakeAgp(), Clock()
    ids = fleet(fake, 5, clock)
    async with running(fake, clock, ids, (100, 30)) as (app, pilot):
        burst(app, "ctrl+p", "pagedown", "pageup", "pagedown")
        await settle_burst(pilot)
        assert crashed(app) is None
        burst(app, "escape", "escape")
        await settle_burst(pilot)
        assert crashed(app) is None and isinstance(app.screen, MainScreen)


def model_lines(app: AgpApp) -> list[str]:
    from agp_tui.ui.widgets.detail import ModelLines

    lines = app.main.query_one(ModelLines)
    return [line.plain for line in lines._lines]


async def test_detail_marks_estimates_shows_cached_and_no_rate_when_finished() -> None:
    fake, clock = FakeAgp(), Clock()
    fake.session(1, status="running", steps=4, started=iso(1), usage=[("holo3-1-35b-a3b", 6000, 600, 0)],
                 cached={"holo3-1-35b-a3b": 4200})
    fake.session(2, status="failed", steps=9, started=iso(600), finished=iso(590),
                 usage=[("holo3-1-35b-a3b", 90_000, 9_000, 0)])
    async with running(fake, clock, [sid(1), sid(2)], (140, 40)) as (app, pilot):
        pane = app.main.query_one(DetailPane)
        assert pane.session_id == sid(1)
        line = model_lines(app)[0]
        assert "cache  4.2k" in line
        assert "~110/s" in line  # 6,600 tokens over the minute since its start: an estimate
        lines = app.main.query_one("#detail-models")
        spark = lines._lines[0].spans[-1]
        estimate = [s for s in lines._lines[0].spans if s.style == pane.get_component_rich_style(
            "spark--estimate", partial=True)]
        assert estimate and isinstance(spark.style, Style)  # the estimated bars are styled apart
        await pilot.press("down")
        await frame(pilot)
        line = model_lines(app)[0]
        assert line.rstrip().endswith("▁" * 10) or "▁▁▁▁▁▁▁▁▁▁" in line  # flat: failed ten hours ago
        assert "—" in line and "/s" not in line  # no live rate for a finished session
        assert "cache" not in line  # not reported: not shown
