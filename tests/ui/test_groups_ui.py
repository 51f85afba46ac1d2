"""A followed group in the dashboard: its aggregate line, expanded into the members' table.

Against the real simulator on loopback, with a group of 10,000 sessions (a ManualClock
world: statuses hold still unless the test moves time, so counts are exact).
"""

from __future__ import annotations

from collections import Counter

from helpers import wait_for
from simapp import sim_app
from textual.widgets import Static

from agp_tui.api.query import SessionQuery
from agp_tui.sim import ManualClock, World
from agp_tui.sim.batches import Batch
from agp_tui.ui.format import status_symbol
from agp_tui.ui.screens.group import GroupScreen
from agp_tui.ui.screens.main import MainScreen
from agp_tui.ui.screens.tree import TreeScreen
from agp_tui.ui.widgets.session_table import SessionTable


def big_world(n: int, group: str = "big", agent: str | None = "h/web-surfer-flash") -> World:
    """A batch job of `n` sessions submitted before the dashboard starts (the last of them
    40 s before): some still pending, most running, some finished. agent=None: the usual
    mix, managers included, whose subagents join the group."""
    rate = 50.0
    batch = Batch(group, n, start=-(n / rate) - 40, rate=rate, agent=agent)
    return World(seed=4, sessions=10, clock=ManualClock(), arrival_interval_s=0,
                 quota_limit=100_000, batches=[batch])


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
        for status, n in truth.items():  # words, or symbols alone when the line is too long
            assert f"{n:,} {status}" in line or f"{status_symbol(status)}{n:,}" in line, (status, n, line)

        await pilot.press("g")  # expand
        await wait_for(pilot, lambda: isinstance(app.screen, GroupScreen))
        screen = app.screen
        table = screen.query_one(SessionTable)
        await wait_for(pilot, lambda: table.row_count == total, timeout=10)
        assert f"{total:,} of {total:,} members shown" in str(screen.query_one("#modeline", Static).render())
        # Only the rows drawn have cells made (the rest when scrolled to): expanding 10,000
        # rendered every row's cells first, a 2.5 s stall of the event loop.
        await pilot.pause()
        drawn = sum(table.rows.has_cells(k) for k in table.rows)
        assert 0 < drawn <= 3 * table.size.height, drawn

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
    world = big_world(300, group="small", agent=None)
    async with sim_app([], world=world, size=(120, 36)) as (_, app, pilot, _rec):
        watch = app.engine.follow_query(SessionQuery(group_id="small"))
        await wait_for(pilot, lambda: watch.bootstrapped, timeout=20)
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, GroupScreen))
        table = app.screen.query_one(SessionTable)
        await wait_for(pilot, lambda: table.row_count == len(watch.members) >= 300)  # + subagents
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

        await wait_for(pilot, lambda: all(f"{n:,} {st}" in head() or f"{status_symbol(st)}{n:,}" in head()
                                          for st, n in truth.items()), timeout=5)
        totals = watch.totals()
        await wait_for(pilot, lambda: f"/{len(watch.members):,} read)" in head() and "steps ≥" in head(),
                       timeout=5)
        assert 0 < totals.read < len(watch.members)
