"""Sessions on screen are followed by `/changes` long-polls (the docs' live feed).

An update arrives the moment a step lands, with fewer requests than 3 s polls, and its
metrics carry the API's cost figure. Pacing after each answer is pacing.py's; the events
a page carries go to the follower (follower.py) for sessions whose trajectory is shown.
A server or proxy without `/changes` sends the session back to `/status` polls.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

from agp_tui.api.errors import AgpError, AuthError, BadResponse
from agp_tui.api.models import Changes
from agp_tui.monitor import budget as prio
from agp_tui.monitor import pacing
from agp_tui.monitor.core import Core
from agp_tui.monitor.events import InfoLoaded
from agp_tui.monitor.tracked import Tracked
from agp_tui.monitor.trajectory import EventBuffer

log = logging.getLogger(__name__)

GARBLED_MAX = 3  # garbled /changes answers in a row before /status polls take over


class LongPoller:
    def __init__(self, core: Core) -> None:
        self.core = core

    async def once(self, t: Tracked) -> None:
        """One `/changes` long-poll from the session's cursor; a wake-up cuts it short."""
        core, sched = self.core, self.core.sched
        s = core.settings
        if sched.status_poll_due(t):
            await core.poller.poll_once(t)  # children are only listed in /status
            return
        sched.long_polling.add(t.id)
        request: asyncio.Future[Changes | None] | None = None
        woken: asyncio.Future[Literal[True]] | None = None
        try:
            if t.cursor is None and t.id in core.follower:
                await core.follower.load_recent(t, retries=0)  # its latest events, and the cursor
            if t.cursor is None:  # start at the end of the history, not its beginning
                async with core.budget.slot(prio.FOCUS, purpose="events-count"):
                    t.cursor = await core.client.count_events(t.id)
            # Rate-limited like any request, but a held long-poll takes no in-flight slot.
            await core.budget.acquire(prio.FOCUS, purpose="long-poll")
            core.budget.release()
            started = core.clock()
            request = req = asyncio.ensure_future(core.client.get_changes(
                t.id, t.cursor, wait_for_seconds=s.long_poll_wait, include_events=True, limit=100,
            ))
            woken = wake = asyncio.ensure_future(t.wake.wait())
            racers: set[asyncio.Future[Any]] = {req, wake}
            await asyncio.wait(racers, return_when=asyncio.FIRST_COMPLETED)
            if not req.done():
                return  # refresh-now, focus change...: the loop goes round at once
            changes = req.result()
        except AgpError as exc:
            self._failed(t, exc)
            return
        finally:
            sched.long_polling.discard(t.id)
            for fut in (request, woken):
                if fut is not None and not fut.done():
                    fut.cancel()
        t.long_poll_garbled = 0
        pacing.after_answer(t, started=started, now=core.clock(), wait=s.long_poll_wait,
                            gap=s.long_poll_min_gap, empty=changes is None or not changes.new_events,
                            rng=core.rng)
        if changes is None:  # 204: nothing new in the whole wait
            now = core.wall()
            core.link.note_success(now)
            core.answers.confirmed(t, now)  # the server just vouched for what we show
            return
        t.cursor = changes.next_index
        core.answers.apply_changes(t, changes)
        core.follower.take(t, changes)

    def follow_events(self, t: Tracked) -> EventBuffer:
        """One more follower of `t`'s events (follower.py); followed sessions are long-polled."""
        core = self.core
        first = t.id not in core.follower
        # A long-poll about to start with no cursor loads the latest events itself.
        long_poll_loads = t.cursor is None and core.poller.wants_long_poll(t, followed=True)
        buf = core.follower.follow(t, load=not long_poll_loads)
        if first:
            t.wake.set()  # start the long-poll now, not after the current /status pause
        return buf

    def _failed(self, t: Tracked, exc: AgpError) -> None:
        garbled = isinstance(exc, BadResponse)
        if garbled:
            t.long_poll_garbled += 1
        if (exc.retryable or (isinstance(exc, AuthError) and exc.status == 401)
                or (garbled and t.long_poll_garbled < GARBLED_MAX)):
            # Passing trouble, a garbled body included (a cut connection, a proxy's
            # hiccup): the usual backoff, then /changes again. Only a body that keeps
            # coming back garbled means something in the way does not speak /changes.
            self.core.poller.on_error(t, exc)
        else:
            # A server or proxy without /changes or /events must not cost the session:
            # it goes back to /status polls, which judge not-found and errors properly.
            t.long_poll_failed = True
            log.debug("long-poll of %s failed, polling /status instead: %s", t.id, exc)

    def maybe_fetch_cost(self, t: Tracked) -> None:
        """A finished session on screen: its cost, once (again only if it changed since)."""
        core = self.core
        if (
            core.settings.long_poll and t.status is not None and t.status.terminal
            and not t.final_left and core.sched.on_screen(t)
            and (t.cost_at is None or (t.last_change_at or 0) > t.cost_at)
        ):
            t.cost_at = core.wall()  # one fetch in flight at most
            core.spawn(self._fetch_cost(t))

    async def _fetch_cost(self, t: Tracked) -> None:
        core = self.core
        try:
            async with core.budget.slot(prio.BACKGROUND, purpose="cost"):
                # from_index=0 without events forces a 200 carrying the metrics.
                ch = await core.client.get_changes(t.id, 0, include_events=False)
        except AgpError:
            return
        t.cost_at = core.wall()
        if ch is not None:
            t.cost = ch.metrics.total_cost
            if ch.answer is not None:
                t.answer = ch.answer
            core.emit(InfoLoaded(t.id))
