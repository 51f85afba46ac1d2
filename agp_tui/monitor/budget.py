"""One shared request budget for every poll task: an in-flight cap plus a rate limit.

Waiters are served by priority (on-screen and selected sessions first), then in arrival
order, so a thousand watched sessions share at most `max_rps` requests per second and
what the user looks at is never starved by what they don't.

Every request the engine makes asks here first, naming its purpose ("poll:focus", "sweep",
"long-poll"...), so this is where requests are counted, once: `granted` in total, and by
purpose only when a listener is installed (`on_grant`, e.g. `PurposeCounts`), which the
benchmarks and some tests do; production runs without one, and no part counts requests.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from agp_tui.monitor.clock import loop_clock

# Priorities: lower is served first.
URGENT = 0  # sweeps, refresh-now
FOCUS = 1  # selected or visible rows, open trees
NORMAL = 2
BACKGROUND = 3


class RequestBudget:
    def __init__(
        self,
        max_in_flight: int = 8,
        max_rps: float = 20.0,
        *,
        clock: Callable[[], float] = loop_clock,
    ) -> None:
        if max_in_flight < 1 or max_rps <= 0:
            raise ValueError("max_in_flight must be >= 1 and max_rps > 0")
        self.max_in_flight = max_in_flight
        self.max_rps = max_rps
        self._clock = clock
        self._in_flight = 0
        self._capacity = max(1.0, max_rps)  # a burst of at most one second's worth
        self._tokens = self._capacity
        self._stamp: float | None = None  # first read on first use: the clock may be a loop's
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._keyed: dict[str, asyncio.Future[None]] = {}
        self.granted = 0  # requests let through, for stats and benchmarks
        self.on_grant: Callable[[str], None] | None = None  # told each grant's purpose

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def waiting(self) -> int:
        return len({id(f) for *_, f in self._waiters if not f.done()})

    def _refill(self) -> None:
        now = self._clock()
        if self._stamp is not None:
            self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self.max_rps)
        self._stamp = now

    def _can_grant(self) -> bool:
        return self._in_flight < self.max_in_flight and self._tokens >= 1.0

    def _grant(self) -> None:
        self._in_flight += 1
        self._tokens -= 1.0
        self.granted += 1

    async def acquire(self, priority: int = NORMAL, key: str | None = None, purpose: str = "") -> None:
        """Wait for a slot; a waiter with a `key` can be moved up later with `promote`.
        `purpose` names the request for `on_grant` (what benchmarks count it as)."""
        self._refill()
        if not self._waiters and self._can_grant():
            self._grant()
            if self.on_grant is not None:
                self.on_grant(purpose)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._seq), fut))
        if key is not None:
            self._keyed[key] = fut
        self._dispatch()
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # granted just as we were cancelled: give the slot back
            raise
        finally:
            if key is not None and self._keyed.get(key) is fut:
                del self._keyed[key]
        if self.on_grant is not None:  # granted and kept (a cancelled grant went back above)
            self.on_grant(purpose)

    def queued(self, key: str) -> bool:
        """A waiter is queued under `key` now (promote would reach it)."""
        fut = self._keyed.get(key)
        return fut is not None and not fut.done()

    def promote(self, key: str, priority: int) -> None:
        """Serve the waiter queued under `key` at `priority` (a session that turned urgent
        while already queued must not wait behind a thousand background polls)."""
        fut = self._keyed.get(key)
        if fut is not None and not fut.done():
            # The old heap entry stays; whichever is popped first grants, the other is skipped.
            heapq.heappush(self._waiters, (priority, next(self._seq), fut))
            self._dispatch()

    def release(self) -> None:
        self._in_flight -= 1
        self._dispatch()

    def _dispatch(self) -> None:
        self._refill()
        while self._waiters:
            fut = self._waiters[0][2]
            if fut.done():  # cancelled while waiting
                heapq.heappop(self._waiters)
                continue
            if not self._can_grant():
                break
            heapq.heappop(self._waiters)
            self._grant()
            fut.set_result(None)
        if self._waiters and self._in_flight < self.max_in_flight and self._timer is None:
            # Out of tokens, not of slots: wake when the next token is due.
            wait = max((1.0 - self._tokens) / self.max_rps, 0.001)
            self._timer = asyncio.get_running_loop().call_later(wait, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._dispatch()

    @asynccontextmanager
    async def slot(self, priority: int = NORMAL, key: str | None = None,
                   purpose: str = "") -> AsyncIterator[None]:
        await self.acquire(priority, key, purpose)
        try:
            yield
        finally:
            self.release()


class PurposeCounts(Counter[str]):
    """An `on_grant` listener: requests granted, by purpose (see `Engine.count_requests`)."""

    def __call__(self, purpose: str) -> None:
        self[purpose] += 1
