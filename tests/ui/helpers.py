"""Driving the app in Pilot tests: start it on a FakeBackend, wait for the engine, render a
frame; plus the hand-driven clock and the readable ids and times the fixtures use."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from textual.pilot import Pilot

from agp_tui.monitor.engine import Engine, EngineSettings
from agp_tui.monitor.watchlist import Watchlist
from agp_tui.sim.fake_backend import EPOCH, FAKE_BASE, FakeBackend
from agp_tui.sim.fake_backend import sid_of as sid
from agp_tui.ui.app import AgpApp, make_app
from agp_tui.ui.screens.main import MainScreen
from agp_tui.ui.widgets.session_table import SessionTable

BASE = FAKE_BASE
T0 = EPOCH  # 2026-06-11 09:00:00 UTC: every fixture's "now" (world time 0 of the fake)
ISO_T0 = "2026-06-11T09:00:00Z"


class Clock:
    """A wall clock that only moves when a test says so."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def iso(minutes_before_t0: float) -> str:
    return datetime.fromtimestamp(T0 - minutes_before_t0 * 60, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_tree(fake: FakeBackend, root: int | str, fanout: list[int], *, start: int = 1000,
         **kw: Any) -> list[str]:
    """Give `root` a tree of children: fanout[0] children each with fanout[1] ... Returns all ids."""
    root_id = sid(root) if isinstance(root, int) else root
    made: list[str] = []
    n = start
    level = [root_id]
    for depth, width in enumerate(fanout):
        nxt: list[str] = []
        for parent in level:
            for _ in range(width):
                n += 1
                state: dict[str, Any] = {
                    "agent": f"sub/agent-d{depth + 1}", "status": "completed" if n % 3 == 0 else "running",
                    "steps": n % 17, "usage": [("holo3-1-35b-a3b", 1000 * (n % 50), 90 * (n % 11), 0)],
                    **kw}
                child = fake.pin(n, parent=parent, **state)
                nxt.append(child.id)
                made.append(child.id)
        level = nxt
    return made


def make_engine(fake: FakeBackend, clock: Clock, watchlist: Watchlist | None = None,
                **settings: Any) -> Engine:
    defaults: dict[str, Any] = {"sweep": False, "seed": 7, "max_rps": 1000.0, "max_in_flight": 16,
                                "stale_after": 30.0, "housekeeping_interval": 0.05}
    defaults.update(settings)
    return Engine(fake.client(BASE), watchlist, EngineSettings(**defaults), wall=clock)


async def wait_for(pilot: Pilot[Any], cond: Callable[[], bool], timeout: float = 5.0) -> None:
    """Until `cond()` holds, then one `pilot.pause()`: the screen has handled what made it hold.

    It checks between plain sleeps, the app running meanwhile: a `pilot.pause` has every
    widget of the screen handle a message and forces a refresh, ~3 ms of CPU, which at 100
    checks a second cost a third of a core for as long as a test waited."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)
    await pilot.pause()


def loaded(engine: Engine, ids: Sequence[str] | None = None) -> bool:
    for session_id in ids if ids is not None else engine.watched_ids():
        v = engine.view(session_id)
        if v is None or not (v.not_found or (v.status is not None and v.agent is not None)):
            return False
    return True


async def frame(pilot: Pilot[Any]) -> None:
    """Let queued messages land, render whatever is pending now, let the screen settle."""
    app = pilot.app
    assert isinstance(app, AgpApp)
    await pilot.pause()
    app.render_now(app.pending.take())
    await pilot.pause()


async def settle(pilot: Pilot[Any], ids: Sequence[str] | None = None) -> None:
    app = pilot.app
    assert isinstance(app, AgpApp)
    await wait_for(pilot, lambda: app.engine.started and loaded(app.engine, ids))
    await frame(pilot)


def table_of(app: AgpApp) -> SessionTable:
    return app.main.query_one(SessionTable)


def main_of(app: AgpApp) -> MainScreen:
    return app.main


def cell_text(app: AgpApp, sid: str, column: str) -> str:
    return str(table_of(app).get_cell(sid, column).plain)


@contextlib.asynccontextmanager
async def running(
    fake: FakeBackend, clock: Clock, ids: Sequence[str], size: tuple[int, int] = (80, 24), **kw: Any
) -> AsyncIterator[tuple[AgpApp, Pilot[Any]]]:
    settings = kw.pop("settings", {})
    engine = make_engine(fake, clock, **settings)
    kw.setdefault("tick_clock", False)
    app = make_app(engine, initial_ids=ids, clock=clock, **kw)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        yield app, pilot
