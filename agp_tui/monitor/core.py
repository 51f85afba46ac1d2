"""What the engine's parts share: the client, the request budget, the records, the clock,
and the event fan-out. `Engine` builds one `Core` and the parts, and links them here, so a
part reaches another as `core.link`, `core.poller`... without import cycles."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from agp_tui.api.client import AgpClient
from agp_tui.monitor.budget import RequestBudget
from agp_tui.monitor.clock import Clock
from agp_tui.monitor.events import EngineEvent
from agp_tui.monitor.scheduler import Scheduler
from agp_tui.monitor.settings import EngineSettings
from agp_tui.monitor.store import SessionStore

if TYPE_CHECKING:
    from agp_tui.monitor.answers import Answers
    from agp_tui.monitor.follower import Follower
    from agp_tui.monitor.link import Link
    from agp_tui.monitor.longpoll import LongPoller
    from agp_tui.monitor.poller import Poller
    from agp_tui.monitor.sweeper import Sweeper
    from agp_tui.monitor.trees import Trees

log = logging.getLogger("agp_tui.monitor.engine")
Listener = Callable[[EngineEvent], None]


async def wait_or_timeout(event: asyncio.Event, delay: float | None) -> None:
    """Until `event` is set or `delay` seconds pass (None: no limit). A timer that sets the
    event costs much less than `asyncio.wait_for`, on the hot path of every poll."""
    handle = asyncio.get_running_loop().call_later(delay, event.set) if delay is not None else None
    await event.wait()
    if handle is not None:
        handle.cancel()


class Core:
    client: AgpClient
    # The parts, set by Engine once all exist.
    link: Link
    answers: Answers
    poller: Poller
    long_poller: LongPoller
    sweeper: Sweeper
    trees: Trees
    follower: Follower

    def __init__(self, client: AgpClient, settings: EngineSettings, *,
                 wall: Callable[[], float], clock: Clock) -> None:
        self.client = client
        self.settings = settings
        self.wall = wall  # epoch seconds, for what is shown (ages, history buckets)
        self.clock = clock  # monotonic seconds, for scheduling
        self.rng = random.Random(settings.seed)
        self.budget = RequestBudget(settings.max_in_flight, settings.max_rps, clock=clock)
        self.store = SessionStore(settings)
        self.sched = Scheduler(settings, clock, self.rng)
        self.retries = 0  # polls of a session whose previous poll failed (soak figures)
        self.listeners: list[Listener] = []
        self.services: list[asyncio.Task[None]] = []
        self.started = False

    def emit(self, event: EngineEvent) -> None:
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:  # a broken subscriber must never stop the polling
                log.exception("engine listener failed on %r", event)

    async def cancel_all(self) -> None:
        """Cancel every task the engine runs (services, polls, the auth probe); wait for them
        so nothing of this engine still runs when `stop` returns."""
        tasks = [*self.services, *(t.task for t in self.store.tracked.values() if t.task)]
        if self.link.auth_probe:
            tasks.append(self.link.auth_probe)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.services.clear()
        for t in self.store.tracked.values():
            t.task = None

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """A background task the engine cancels on stop."""
        task = asyncio.create_task(coro)
        self.services.append(task)
        task.add_done_callback(lambda t: self.services.remove(t) if t in self.services else None)
        return task
