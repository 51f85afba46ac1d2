"""List sweeps: a few `GET /sessions` pages watch many sessions at once.

A status change of an off-screen session is noticed within one sweep interval and its own
poll is pulled forward; such sessions poll their counters at a slower background cadence.
A session the sweeps keep missing falls back to its own cadence, so sweeps only ever add
detection speed, never lose it. With many sessions watched, the first statuses and labels
come from list pages too (`bootstrap`), not from one call each.

Two ways to sweep, whichever costs fewer pages:
- windows (windows.py): the non-terminal sessions created over each chunk of `SWEEP_CHUNK`
  candidates' creation times (a page per chunk at best: fine for a few hundred sessions);
- the feed (listfeed.py): the org's recent finishes and its small non-running sets, a few
  pages a tick whatever the number watched; a rotating window every `RECONCILE_EVERY`
  ticks still checks a chunk the windows' way (a session lists never show, say).
The feed gives way to windows when it costs more than they would (an org much busier than
the watchlist), or for good when the server ignores `finished_after`; windows give way to
each session's own polls when they cost more than those (`BUSY_BACKOFF`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from agp_tui.api.errors import AgpError, AuthError
from agp_tui.api.models import SessionStatus
from agp_tui.monitor import budget as prio
from agp_tui.monitor import windows
from agp_tui.monitor.core import Core
from agp_tui.monitor.events import InfoLoaded
from agp_tui.monitor.listfeed import RECONCILE_EVERY, Feed, newest_time
from agp_tui.monitor.tracked import Tracked
from agp_tui.monitor.windows import EPOCH, NON_TERMINAL, SWEEP_CHUNK

log = logging.getLogger(__name__)

BUSY_BACKOFF = 10  # sweeps skipped once the org proved too busy for them to pay off
FEED_MIN_PAGES = 4  # a feed tick may read this many pages whatever it replaces (2 at best)
FEED_BACKOFF = 20  # window sweeps before the feed is tried again, once it cost too much


class Sweeper:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.bootstrapped = asyncio.Event()  # first polls of unfocused sessions wait on it
        self.bootstrapped.set()
        self.based = asyncio.Event()  # the bootstrap read its first page (or is over)
        self.based.set()
        self.wanted = asyncio.Event()  # a session turned non-terminal: there is sweeping to do
        self.every = core.settings.sweep_interval
        self.idle = False  # the last sweep found no candidate at all
        self.backoff = 0
        self.feed = Feed(core)
        self.feed_backoff = 0  # window sweeps left before the feed is tried again
        self.listed: set[str] = set()  # ids some list page showed: lists can see them
        self._reconcile_at = 0  # where the feed's rotating window check goes next
        self._fed_at = float("-inf")  # clock time of the last feed tick that read it all

    async def bootstrap(self) -> None:
        """Learn many sessions' status and labels from a few list pages, not one call each.

        With a thousand sessions watched, their first polls alone would take the whole
        request budget for a minute; the org's non-terminal sessions come 100 a page.
        Sessions not found (finished, or someone else's) get their own first poll.
        """
        core = self.core
        try:
            wanted = {sid for sid, t in core.store.tracked.items()
                      if t.status is None and not t.info_loaded}
            max_pages = max(1, len(wanted) // 4)
            page_no = 1
            while wanted and page_no <= max_pages:
                async with core.budget.slot(prio.URGENT, purpose="bootstrap"):
                    page = await core.client.list_sessions(
                        status=NON_TERMINAL, sort="-created_at", page=page_no, size=100
                    )
                if page_no == 1:
                    # The newest creation is a server time every status below was read
                    # after: the feed's finish cursor may start there, and sweeps with it
                    # (10,000 sessions take 5 s of pages: changes meanwhile are found).
                    self.feed.rebase(max(filter(None, map(newest_time, page.items)), default=None))
                    self._fed_at = core.clock()
                    self.based.set()
                now = core.wall()
                for summary in page.items:
                    t = core.store.get(summary.id)
                    if t is None or summary.id not in wanted:
                        continue
                    wanted.discard(summary.id)
                    self.listed.add(summary.id)
                    t.apply_info(summary)
                    core.emit(InfoLoaded(t.id))
                    if t.status is None:
                        core.answers.set_status(t, SessionStatus(status=summary.status), now)
                if not page.has_more or not page.items:
                    break
                page_no += 1
            # The listing was a sweep: until the first real one, sessions found in it
            # already count as watched by sweeps (no burst of full-cadence polls).
            core.sched.sweep_active = True
            core.sched.background_count = sum(
                1 for t in self.candidates() if not core.sched.on_screen(t))
        except AgpError as exc:
            log.debug("bootstrap listing failed: %s", exc)
        finally:
            self.based.set()
            self.bootstrapped.set()

    async def run(self) -> None:
        core, sched = self.core, self.core.sched
        began = core.clock()  # the pause before the next sweep counts from here
        pause = sched.sweep_pause(self.every)
        await self.based.wait()
        while core.settings.sweep:
            if not sched.sweep_active and self.idle:
                # Nothing to sweep for: sleep until a session turns non-terminal.
                await self.wanted.wait()
                self.wanted.clear()
                began = core.clock()
            # Sweeps start `pause` apart however long one takes (a feed tick listing the
            # 2,000 pending sessions of a 10,000-session start reads 20 pages: a second).
            await asyncio.sleep(max(pause - (core.clock() - began), 0.0))
            began = core.clock()
            if self.backoff:
                self.backoff -= 1
                sched.sweep_active = False
            elif core.link.auth_ok.is_set():
                try:
                    await self.once()
                except Exception:  # never let one bad sweep end them all: polls cover for it
                    log.exception("list sweep failed unexpectedly")
                    sched.sweep_active = False
            pause = sched.sweep_pause(self.every)

    def candidates(self) -> list[Tracked]:
        sched = self.core.sched
        return [
            t for t in self.core.store.tracked.values()
            if sched.is_active(t) and t.sweepable and t.created_at is not None
            and t.status is not None and not t.status.terminal and not t.not_found
        ]

    async def once(self) -> None:
        core, sched = self.core, self.core.sched
        cands = self.candidates()
        self.every = sched.sweep_every(cands)
        sched.background_count = sum(1 for t in cands if not sched.on_screen(t))
        self.idle = not cands
        if len(cands) < core.settings.sweep_min_sessions:
            sched.sweep_active = False
            return
        if self.feed_backoff:
            self.feed_backoff -= 1
        elif self.feed.supported and windows.pages_at_best(len(cands)) > 2 and await self._feed_once(cands):
            return  # a feed tick reads two pages at best: windows are as cheap up to two
        await self._windows_once(cands)

    def _failed(self, exc: AgpError) -> None:
        self.core.sched.sweep_active = False
        if isinstance(exc, AuthError) and exc.status == 401:
            self.core.link.enter_auth_error(exc)

    # -- the feed (listfeed.py) ------------------------------------------------------------

    async def _feed_once(self, cands: list[Tracked]) -> bool:
        """One feed tick; False when the windows should sweep instead, this time."""
        core, feed = self.core, self.feed
        # Never read more pages than the windows would (an org far busier than the watchlist).
        limit = max(FEED_MIN_PAGES, windows.pages_at_best(len(cands)))
        try:
            if feed.cursor is None or core.clock() - self._fed_at > 3 * self.every:
                # Not fed lately (windows swept, or polls while sweeps failed): statuses were
                # read an interval ago at most, so start there, not at an old cursor whose
                # backlog the other means already covered.
                feed.rebase(await feed.server_now(), slack=self.every)
                if feed.cursor is None:
                    return False
            result = await feed.tick(feed.known(), self.listed, limit)
        except AgpError as exc:
            self._failed(exc)
            return True
        if not feed.supported:
            log.info("the server ignores finished_after: list sweeps by creation windows")
            feed.cursor = None
            return False
        core.link.note_success(core.wall())
        if not result.complete:
            log.debug("feed over %d pages: creation windows for %d sweeps", limit, FEED_BACKOFF)
            feed.cursor = None
            self.feed_backoff = FEED_BACKOFF
            return False
        core.sched.sweep_active = True
        self._fed_at = core.clock()
        if feed.ticks % RECONCILE_EVERY == 0:
            await self._reconcile(cands)
        return True

    async def _reconcile(self, cands: list[Tracked]) -> None:
        """One window of candidates, rotating over all of them in creation order: a session
        lists never show is found out, a change the feed could not see is caught."""
        ordered = sorted((t for t in cands if t.sweepable), key=lambda t: t.created_at or EPOCH)
        if not ordered:
            return
        start = self._reconcile_at if self._reconcile_at < len(ordered) else 0
        chunk = ordered[start:start + SWEEP_CHUNK]
        self._reconcile_at = start + len(chunk)
        try:
            seen = await windows.window(self.core, chunk[0].created_at or EPOCH,
                                        chunk[-1].created_at or EPOCH, len(chunk))
        except AgpError as exc:
            self._failed(exc)
            return
        if seen is not None:
            self.listed.update(seen)
            self._apply(chunk, seen)

    # -- windows (windows.py) --------------------------------------------------------------

    async def _windows_once(self, cands: list[Tracked]) -> None:
        core, sched = self.core, self.core.sched
        try:
            seen = await windows.sweep(core, cands)
        except AgpError as exc:
            self._failed(exc)
            return
        if seen is None:  # the org is too busy for sweeps to pay off
            sched.sweep_active = False
            self.backoff = BUSY_BACKOFF
            return
        core.link.note_success(core.wall())
        sched.sweep_active = True
        self.listed.update(seen)
        self._apply(cands, seen)

    def _apply(self, cands: list[Tracked], seen: dict[str, str]) -> None:
        core, sched = self.core, self.core.sched
        for t in cands:
            listed = seen.get(t.id)
            assert t.status is not None
            if listed is None:
                # Gone from the non-terminal list: most likely it just finished.
                t.sweep_missed += 1
                if t.sweep_missed >= 3:
                    t.sweepable = False  # listed for someone else, say; own cadence from now on
                core.poller.hurry(t)
            else:
                t.sweep_missed = 0
                if listed == t.status.status:
                    continue
                if sched.on_screen(t):
                    core.poller.hurry(t)  # on screen: fetch the fresh numbers now
                else:
                    # Off screen the listed status is news enough; counters follow on the
                    # next background poll (history is not touched, so no false flat spot).
                    core.answers.set_status(t, replace(t.status, status=listed), core.wall())
