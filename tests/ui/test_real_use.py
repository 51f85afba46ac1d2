"""What a first hour of real use broke (issue 13): keys in bursts, Home/End, true numbers.

Bursts are posted the way the terminal driver delivers a held key or SSH's queued input:
all at once, with no pause for the app to catch up between them.
"""

from __future__ import annotations

from typing import Any

from helpers import Clock, add_tree, cell_text, frame, iso, running, sid, table_of, wait_for
from rich.style import Style
from textual import events
from textual.pilot import Pilot

from agp_tui.sim.fake_backend import FakeBackend, Patch, status_of
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


def fleet(fake: FakeBackend, n: int, clock: Clock) -> list[str]:
    ids = []
    for i in range(1, n + 1):
        models = [("holo3-1-35b-a3b", 1000 * i, 100 * i, 0), ("gpt-5-mini", 50 * i, 5 * i, 10),
                  ("holo3-122b-a10b", 70 * i, 7 * i, 0)]
        # 0 to 3 models: moving down the table adds and removes model lines in the detail pane.
        fake.pin(i, status="running" if i % 3 else "completed", steps=i, usage=models[: i % 4],
                 started=iso(2), finished=None if i % 3 else iso(1))
        ids.append(sid(i))
    return ids


async def settle_burst(pilot: Pilot[Any]) -> None:
    for _ in range(3):
        await frame(pilot)


async def test_ten_quick_downs_with_the_detail_pane_open_keep_the_app_alive() -> None:
    fake, clock = FakeBackend(), Clock()
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
    fake, clock = FakeBackend(), Clock()
    ids = fleet(fake, 30, clock)
    async with running(fake, clock, ids, (100, 24)) as (app, pilot):
        table = table_of(app)
        await pilot.press("end")
        assert table.selected_id == ids[-1]
        await pilot.press("home")
        assert table.selected_id == ids[0]


async def test_two_enters_in_a_burst_open_one_tree_and_escape_returns() -> None:
    fake, clock = FakeBackend(), Clock()
    fake.pin(1, status="running", children=[sid(2)])
    fake.pin(2, status="running", parent=sid(1))
    async with running(fake, clock, [sid(1)], (100, 30)) as (app, pilot):
        burst(app, "enter", "enter", "enter")
        await settle_burst(pilot)
        assert crashed(app) is None
        assert sum(isinstance(s, TreeScreen) for s in app.screen_stack) == 1
        burst(app, "escape", "escape", "escape")
        await settle_burst(pilot)
        assert crashed(app) is None and isinstance(app.screen, MainScreen)


async def test_a_modal_closed_twice_in_a_burst_closes_once() -> None:
    fake, clock = FakeBackend(), Clock()
    fake.pin(1, status="running")
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
    fake, clock = FakeBackend(), Clock()
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
    fake, clock = FakeBackend(), Clock()
    fake.pin(1, status="running", steps=4, started=iso(1), usage=[("holo3-1-35b-a3b", 6000, 600, 0)])

    def cached(data: dict[str, Any]) -> None:  # reported by the API, not by the simulator
        for usage in status_of(data)["usage_per_model"]:
            usage["cached_tokens"] = 4200

    fake.fail(Patch(cached), kind="status", session=sid(1))
    fake.fail(Patch(cached), kind="session", session=sid(1))
    fake.pin(2, status="failed", steps=9, started=iso(600), finished=iso(590),
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


# -- text that fits, states that say what they are ------------------------------------------

async def test_status_words_are_whole_at_80_and_200_columns() -> None:
    fake, clock = FakeBackend(), Clock()
    fake.pin(1, status="timed_out", started=iso(10), finished=iso(1))
    fake.pin(2, status="hibernating")
    fake.pin(3, status="interrupted")
    fake.pin(4, status="awaiting_tool_results")
    ids = [sid(n) for n in range(1, 5)]
    for size in ((80, 24), (200, 50)):
        async with running(fake, clock, ids, size) as (app, _):
            cells = [cell_text(app, s, "status").strip() for s in ids]
            assert cells[:3] == ["⌛ timed_out", "? hibernating", "■ interrupted"], (size, cells)
            if size[0] >= 160:
                assert cells[3] == "◔ awaiting_tool_results"


async def test_tree_rollup_fits_at_80x24() -> None:
    fake, clock = FakeBackend(), Clock()
    fake.pin(1, agent="h/deep-researcher-with-a-long-name", status="running", steps=2,
             usage=[("holo3-122b-a10b", 16_000, 900, 0)])
    add_tree(fake, 1, [3, 2], status="running", steps=4, usage=[("holo3-1-35b-a3b", 9_000, 300, 0)])
    async with running(fake, clock, [sid(1)], (80, 24)) as (app, pilot):
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TreeScreen))
        tree = app.screen.query_one("SessionTree")
        await wait_for(pilot, lambda: "⟨" in tree.root.label.plain and "live" in tree.root.label.plain)
        await frame(pilot)
        label = tree.root.label.plain
        assert label.endswith("⟩") and len(label) <= 80 - 2, label  # the rollup is whole
        title = str(app.screen.query_one("#tree-title").render())
        assert len(title) <= 80


async def test_agent_view_url_is_never_broken_across_lines() -> None:
    fake, clock = FakeBackend(), Clock()
    fake.pin(1, status="running")
    async with running(fake, clock, [sid(1)], (80, 24)) as (app, pilot):
        await pilot.press("i")
        await frame(pilot)
        url = app.main.query_one("#detail-url")
        assert len(url._lines) == 1
        line = url._lines[0]
        assert line.plain.startswith("url https://platform.eu.hcompany.ai/agent-view/")
        assert line.plain.endswith("…") and len(line.plain) <= 80  # cut to fit, one line
        info = app.main.query_one("#detail-info").render().plain
        assert "agent-view" not in info  # not folded into the info block any more


async def test_a_filter_that_hides_everything_says_so() -> None:
    fake, clock = FakeBackend(), Clock()
    fake.pin(1, status="running")
    fake.pin(2, status="completed")
    async with running(fake, clock, [sid(1), sid(2)], (100, 40)) as (app, pilot):
        await pilot.press("slash", *"nothing-matches", "enter")
        await frame(pilot)
        info = app.main.query_one("#detail-info").render().plain
        assert "filter 'nothing-matches'" in info and "hides all 2" in info and "esc" in info
        assert "Press a to add" not in info
        modeline = str(app.main.query_one("#modeline").render())
        assert "hides every session" in modeline
        await pilot.press("escape")
        await frame(pilot)
        assert table_of(app).row_count == 2


async def test_with_a_refused_key_rows_say_so_instead_of_loading() -> None:
    fake, clock = FakeBackend(), Clock()
    for n in range(1, 4):
        fake.pin(n, status="running")
    fake.fail(401)
    ids = [sid(n) for n in range(1, 4)]
    from helpers import make_engine

    from agp_tui.ui.app import make_app

    app = make_app(make_engine(fake, clock), initial_ids=ids, clock=clock, tick_clock=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.engine.connection.value == "auth_error")
        await frame(pilot)
        for s in ids:
            assert "AuthError" in cell_text(app, s, "status") or "Auth" in cell_text(app, s, "status")
            assert "loading" not in cell_text(app, s, "status")
        info = app.main.query_one("#detail-info").render().plain
        assert "AuthError" in info and "not loaded yet" not in info


async def test_not_found_detail_says_not_found() -> None:
    fake, clock = FakeBackend(), Clock()
    fake.pin(1, status="running")
    missing = sid(99)
    async with running(fake, clock, [missing, sid(1)], (120, 40)) as (app, pilot):
        await frame(pilot)
        assert app.main.detail.session_id == missing
        info = app.main.query_one("#detail-info").render().plain
        assert "✘ not found" in info and "not loaded yet" not in info


async def test_a_label_never_hides_the_agent() -> None:
    fake, clock = FakeBackend(), Clock()
    fake.pin(1, agent="h/web-surfer", status="running")
    async with running(fake, clock, [], (200, 30)) as (app, pilot):
        app.engine.add([sid(1)], label="nightly")
        await wait_for(pilot, lambda: (v := app.engine.view(sid(1))) is not None and v.agent is not None)
        await frame(pilot)
        cell = cell_text(app, sid(1), "agent").strip()
        assert "nightly" in cell and "h/web-surfer" in cell


async def test_sparklines_are_not_red_in_16_colours() -> None:
    """TERM=linux: the accent became bright red, which reads as an error."""
    from rich.color import ColorSystem

    fake, clock = FakeBackend(), Clock()
    fake.pin(1, status="running", usage=[("holo3-1-35b-a3b", 100, 10, 0)])
    async with running(fake, clock, [sid(1)], (120, 40)) as (app, _):
        styles = [table_of(app).style_of("cell--spark"), table_of(app).style_of("cell--spark-estimate"),
                  app.main.detail.get_component_rich_style("spark", partial=True),
                  app.main.detail.get_component_rich_style("spark--estimate", partial=True)]
        for style in styles:
            assert style.color is not None
            standard = style.color.downgrade(ColorSystem.STANDARD)
            assert standard.number not in (1, 9), style  # red, bright red
        assert styles[1].dim and styles[3].dim  # estimates differ by more than colour
