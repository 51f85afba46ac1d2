"""Driving the app in Pilot tests: start it on a fake, wait for the engine, render a frame."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from fakes import Clock, FakeAgp, make_engine
from textual.pilot import Pilot

from agp_tui.monitor.engine import Engine
from agp_tui.ui.app import AgpApp, make_app
from agp_tui.ui.screens.main import MainScreen
from agp_tui.ui.widgets.session_table import SessionTable


async def wait_for(pilot: Pilot[Any], cond: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.01)


def loaded(engine: Engine, ids: Sequence[str] | None = None) -> bool:
    for sid in ids if ids is not None else engine.watched_ids():
        v = engine.view(sid)
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
    fake: FakeAgp, clock: Clock, ids: Sequence[str], size: tuple[int, int] = (80, 24), **kw: Any
) -> AsyncIterator[tuple[AgpApp, Pilot[Any]]]:
    settings = kw.pop("settings", {})
    engine = make_engine(fake, clock, **settings)
    kw.setdefault("tick_clock", False)
    app = make_app(engine, initial_ids=ids, clock=clock, **kw)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        yield app, pilot
