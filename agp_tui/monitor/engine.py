"""The monitor engine: one poll task per session under a shared budget, plus list sweeps.

Shared by the dashboard and the headless commands. Workers only talk to the API and
update `Tracked` records on the event loop; subscribers are told what changed through
typed events and read state with `view()`, `history()` and `rollup()`.

Two ways of learning about a session, combined to poll far less than a naive loop:
- per-session `/status` polls, at a cadence set by the session's state (`Cadence`);
- list *sweeps*: `GET /sessions?status=<every non-terminal>` pages cover many sessions
  per request, so a status change of an off-screen session is noticed within one sweep
  interval and its own poll is pulled forward; such sessions poll their counters at a
  slower background cadence. A session the sweeps keep missing falls back to its own
  cadence, so sweeps only ever add detection speed, never lose it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from agp_tui.api.client import AgpClient
from agp_tui.api.errors import (
    AgpError,
    AuthError,
    BadResponse,
    NotFound,
    RateLimited,
    ServerError,
    Unreachable,
)
from agp_tui.api.ids import normalize_session_id
from agp_tui.api.models import Changes, ModelUsage, Quota, SessionStatus, SessionSummary, parse_time
from agp_tui.api.status import KNOWN, PENDING, QUEUED, RUNNING, TERMINAL
from agp_tui.monitor import budget as prio
from agp_tui.monitor import pacing
from agp_tui.monitor.budget import RequestBudget
from agp_tui.monitor.cadence import Cadence
from agp_tui.monitor.events import (
    ChildrenFound,
    Connection,
    ConnectionChanged,
    EngineEvent,
    InfoLoaded,
    QuotaUpdated,
    SessionError,
    SessionRecovered,
    Stale,
    StatusChanged,
    UsageChanged,
    WatchlistChanged,
)
from agp_tui.monitor.follower import Follower
from agp_tui.monitor.history import TokenHistory
from agp_tui.monitor.rollup import rollup, walk_tree
from agp_tui.monitor.tracked import Tracked
from agp_tui.monitor.trajectory import EventBuffer
from agp_tui.monitor.view import Rollup, SessionView
from agp_tui.monitor.watchlist import Watchlist

log = logging.getLogger(__name__)

NON_TERMINAL = tuple(sorted(KNOWN - TERMINAL))
SWEEP_CHUNK = 80  # candidates per concurrently swept window (a page holds 100)
LONG_POLL_GARBLED_MAX = 3  # garbled /changes answers in a row before /status polls take over
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PRIORITY_NAMES = {prio.URGENT: "urgent", prio.FOCUS: "focus", prio.NORMAL: "normal",
                   prio.BACKGROUND: "background"}
Listener = Callable[[EngineEvent], None]


@dataclass(frozen=True, slots=True)
class EngineSettings:
    cadence: Cadence = field(default_factory=Cadence)
    max_in_flight: int = 8
    max_rps: float = 20.0
    history_buckets: int = 60
    bucket_seconds: float = 10.0
    sweep: bool = True
    sweep_interval: float = 3.0
    sweep_min_sessions: int = 2  # one session alone: its own poll costs what a sweep would
    bootstrap_min_sessions: int = 20  # from this many, start with list pages (see _bootstrap)
    stale_after: float = 30.0  # a failing session is stale this long after its last good poll
    # A session whose polls succeed but lag is stale once its last good answer is older than
    # this many of its own intervals (and `stale_after`): the request budget starved it, or
    # its task stalled. The `upd` column and the header then say so instead of "live".
    overdue_factor: float = 3.0
    stale_check_interval: float = 2.0
    offline_after: int = 3  # consecutive transport failures before the link is offline
    quota_interval: float = 60.0
    auth_probe_interval: float = 30.0
    watchlist_sync_interval: float = 2.0
    housekeeping_interval: float = 1.0
    follow_children: bool = False
    # Sessions on screen are followed by long-polling `/changes` (the docs' live feed):
    # an update arrives the moment a step lands, with fewer requests than 3 s polls,
    # and its metrics carry the API's cost figure.
    long_poll: bool = True
    long_poll_wait: int = 20  # seconds the server may hold each request (cap 25)
    long_poll_max: int = 24  # sessions long-polled at once; the rest poll /status
    long_poll_status_every: float = 30.0  # a /status now and then still finds new children
    # Subagents of one session tracked and polled (the rest are only counted), and levels
    # below an open tree's root that are discovered: a server naming 100,000 children, or
    # a chain of 2,000 levels, must not become as many poll tasks.
    max_children: int = 1000
    max_tree_depth: int = 50
    seed: int | None = None  # jitter randomness, fixed in tests


class Engine:
    def __init__(
        self,
        client: AgpClient,
        watchlist: Watchlist | None = None,
        settings: EngineSettings | None = None,
        *,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._watchlist = watchlist
        self.settings = settings or EngineSettings()
        self._wall = wall
        self._rng = random.Random(self.settings.seed)
        self._budget = RequestBudget(self.settings.max_in_flight, self.settings.max_rps)
        self._tracked: dict[str, Tracked] = {}
        self._order: list[str] = []  # watched ids in watchlist order
        self._listeners: list[Listener] = []
        self._tree_roots: dict[str, int] = {}  # open tree roots, reference-counted
        self._tree_active: set[str] = set()
        self._child_listings: dict[str, asyncio.Task[None]] = {}  # parent id → its listing
        self._focus: set[str] = set()
        self._long_polling: set[str] = set()
        self._bootstrapped = asyncio.Event()
        self._bootstrapped.set()
        self._selected: str | None = None
        self._auth_ok = asyncio.Event()
        self._auth_ok.set()
        self._auth_probe: asyncio.Task[None] | None = None
        self._services: list[asyncio.Task[None]] = []
        self._sweep_active = False
        self._sweep_backoff = 0
        self._sweep_every = self.settings.sweep_interval
        self._sweep_idle = False  # the last sweep found no candidate at all
        self._sweep_wanted = asyncio.Event()
        self._housekeeping_due = asyncio.Event()
        self._failing: set[str] = set()  # sessions whose last poll failed (not 404)
        self._last_success: float | None = None
        self._last_success_loop = -math.inf  # loop time of the last good answer (backoff)
        self._transport_failures = 0
        self._failing_since: float | None = None
        self.connection = Connection.CONNECTING
        self.connection_detail: str | None = None
        self.quota: Quota | None = None
        self.stale_count = 0  # watched sessions marked stale (the header's "N STALE")
        self.follow_children = self.settings.follow_children
        self.requests: Counter[str] = Counter()  # requests made, by purpose (benchmarks)
        self._follower = Follower(client, self._budget, self._emit, self._spawn, self.requests)
        self.retries = 0  # polls of a session whose previous poll failed (soak figures)
        self.started = False

    # -- lifecycle --------------------------------------------------------------------

    async def start(self, ids: Iterable[str] = ()) -> None:
        """Begin polling the watchlist (if any) and `ids` (watched in memory only)."""
        if self.started:
            return
        self.started = True
        if self._watchlist is not None:
            for entry in self._watchlist.load():
                t = self._track(entry.id, watched=True)
                t.label, t.pinned, t.added_at = entry.label, entry.pinned, entry.added_at
        for sid in ids:
            self._track(normalize_session_id(sid), watched=True).added_at = self._wall()
        if self.settings.sweep and len(self._tracked) >= self.settings.bootstrap_min_sessions:
            self._bootstrapped.clear()
            self._spawn(self._bootstrap())
        # First polls start in priority order: what is on screen is fetched first.
        for t in sorted(self._tracked.values(), key=self._priority):
            self._ensure_task(t)
        for coro in (self._housekeeping(), self._sweep_loop()):
            self._services.append(asyncio.create_task(coro))

    async def _bootstrap(self) -> None:
        """Learn many sessions' status and labels from a few list pages, not one call each.

        With a thousand sessions watched, their first polls alone would take the whole
        request budget for a minute; the org's non-terminal sessions come 100 a page.
        Sessions not found (finished, or someone else's) get their own first poll.
        """
        try:
            wanted = {sid for sid, t in self._tracked.items() if t.status is None and not t.info_loaded}
            max_pages = max(1, len(wanted) // 4)
            page_no = 1
            while wanted and page_no <= max_pages:
                async with self._budget.slot(prio.URGENT):
                    self.requests["bootstrap"] += 1
                    page = await self._client.list_sessions(
                        status=NON_TERMINAL, sort="-created_at", page=page_no, size=100
                    )
                now = self._wall()
                for summary in page.items:
                    t = self._tracked.get(summary.id)
                    if t is None or summary.id not in wanted:
                        continue
                    wanted.discard(summary.id)
                    t.apply_info(summary)
                    self._emit(InfoLoaded(t.id))
                    if t.status is None:
                        self._set_status(t, SessionStatus(status=summary.status), now)
                if not page.has_more or not page.items:
                    break
                page_no += 1
            # The listing was a sweep: until the first real one, sessions found in it
            # already count as watched by sweeps (no burst of full-cadence polls).
            self._sweep_active = True
        except AgpError as exc:
            log.debug("bootstrap listing failed: %s", exc)
        finally:
            self._bootstrapped.set()

    async def stop(self) -> None:
        tasks = [*self._services, *(t.task for t in self._tracked.values() if t.task)]
        if self._auth_probe:
            tasks.append(self._auth_probe)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._services.clear()
        for t in self._tracked.values():
            t.task = None
        self.started = False

    async def aclose(self) -> None:
        """Stop polling and close the client (the app calls this on its way out)."""
        await self.stop()
        await self._client.aclose()

    @property
    def client(self) -> AgpClient:
        return self._client

    # -- subscriptions ----------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every event, on the engine's loop; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def events(self, maxsize: int = 10_000) -> AsyncIterator[EngineEvent]:
        """The same events as an async iterator (headless commands read them this way)."""
        queue: asyncio.Queue[EngineEvent] = asyncio.Queue(maxsize)

        def put(ev: EngineEvent) -> None:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(ev)

        unsubscribe = self.subscribe(put)
        try:
            while True:
                yield await queue.get()
        finally:
            unsubscribe()

    def _emit(self, event: EngineEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken subscriber must never stop the polling
                log.exception("engine listener failed on %r", event)

    # -- reading ----------------------------------------------------------------------

    def watched_ids(self) -> list[str]:
        return list(self._order)

    def view(self, session_id: str) -> SessionView | None:
        t = self._tracked.get(session_id)
        if t is None:
            return None
        view = t.view()
        if view.status is None and view.error_kind is None and self.connection is Connection.AUTH_ERROR:
            # Polling waits for a working key in one place, so no row ever gets its own
            # error: say on each row never loaded why it is empty, not `loading` forever.
            view = replace(view, error_kind="AuthError",
                           error_message=self.connection_detail or "the API key was refused")
        return view

    def history(self, session_id: str) -> TokenHistory | None:
        t = self._tracked.get(session_id)
        return t.history if t else None

    def children_of(self, session_id: str) -> tuple[str, ...]:
        """The subagents tracked under a session: its first `max_children` (see more_children)."""
        t = self._tracked.get(session_id)
        return t.status.subagent_session_ids[: self.settings.max_children] if t and t.status else ()

    def more_children(self, session_id: str) -> int:
        """Subagents the server names beyond `max_children`: counted, never tracked."""
        t = self._tracked.get(session_id)
        count = len(t.status.subagent_session_ids) if t and t.status else 0
        return max(count - self.settings.max_children, 0)

    def rollup(self, root_id: str) -> Rollup:
        return rollup(root_id, self._status_of, self._cost_of)

    def _cost_of(self, session_id: str) -> float | None:
        t = self._tracked.get(session_id)
        return t.cost if t else None

    def _status_of(self, session_id: str) -> SessionStatus | None:
        t = self._tracked.get(session_id)
        return t.status if t else None

    def now(self) -> float:
        """The engine's wall clock (frozen in tests), for ages shown beside its data."""
        return self._wall()

    @property
    def requests_granted(self) -> int:
        return self._budget.granted

    # -- commands ---------------------------------------------------------------------

    def add(self, ids: Iterable[str], *, label: str | None = None) -> list[str]:
        """Watch these ids (persisted when there is a watchlist); returns the new ones."""
        wanted = [normalize_session_id(s) for s in ids]
        if self._watchlist is not None:
            added = self._watchlist.add(wanted, label=label)
        else:
            added = list(dict.fromkeys(s for s in wanted if s not in self._order))
        for sid in added:
            t = self._track(sid, watched=True)
            t.label, t.added_at = label, self._wall()
            t.urgent = True
            if self.started:
                self._ensure_task(t)
        if added:
            self._emit(WatchlistChanged(added=tuple(added)))
        return added

    def remove(self, ids: Iterable[str]) -> list[str]:
        wanted = [normalize_session_id(s) for s in ids]
        removed = self._watchlist.remove(wanted) if self._watchlist is not None else [
            s for s in wanted if s in self._order
        ]
        for sid in removed:
            self._untrack(sid)
        if removed:
            self._emit(WatchlistChanged(removed=tuple(removed)))
        return removed

    def refresh(self, ids: Iterable[str] | None = None) -> None:
        """Poll now (never twice at once: this only wakes each session's own task)."""
        targets = self._tracked.values() if ids is None else (
            self._tracked[s] for s in ids if s in self._tracked
        )
        for t in targets:
            if self._is_active(t):
                self._hurry(t)
                self._ensure_task(t)
        if not self._auth_ok.is_set() and self._auth_probe is not None:
            self._auth_probe.cancel()  # probe again right now
            self._auth_probe = asyncio.create_task(self._probe_auth(delay=0.0))

    def set_focus(self, visible: Iterable[str], selected: str | None = None) -> None:
        """What is on screen polls at full cadence and first; newly shown rows refresh."""
        new = set(visible)
        if selected:
            new.add(selected)
        now = self._wall()
        entering = new - self._focus
        self._focus, self._selected = new, selected
        for sid in entering:
            t = self._tracked.get(sid)
            if t is None:
                continue
            self._maybe_fetch_cost(t)
            if not t.polling:
                continue
            due = self.settings.cadence.base_interval(t.status.status if t.status else None, 0)
            if t.last_ok_at is None or now - t.last_ok_at > due or self._wants_long_poll(t):
                t.wake.set()

    def open_tree(self, root_id: str) -> None:
        """Discover and poll every descendant of `root_id` until `close_tree`."""
        self._tree_roots[root_id] = self._tree_roots.get(root_id, 0) + 1
        self._update_tree_active()
        t = self._tracked.get(root_id)
        if t is not None and t.status and t.status.subagent_session_ids:
            self._start_listing(t)

    def close_tree(self, root_id: str) -> None:
        count = self._tree_roots.get(root_id, 0) - 1
        if count > 0:
            self._tree_roots[root_id] = count
        else:
            self._tree_roots.pop(root_id, None)
        self._update_tree_active()

    def follow_events(self, session_id: str) -> EventBuffer | None:
        """Keep `session_id`'s trajectory events while something shows them (counted: call
        `unfollow_events` once per call). None if the session is not tracked."""
        t = self._tracked.get(session_id)
        if t is None:
            return None
        # A long-poll about to start with no cursor loads the latest events itself.
        first = t.id not in self._follower
        long_poll_loads = t.cursor is None and self._wants_long_poll(t, followed=True)
        buf = self._follower.follow(t, load=not long_poll_loads)
        if first:
            t.wake.set()  # followed sessions are long-polled: start now
        return buf

    def unfollow_events(self, session_id: str) -> None:
        self._follower.unfollow(session_id)

    def trajectory(self, session_id: str) -> EventBuffer | None:
        """The followed session's recent events (None when not followed)."""
        return self._follower.buffer(session_id)

    async def load_older_events(self, session_id: str) -> int:
        """Fetch the page of events just before the oldest held; how many came."""
        t = self._tracked.get(session_id)
        return await self._follower.load_older(t) if t is not None else 0

    def set_follow_children(self, on: bool) -> None:
        self.follow_children = on
        self._update_tree_active()

    # -- tracking ---------------------------------------------------------------------

    def _track(self, sid: str, *, watched: bool, parent: str | None = None) -> Tracked:
        t = self._tracked.get(sid)
        if t is None:
            hist = TokenHistory(self.settings.history_buckets, self.settings.bucket_seconds)
            t = self._tracked[sid] = Tracked(sid, hist, watched=watched)
        if parent and not t.parent_id:
            t.parent_id = parent
        if watched and not t.watched:
            t.watched = True
        if watched and sid not in self._order:
            self._order.append(sid)
        return t

    def _untrack(self, sid: str) -> None:
        t = self._tracked.get(sid)
        if sid in self._order:
            self._order.remove(sid)
        if t is None:
            return
        t.watched = False
        self._update_tree_active()
        if not self._is_active(t) and t.parent_id is None:
            if t.task:
                t.task.cancel()
            del self._tracked[sid]
            self._failing.discard(sid)

    def _is_active(self, t: Tracked) -> bool:
        return t.watched or t.id in self._tree_active

    def _ensure_task(self, t: Tracked) -> None:
        if self.started and t.task is None and self._is_active(t):
            t.task = asyncio.create_task(self._poll_loop(t), name=f"poll {t.id[:8]}")

    def _update_tree_active(self) -> None:
        roots = set(self._tree_roots)
        if self.follow_children:
            roots.update(self._order)
        active: set[str] = set()
        for root in roots:
            active.update(walk_tree(root, self.children_of, max_depth=self.settings.max_tree_depth))
        self._tree_active = active
        for parent_id, task in list(self._child_listings.items()):
            if parent_id not in active:
                # Its tree closed: nobody will read these labels, stop paging for them.
                task.cancel()
                del self._child_listings[parent_id]
                parent = self._tracked.get(parent_id)
                if parent is not None:
                    parent.children_listed = frozenset()
        for sid in active:
            t = self._tracked.get(sid)
            if t is not None:
                self._ensure_task(t)
            # Children not tracked yet are created when their parent's status names them.

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self._services.append(task)
        task.add_done_callback(lambda t: self._services.remove(t) if t in self._services else None)
        return task

    # -- polling ----------------------------------------------------------------------

    def _hurry(self, t: Tracked) -> None:
        """Poll this session next, even if its poll is already queued at a lower priority."""
        t.urgent = True
        t.wake.set()
        self._budget.promote(t.id, prio.URGENT)

    def _is_background(self, t: Tracked) -> bool:
        return (
            self._sweep_active and t.sweepable and t.id not in self._focus
            and t.id not in self._tree_active
        )

    def _next_delay(self, t: Tracked) -> float | None:
        if t.not_found:
            return None
        cadence = self.settings.cadence
        status = t.status.status if t.status else None
        loop_now = asyncio.get_running_loop().time()
        running_for = loop_now - t.running_since if t.running_since is not None else 0.0
        if t.failures:
            delay = cadence.error_delay(t.failures, t.retry_after, self._rng)
            if t.retry_after is None and loop_now - self._last_success_loop < cadence.error_base:
                # Other requests are being answered right now: this session's trouble is
                # passing (a dropped connection, one bad gateway), not an outage, and backing
                # off past its usual interval would only delay its recovery. A Retry-After,
                # or a server failing everything, still gets the full backoff.
                delay = min(delay, cadence.base_interval(status, running_for))
            return delay
        if t.status is not None and t.status.terminal:
            return cadence.final_fetch if t.final_left else None
        return cadence.interval(status, running_for, background=self._is_background(t), rng=self._rng)

    def _expected(self, t: Tracked, loop_now: float) -> float:
        """Seconds between good answers this session should see, when all goes well."""
        cadence = self.settings.cadence
        status = t.status.status if t.status else None
        running_for = loop_now - t.running_since if t.running_since is not None else 0.0
        base = cadence.base_interval(status, running_for)
        if t.id in self._long_polling:
            base = max(base, float(self.settings.long_poll_wait))
        elif self._is_background(t):
            base = min(base * cadence.background_factor, max(cadence.background_max, base))
        return base

    def _priority(self, t: Tracked) -> int:
        if t.urgent or t.id == self._selected:
            return prio.URGENT
        if t.id in self._focus or t.id in self._tree_active:
            return prio.FOCUS
        return prio.BACKGROUND if self._is_background(t) else prio.NORMAL

    async def _poll_loop(self, t: Tracked) -> None:
        loop = asyncio.get_running_loop()
        try:
            if not self._bootstrapped.is_set() and t.id not in self._focus:
                await self._bootstrapped.wait()
            # A status known already (from the bootstrap listing): the first poll waits its turn.
            first = t.status is None or t.urgent
            while True:
                long_poll = self._wants_long_poll(t)
                if not first and not t.wake.is_set():
                    # A long-poll goes again at once, unless its server answered too soon.
                    delay = pacing.pause_before(t, loop.time()) if long_poll else self._next_delay(t)
                    if not long_poll or delay:
                        # call_later + Event is much cheaper than wait_for on the hot path.
                        handle = loop.call_later(delay, t.wake.set) if delay is not None else None
                        await t.wake.wait()
                        if handle is not None:
                            handle.cancel()
                first = False
                t.wake.clear()
                if not self._is_active(t):
                    return
                if not self._auth_ok.is_set():
                    await self._auth_ok.wait()
                try:
                    if self._wants_long_poll(t) and not t.urgent:
                        await self._long_poll_once(t)
                    else:
                        await self._poll_once(t)
                except Exception as exc:
                    # A bug, or an answer no model expected: a dead task would leave the row
                    # frozen on old data and never marked stale. Log it, show it as a bad
                    # answer (stale after a while, like any failure) and poll on with backoff.
                    log.exception("polling %s failed unexpectedly", t.id)
                    self._on_poll_error(t, BadResponse(f"{type(exc).__name__}: {exc}"))
        finally:
            t.task = None

    async def _poll_once(self, t: Tracked) -> None:
        priority = self._priority(t)
        t.urgent = False
        load_info = not t.info_loaded
        if t.failures:
            self.retries += 1
        try:
            async with self._budget.slot(priority, key=t.id):
                self.requests["poll:" + _PRIORITY_NAMES[priority]] += 1
                if load_info:  # first sight: the full Session carries status *and* labels
                    session = await self._client.get_session(t.id)
                    status = session.status
                else:
                    status = await self._client.get_status(t.id)
        except AgpError as exc:
            self._on_poll_error(t, exc)
            return
        t.status_polled_at = asyncio.get_running_loop().time()
        if load_info:
            t.apply_info(session)
            self._emit(InfoLoaded(t.id))
        self._apply_status(t, status)
        if t.id in self._follower and not self._wants_long_poll(t) and not status.terminal:
            # Followed without a live feed (long-polls off or refused): what is past the cursor.
            self._spawn(self._follower.drain(t) if t.cursor is not None else self._follower.load_recent(t))

    def _wants_long_poll(self, t: Tracked, *, followed: bool = False) -> bool:
        s = self.settings
        followed = followed or t.id in self._follower
        if (
            not s.long_poll or t.long_poll_failed or t.failures or t.not_found or not t.info_loaded
            or t.status is None or t.status.terminal
            or not (followed or t.id in self._focus or t.id in self._tree_active)
            or not pacing.may_long_poll(t, asyncio.get_running_loop().time())
        ):
            return False
        # Followed sessions (a handful: what a person reads) always get their live feed.
        return followed or t.id in self._long_polling or len(self._long_polling) < s.long_poll_max

    async def _long_poll_once(self, t: Tracked) -> None:
        """One `/changes` long-poll from the session's cursor; a wake-up cuts it short."""
        s = self.settings
        loop = asyncio.get_running_loop()
        if loop.time() - t.status_polled_at >= s.long_poll_status_every:
            await self._poll_once(t)  # children are only listed in /status
            return
        self._long_polling.add(t.id)
        request: asyncio.Future[Changes | None] | None = None
        woken: asyncio.Future[Literal[True]] | None = None
        try:
            if t.cursor is None and t.id in self._follower:
                await self._follower.load_recent(t, retries=0)  # its latest events, and the cursor
            if t.cursor is None:  # start at the end of the history, not its beginning
                async with self._budget.slot(prio.FOCUS):
                    self.requests["events-count"] += 1
                    t.cursor = await self._client.count_events(t.id)
            # Rate-limited like any request, but a held long-poll takes no in-flight slot.
            await self._budget.acquire(prio.FOCUS)
            self._budget.release()
            self.requests["long-poll"] += 1
            started = loop.time()
            request = req = asyncio.ensure_future(self._client.get_changes(
                t.id, t.cursor, wait_for_seconds=s.long_poll_wait, include_events=True, limit=100,
            ))
            woken = wake = asyncio.ensure_future(t.wake.wait())
            racers: set[asyncio.Future[Any]] = {req, wake}
            await asyncio.wait(racers, return_when=asyncio.FIRST_COMPLETED)
            if not req.done():
                return  # refresh-now, focus change...: the loop goes round at once
            changes = req.result()
        except AgpError as exc:
            garbled = isinstance(exc, BadResponse)
            if garbled:
                t.long_poll_garbled += 1
            if (exc.retryable or (isinstance(exc, AuthError) and exc.status == 401)
                    or (garbled and t.long_poll_garbled < LONG_POLL_GARBLED_MAX)):
                # Passing trouble, a garbled body included (a cut connection, a proxy's
                # hiccup): the usual backoff, then /changes again. Only a body that keeps
                # coming back garbled means something in the way does not speak /changes.
                self._on_poll_error(t, exc)
            else:
                # A server or proxy without /changes or /events must not cost the session:
                # it goes back to /status polls, which judge not-found and errors properly.
                t.long_poll_failed = True
                log.debug("long-poll of %s failed, polling /status instead: %s", t.id, exc)
            return
        finally:
            self._long_polling.discard(t.id)
            for fut in (request, woken):
                if fut is not None and not fut.done():
                    fut.cancel()
        t.long_poll_garbled = 0
        pacing.after_answer(t, started=started, now=loop.time(), wait=s.long_poll_wait,
                            empty=changes is None or not changes.new_events, rng=self._rng)
        if changes is None:  # 204: nothing new in the whole wait
            now = self._wall()
            self._note_success(now)
            self._confirmed(t, now)  # the server just vouched for what we show
            return
        t.cursor = changes.next_index
        self._apply_changes(t, changes)
        self._follower.take(t, changes)

    def _apply_changes(self, t: Tracked, ch: Changes) -> None:
        """A `/changes` answer as a status: counters from its metrics, children kept."""
        old = t.status
        old_usage = {u.name: u for u in old.usage_per_model} if old else {}
        usage: list[ModelUsage] = []
        for c in ch.metrics.cost_per_model:
            u = ModelUsage(c.name, c.input_tokens, c.output_tokens, c.reasoning_tokens)
            prev = old_usage.pop(c.name, None)
            # Docs examples omit per-model token fields at times: never let a missing
            # field read as counters going down.
            usage.append(prev if prev is not None and u.total_tokens < prev.total_tokens else u)
        usage.extend(old_usage.values())
        st = SessionStatus(
            status=ch.status, error=ch.error, error_code=ch.error_code, outcome=ch.outcome,
            steps=max(ch.metrics.steps, old.steps if old else 0), usage_per_model=tuple(usage),
            subagent_session_ids=old.subagent_session_ids if old else (),
        )
        t.cost, t.cost_at = ch.metrics.total_cost, self._wall()
        # /changes carries the times too: a finish seen here places the last growth before it.
        t.started_at = ch.started_at or t.started_at
        t.finished_at = ch.finished_at or t.finished_at
        self._apply_status(t, st)

    async def _fetch_cost(self, t: Tracked) -> None:
        """The API's cost figure for a finished session on screen, fetched once."""
        try:
            async with self._budget.slot(prio.BACKGROUND):
                self.requests["cost"] += 1
                # from_index=0 without events forces a 200 carrying the metrics.
                ch = await self._client.get_changes(t.id, 0, include_events=False)
        except AgpError:
            return
        t.cost_at = self._wall()
        if ch is not None:
            t.cost = ch.metrics.total_cost
            if ch.answer is not None:
                t.answer = ch.answer
            self._emit(InfoLoaded(t.id))

    def _maybe_fetch_cost(self, t: Tracked) -> None:
        if (
            self.settings.long_poll and t.status is not None and t.status.terminal
            and not t.final_left and (t.id in self._focus or t.id in self._tree_active)
            and (t.cost_at is None or (t.last_change_at or 0) > t.cost_at)
        ):
            t.cost_at = self._wall()  # one fetch in flight at most
            self._spawn(self._fetch_cost(t))

    def _apply_status(self, t: Tracked, st: SessionStatus) -> None:
        now = self._wall()
        self._note_success(now)
        old = t.status
        self._failing.discard(t.id)
        self._confirmed(t, now)
        self._set_status(t, st, now)
        if old is not None and old.status == st.status and st.terminal and t.final_left:
            t.final_left -= 1
        if st.terminal and t.finished_at is None and not t.info_loaded:
            # Just found finished: the Session fetched next carries `finished_at`, and the
            # growth this poll saw is placed before it then, not at our later `now`.
            moved = False
        else:
            moved = t.history.observe(self._usage_time(t, st, now), st.usage_per_model,
                                      grew_since=self._grew_since(t, st))
        if moved or (old is not None and old.steps != st.steps):
            t.last_change_at = now
            total = sum(u.total_tokens for u in st.usage_per_model)
            self._emit(UsageChanged(t.id, st.steps, total))
        before = old.subagent_session_ids if old is not None else ()
        if before != st.subagent_session_ids:  # emptied too: vanished children are forgotten
            self._on_children(t, before[: self.settings.max_children],
                              st.subagent_session_ids[: self.settings.max_children])
        self._maybe_fetch_cost(t)

    def _confirmed(self, t: Tracked, now: float) -> None:
        """A good answer about `t`: it is fresh, and whatever was wrong with it is over."""
        if t.failures or t.not_found or t.stale:
            t.failures, t.retry_after, t.not_found, t.stale = 0, None, False, False
            t.error_kind = t.error_message = None
            self.stale_count = sum(1 for x in self._tracked.values() if x.stale and x.watched)
            self._emit(SessionRecovered(t.id))
        t.last_ok_at = now

    @staticmethod
    def _grew_since(t: Tracked, st: SessionStatus) -> float | None:
        """Where a session's first-seen counters are spread from (as an estimate), if at all.

        A session first seen running used its tokens since it started: spreading them over
        that span draws its likely pace, marked as an estimate. One first seen after it
        settled did all its work before we looked: a flat baseline, no invented activity.
        """
        if t.history.last_observed_at is not None or st.terminal or t.started_at is None:
            return None
        return t.started_at.timestamp()

    @staticmethod
    def _usage_time(t: Tracked, st: SessionStatus, now: float) -> float:
        """When the counters of `st` stopped growing: `now`, or a settled session's finish.

        Growth seen on the poll that found a session finished happened before `finished_at`,
        never after it. Clamped to [last observation, now] so a skewed server clock can
        neither reorder observations nor place work in our future.
        """
        if not st.terminal or t.finished_at is None:
            return now
        last = t.history.last_observed_at
        return min(now, max(t.finished_at.timestamp(), last if last is not None else -math.inf))

    def _set_status(self, t: Tracked, st: SessionStatus, now: float) -> None:
        """Take a new status object; on a change of status, emit it and adjust the schedule."""
        old = t.status
        t.status = st
        if old is not None and old.status == st.status:
            return
        if not st.terminal:
            self._sweep_wanted.set()
        if st.status == RUNNING:
            t.running_since = asyncio.get_running_loop().time()
        if st.terminal:
            # One more fetch shortly after the first terminal sight catches final usage.
            t.final_left = 1 if old is not None and not old.terminal else 0
        if st.terminal and old is not None and t.id in self._follower:
            self._spawn(self._follower.drain(t))  # the last events and the answer
        if old is not None and (st.terminal or old.status in (PENDING, QUEUED)):
            # started_at / finished_at only come with the full Session: fetch it next.
            t.info_loaded = False
        t.last_change_at = now
        self._emit(StatusChanged(t.id, old.status if old else None, st.status, now))

    def _on_children(self, parent: Tracked, before: tuple[str, ...], child_ids: tuple[str, ...]) -> None:
        """A parent's (capped) subagent list changed from `before` to `child_ids`."""
        new = tuple(c for c in child_ids if c not in self._tracked or self._tracked[c].parent_id is None)
        for cid in child_ids:
            self._track(cid, watched=False, parent=parent.id)
        self._update_tree_active()
        gone = set(before) - set(child_ids)
        if gone:
            self._forget_subtrees(parent.id, gone)
        more = self.more_children(parent.id)
        if new or (more and not before):
            self._emit(ChildrenFound(parent.id, new, more=more))
        if parent.id in self._tree_active and set(child_ids) - parent.children_listed:
            self._start_listing(parent)

    def _forget_subtrees(self, parent_id: str, gone: set[str]) -> None:
        """Stop tracking subagents their parent no longer lists, and what hangs below them.

        Kept: watched sessions, and whatever an open tree still reaches another way.
        """
        todo = [c for c in gone if (t := self._tracked.get(c)) is not None and t.parent_id == parent_id]
        while todo:
            sid = todo.pop()
            t = self._tracked.get(sid)
            if t is None or t.watched or sid in self._tree_active:
                continue
            todo.extend(c for c in self.children_of(sid)
                        if (k := self._tracked.get(c)) is not None and k.parent_id == sid)
            if t.task:
                t.task.cancel()
            listing = self._child_listings.pop(sid, None)
            if listing is not None:
                listing.cancel()
            del self._tracked[sid]
            self._failing.discard(sid)
            self._long_polling.discard(sid)
            self._focus.discard(sid)

    def _start_listing(self, parent: Tracked) -> None:
        """List `parent`'s children for their labels, once at a time per parent."""
        running = self._child_listings.get(parent.id)
        if running is not None and not running.done():
            return
        task = self._spawn(self._list_children(parent))
        self._child_listings[parent.id] = task
        task.add_done_callback(
            lambda done: self._child_listings.pop(parent.id, None)
            if self._child_listings.get(parent.id) is done else None)

    async def _list_children(self, parent: Tracked) -> None:
        """Agent names for children come from the list endpoint, one call per page.

        A server's `total` is not trusted: a page with nothing new ends the listing, and so
        does the client's page cap (`max_pages`). Only children the parent names (up to
        `max_children`) are tracked from it; closing the tree cancels the listing.
        """
        wanted = frozenset(self.children_of(parent.id))
        if not wanted or wanted <= parent.children_listed:
            return
        parent.children_listed = wanted
        items: list[SessionSummary] = []
        seen: set[str] = set()
        page_no = 0
        try:
            while page_no < self._client.max_pages:
                page_no += 1
                async with self._budget.slot(prio.FOCUS):
                    self.requests["children"] += 1
                    page = await self._client.list_sessions(
                        parent_session_id=parent.id, size=100, page=page_no
                    )
                fresh = [i for i in page.items if i.id not in seen]
                seen.update(i.id for i in fresh)
                items.extend(i for i in fresh if i.id in wanted)
                if not fresh or not page.has_more or wanted <= seen:
                    break
        except AgpError as exc:
            parent.children_listed = frozenset()  # try again on the next change
            log.debug("listing children of %s failed: %s", parent.id, exc)
            return
        for summary in items:
            child = self._track(summary.id, watched=False, parent=parent.id)
            child.apply_info(summary)
            self._emit(InfoLoaded(child.id))

    def _on_poll_error(self, t: Tracked, exc: AgpError) -> None:
        if isinstance(exc, AuthError) and exc.status == 401:
            self._enter_auth_error(exc)
            t.urgent = True  # poll again as soon as the key works
            t.wake.set()
            return
        kind = type(exc).__name__
        if isinstance(exc, NotFound):
            t.not_found = True
        else:
            t.failures += 1
            t.retry_after = exc.retry_after if isinstance(exc, RateLimited | ServerError) else None
            if t.id not in self._failing:
                self._failing.add(t.id)
                self._housekeeping_due.set()  # stale checks run while anything fails
        self._note_failure(exc)
        changed = (t.error_kind, t.error_message) != (kind, exc.message)
        t.error_kind, t.error_message = kind, exc.message
        if changed:
            self._emit(SessionError(t.id, kind, exc.message))

    # -- connection state -------------------------------------------------------------

    def _set_connection(self, state: Connection, detail: str | None = None) -> None:
        if (state, detail) != (self.connection, self.connection_detail):
            self.connection, self.connection_detail = state, detail
            self._emit(ConnectionChanged(state, detail))

    def _note_success(self, now: float) -> None:
        self._last_success = now
        self._last_success_loop = asyncio.get_running_loop().time()
        self._transport_failures = 0
        self._failing_since = None
        if self.connection is not Connection.LIVE and self._auth_ok.is_set():
            outage = self.connection in (Connection.OFFLINE, Connection.STALE)
            self._set_connection(Connection.LIVE)
            if outage and self._failing:
                # The server is back: sessions still backing off from the outage (up to a
                # minute) poll now instead, paced by the request budget like any other poll.
                self.refresh(list(self._failing))

    def _note_failure(self, exc: AgpError) -> None:
        if isinstance(exc, NotFound):
            return  # the server answered: the link is fine
        if self._failing_since is None:
            self._failing_since = self._wall()
        if isinstance(exc, Unreachable):
            self._transport_failures += 1
            if self._transport_failures >= self.settings.offline_after:
                self._set_connection(Connection.OFFLINE, exc.message)

    def _enter_auth_error(self, exc: AgpError) -> None:
        if self._auth_ok.is_set():
            self._auth_ok.clear()
            self._set_connection(Connection.AUTH_ERROR, exc.message)
            self._auth_probe = asyncio.create_task(self._probe_auth())

    async def _probe_auth(self, delay: float | None = None) -> None:
        """While the key is refused, one request at a time checks whether it works again."""
        wait = self.settings.auth_probe_interval if delay is None else delay
        while not self._auth_ok.is_set():
            await asyncio.sleep(wait)
            wait = self.settings.auth_probe_interval
            try:
                async with self._budget.slot(prio.URGENT):
                    self.requests["auth-probe"] += 1
                    self.quota = await self._client.get_quota()
            except AuthError:
                continue
            except AgpError:
                continue
            self._auth_ok.set()
            self._set_connection(Connection.LIVE)
            self._emit(QuotaUpdated())

    # -- background services ----------------------------------------------------------

    async def _housekeeping(self) -> None:
        """Quota, watchlist sync and stale checks, waking only when one of them is due:
        an idle engine (everything finished) costs no CPU, which matters on shared boxes."""
        s = self.settings
        next_quota = next_sync = next_fresh = 0.0
        loop = asyncio.get_running_loop()
        while True:
            now_loop = loop.time()
            if now_loop >= next_quota and self._auth_ok.is_set():
                next_quota = now_loop + s.quota_interval
                self._spawn(self._refresh_quota())
            if self._watchlist is not None and now_loop >= next_sync:
                next_sync = now_loop + s.watchlist_sync_interval
                self._sync_watchlist()
            troubled = bool(self._failing) or self._failing_since is not None
            polling = False
            if troubled or now_loop >= next_fresh:
                next_fresh = now_loop + s.stale_check_interval
                polling = self._check_stale()
            wake_at = next_quota if self._auth_ok.is_set() else now_loop + s.quota_interval
            if self._watchlist is not None:
                wake_at = min(wake_at, next_sync)
            if troubled:
                wake_at = min(wake_at, now_loop + s.housekeeping_interval)
            elif polling:  # nothing polls (all settled): no freshness to watch, no wake-ups
                wake_at = min(wake_at, next_fresh)
            self._housekeeping_due.clear()
            handle = loop.call_later(max(wake_at - loop.time(), 0.0), self._housekeeping_due.set)
            await self._housekeeping_due.wait()  # or sooner: a poll started failing
            handle.cancel()

    async def _refresh_quota(self) -> None:
        try:
            async with self._budget.slot(prio.BACKGROUND):
                self.requests["quota"] += 1
                quota = await self._client.get_quota()
        except AgpError as exc:
            if isinstance(exc, AuthError) and exc.status == 401:
                self._enter_auth_error(exc)
            return
        self._note_success(self._wall())
        if quota != self.quota:
            self.quota = quota
            self._emit(QuotaUpdated())

    def _check_stale(self) -> bool:
        """Mark sessions whose data is older than their polling allows; True if any polls.

        A failing session is stale `stale_after` seconds after its last good answer; one
        whose polls succeed is stale once its last good answer is `overdue_factor` of its
        own intervals old (never sooner than `stale_after`). Settled sessions are final
        data, never stale. The header counts the stale watched rows (`stale_count`).
        """
        now = self._wall()
        s = self.settings
        loop_now = asyncio.get_running_loop().time()
        polling = False
        for t in self._tracked.values():
            if not t.polling or not self._is_active(t):
                continue  # cheapest tests first: this runs over every session
            polling = True
            if t.stale or t.not_found:
                continue
            since = t.last_ok_at if t.last_ok_at is not None else t.added_at
            if not since:
                continue
            allowed = s.stale_after
            if not t.failures:
                allowed = max(allowed, s.overdue_factor * self._expected(t, loop_now))
            if now - since >= allowed:
                t.stale = True
                self._emit(Stale(t.id, now - since))
        self.stale_count = sum(1 for t in self._tracked.values() if t.stale and t.watched)
        since_ok = self._last_success if self._last_success is not None else self._failing_since
        if (
            self._auth_ok.is_set() and self._failing_since is not None and since_ok is not None
            and self.connection is not Connection.OFFLINE and now - since_ok >= s.stale_after
        ):
            self._set_connection(Connection.STALE, f"no good answer for {now - since_ok:.0f}s")
        return polling

    def _sync_watchlist(self) -> None:
        """Another instance edited the watchlist file: follow its additions, removals, labels
        and pins. The poll is one `stat` of the file; it is read only when that changed."""
        assert self._watchlist is not None
        try:
            changed = self._watchlist.reload_if_changed()
        except Exception as exc:  # a bad file on disk must not stop the polling
            log.warning("watchlist reload failed: %s", exc)
            return
        if not changed:
            return
        entries = self._watchlist.entries()
        position = {e.id: i for i, e in enumerate(entries)}
        watched = set(self._order)
        added = [e.id for e in entries if e.id not in watched]
        removed = [sid for sid in self._order if sid not in position]
        relabelled: list[str] = []
        for sid in removed:
            self._untrack(sid)
        for entry in entries:
            t = self._tracked.get(entry.id)
            if t is None or entry.id not in watched:
                t = self._track(entry.id, watched=True)
                t.added_at = entry.added_at or self._wall()
                self._ensure_task(t)
            elif (t.label, t.pinned) != (entry.label, entry.pinned):
                relabelled.append(entry.id)
            t.label, t.pinned = entry.label, entry.pinned
        self._order.sort(key=position.__getitem__)
        if added or removed or relabelled:
            self._emit(WatchlistChanged(tuple(added), tuple(removed), tuple(relabelled)))

    async def _sweep_loop(self) -> None:
        s = self.settings
        while s.sweep:
            if not self._sweep_active and self._sweep_idle:
                # Nothing to sweep for: sleep until a session turns non-terminal.
                await self._sweep_wanted.wait()
                self._sweep_wanted.clear()
            await asyncio.sleep(self._sweep_every * (0.9 + 0.2 * self._rng.random()))
            if self._sweep_backoff:
                self._sweep_backoff -= 1
                self._sweep_active = False
                continue
            if self._auth_ok.is_set():
                try:
                    await self._sweep_once()
                except Exception:  # never let one bad sweep end them all: polls cover for it
                    log.exception("list sweep failed unexpectedly")
                    self._sweep_active = False

    async def _sweep_window(self, oldest: datetime, newest: datetime, count: int) -> dict[str, str] | None:
        """(id, status) of every non-terminal session created in [oldest, newest]; None when
        that takes more pages than polling its `count` candidates would cost requests."""
        max_pages = max(1, count // 4)
        seen: dict[str, str] = {}
        pages = 0
        after = oldest - timedelta(milliseconds=1)
        while True:
            async with self._budget.slot(prio.URGENT):
                self.requests["sweep"] += 1
                page = await self._client.list_session_states(
                    status=NON_TERMINAL, created_after=after,
                    created_before=newest + timedelta(milliseconds=1), sort="created_at", size=100,
                )
            pages += 1
            fresh = [(sid, st) for sid, st, _ in page.items if sid not in seen]
            seen.update(fresh)
            if not page.has_more or not fresh:
                return seen
            if pages >= max_pages:
                return None
            # Keyset paging: the next page starts after the last creation time seen, so
            # sessions finishing meanwhile cannot shift others past a page boundary (with
            # page numbers they would, and look finished). The millisecond of overlap
            # re-reads ties at the boundary instead of skipping them.
            last = parse_time(page.items[-1][2])
            if last is None:
                return seen
            after = last - timedelta(milliseconds=1)

    async def _sweep_once(self) -> None:
        cands = [
            t for t in self._tracked.values()
            if self._is_active(t) and t.sweepable and t.created_at is not None
            and t.status is not None and not t.status.terminal and not t.not_found
        ]
        # A sweep stands in for the candidates' own polls, so it need not come more often
        # than the quickest of them would: every 3 s while one has run under ten minutes,
        # more slowly once all are long runs or waiting on someone.
        loop_now = asyncio.get_running_loop().time()
        quickest = min(
            (self.settings.cadence.base_interval(
                t.status.status if t.status else None,
                loop_now - t.running_since if t.running_since is not None else 0.0)
             for t in cands),
            default=self.settings.sweep_interval,
        )
        self._sweep_every = max(self.settings.sweep_interval, quickest)
        self._sweep_idle = not cands
        if len(cands) < self.settings.sweep_min_sessions:
            self._sweep_active = False
            return
        # Candidates in creation order, in chunks that each fit a page or two: the chunks'
        # windows are swept concurrently, so a sweep of a thousand sessions takes about one
        # round trip, not ten in a row (detection latency), and each window holds few of
        # the org's other sessions.
        ordered = sorted(cands, key=lambda t: t.created_at or _EPOCH)
        chunks = [ordered[i:i + SWEEP_CHUNK] for i in range(0, len(ordered), SWEEP_CHUNK)]
        results = await asyncio.gather(
            *(self._sweep_window(c[0].created_at or _EPOCH, c[-1].created_at or _EPOCH, len(c))
              for c in chunks),
            return_exceptions=True,
        )
        seen: dict[str, str] = {}
        for result in results:
            if isinstance(result, AgpError):
                self._sweep_active = False
                if isinstance(result, AuthError) and result.status == 401:
                    self._enter_auth_error(result)
                return
            if isinstance(result, BaseException):
                raise result
            if result is None:  # the org is too busy for sweeps to pay off
                self._sweep_active = False
                self._sweep_backoff = 10
                return
            seen.update(result)
        self._note_success(self._wall())
        self._sweep_active = True
        for t in cands:
            listed = seen.get(t.id)
            assert t.status is not None
            if listed is None:
                # Gone from the non-terminal list: most likely it just finished.
                t.sweep_missed += 1
                if t.sweep_missed >= 3:
                    t.sweepable = False  # listed for someone else, say; own cadence from now on
                self._hurry(t)
            else:
                t.sweep_missed = 0
                if listed == t.status.status:
                    continue
                if t.id in self._focus or t.id in self._tree_active:
                    self._hurry(t)  # on screen: fetch the fresh numbers now
                else:
                    # Off screen the listed status is news enough; counters follow on the
                    # next background poll (history is not touched, so no false flat spot).
                    self._set_status(t, replace(t.status, status=listed), self._wall())
