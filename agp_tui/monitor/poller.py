"""One task per session polled: it sleeps for what the scheduler says, then asks the API.

A task is woken early by a refresh, a focus change or a sweep that saw news (`hurry`);
it never polls twice at once. While the session is on screen it long-polls `/changes`
(longpoll.py) instead of `/status`; while the key is refused it waits on the link.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from agp_tui.api.errors import AgpError, AuthError, BadResponse, NotFound, RateLimited, ServerError
from agp_tui.monitor import budget as prio
from agp_tui.monitor.core import Core, wait_or_timeout
from agp_tui.monitor.events import InfoLoaded, SessionError
from agp_tui.monitor.tracked import Tracked

log = logging.getLogger(__name__)

# What a poll is counted as, by its priority (see budget.py).
_POLL_PURPOSES = {prio.URGENT: "poll:urgent", prio.FOCUS: "poll:focus", prio.NORMAL: "poll:normal",
                  prio.BACKGROUND: "poll:background"}


class Poller:
    def __init__(self, core: Core) -> None:
        self.core = core

    def ensure_task(self, t: Tracked) -> None:
        core = self.core
        if core.started and t.task is None and core.sched.is_active(t):
            t.task = asyncio.create_task(self._loop(t), name=f"poll {t.id[:8]}")

    def hurry(self, t: Tracked) -> None:
        """Poll this session next, even if its poll is already queued at a lower priority."""
        t.urgent = True
        t.wake.set()
        self.core.budget.promote(t.id, prio.URGENT)

    def catch_up(self, t: Tracked) -> None:
        """Poll this off-screen session soon: a list page saw it change, and its counters
        (the final ones, if it ended) are due. Ahead of background polls, behind the list
        pages and what is on screen; never a second poll if one is already queued."""
        core = self.core
        core.sched.catching_up.add(t.id)
        if core.budget.queued(t.id):
            core.budget.promote(t.id, prio.NORMAL)
        else:
            t.wake.set()

    def refresh(self, ids: Iterable[str] | None = None) -> None:
        """Poll now (never twice at once: this only wakes each session's own task)."""
        core = self.core
        tracked = core.store.tracked
        targets = tracked.values() if ids is None else (tracked[s] for s in ids if s in tracked)
        for t in list(targets):
            if core.sched.is_active(t):
                self.hurry(t)
                self.ensure_task(t)
        core.link.probe_now()

    def set_focus(self, visible: Iterable[str], selected: str | None = None) -> None:
        """What is on screen polls at full cadence and first; newly shown rows refresh."""
        core = self.core
        now = core.wall()
        for sid in core.sched.set_focus(visible, selected):
            t = core.store.get(sid)
            if t is None:
                continue
            core.long_poller.maybe_fetch_cost(t)
            if t.polling and (core.sched.stale_on_screen(t, now) or self.wants_long_poll(t)):
                t.wake.set()

    def unwatch(self, sid: str) -> None:
        """Off the watchlist; forgotten unless an open tree still polls it."""
        core = self.core
        t = core.store.unwatch(sid)
        if t is None:
            return
        core.sched.catching_up.discard(sid)
        core.sweeper.listed.discard(sid)
        core.trees.update_active()
        if not core.sched.is_active(t) and t.parent_id is None:
            if t.task:
                t.task.cancel()
            core.store.drop(sid)
            core.link.failing.discard(sid)

    def wants_long_poll(self, t: Tracked, *, followed: bool = False) -> bool:
        return self.core.sched.wants_long_poll(t, followed=followed or t.id in self.core.follower)

    async def _loop(self, t: Tracked) -> None:
        core, sched, link = self.core, self.core.sched, self.core.link
        try:
            if not core.sweeper.bootstrapped.is_set() and t.id not in sched.focus:
                await core.sweeper.bootstrapped.wait()
            # A status known already (from the bootstrap listing): the first poll waits its turn.
            first = t.status is None or t.urgent
            while True:
                long_poll = self.wants_long_poll(t)
                if not first and not t.wake.is_set():
                    # A long-poll goes again at once, unless its server answered too soon.
                    delay = sched.long_poll_pause(t) if long_poll else sched.next_delay(t)
                    if not long_poll or delay:
                        await wait_or_timeout(t.wake, delay)
                first = False
                t.wake.clear()
                if not sched.is_active(t):
                    return
                if not link.auth_ok.is_set():
                    await link.auth_ok.wait()
                try:
                    if self.wants_long_poll(t) and not t.urgent:
                        await core.long_poller.once(t)
                    else:
                        await self.poll_once(t)
                except Exception as exc:
                    # A bug, or an answer no model expected: a dead task would leave the row
                    # frozen on old data and never marked stale. Log it, show it as a bad
                    # answer (stale after a while, like any failure) and poll on with backoff.
                    log.exception("polling %s failed unexpectedly", t.id)
                    self.on_error(t, BadResponse(f"{type(exc).__name__}: {exc}"))
        finally:
            t.task = None

    async def poll_once(self, t: Tracked) -> None:
        core = self.core
        priority = core.sched.priority(t)
        t.urgent = False
        core.sched.catching_up.discard(t.id)
        load_info = not t.info_loaded
        if t.failures:
            core.retries += 1
        try:
            async with core.budget.slot(priority, key=t.id, purpose=_POLL_PURPOSES[priority]):
                if load_info:  # first sight: the full Session carries status *and* labels
                    session = await core.client.get_session(t.id)
                    status = session.status
                else:
                    status = await core.client.get_status(t.id)
        except AgpError as exc:
            self.on_error(t, exc)
            return
        t.status_polled_at = core.clock()
        if load_info:
            t.apply_info(session)
            core.emit(InfoLoaded(t.id))
        core.answers.apply_status(t, status)
        follower = core.follower
        if t.id in follower and not self.wants_long_poll(t) and not status.terminal:
            # Followed without a live feed (long-polls off or refused): what is past the cursor.
            core.spawn(follower.drain(t) if t.cursor is not None else follower.load_recent(t))

    def on_error(self, t: Tracked, exc: AgpError) -> None:
        core, link = self.core, self.core.link
        if isinstance(exc, AuthError) and exc.status == 401:
            link.enter_auth_error(exc)
            t.urgent = True  # poll again as soon as the key works
            t.wake.set()
            return
        kind = type(exc).__name__
        if isinstance(exc, NotFound):
            t.not_found = True
        else:
            t.failures += 1
            t.retry_after = exc.retry_after if isinstance(exc, RateLimited | ServerError) else None
            link.note_session_failing(t.id)
        link.note_failure(exc)
        changed = (t.error_kind, t.error_message) != (kind, exc.message)
        t.error_kind, t.error_message = kind, exc.message
        if changed:
            core.emit(SessionError(t.id, kind, exc.message))
