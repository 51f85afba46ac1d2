"""Status changes of many watched ids from org-wide list pages: GroupWatch's method (groups.py)
with the watched ids as the members.

Windows of non-terminal sessions (sweeper.py) cost a page per 80 watched sessions a sweep,
125 pages at 10,000: 42 requests a second, twice the whole request budget. A running
session changes by leaving `running`, and where it goes is small to list, whatever the
number of sessions watched:

- it ended: `finished_after=<latest finish seen>` lists every session of the org that
  finished since the last tick (a page or two), the watched ones among them are news;
- it paused, idled, waits for tool results (or went back to pending/queued): every
  non-terminal status but running is a small set (`SMALL`), listed whole each tick;
- a watched session known in a small set, not listed in it any more and not finished, is
  running again (only for a session lists have shown before: one they cannot see, someone
  else's shared session say, would otherwise flip to running every tick).

The finish cursor re-reads `OVERLAP` (clock skew, equal timestamps) and moves only past a
complete walk. Pages are read oldest first by creation, so sessions finishing while we read
push others to later pages, never past us. A server that ignores `finished_after` is found
out by its first page (an unfinished session, or one finished before the cursor) and the
sweeper goes back to windows. `Feed.tick` reads the pages and applies what each walk found
as soon as it ends (`Feed.apply`): a change is set at once, and the session's own poll is
pulled forward when its counters stopped; the sweeper decides when to tick, and whether the
feed pays at all.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from agp_tui.api.client import Listing
from agp_tui.api.models import SessionStatus, SessionSummary
from agp_tui.api.status import RUNNING, TERMINAL, is_terminal
from agp_tui.monitor import budget as prio
from agp_tui.monitor.core import Core
from agp_tui.monitor.events import InfoLoaded
from agp_tui.monitor.groups import OVERLAP, RECONCILE_EVERY, SMALL

__all__ = ["OVERLAP", "RECONCILE_EVERY", "SMALL", "Feed", "FeedTick", "left_small_sets", "newest_time"]


@dataclass(slots=True)
class FeedTick:
    """What one tick's pages say about the watched ids."""

    statuses: dict[str, str] = field(default_factory=dict)  # id -> its status now
    summaries: dict[str, SessionSummary] = field(default_factory=dict)  # the listed ones
    pages: int = 0
    complete: bool = True  # False: the page cap cut a walk short (absences prove nothing)


def newest_time(s: SessionSummary) -> datetime | None:
    """The latest server time a summary names (a lower bound of the server's clock)."""
    times = [t for t in (s.created_at, s.started_at, s.finished_at) if t is not None]
    return max(times) if times else None


def left_small_sets(known: Mapping[str, str | None], listed: Mapping[str, str],
                    visible: set[str] | frozenset[str]) -> list[str]:
    """Ids known in a small set that a complete listing of the small sets (and of the
    finishes) no longer holds: they are running. Only ids lists have shown before count."""
    return [sid for sid, status in known.items()
            if status in SMALL and sid not in listed and sid in visible]


class Feed:
    """The finish cursor, and the pages of one tick and what they change (the sweeper
    decides when to tick)."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.cursor: datetime | None = None  # the latest finish seen (server time)
        self.supported = True  # False once the server proved it ignores `finished_after`
        self.ticks = 0

    def rebase(self, newest: datetime | None, slack: float = 0.0) -> None:
        """Start the cursor at a server time the watched statuses were read after (less
        `slack` seconds): whatever ends from there on is listed."""
        if newest is not None:
            self.cursor = newest - timedelta(seconds=slack)

    def known(self) -> dict[str, str | None]:
        """What the feed tells about, with the status known now: every active session not
        known to have ended or to be gone."""
        tree = self.core.sched.tree_active  # sched.is_active, inlined: 10,000 records a tick
        return {sid: t.status.status if t.status is not None else None
                for sid, t in self.core.store.tracked.items()
                if (t.watched or sid in tree) and not t.not_found
                and (t.status is None or t.status.status not in TERMINAL)}

    async def server_now(self) -> datetime | None:
        """The org's newest session's latest time: a server time, from a one-item page."""
        core = self.core
        async with core.budget.slot(prio.URGENT, purpose="feed"):
            page = await core.client.list_sessions(sort="-created_at", size=1)
        return max(filter(None, map(newest_time, page.items)), default=None)

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        async with self.core.budget.slot(prio.URGENT, purpose="feed"):  # detection rides on them
            yield

    def _walk(self, filters: dict[str, Any], max_pages: int,
              listing: Listing) -> AsyncIterator[SessionSummary]:
        return self.core.client.iter_sessions(size=100, max_pages=max(max_pages, 1), listing=listing,
                                              page_slot=self._slot, **filters)

    async def tick(self, known: Mapping[str, str | None], listed: set[str], max_pages: int) -> FeedTick:
        """Read this tick's pages (at most `max_pages`) and apply what they say of the ids of
        `known` (id -> status before the tick) as each walk ends, the finishes first: they
        are a page or two, and the small sets may be twenty (10,000 sessions starting)."""
        assert self.cursor is not None, "rebase() first"
        out = FeedTick()
        after = self.cursor - OVERLAP
        newest = self.cursor
        finished = Listing()
        async with contextlib.aclosing(self._walk(  # type: ignore[type-var]
                {"sort": "created_at", "finished_after": after}, max_pages, finished)) as pages:
            async for s in pages:
                if s.finished_at is None or s.finished_at <= after or not is_terminal(s.status):
                    self.supported = False  # the filter was ignored: nothing here is news
                    out.pages = finished.pages
                    out.complete = False
                    return out
                newest = max(newest, s.finished_at)
                if s.id in known:
                    out.statuses[s.id], out.summaries[s.id] = s.status, s
        out.pages = finished.pages
        self.apply(known, out, listed)  # what ended is final, even from a walk cut short
        if finished.truncated:
            out.complete = False
            return out
        self.cursor = newest  # a complete answer: the cursor may move past it
        self.ticks += 1
        moved = FeedTick()
        small = Listing()
        async with contextlib.aclosing(self._walk(  # type: ignore[type-var]
                {"status": SMALL}, max_pages - out.pages, small)) as pages:
            async for s in pages:
                if s.id in known:  # read after the finishes: the later word wins
                    moved.statuses[s.id], moved.summaries[s.id] = s.status, s
        out.pages += small.pages
        if small.truncated:
            out.complete = False
        else:
            for sid in left_small_sets(known, {**out.statuses, **moved.statuses}, listed):
                moved.statuses[sid] = RUNNING
        self.apply(known, moved, listed)
        out.statuses.update(moved.statuses)
        out.summaries.update(moved.summaries)
        return out

    def apply(self, known: Mapping[str, str | None], result: FeedTick, listed: set[str]) -> None:
        """Set what `tick` found (`known`: what it was asked about); ids it listed join
        `listed`. A status the session's own poll changed meanwhile is left alone (the poll
        may be newer), unless the pages say it ended: an end is final."""
        core, sched = self.core, self.core.sched
        now = core.wall()
        for sid, status in result.statuses.items():
            t = core.store.get(sid)
            if t is None:
                continue
            summary = result.summaries.get(sid)
            if summary is not None:
                listed.add(sid)
            current = t.status.status if t.status is not None else None
            if current == status or current in TERMINAL:
                continue
            if current != known[sid] and status not in TERMINAL:
                continue
            if t.status is None:
                if summary is not None and not t.info_loaded:
                    t.apply_info(summary)
                    core.emit(InfoLoaded(t.id))
                core.answers.set_status(t, SessionStatus(status=status), now)
            else:
                core.answers.set_status(t, replace(t.status, status=status), now)
            # Its own poll follows for the counters: at once if on screen; else, when they
            # stopped (it ended, or waits), ahead of the background polls. One that just
            # (re)started has nothing new to count yet: its background poll will do (at
            # 10,000 sessions starting, that is 10,000 requests not spent).
            if sched.on_screen(t):
                core.poller.hurry(t)
            elif status != RUNNING:
                core.poller.catch_up(t)
