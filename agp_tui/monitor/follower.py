"""Trajectory events of the sessions a person is looking at, never of all of them.

A session is *followed* while something shows its events: the detail pane's "now" line
(the highlighted row) or a trajectory screen; followers are counted. A followed session
gets a bounded `EventBuffer`:
- on follow, one `GET /events` page of its latest events (which also gives the long-poll
  its starting cursor, so it costs no more than the count the long-poll made anyway);
- then whatever the engine's `/changes` long-poll brings (the same requests the engine
  makes for live status and cost: nothing is fetched twice);
- when it settles, a drain: `/changes` without waiting until nothing is past the cursor,
  so the tail (the answer) is not lost (agp-api.md §6.5);
- older events on demand (`load_older`), from ascending `/events` pages.
When the last follower leaves, the buffer goes: memory follows what is on screen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from agp_tui.api.client import AgpClient
from agp_tui.api.errors import AgpError
from agp_tui.api.models import Changes
from agp_tui.monitor import budget as prio
from agp_tui.monitor.budget import RequestBudget
from agp_tui.monitor.events import EngineEvent, EventsArrived
from agp_tui.monitor.tracked import Tracked
from agp_tui.monitor.trajectory import HARD_MAX_EVENTS, EventBuffer

log = logging.getLogger(__name__)

RECENT = 50  # events fetched when following starts
OLDER_PAGE = 100  # events per `load_older`
DRAIN_PAGES = 50  # /changes pages read at most when a session settles
CHANGES_LIMIT = 100
LOAD_RETRIES = 3  # a failed history read is tried again this many times, 1 s, 2 s, 3 s apart
LOAD_RETRY_DELAY = 1.0


class Follower:
    """Followed sessions and their event buffers; the engine feeds it `/changes` answers."""

    def __init__(
        self, client: AgpClient, budget: RequestBudget, emit: Callable[[EngineEvent], None],
        spawn: Callable[[Coroutine[Any, Any, None]], object],
    ) -> None:
        self._client = client
        self._budget = budget
        self._emit = emit
        self._spawn = spawn
        self._count: dict[str, int] = {}
        self._buffers: dict[str, EventBuffer] = {}

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._count

    def buffer(self, session_id: str) -> EventBuffer | None:
        return self._buffers.get(session_id)

    def follow(self, t: Tracked, *, load: bool) -> EventBuffer:
        """One more follower of `t`; the first loads its latest events if `load` (else the
        engine's long-poll does, as it starts with no cursor)."""
        self._count[t.id] = self._count.get(t.id, 0) + 1
        buf = self._buffers.get(t.id)
        if buf is None:
            buf = self._buffers[t.id] = EventBuffer()
            if load:
                self._spawn(self.load_recent(t))
        return buf

    def unfollow(self, session_id: str) -> None:
        n = self._count.get(session_id, 0) - 1
        if n > 0:
            self._count[session_id] = n
            return
        self._count.pop(session_id, None)
        self._buffers.pop(session_id, None)

    async def load_recent(self, t: Tracked, *, retries: int = LOAD_RETRIES) -> None:
        """The latest events, newest page first; sets the long-poll's cursor if it had none.

        The long-poll calls this with `retries=0` and gets the error, to back off and try
        again as it does for its own requests; on its own it retries a few times.
        """
        buf = self._buffers.get(t.id)
        if buf is None:
            return
        try:
            async with self._budget.slot(prio.FOCUS, purpose="events"):
                events, total = await self._client.get_events(t.id, size=RECENT, newest_first=True)
        except AgpError as exc:
            buf.error = exc.message
            buf.version += 1
            self._emit(EventsArrived(t.id, 0))
            log.debug("events of %s could not be read: %s", t.id, exc)
            if not retries:
                raise
            await asyncio.sleep(LOAD_RETRY_DELAY * (LOAD_RETRIES - retries + 1))
            await self.load_recent(t, retries=retries - 1)
            return
        if t.cursor is None:
            t.cursor = total  # the long-poll goes on from here
        if self._buffers.get(t.id) is not buf:
            return  # unfollowed meanwhile
        events.reverse()
        buf.error = None
        buf.total = max(buf.total or 0, total)
        n = buf.add(total - len(events), events)
        self._emit(EventsArrived(t.id, n))
        if t.status is not None and t.status.terminal:
            await self.drain(t)

    def take(self, t: Tracked, changes: Changes) -> None:
        """A `/changes` answer the engine got for `t`: keep its events if `t` is followed."""
        if changes.answer is not None:
            t.answer = changes.answer
        buf = self._buffers.get(t.id)
        if buf is None or not changes.new_events:
            return
        n = buf.add(changes.from_index, changes.new_events)
        if n:
            self._emit(EventsArrived(t.id, n))

    async def drain(self, t: Tracked) -> None:
        """Read `/changes` without waiting until nothing is past the cursor (a settled
        session's last events and answer ride the last pages)."""
        if t.id not in self._buffers or t.cursor is None:
            return
        for _ in range(DRAIN_PAGES):
            try:
                async with self._budget.slot(prio.FOCUS, purpose="drain"):
                    changes = await self._client.get_changes(t.id, t.cursor, include_events=True,
                                                             limit=CHANGES_LIMIT)
            except AgpError as exc:
                log.debug("draining the events of %s failed: %s", t.id, exc)
                return
            if changes is None or not changes.new_events:
                if changes is not None:
                    self.take(t, changes)
                return
            t.cursor = changes.next_index
            self.take(t, changes)

    async def load_older(self, t: Tracked, count: int = OLDER_PAGE) -> int:
        """Up to `count` events just before the oldest held; returns how many came."""
        buf = self._buffers.get(t.id)
        if buf is None:
            return 0
        first = buf.first_index if buf.first_index is not None else (buf.total or 0)
        if first <= 0:
            return 0
        size = max(1, min(count, OLDER_PAGE))
        # Ascending pages of `size`: the one holding event first - 1, cut at `first`.
        page = (first - 1) // size + 1
        try:
            async with self._budget.slot(prio.FOCUS, purpose="events"):
                events, total = await self._client.get_events(t.id, page=page, size=size)
        except AgpError as exc:
            buf.error = exc.message
            buf.version += 1
            self._emit(EventsArrived(t.id, 0))
            return 0
        start = (page - 1) * size
        wanted = events[: max(first - start, 0)]
        buf.total = max(buf.total or 0, total)
        n = buf.add_older(start, wanted, ceiling=HARD_MAX_EVENTS)
        self._emit(EventsArrived(t.id, n))
        return n
