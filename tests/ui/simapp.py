"""The dashboard against a live simulator on 127.0.0.1 (port 0), with time frozen in the world.

A `ManualClock` world never moves by itself: a session is running until a test (or a
steering action) changes it, so assertions about the simulator's state are exact.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from textual.pilot import Pilot

from agp_tui.api import AgpClient, RetryPolicy
from agp_tui.monitor.cadence import Cadence
from agp_tui.monitor.engine import Engine, EngineSettings
from agp_tui.sim import DEMO_API_KEY, Chaos, ManualClock, SimServer, World
from agp_tui.sim.session import SimSession
from agp_tui.ui.app import AgpApp, make_app

FAST = Cadence(pending=0.2, running=0.2, waiting=0.3, final_fetch=0.2, jitter=0.0)


def make_world(seed: int = 3, sessions: int = 40) -> World:
    return World(seed=seed, sessions=sessions, clock=ManualClock(), arrival_interval_s=0)


def top_level(world: World, status: str) -> list[SimSession]:
    return [s for s in world.all_sessions() if s.parent_id is None and s.status == status]


def live_manager(world: World) -> SimSession:
    """A running top-level session with at least two children still going."""
    for s in top_level(world, "running"):
        live = [c for c in s.children if (child := world.get(c)) is not None and not child.terminal]
        if len(live) >= 2:
            return s
    raise LookupError("no running manager with live children in this world")


class Recorder:
    """Toasts and raw terminal writes of an app under test."""

    def __init__(self, app: AgpApp) -> None:
        self.toasts: list[tuple[str, str, str]] = []  # (title, message, severity)
        self.written: list[str] = []
        notify = app.notify

        def record(message: str, *, title: str = "", severity: Any = "information", **kw: Any) -> None:
            self.toasts.append((title, message, severity))
            notify(message, title=title, severity=severity, **kw)

        app.notify = record  # type: ignore[method-assign]
        app.terminal.attach(self.written.append)  # the app's own sequences (bell, OSC 9/777, tmux)
        # Textual's `copy_to_clipboard` writes its OSC 52 to the (headless) driver itself.
        driver = app._driver
        assert driver is not None
        driver.write = self.written.append  # type: ignore[method-assign]

    def texts(self) -> list[str]:
        return [f"{t}: {m}" for t, m, _ in self.toasts]

    def has(self, words: str) -> bool:
        return any(words in t for t in self.texts())


@contextlib.asynccontextmanager
async def sim_app(
    ids: Sequence[str] | None = None,
    *,
    world: World | None = None,
    chaos: Chaos | None = None,
    size: tuple[int, int] = (100, 30),
    **app_kw: Any,
) -> AsyncIterator[tuple[World, AgpApp, Pilot[Any], Recorder]]:
    world = world if world is not None else make_world()
    async with SimServer(world, chaos=chaos) as srv:
        client = AgpClient(srv.base_url, DEMO_API_KEY, retry=RetryPolicy.off())
        settings = EngineSettings(cadence=FAST, seed=1, max_rps=500.0, max_in_flight=32, sweep=False,
                                  housekeeping_interval=0.05)
        engine = Engine(client, None, settings)
        app = make_app(engine, initial_ids=list(ids or ()), **app_kw)
        async with app.run_test(size=size) as pilot:
            yield world, app, pilot, Recorder(app)
