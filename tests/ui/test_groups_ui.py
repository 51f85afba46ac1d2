"""A followed group in the dashboard: its aggregate line, expanded into the members' table.

Against the real simulator on loopback, with a group of 10,000 sessions (a ManualClock
world: statuses hold still unless the test moves time, so counts are exact).
"""

from __future__ import annotations

import random
from collections import Counter

from helpers import wait_for
from simapp import sim_app
from textual.widgets import Static

from agp_tui.api.query import SessionQuery
from agp_tui.sim import ManualClock, World
from agp_tui.sim.world import user_message
from agp_tui.ui.screens.group import GroupScreen
from agp_tui.ui.screens.main import MainScreen
from agp_tui.ui.screens.tree import TreeScreen
from agp_tui.ui.widgets.session_table import SessionTable


def big_world(n: int, group: str = "big") -> World:
    world = World(seed=4, sessions=10, clock=ManualClock(), arrival_interval_s=0, quota_limit=100_000)
    rng = random.Random(4)
    for _ in range(n):
        world.create({"agent": rng.choice(("h/web-surfer-flash", "h/web-surfer", "acme/invoice-bot")),
                      "group_id": group, "messages": [user_message("check the price")]}, queue=True)
    world.clock.advance(40)  # some run, some finished, some still pending
    return world


def group_counts(world: World, group: str) -> Counter[str]:
    world.sync()
    return Counter(s.status for s in world.all_sessions() if s.group_id == group)


async def test_a_group_of_10000_reads_at_a_glance_and_expands() -> None:
    world = big_world(10_000)
    truth = group_counts(world, "big")
    async with sim_app([], world=world, size=(120, 36)) as (_, app, pilot, _rec):
        watch = app.engine.follow_query(SessionQuery(group_id="big"))
        await wait_for(pilot, lambda: watch.bootstrapped, timeout=60)
        await pilot.pause(0.5)
        bar = app.screen.query_one("#groups", Static)
        line = str(bar.render())
        total = sum(truth.values())
        assert f"group:big {total:,}" in line
        for status, n in truth.items():
            assert f"{n:,} {status}" in line, (status, n, line)

        await pilot.press("g")  # expand
        await wait_for(pilot, lambda: isinstance(app.screen, GroupScreen))
        screen = app.screen
        table = screen.query_one(SessionTable)
        await wait_for(pilot, lambda: table.row_count == total, timeout=10)
        assert f"{total:,} of {total:,} members shown" in str(screen.query_one("#modeline", Static).render())

        # Sorting: by status, the members that need nobody (completed) are not first.
        first_before = table.selected_id
        await pilot.press("s", "s", "s")  # id, agent, status
        assert "sort: status" in str(screen.query_one("#modeline", Static).render())
        order = table.shown_ids()
        statuses = [watch.members[s].status for s in order]
        assert statuses == sorted(statuses, key=lambda st: statuses.index(st))  # grouped by status
        # Filtering with the main table's words.
        await pilot.press("slash", *"status:failed", "enter")
        await wait_for(pilot, lambda: table.row_count == truth["failed"])
        assert all(watch.members[s].status == "failed" for s in table.shown_ids())
        await pilot.press("escape")  # clears the filter
        await wait_for(pilot, lambda: table.row_count == total)

        # Holding Down: the cursor walks, nothing dies.
        for _ in range(40):
            await pilot.press("down")
        assert table.selected_id not in (None, first_before) and app.is_running

        # The tree of one member.
        member = table.selected_id
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TreeScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, GroupScreen))
        assert table.selected_id == member

        # Back to the main screen, the group still followed; `u` from the group unfollows.
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.press("g", "u")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and not app.engine.groups())


async def test_member_statuses_follow_the_world_and_figures_show_when_read() -> None:
    world = big_world(300, group="small")
    async with sim_app([], world=world, size=(120, 36)) as (_, app, pilot, _rec):
        watch = app.engine.follow_query(SessionQuery(group_id="small"))
        await wait_for(pilot, lambda: watch.bootstrapped, timeout=20)
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, GroupScreen))
        table = app.screen.query_one(SessionTable)
        await wait_for(pilot, lambda: table.row_count == 300)
        # Rows on screen get their steps read; the rest show `·`, never a made-up 0.
        visible = table.visible_ids()
        await wait_for(pilot, lambda: all(watch.members[s].steps is not None for s in visible[:3]),
                       timeout=15)
        world.clock.advance(120)
        truth = group_counts(world, "small")
        await wait_for(pilot, lambda: Counter(m.status for m in watch.members.values()) == truth,
                       timeout=15)
        def head() -> str:
            return str(app.screen.query_one("#group-head", Static).render())

        await wait_for(pilot, lambda: all(f"{n:,} {st}" in head() for st, n in truth.items()), timeout=5)
        totals = watch.totals()
        await wait_for(pilot, lambda: "/300 read)" in head() and "steps ≥" in head(), timeout=5)
        assert 0 < totals.read < 300
