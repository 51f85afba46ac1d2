"""The monitor engine: one poll task per session under a shared budget, plus list sweeps.

Shared by the dashboard and the headless commands. Subscribers are told what changed
through typed events and read state with `view()`, `history()` and `rollup()`.

A facade over parts with one idea each, linked through a `Core` (core.py): the records
(store.py), a pure scheduler (scheduler.py), per-session poll tasks (poller.py), `/changes`
long-polls (longpoll.py), the bootstrap and list sweeps (sweeper.py), the link's state
(link.py), subagent trees (trees.py), what an answer does to a record (answers.py), the
watched set and its file (watching.py), quota, watchlist sync and stale checks
(housekeeping.py), trajectory events (follower.py), followed queries (followed.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable

from agp_tui.api.client import AgpClient
from agp_tui.api.models import Quota
from agp_tui.api.query import SessionQuery
from agp_tui.monitor.answers import Answers
from agp_tui.monitor.budget import PurposeCounts
from agp_tui.monitor.clock import Clock, loop_clock
from agp_tui.monitor.core import Core, Listener
from agp_tui.monitor.events import Connection
from agp_tui.monitor.followed import Followed
from agp_tui.monitor.follower import Follower
from agp_tui.monitor.groups import GroupWatch
from agp_tui.monitor.history import TokenHistory
from agp_tui.monitor.housekeeping import Housekeeping
from agp_tui.monitor.link import Link
from agp_tui.monitor.longpoll import LongPoller
from agp_tui.monitor.poller import Poller
from agp_tui.monitor.settings import EngineSettings
from agp_tui.monitor.sweeper import Sweeper
from agp_tui.monitor.trajectory import EventBuffer
from agp_tui.monitor.trees import Trees
from agp_tui.monitor.view import Rollup, SessionView
from agp_tui.monitor.watching import Watching
from agp_tui.monitor.watchlist import Watchlist

__all__ = ["Engine", "EngineSettings", "Listener"]


class Engine:
    def __init__(
        self,
        client: AgpClient,
        watchlist: Watchlist | None = None,
        settings: EngineSettings | None = None,
        *,
        wall: Callable[[], float] = time.time,
        clock: Clock = loop_clock,
    ) -> None:
        """`wall`: epoch seconds for what is shown; `clock`: monotonic seconds for every
        schedule (the loop's time by default, so a fast-forwarding loop makes it virtual)."""
        self.settings = settings or EngineSettings()
        self._wall = wall
        self._requests: Counter[str] = Counter()  # by purpose, once count_requests() is on
        core = self._core = Core(client, self.settings, wall=wall, clock=clock)
        core.link = Link(core)
        core.answers = Answers(core)
        core.poller = Poller(core)
        core.long_poller = LongPoller(core)
        core.sweeper = Sweeper(core)
        core.trees = Trees(core)
        core.follower = Follower(client, core.budget, core.emit, core.spawn)
        self._watching = Watching(core, watchlist)
        self._housekeeping = Housekeeping(core, self._watching)
        self._followed = Followed(core, watchlist)

    # -- lifecycle --------------------------------------------------------------------

    async def start(self, ids: Iterable[str] = ()) -> None:
        """Begin polling the watchlist (if any) and `ids` (watched in memory only)."""
        core = self._core
        if core.started:
            return
        core.started = True
        self._watching.load(ids)
        if self.settings.sweep and len(core.store.tracked) >= self.settings.bootstrap_min_sessions:
            core.sweeper.bootstrapped.clear()
            core.sweeper.based.clear()
            core.spawn(core.sweeper.bootstrap())
        # First polls start in priority order: what is on screen is fetched first.
        for t in sorted(core.store.tracked.values(), key=core.sched.priority):
            core.poller.ensure_task(t)
        for coro in (self._housekeeping.run(), core.sweeper.run()):
            core.services.append(asyncio.create_task(coro))
        self._followed.start()

    async def stop(self) -> None:
        await self._core.cancel_all()
        self._followed.stopped()  # its tasks were services: cancelled above
        self._core.started = False

    async def aclose(self) -> None:
        """Stop polling and close the client (the app calls this on its way out)."""
        await self.stop()
        await self._core.client.aclose()

    @property
    def client(self) -> AgpClient:
        return self._core.client

    @property
    def started(self) -> bool:
        return self._core.started

    # -- subscriptions ----------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every event, on the engine's loop; returns an unsubscribe."""
        listeners = self._core.listeners
        listeners.append(listener)
        return lambda: listeners.remove(listener) if listener in listeners else None

    # -- reading ----------------------------------------------------------------------

    def watched_ids(self) -> list[str]:
        return list(self._core.store.order)

    def view(self, session_id: str) -> SessionView | None:
        return self._core.store.view(session_id, auth_error=self._core.link.auth_error)

    def history(self, session_id: str) -> TokenHistory | None:
        return self._core.store.history(session_id)

    def children_of(self, session_id: str) -> tuple[str, ...]:
        """The subagents tracked under a session: its first `max_children` (see more_children)."""
        return self._core.store.children_of(session_id)

    def more_children(self, session_id: str) -> int:
        """Subagents the server names beyond `max_children`: counted, never tracked."""
        return self._core.store.more_children(session_id)

    def rollup(self, root_id: str) -> Rollup:
        return self._core.store.rollup(root_id)

    def now(self) -> float:
        """The engine's wall clock (frozen in tests), for ages shown beside its data."""
        return self._wall()

    @property
    def connection(self) -> Connection:
        return self._core.link.connection

    @property
    def connection_detail(self) -> str | None:
        return self._core.link.detail

    @property
    def quota(self) -> Quota | None:
        return self._core.link.quota

    @property
    def stale_count(self) -> int:
        """Watched sessions marked stale (the header's "N STALE")."""
        return self._core.link.stale_count

    @property
    def follow_children(self) -> bool:
        return self._core.trees.follow_children

    # Figures for benchmarks and soak tests.
    def count_requests(self) -> Counter[str]:
        """From now on, count requests by purpose: a listener on the request budget, which
        only benchmarks and tests install. Returns the live counts (also `requests`)."""
        if self._core.budget.on_grant is None:
            self._core.budget.on_grant = self._requests = PurposeCounts()
        return self._requests

    @property
    def requests(self) -> Counter[str]:
        """Requests made, by purpose, since `count_requests()` (empty without it)."""
        return self._requests

    @property
    def requests_granted(self) -> int:
        return self._core.budget.granted

    @property
    def retries(self) -> int:
        """Polls of a session whose previous poll failed."""
        return self._core.retries

    # -- commands ---------------------------------------------------------------------

    def add(self, ids: Iterable[str], *, label: str | None = None) -> list[str]:
        """Watch these ids (persisted when there is a watchlist); returns the new ones."""
        return self._watching.add(ids, label=label)

    def remove(self, ids: Iterable[str]) -> list[str]:
        return self._watching.remove(ids)

    def refresh(self, ids: Iterable[str] | None = None) -> None:
        """Poll now (never twice at once: this only wakes each session's own task)."""
        self._core.poller.refresh(ids)

    def set_focus(self, visible: Iterable[str], selected: str | None = None) -> None:
        """What is on screen polls at full cadence and first; newly shown rows refresh."""
        self._core.poller.set_focus(visible, selected)

    def open_tree(self, root_id: str) -> None:
        """Discover and poll every descendant of `root_id` until `close_tree`."""
        self._core.trees.open(root_id)

    def close_tree(self, root_id: str) -> None:
        self._core.trees.close(root_id)

    def set_follow_children(self, on: bool) -> None:
        self._core.trees.set_follow_children(on)

    # -- followed queries (groups) ---------------------------------------------------------

    def follow_query(self, query: SessionQuery, *, persist: bool = False) -> GroupWatch:
        """Follow every session matching `query` as one live target (list pages, not one
        poll per session); the same query twice is one target. `persist`: followed again
        on the next start (kept in the watchlist file)."""
        return self._followed.follow(query, persist=persist)

    def unfollow_query(self, key: str) -> bool:
        return self._followed.unfollow(key)

    def groups(self) -> list[GroupWatch]:
        """The followed queries, in the order they were followed (read-only to callers)."""
        return list(self._followed.watches.values())

    def set_group_focus(self, key: str, ids: Iterable[str]) -> None:
        """Members on screen: their `/status` (steps, tokens) is read first."""
        self._followed.set_focus(key, ids)

    def follow_events(self, session_id: str) -> EventBuffer | None:
        """Keep `session_id`'s trajectory events while something shows them (counted: call
        `unfollow_events` once per call). None if the session is not tracked."""
        t = self._core.store.get(session_id)
        return self._core.long_poller.follow_events(t) if t is not None else None

    def unfollow_events(self, session_id: str) -> None:
        self._core.follower.unfollow(session_id)

    def trajectory(self, session_id: str) -> EventBuffer | None:
        """The followed session's recent events (None when not followed)."""
        return self._core.follower.buffer(session_id)

    async def load_older_events(self, session_id: str) -> int:
        """Fetch the page of events just before the oldest held; how many came."""
        t = self._core.store.get(session_id)
        return await self._core.follower.load_older(t) if t is not None else 0
