"""Follow a slice of sessions by query (a group, an agent, ...) through list pages.

Watching 10,000 sessions one `/status` poll each is 3,300 requests/s at the docs' cadence;
the list endpoint returns 100 summaries (id, status, created/finished times) a call. A
`GroupWatch` keeps one small `Member` per session and finds every status change with a few
list calls per tick, whatever the size of the slice:

- new members: `created_after=<newest creation seen>` (oldest first, so a burst larger
  than a page is caught up over the next pages, never skipped);
- members that ended: `finished_after=<latest finish seen>`: one page holds every session
  that finished since the last tick;
- members that left or entered `running`: every non-terminal status but `running` is a
  small set (queued, pending, paused, idle, awaiting tool results), listed whole each
  tick; a member that was in it, is not any more and has not finished, is running;
- every `RECONCILE_EVERY` ticks, one page of the whole slice (a rotating walk), so an
  answer lost to an error or a status this client does not know is corrected in time.

Both cursors re-read `OVERLAP` seconds (clock skew, equal timestamps); members dedupe.
Steps, tokens and cost are not in list pages: `read_details` fetches `/status` for the
running members someone looks at, and `/changes` (metrics: steps, tokens and cost per model,
one request) for the members that ended, once each (their figures are final), at a pace the
caller sets. Totals over the members read so far are shown as such. Finish times are in the
pages, so the group's throughput (members ending per minute) is exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from agp_tui.api.client import AgpClient, Listing
from agp_tui.api.errors import AgpError
from agp_tui.api.models import ModelUsage, SessionSummary
from agp_tui.api.query import SessionQuery
from agp_tui.api.status import RUNNING, TERMINAL, is_terminal

log = logging.getLogger(__name__)

SMALL = ("queued", "pending", "paused", "idle", "awaiting_tool_results")
OVERLAP = timedelta(seconds=5)
ENDED_KEEP = 180  # minutes of finish counts kept for the throughput line
RECONCILE_EVERY = 5  # ticks between pages of the rotating whole-slice walk
MAX_PAGES = 10  # per query per tick: a burst beyond 1,000 is caught up next tick
Change = tuple[str, str | None, str]  # (session id, old status or None when new, new status)
PageSlot = Callable[[], AbstractAsyncContextManager[object]]


@dataclass(slots=True)
class Member:
    id: str
    status: str
    created: str | None  # ISO text as the server wrote it (sorts as time)
    finished: str | None = None
    agent: str | None = None
    message: str | None = None  # the first message, cut short
    steps: int | None = None  # from /status, when read
    usage: tuple[ModelUsage, ...] = ()
    cost: float | None = None  # USD from /changes metrics; None: not read, or a model unpriced
    cost_read: bool = False  # /changes answered: `cost` is what the API says
    final_read: bool = False  # read after it ended: steps, usage (and cost) are final


@dataclass(slots=True)
class Totals:
    """What the members read so far add up to (a lower bound while `read < members`)."""

    members: int = 0
    read: int = 0
    steps: int = 0
    tokens: Counter[str] = field(default_factory=Counter)  # model -> input+output+reasoning
    cost: float = 0.0  # USD over the members whose cost is known
    priced: int = 0  # members whose cost is known
    unpriced: int = 0  # members read whose cost the API left null (a model without a price)


def _later(cursor: str | None, value: str | None) -> str | None:
    if value is None:
        return cursor
    if cursor is None:
        return value
    return value if _parse(value) > _parse(cursor) else cursor


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _minus_overlap(text: str | None) -> str | None:
    return None if text is None else (_parse(text) - OVERLAP).isoformat()


class GroupWatch:
    def __init__(self, client: AgpClient, query: SessionQuery, *, slot: PageSlot | None = None,
                 on_change: Callable[[list[Change]], None] | None = None, interval: float = 3.0,
                 max_members: int = 50_000) -> None:
        self.client = client
        self.query = query
        self.key = str(query)
        self.members: dict[str, Member] = {}
        self.counts: Counter[str] = Counter()
        self.bootstrapped = False
        self.truncated = False  # more members than `max_members`: the rest are not followed
        self.error: str | None = None
        self.kept = False  # kept in the watchlist file: followed again at the next start
        self.changes_ok = True  # False once /changes failed 3 times in a row: /status instead
        self._changes_failed = 0
        self.finished_after_ok = True  # False once the server proved it ignores the filter
        self.requests = 0
        self._slot = slot
        self._on_change = on_change
        self.interval = interval
        self.max_members = max_members
        base = query.filters()
        base.pop("status", None)
        self._base = base  # a status in the query picks members; changes are read without it
        self._created: str | None = None
        self._finished: str | None = None
        self._ticks = 0
        self._walk_page = 1
        # With a status in the query: sessions of the slice seen in a small set, outside the
        # query's statuses; one that leaves the set unfinished is running (a member if the
        # query asks for running).
        self._candidates: dict[str, SessionSummary] = {}
        self._read = self._steps = self._priced = self._unpriced = 0  # see totals
        self._tokens: Counter[str] = Counter()
        self._cost = 0.0
        # Members ending per minute (epoch minute -> count), from the finish times in the
        # pages: exact, kept for the last hours only (`throughput`).
        self._ended: Counter[int] = Counter()

    # -- reading -------------------------------------------------------------------------

    def settled(self) -> bool:
        """Every member has ended (terminal or idle): a `watch --exit-status` may stop."""
        return self.bootstrapped and all(is_terminal(s) or s == "idle" for s in self.counts)

    def totals(self) -> Totals:
        """Kept as members are read (a 10,000-member group's line is drawn several times a
        second: adding it up each time cost a pass over every member)."""
        return Totals(members=len(self.members), read=self._read, steps=self._steps,
                      tokens=Counter(self._tokens), cost=self._cost, priced=self._priced,
                      unpriced=self._unpriced)

    def throughput(self, now: float, minutes: int) -> tuple[int, ...]:
        """Members that ended in each of the last `minutes` minutes before `now` (epoch
        seconds), oldest first; the current, unfinished minute is the last."""
        last = int(now // 60)
        for minute in [k for k in self._ended if k < last - ENDED_KEEP]:
            del self._ended[minute]
        return tuple(self._ended.get(m, 0) for m in range(last - minutes + 1, last + 1))

    def _count_figures(self, m: Member, sign: int) -> None:
        if m.steps is None:
            return
        self._read += sign
        self._steps += sign * m.steps
        for u in m.usage:
            self._tokens[u.name] += sign * (u.input_tokens + u.output_tokens + u.reasoning_tokens)
        if m.cost_read:
            if m.cost is None:
                self._unpriced += sign
            else:
                self._priced += sign
                self._cost += sign * m.cost

    def _note_finish(self, m: Member, finished: str | None) -> None:
        # A new finish time counts once (pages re-read overlap; a session given a new message
        # after it ended finishes again, later).
        if finished is not None and finished != m.finished:
            m.finished = finished
            self._ended[int(_parse(finished).timestamp() // 60)] += 1

    # -- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        """Bootstrap, then a tick every `interval`; errors back off and never end the loop."""
        delay = self.interval
        while True:
            try:
                await self.tick()
                self.error, delay = None, self.interval
            except AgpError as exc:
                self.error = str(exc)
                delay = min(delay * 2, 30.0)
                log.debug("group %s: %s", self.key, exc)
            await asyncio.sleep(delay)

    async def tick(self) -> None:
        if not self.bootstrapped:
            await self._apply(self._walk({**self.query.filters(), "sort": "created_at"}, None),
                              created=True)
            self.bootstrapped = True
            # Whatever ends from now on ends after the oldest member still open was created
            # (a finish read off a later page says nothing of the pages read before it).
            open_since = min((m.created for m in self.members.values()
                              if m.created is not None and not is_terminal(m.status)),
                             key=_parse, default=None)
            self._finished = open_since or self._finished
            return
        self._ticks += 1
        await self._apply(self._walk({**self.query.filters(), "sort": "created_at",
                                      "created_after": _minus_overlap(self._created)}, MAX_PAGES),
                          created=True)
        self._finished = self._finished or self._created  # the first members arrived
        if self._finished is not None and self.finished_after_ok:
            # Every page, not MAX_PAGES: the cursor may only move past a complete answer.
            after = _minus_overlap(self._finished)
            await self._apply(self._checked(self._walk(
                {**self._base, "sort": "created_at", "finished_after": after}, None), after),
                members_only=True, finished=True)
        await self._small_sets()
        if not self.finished_after_ok:
            # What ended is only found by reading the slice: MAX_PAGES of the rotating walk
            # a tick (10,000 members: round in 10 ticks, ~3.3 requests a second).
            for _ in range(MAX_PAGES):
                if await self._reconcile_page():
                    break
        elif self._ticks % RECONCILE_EVERY == 0:
            await self._reconcile_page()

    async def _small_sets(self) -> None:
        """The non-terminal statuses but running, listed whole: who left them is running."""
        listing = Listing()
        seen: set[str] = set()
        changes: list[Change] = []
        async for s in self._walk({**self._base, "status": SMALL}, MAX_PAGES, listing):
            seen.add(s.id)
            self._see(s, changes, members_only=True)
        if not listing.truncated:
            for m in self.members.values():
                if m.status in SMALL and m.id not in seen:
                    changes.append((m.id, m.status, RUNNING))
                    self._set_status(m, RUNNING)
            for sid in [sid for sid in self._candidates if sid not in seen]:
                summary = self._candidates.pop(sid)
                if RUNNING in self.query.statuses:
                    self._see(replace(summary, status=RUNNING), changes)
        self._emit(changes)

    async def _reconcile_page(self) -> bool:
        """One page of the rotating walk of the whole slice; True when it came round."""
        filters = {**self._base, "sort": "created_at"}
        page = await self._page(filters, self._walk_page)
        changes: list[Change] = []
        for s in page.items:
            self._see(s, changes, members_only=True)
        self._emit(changes)
        more = page.has_more and page.items
        self._walk_page = self._walk_page + 1 if more else 1
        return not more

    async def _checked(self, summaries: AsyncIterator[SessionSummary],
                       after: str | None) -> AsyncIterator[SessionSummary]:
        """The `finished_after` walk, ended at the first session that did not finish after
        the cursor: a server that ignores the filter (an older one) would hand back the
        whole slice each tick, so it is asked no more (see `tick`)."""
        bound = _parse(after) if after is not None else None
        async with contextlib.aclosing(summaries):  # type: ignore[type-var]
            async for s in summaries:
                if s.finished_at is None or (bound is not None and s.finished_at <= bound):
                    self.finished_after_ok = False
                    log.info("group %s: the server ignores finished_after; reading the slice", self.key)
                    return
                yield s

    # -- pages ---------------------------------------------------------------------------

    async def _page(self, filters: dict[str, Any], page: int) -> Any:
        async with self._slot() if self._slot else contextlib.nullcontext():
            self.requests += 1
            return await self.client.list_sessions(page=page, size=100, **filters)

    @contextlib.asynccontextmanager
    async def _counted_slot(self) -> AsyncIterator[None]:
        async with self._slot() if self._slot else contextlib.nullcontext():
            self.requests += 1
            yield

    def _walk(self, filters: dict[str, Any], max_pages: int | None,
              listing: Listing | None = None) -> AsyncIterator[SessionSummary]:
        pages = max_pages if max_pages is not None else -(-self.max_members // 100) + 1
        return self.client.iter_sessions(size=100, max_pages=pages, listing=listing,
                                         page_slot=self._counted_slot, **filters)

    async def _apply(self, summaries: AsyncIterator[SessionSummary], *, members_only: bool = False,
                     created: bool = False, finished: bool = False) -> None:
        """Take in a walk's summaries; `created` / `finished`: this walk moves that cursor
        (only a walk made for it may: another walk's newest time says nothing of what the
        cursor's own query has not read yet)."""
        changes: list[Change] = []
        newest_created, newest_finished = self._created, self._finished
        async with contextlib.aclosing(summaries):  # type: ignore[type-var]
            async for s in summaries:
                self._see(s, changes, members_only=members_only)
                if created and s.created_at is not None:
                    newest_created = _later(newest_created, s.created_at.isoformat())
                if finished and s.finished_at is not None:
                    newest_finished = _later(newest_finished, s.finished_at.isoformat())
                if len(changes) >= 500:  # a 10,000-member bootstrap tells as it reads
                    self._emit(changes)
                    changes = []
        self._created, self._finished = newest_created, newest_finished
        self._emit(changes)

    # -- members -------------------------------------------------------------------------

    def _see(self, s: SessionSummary, changes: list[Change], *, members_only: bool = False) -> None:
        created = s.created_at.isoformat() if s.created_at else None
        finished = s.finished_at.isoformat() if s.finished_at else None
        m = self.members.get(s.id)
        if m is None:
            if members_only and self.query.statuses and s.status not in self.query.statuses:
                if s.status in SMALL and len(self._candidates) < self.max_members:
                    self._candidates[s.id] = s  # not a member yet: watch where it goes
                else:
                    self._candidates.pop(s.id, None)
                return
            self._candidates.pop(s.id, None)
            if len(self.members) >= self.max_members:
                self.truncated = True
                return
            message = s.first_message.message[:200] if s.first_message else None
            m = self.members[s.id] = Member(s.id, s.status, created, None, s.agent, message)
            self.counts[s.status] += 1
            changes.append((s.id, None, s.status))
        elif m.status != s.status:
            changes.append((s.id, m.status, s.status))
            self._set_status(m, s.status)
        self._note_finish(m, finished)

    def _set_status(self, m: Member, status: str) -> None:
        self.counts[m.status] -= 1
        if self.counts[m.status] <= 0:
            del self.counts[m.status]
        m.status = status
        self.counts[status] += 1

    def _emit(self, changes: list[Change]) -> None:
        if changes and self._on_change is not None:
            self._on_change(changes)

    # -- details -------------------------------------------------------------------------

    def unread_finished(self) -> Iterable[Member]:
        """Members that ended and whose final figures are not read yet, newest first."""
        return (m for m in reversed(self.members.values())
                if m.status in TERMINAL and not m.final_read)

    async def read_details(self, ids: Iterable[str]) -> int:
        """Steps and tokens of these members (and cost of those that ended); how many were
        read. A member that ended is read through `/changes` without events: one request
        carries steps, tokens per model and cost; a 204 (no events at all) or a running
        member falls back to `/status`, which has no cost."""
        read = 0
        for sid in ids:
            m = self.members.get(sid)
            if m is None:
                continue
            changes = None
            if is_terminal(m.status) and self.changes_ok:
                try:
                    async with self._counted_slot():
                        # from_index=0 without events forces a 200 carrying the metrics.
                        changes = await self.client.get_changes(sid, 0, include_events=False)
                    self._changes_failed = 0
                except AgpError as exc:
                    # /status for this one; three in a row (a server or proxy without
                    # /changes): /status for the rest too, without the cost.
                    log.debug("group %s: /changes of %s: %s; reading /status", self.key, sid, exc)
                    self._changes_failed += 1
                    self.changes_ok = self._changes_failed < 3
            if changes is not None:
                status = changes.status
                steps, usage = changes.metrics.steps, tuple(
                    ModelUsage(c.name, c.input_tokens, c.output_tokens, c.reasoning_tokens)
                    for c in changes.metrics.cost_per_model)
            else:
                async with self._counted_slot():
                    st = await self.client.get_status(sid)
                status, steps, usage = st.status, st.steps, tuple(st.usage_per_model)
            self._count_figures(m, -1)
            m.steps, m.usage = steps, usage
            m.cost_read = changes is not None
            m.cost = changes.metrics.total_cost if changes is not None else None
            self._count_figures(m, +1)
            if status != m.status:
                change: Change = (sid, m.status, status)
                self._set_status(m, status)
                self._emit([change])
            if changes is not None and changes.finished_at is not None:
                self._note_finish(m, changes.finished_at.isoformat())
            m.final_read = is_terminal(status)
            read += 1
        return read
