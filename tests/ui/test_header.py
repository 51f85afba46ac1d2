"""The header: connection states in words and reverse video, quota, counts, read-only."""

from __future__ import annotations

import pytest
from helpers import Clock, frame, running, wait_for
from textual.widgets import Static
from ui_world import standard_world

from agp_tui.monitor.events import Connection
from agp_tui.sim.fake_backend import FakeBackend


def header(app: object) -> tuple[str, set[str]]:
    conn = app.screen.query_one("#hdr-conn", Static)  # type: ignore[attr-defined]
    return str(conn.render()).strip(), set(conn.classes)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_live_header(fake: FakeBackend, clock: Clock, size: tuple[int, int]) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, size, profile="work", region="us", read_only=True) as (app, pilot):
        await wait_for(pilot, lambda: app.engine.quota is not None)
        await frame(pilot)
        text, classes = header(app)
        assert text == "● live" and "-live" in classes
        bar = " ".join(str(w.render()) for w in app.screen.query("StatusHeader Static"))
        active = fake.world.active_count()  # running, idle, paused and the unknown status
        assert "work@us" in bar and f"quota {active}/10" in bar and "6 watched" in bar and "READ-ONLY" in bar


async def test_offline_then_live_again(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        outage = fake.offline()
        app.engine.refresh()
        await wait_for(pilot, lambda: app.engine.connection is Connection.OFFLINE)
        await frame(pilot)
        text, classes = header(app)
        assert text == "✘ OFFLINE" and "-offline" in classes and "-live" not in classes
        # The last good data stays on screen.
        assert app.main.table.row_count == len(ids)
        fake.heal(outage)
        for _ in range(3):
            app.engine.refresh()
            await pilot.pause(0.05)
        await wait_for(pilot, lambda: app.engine.connection is Connection.LIVE)
        await frame(pilot)
        assert header(app)[0] == "● live"


async def test_auth_error(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        fake.fail(401)
        app.engine.refresh()
        await wait_for(pilot, lambda: app.engine.connection is Connection.AUTH_ERROR)
        await frame(pilot)
        text, classes = header(app)
        assert text.startswith("✘ AUTH ERROR") and "-auth-error" in classes


async def test_stale_for_n_seconds(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        fake.fail(500)
        app.engine.refresh()
        await wait_for(pilot, lambda: any(app.engine.view(s).error_kind for s in ids))  # type: ignore[union-attr]
        clock.advance(45)
        await wait_for(pilot, lambda: app.engine.connection is Connection.STALE)
        await frame(pilot)
        text, classes = header(app)
        assert text == "▲ STALE for 45s" and "-stale" in classes
        table = app.main.table
        stale_rows = [s for s in ids if table.get_cell(s, "updated").plain.strip().startswith("!")]
        assert stale_rows  # the rows that went stale say so in the "upd" column


async def test_overdue_rows_and_the_header_agree(fake: FakeBackend, clock: Clock) -> None:
    """A row whose polls hang (no error) is marked stale in `upd`, and the header stops
    saying live: the two never contradict each other (issue 13)."""
    from helpers import cell_text

    ids = standard_world(fake)
    async with running(fake, clock, ids, (120, 30), settings={"stale_check_interval": 0.05}) as (app, pilot):
        await wait_for(pilot, lambda: app.engine.quota is not None)
        await frame(pilot)
        assert header(app)[0] == "● live"
        live = [s for s in ids if (v := app.engine.view(s)) and v.polling]
        gate = fake.hold(live[0])  # its requests now hang, and nothing fails
        app.engine.refresh([live[0]])
        await pilot.pause(0.1)
        clock.advance(45)  # past 3 of its intervals and stale_after
        await wait_for(pilot, lambda: app.engine.view(live[0]).stale)  # type: ignore[union-attr]
        await frame(pilot)
        text, classes = header(app)
        assert text.startswith("▲") and "STALE" in text and "-stale" in classes and "● live" not in text
        assert cell_text(app, live[0], "updated").strip().startswith("!")
        gate.set()
        for other in live[1:]:
            app.engine.refresh([other])
        await wait_for(pilot, lambda: app.engine.stale_count == 0)
        await frame(pilot)
        assert header(app)[0] == "● live"
        assert not cell_text(app, live[0], "updated").strip().startswith("!")
