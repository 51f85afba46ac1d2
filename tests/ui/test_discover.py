"""Discovery (`l`, `--discover`) and auto-follow against a live simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from helpers import wait_for
from simapp import make_world, sim_app
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, Static

from agp_tui.monitor.follow import Rule
from agp_tui.sim import World
from agp_tui.sim.world import ListQuery
from agp_tui.ui.app import AgpApp
from agp_tui.ui.screens.discover import DiscoverScreen, DiscoverTable
from agp_tui.ui.screens.main import MainScreen


def screen_of(app: AgpApp) -> DiscoverScreen:
    assert isinstance(app.screen, DiscoverScreen)
    return app.screen


async def loaded(pilot: Pilot[Any], app: AgpApp, loads: int) -> DiscoverScreen:
    screen = screen_of(app)
    await wait_for(pilot, lambda: screen.loads >= loads and not screen.loading, timeout=5)
    return screen


def title(screen: DiscoverScreen) -> str:
    return str(screen.query_one("#discover-title", Static).content)


def truth(world: World, **kw: Any) -> tuple[list[str], int]:
    items, total = world.query(ListQuery(size=50, **kw))
    return [s.id for s in items], total


async def set_filter(pilot: Pilot[Any], app: AgpApp, name: str, value: str) -> None:
    box = screen_of(app).query_one(f"#discover-{name}", Input)
    box.value = value
    box.focus()
    await pilot.press("enter")


async def test_browse_pages_and_add(tmp_path: Any) -> None:
    world = make_world()
    async with sim_app(world=world) as (world, app, pilot, rec):
        await pilot.press("l")
        screen = await loaded(pilot, app, 1)
        first, total = truth(world)
        assert total > 50
        table = screen.query_one(DiscoverTable)
        assert [r.key.value for r in table.ordered_rows] == first
        assert f"page 1 of 2 · {total} sessions" in title(screen)
        row = table.get_row(first[0])
        s = world.get(first[0])
        assert s is not None
        assert row[1].plain == first[0][:8] and row[2].plain == s.agent and s.status in row[3].plain
        await pilot.press("right_square_bracket")
        screen = await loaded(pilot, app, 2)
        second, _ = truth(world, page=2)
        assert [r.key.value for r in table.ordered_rows] == second and "page 2 of 2" in title(screen)
        await pilot.press("right_square_bracket")  # no page 3
        await pilot.pause(0.1)
        assert rec.has("last page") and screen.loads == 2
        # Mark two here, go back a page, mark one more: `a` adds all three.
        await pilot.press("space", "down", "space", "left_square_bracket")
        screen = await loaded(pilot, app, 3)
        await pilot.press("space")
        assert "3 marked" in title(screen)
        await pilot.press("a")
        assert set(app.engine.watched_ids()) == {second[0], second[1], first[0]}
        assert rec.has("watching 3 new sessions")
        await wait_for(pilot, lambda: table.get_row(first[0])[0].plain == " ✓")
        # `A` adds every shown session; the ones already watched are counted.
        await pilot.press("A")
        assert len(app.engine.watched_ids()) == 52
        assert rec.has("watching 49 new sessions (1 already watched)")
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        await wait_for(pilot, lambda: app.main.table.row_count == 52)


async def test_a_held_page_key_goes_through_pages_as_fast_as_it_comes() -> None:
    """Ten `]` in one burst land on page 11 (a page asked for while another loads used to
    drop the key: a held `]` crawled a page per answer), then `[` twice on page 9."""
    world = make_world(sessions=600)
    async with sim_app(world=world) as (world, app, pilot, _rec):
        await pilot.press("l")
        screen = await loaded(pilot, app, 1)
        pages = -(-screen.page.total // 50)  # type: ignore[union-attr]
        assert pages >= 12
        for _ in range(10):
            app.post_message(events.Key("right_square_bracket", None))  # as a held key arrives
        await wait_for(pilot, lambda: screen.current.page == 11 and not screen.loading, timeout=5)
        eleventh, _ = truth(world, page=11)
        table = screen.query_one(DiscoverTable)
        assert [r.key.value for r in table.ordered_rows] == eleventh and "page 11 of" in title(screen)
        await pilot.press("left_square_bracket", "left_square_bracket")
        await wait_for(pilot, lambda: screen.current.page == 9 and not screen.loading, timeout=5)
        assert [r.key.value for r in table.ordered_rows] == truth(world, page=9)[0]


async def test_filters_status_agent_group_and_since() -> None:
    world = make_world()
    group_session = next(s for s in world.all_sessions() if s.group_id)
    agent = next(s.agent for s in world.all_sessions() if s.parent_id is None)
    async with sim_app(world=world, discover=True) as (world, app, pilot, _rec):
        screen = await loaded(pilot, app, 1)  # --discover opens straight on this screen
        table = screen.query_one(DiscoverTable)
        await set_filter(pilot, app, "status", "running, idle")
        screen = await loaded(pilot, app, 2)
        want, total = truth(world, statuses=frozenset({"running", "idle"}))
        assert [r.key.value for r in table.ordered_rows] == want and total > 0
        assert "status running/idle" in title(screen)
        await set_filter(pilot, app, "status", "")
        await set_filter(pilot, app, "agent", agent or "")
        screen = await loaded(pilot, app, 4)
        want, _ = truth(world, agents=frozenset({agent}))
        assert [r.key.value for r in table.ordered_rows] == want
        await set_filter(pilot, app, "agent", "")
        await set_filter(pilot, app, "group", group_session.group_id or "")
        screen = await loaded(pilot, app, 6)
        want, _ = truth(world, group_id=group_session.group_id)
        assert group_session.id in want and [r.key.value for r in table.ordered_rows] == want
        await set_filter(pilot, app, "group", "")
        cut = world.epoch + world.now() - 120  # exact, so no session sits on the boundary by chance
        await set_filter(pilot, app, "since", datetime.fromtimestamp(cut, UTC).isoformat())
        screen = await loaded(pilot, app, 8)
        want, _ = truth(world, created_after=cut)
        assert [r.key.value for r in table.ordered_rows] == want
        assert len(want) < len(world)
        # A bad filter says why and keeps the last listing.
        await set_filter(pilot, app, "status", "runing")
        await pilot.pause(0.1)
        error = screen.query_one("#discover-error", Static)
        assert error.has_class("-shown") and "did you mean running" in str(error.content)
        assert screen.loads == 8
        await pilot.press("escape", "escape")  # leave the input, then the screen
        assert isinstance(app.screen, MainScreen)


async def test_list_errors_are_shown_not_raised() -> None:
    world = make_world()
    async with sim_app(world=world) as (world, app, pilot, _rec):
        original = app.engine.client.list_sessions

        async def refuse(**kw: Any) -> Any:
            from agp_tui.api.errors import RateLimited

            raise RateLimited("Too many requests", retry_after=4)

        app.engine.client.list_sessions = refuse  # type: ignore[method-assign]
        await pilot.press("l")
        screen = screen_of(app)
        error = screen.query_one("#discover-error", Static)
        await wait_for(pilot, lambda: error.has_class("-shown"))
        assert "rate limited, retry in 4s (429)" in str(error.content)
        app.engine.client.list_sessions = original  # type: ignore[method-assign]
        await pilot.press("r")
        await loaded(pilot, app, 1)
        assert not error.has_class("-shown")


async def test_auto_follow_adds_new_matching_sessions() -> None:
    world = make_world()
    rules = [Rule(group_id="nightly"), Rule(agent="acme/special", status=("running",))]
    async with sim_app(world=world, follow=rules, follow_interval=0.2) as (world, app, pilot, rec):
        assert app.follow is not None
        await wait_for(pilot, lambda: app.follow is not None and app.follow.scans >= 1)
        assert app.engine.watched_ids() == []  # what existed before is not followed
        origin = app.engine.client.base_url
        headers = {"Authorization": "Bearer hk-demo-0000000000000000"}
        async with httpx.AsyncClient(base_url=origin, headers=headers) as http:
            made = []
            for body in ({"agent": "h/web-surfer-flash", "messages": "x", "group_id": "nightly"},
                         {"agent": "acme/special", "messages": "y"},
                         {"agent": "h/web-surfer-flash", "messages": "z"}):
                made.append((await http.post("/sessions", json=body)).json()["id"])
        await wait_for(pilot, lambda: made[0] in app.engine.watched_ids(), timeout=5)
        assert rec.has("auto-follow: watching 1 new session")
        # acme/special is pending until the world moves on; once running it is followed.
        assert made[1] not in app.engine.watched_ids()
        world.advance(30)
        await wait_for(pilot, lambda: made[1] in app.engine.watched_ids(), timeout=5)
        assert made[2] not in app.engine.watched_ids()
        await wait_for(pilot, lambda: app.main.table.row_count == 2)
    assert app.follow is not None and not app.follow.running  # stopped with the app
