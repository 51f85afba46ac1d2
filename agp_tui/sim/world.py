"""World: every simulated session, the virtual clock, arrivals, quota, and queries.

The world is deterministic from its seed: each session draws from its own
`random.Random` (seeded from the world seed, or from its parent's stream), and state is
a pure function of the script applied up to `clock.now()`. With a `ManualClock`, the
same seed and the same sequence of actions give byte-identical answers.

Threading: a World belongs to the event loop that serves it. Other threads must go
through `SimHandle.call` (see server.py).
"""

from __future__ import annotations

import bisect
import gc
import heapq
import itertools
import math
import operator
import random
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from agp_tui.sim import catalog, plans
from agp_tui.sim.batches import Batch
from agp_tui.sim.catalog import TERMINAL, AgentSpec
from agp_tui.sim.clock import Clock, ManualClock, RealClock
from agp_tui.sim.script import MAX_DEPTH, Profile
from agp_tui.sim.session import SimSession
from agp_tui.sim.ticks import ChildSpec, Tick

if TYPE_CHECKING:  # asyncio loads when a server first waits on the world, not on import
    import asyncio

HISTORY_S = 6 * 3600.0  # initial sessions were created over the last six hours


class QuotaExceeded(Exception):
    def __init__(self, active: int, limit: int) -> None:
        super().__init__(f"Concurrent trajectory limit reached ({active}/{limit})")
        self.active, self.limit = active, limit


@dataclass(frozen=True, slots=True)
class ListQuery:
    statuses: frozenset[str] = frozenset()
    agents: frozenset[str] = frozenset()
    group_id: str | None = None
    parent_session_id: str | None = None
    schedule_id: str | None = None
    search: str | None = None
    created_after: float | None = None  # epochs; bounds are strict, as documented
    created_before: float | None = None
    finished_after: float | None = None
    finished_before: float | None = None
    newest_first: bool = True
    page: int = 1
    size: int = 10


def make_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def user_message(text: str) -> dict[str, Any]:
    return {"type": "user_message", "message": text, "images": [], "caller_id": "user"}


class World:
    """A simulated AGP organisation.

    seed: everything random derives from it. sessions: top-level sessions alive or past at
    start (their subagents come on top). speed: world seconds per real second, for the
    default `RealClock`. clock: pass a `ManualClock` to drive time by hand (`advance`).
    start_epoch: wall-clock epoch of world time 0 (default: now), only used to render
    timestamps. quota_limit: concurrent-session limit for `/sessions/quota` and creation.
    arrival_interval_s: mean world seconds between new top-level sessions (0 = none).
    batches: batch jobs (`agp_tui.sim.batches.Batch`): each a group of top-level sessions
    submitted at a steady rate from its start time; those due later arrive as the clock
    reaches them. Batch sessions are scripted like the rest and do not wait for the quota,
    so give a `quota_limit` that holds them if `/sessions/quota` should look sane.

    Start-up costs one script per session (drawn from its seed) and no events: a session's
    events, steps and usage are written when first read (see session.py), so a world of
    10,000 top-level sessions (~24,000 with subagents) starts in a few seconds. A process
    that keeps one big world for its life may `gc.freeze()` once it is built (the CLI does):
    a full collection otherwise rescans every scripted tick, ~0.5 s at that size.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        sessions: int = 200,
        speed: float = 1.0,
        clock: Clock | None = None,
        start_epoch: float | None = None,
        quota_limit: int = 500,
        arrival_interval_s: float = 20.0,
        batches: Iterable[Batch] = (),
    ) -> None:
        self.seed = seed
        self.clock: Clock = RealClock(speed) if clock is None else clock
        self.epoch = float(int(time.time())) if start_epoch is None else start_epoch
        self.quota_limit = quota_limit
        self.arrival_interval_s = arrival_interval_s
        self._by_id: dict[str, SimSession] = {}
        self._ordered: list[SimSession] = []  # ascending (created_at, seq)
        # The same order per group: `?group_id=` pages of a 10,000-session world read only
        # the group, not every session (list throughput is what a big follow costs here).
        self._by_group: dict[str, list[SimSession]] = {}
        # And by status (kept by SimSession.on_status): `?status=running` among 10,000
        # mostly finished sessions reads the few hundred running ones.
        self._by_status: dict[str, list[SimSession]] = {}
        self._indexed = False  # while the world is built, indexes are sorted once at the end
        self._by_agent: dict[str, list[SimSession]] = {}
        # The timeline: (time, seq, session) of each session's next tick, so moving the clock
        # costs the sessions that have something due, not every session (a manual clock at
        # 10,000 sessions advances a second at a time). Stale entries (time != s.wake) are
        # skipped when they come up.
        self._timeline: list[tuple[float, int, SimSession]] = []
        # Finished sessions by finish time, for `finished_after=` (a follower's poll).
        self._by_finished: list[SimSession] = []
        self._queue: list[SimSession] = []  # created at the quota limit with queue=true
        self._queue_checked = 0.0  # frees before this were already handed to queued sessions
        self._seq = 0
        self._api_count = 0
        self._arrivals = random.Random(f"{seed}:arrivals")
        self._next_arrival = self._arrival_gap()
        self._changed: asyncio.Event | None = None
        self.batches = tuple(batches)
        # (time, order, batch, session seed) of batch submissions still to come.
        self._submissions: list[tuple[float, int, Batch, int]] = []
        for b in self.batches:
            order = len(self._submissions)
            self._submissions += [(t, order + i, b, seed) for i, (t, seed) in enumerate(b.submissions(seed))]
        heapq.heapify(self._submissions)
        # Building is allocation-heavy and makes no cycles: the cyclic GC would rescan the
        # young world ~40% of the time for nothing, so it waits until the world is built.
        paused_gc = gc.isenabled()
        gc.disable()
        try:
            self._populate(sessions)
            self.sync()
            self._build_indexes()
        finally:
            if paused_gc:
                gc.enable()
        self.initial_live_ids: tuple[str, ...] = tuple(
            s.id for s in reversed(self._ordered) if s.parent_id is None and not s.terminal
        )

    # -- construction -------------------------------------------------------------------------
    def _build_indexes(self) -> None:
        """Sort once what `_register` only appended while the world was built; from here on
        every index is kept in order as sessions come and change status."""
        self._ordered.sort(key=_order)
        self._by_group.clear()
        self._by_agent.clear()
        for s in self._ordered:
            if s.group_id is not None:
                self._by_group.setdefault(s.group_id, []).append(s)
            if s.agent is not None:
                self._by_agent.setdefault(s.agent, []).append(s)
            self._by_status.setdefault(s.status, []).append(s)
        self._by_finished = sorted((s for s in self._ordered if s.finished_at is not None), key=_finish_order)
        self._indexed = True

    def _populate(self, n: int) -> None:
        master = random.Random(self.seed)
        # A slice of sessions started in the last few minutes, so a fresh world (the demo)
        # opens with live work on screen; the rest is history spread over six hours.
        recent = min(max(n // 6, 4), 60) if n else 0
        starts = [-master.uniform(3, 150) for _ in range(recent)]
        starts += [-master.uniform(150, HISTORY_S) for _ in range(n - recent)]
        seeds = [master.getrandbits(64) for _ in range(n)]
        managers = [a for a in catalog.TOP_LEVEL_AGENTS if a.role == "manager"]
        # The two newest are managers, so a fresh demo always has a tree to drill into.
        order = sorted(range(n), key=lambda i: starts[i])
        forced = {i: managers[k % len(managers)] for k, i in enumerate(order[::-1][:2])}
        for i in order:
            self._new_top_level(round(starts[i], 3), random.Random(seeds[i]), forced.get(i))

    def _arrival_gap(self) -> float:
        if self.arrival_interval_s <= 0:
            return math.inf
        return round(self._arrivals.expovariate(1 / self.arrival_interval_s), 3)

    def _new_top_level(self, t: float, rng: random.Random, agent: AgentSpec | None) -> None:
        profile = plans.top_level_profile(rng, agent)
        if rng.random() < 0.3:
            profile = replace(profile, max_steps=rng.choice((40, 60, 100)))
        group = rng.choice(catalog.GROUPS) if rng.random() < 0.12 else None
        request: dict[str, Any] = {
            "agent": profile.agent.name,
            "messages": [user_message(rng.choice(catalog.TASKS))],
            "max_steps": profile.max_steps,
            "max_time_s": None,
            "idle_timeout_s": profile.idle_timeout_s,
            "group_id": group,
            "parent_session_id": None,
            "overrides": {},
        }
        status, script = plans.first_run(rng, profile, t, may_queue=True)
        self._register(make_id(rng), t, profile, rng, request, status, script)

    def _new_batch_session(self, t: float, rng: random.Random, batch: Batch) -> None:
        agent = None
        if batch.agent is not None:
            agent = catalog.KNOWN_AGENTS.get(batch.agent) or _inline_agent(batch.agent, manager=False)
        profile = replace(
            plans.top_level_profile(rng, agent),
            idle_timeout_s=None,  # a batch job answers once: nobody is there to chat
            median_steps=batch.steps,
            episodes=False,  # nor to pause it or answer client tools
        )
        request: dict[str, Any] = {
            "agent": profile.agent.name,
            "messages": [user_message(rng.choice(catalog.TASKS))],
            "max_steps": None,
            "max_time_s": None,
            "idle_timeout_s": None,
            "group_id": batch.group_id,
            "parent_session_id": None,
            "overrides": {},
        }
        status, script = plans.first_run(rng, profile, t, may_queue=True)
        self._register(make_id(rng), t, profile, rng, request, status, script)

    def spawn(self, parent: SimSession, spec: ChildSpec, t: float) -> str:
        """Called by a parent's Spawn tick: the child scripts itself from the spec's seed."""
        rng = random.Random(spec.seed)
        profile = plans.child_profile(rng, spec)
        request: dict[str, Any] = {
            "agent": spec.agent,
            "messages": [user_message(spec.task)],
            "max_steps": None,
            "max_time_s": None,
            "idle_timeout_s": None,
            "group_id": parent.group_id,
            "parent_session_id": parent.id,
            "overrides": {},
        }
        sid = make_id(rng)
        status, script = plans.first_run(rng, profile, t, may_queue=False)
        self._register(sid, t, profile, rng, request, status, script)
        return sid

    def _register(
        self,
        sid: str,
        t: float,
        profile: Profile,
        rng: random.Random,
        request: dict[str, Any],
        status: str,
        script: list[Tick],
    ) -> SimSession:
        s = SimSession(
            id=sid,
            seq=self._seq,
            created_at=t,
            profile=profile,
            rng=rng,
            request=request,
            status=status,
            script=script,
        )
        self._seq += 1
        self._by_id[s.id] = s
        if not self._indexed:
            self._ordered.append(s)  # sorted with the other indexes once the world is built
        else:
            bisect.insort(self._ordered, s, key=_order)
            if s.group_id is not None:
                bisect.insort(self._by_group.setdefault(s.group_id, []), s, key=_order)
            if s.agent is not None:
                bisect.insort(self._by_agent.setdefault(s.agent, []), s, key=_order)
            bisect.insort(self._by_status.setdefault(s.status, []), s, key=_order)
        s.on_status = self._status_moved
        self._schedule(s)
        return s

    def _schedule(self, s: SimSession) -> None:
        t = s.next_t()
        if t < s.wake:
            s.wake = t
            heapq.heappush(self._timeline, (t, s.seq, s))

    # -- time ---------------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        """Move a manual clock forward and wake long-pollers (tests drive time with this)."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs a World built with clock=ManualClock()")
        self.clock.advance(seconds)
        self.notify()

    def sync(self) -> float:
        """Bring every session (and arrivals, and the queue) up to now. Returns now."""
        now = self.now()
        while self._next_arrival <= now:
            t = self._next_arrival
            self._new_top_level(t, random.Random(self._arrivals.getrandbits(64)), None)
            self._next_arrival = round(t + self._arrival_gap(), 3)
        submissions = self._submissions
        while submissions and submissions[0][0] <= now:
            t, _, batch, seed = heapq.heappop(submissions)
            self._new_batch_session(t, random.Random(seed), batch)
        timeline = self._timeline
        while timeline and timeline[0][0] <= now:
            due: list[SimSession] = []
            while timeline and timeline[0][0] <= now:
                t, _, s = heapq.heappop(timeline)
                if s.wake == t:
                    s.wake = math.inf
                    due.append(s)
            # In creation order, and spawns made here are due too: the next pass picks
            # them up (the order in which sessions are created decides their seq).
            due.sort(key=_seq)
            for s in due:
                s.catch_up(now, self.spawn)
                self._schedule(s)
        self._dequeue(now)
        return now

    def _dequeue(self, now: float) -> None:
        """Queued sessions start oldest-first as slots free.

        A slot is freed when a session finishes, so a queued session starts at that finish
        time, not whenever someone happened to look: the answer stays independent of reads.
        """
        if self._queue:
            done = self._by_finished  # by finish time: the frees since the last look
            lo = bisect.bisect_right(done, self._queue_checked, key=_finished)
            hi = bisect.bisect_right(done, now, key=_finished)
            freed = [_finished(s) for s in done[lo:hi]]
            for i in range(min(len(self._queue), self.quota_limit - self.active_count())):
                s = self._queue.pop(0)
                start = max(s.created_at, freed[i]) if i < len(freed) else now
                _, script = plans.first_run(s.rng, s.profile, start, may_queue=False)
                s.status = "pending"  # holds its slot from now; dispatch follows in the script
                s.replace_future(script)
                s.advance(now, self.spawn)
                self.edited(s)
        self._queue_checked = now

    def get(self, sid: str) -> SimSession | None:
        """One session, brought up to now: the cheap path behind `/status`."""
        s = self._by_id.get(sid)
        if s is None:
            return None
        if self._queue:
            self.sync()  # a freed slot elsewhere may start a queued session
        else:
            s.advance(self.now(), self.spawn)
        return s

    def edited(self, s: SimSession) -> None:
        """Record a steering edit: reschedule the session and wake long-pollers."""
        s.touch()
        s.wake = math.inf  # its future changed: the timeline entry it had is stale
        self._schedule(s)
        if s in self._queue and s.status != "queued":
            self._queue.remove(s)
        self.notify()

    def notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def changed(self) -> asyncio.Event:
        """An event set on the next steering action or manual clock move."""
        if self._changed is None:
            import asyncio

            self._changed = asyncio.Event()
        return self._changed

    def real_delay_until(self, t: float) -> float:
        return self.clock.real_delay(t - self.now())

    # -- queries ------------------------------------------------------------------------------
    def active_count(self) -> int:
        """Sessions holding a concurrency slot: non-terminal and not waiting in the queue.

        (Whether queued sessions count is undocumented; they wait "unprovisioned", so no.)
        """
        if not self._indexed:
            return sum(1 for s in self._by_id.values() if s.status != "queued" and not s.terminal)
        # Every status but queued and the terminal ones, an unknown one included (as above).
        return sum(len(v) for status, v in self._by_status.items()
                   if status != "queued" and status not in TERMINAL)

    def query(self, q: ListQuery) -> tuple[list[SimSession], int]:
        self.sync()
        pool, exact = self._pool(q)
        if q.search or q.schedule_id is not None:
            exact = False
        start = (q.page - 1) * q.size
        if not exact:
            needle = q.search.lower() if q.search else None
            source = reversed(pool) if q.newest_first else iter(pool)
            hits = [s for s in source if _matches(s, q, needle, self.epoch)]
            return hits[start : start + q.size], len(hits)
        # Nothing to test per session: the page is a slice of the indexed pool.
        total = len(pool)
        if q.newest_first:
            stop = max(total - start, 0)
            return pool[max(stop - q.size, 0) : stop][::-1], total
        return pool[start : start + q.size], total

    def _pool(self, q: ListQuery) -> tuple[list[SimSession], bool]:
        """The smallest indexed set that holds every hit, ascending (created_at, seq), and
        whether it holds nothing else as far as parent, group, agent, status, the created
        and the finished range go (one of them at most besides the created range: else the
        rest must be tested)."""
        options: list[list[SimSession]] = []
        if q.parent_session_id is not None:
            parent = self._by_id.get(q.parent_session_id)
            options.append(sorted((self._by_id[c] for c in parent.children), key=_order)
                           if parent is not None else [])
        if q.group_id is not None:
            options.append(self._by_group.get(q.group_id, []))
        if q.agents:
            options.append(_union(self._by_agent, q.agents))
        if q.statuses:
            options.append(_union(self._by_status, q.statuses))
        terms = len(options)
        if q.finished_after is not None or q.finished_before is not None:
            # The finished index is in finish order: its slice must be re-sorted, so it is
            # used only when it is the smallest (`finished_after=` a few seconds ago is).
            terms += 1
            done, span = self._finished_between(q.finished_after, q.finished_before)
            if len(span) <= min(map(len, options), default=len(self._ordered)):
                # Two stable sorts on one attribute each: ~5x quicker than one on a tuple.
                options.append(sorted(sorted(done[span.start : span.stop], key=_seq), key=_created))
        pool = min(options, key=len) if options else self._ordered
        # created_after / created_before are strict bounds on the epoch time.
        lo, hi = 0, len(pool)
        epoch = self.epoch  # the same sum _matches compares, so the bounds agree to the bit

        def created(x: SimSession) -> float:
            return epoch + x.created_at

        if q.created_after is not None:
            lo = bisect.bisect_right(pool, q.created_after, key=created)
        if q.created_before is not None:
            hi = bisect.bisect_left(pool, q.created_before, key=created)
        return (pool[lo:hi] if (lo, hi) != (0, len(pool)) else pool), terms <= 1

    def _finished_between(self, after: float | None, before: float | None) -> tuple[list[SimSession], range]:
        """The finished index and the positions of sessions finished strictly between two
        epochs (either open)."""
        done = self._by_finished
        epoch = self.epoch  # the same sum _matches compares

        def finished(x: SimSession) -> float:
            return epoch + _finished(x)

        lo = 0 if after is None else bisect.bisect_right(done, after, key=finished)
        hi = len(done) if before is None else bisect.bisect_left(done, before, key=finished)
        return done, range(lo, max(lo, hi))

    def _status_moved(self, s: SimSession, old: str) -> None:
        if not self._indexed:
            return
        was = self._by_status[old]
        del was[bisect.bisect_left(was, _order(s), key=_order)]  # (created_at, seq) is unique
        bisect.insort(self._by_status.setdefault(s.status, []), s, key=_order)
        # Finishing sets finished_at before the status; a restart clears it after.
        done = self._by_finished
        if old in TERMINAL:
            del done[bisect.bisect_left(done, _finish_order(s), key=_finish_order)]
        if s.status in TERMINAL and s.finished_at is not None:
            bisect.insort(done, s, key=_finish_order)

    def __len__(self) -> int:
        return len(self._by_id)

    def all_sessions(self) -> list[SimSession]:
        return list(self._ordered)

    def demo_session_ids(self, limit: int = 12) -> list[str]:
        """Top-level sessions alive when the world started: what `--demo` watches. Managers
        that already have subagents come first, so `enter` on the first row shows a tree;
        the rest newest first."""
        live = list(self.initial_live_ids[:limit])
        live.sort(key=lambda sid: not self._by_id[sid].children)  # stable: newest first within
        return live

    # -- creation (POST /sessions) ------------------------------------------------------------
    def create(self, request: dict[str, Any], *, queue: bool) -> SimSession:
        now = self.sync()
        active = self.active_count()
        if active >= self.quota_limit and not queue:
            raise QuotaExceeded(active, self.quota_limit)
        rng = random.Random(f"{self.seed}:api:{self._api_count}")
        self._api_count += 1
        parent = self._by_id.get(request.get("parent_session_id") or "")
        depth = parent.profile.depth + 1 if parent else 0
        agent = request["agent"]
        spec = catalog.KNOWN_AGENTS.get(agent) if isinstance(agent, str) else None
        if spec is None:
            name = agent if isinstance(agent, str) else str(agent.get("name") or "inline-agent")
            spec = _inline_agent(name, manager=isinstance(agent, dict) and bool(agent.get("subagents")))
        profile = Profile(
            agent=spec,
            depth=min(depth, MAX_DEPTH),
            step_s=rng.uniform(2.5, 8.0),
            idle_timeout_s=request.get("idle_timeout_s"),
            max_steps=request.get("max_steps"),
            max_time_s=request.get("max_time_s"),
            episodes=False,  # a caller's own session only pauses when the caller says so
        )
        script: list[Tick]
        if active >= self.quota_limit:
            status, script = "queued", []
        else:
            status, script = plans.first_run(rng, profile, now, may_queue=False)
        s = self._register(make_id(rng), now, profile, rng, request, status, script)
        if status == "queued":
            self._queue.append(s)
        if parent is not None:
            parent.children.append(s.id)
            parent.touch()
        self.notify()
        return s


def _inline_agent(name: str, *, manager: bool) -> AgentSpec:
    """An agent the catalog does not know (an org's own, or an inline spec)."""
    return AgentSpec(name, "manager" if manager else "worker", ("holo3-122b-a10b", "holo3-1-35b-a3b"), 0)


_order: Callable[[SimSession], tuple[float, int]] = operator.attrgetter("created_at", "seq")
_finish_order: Callable[[SimSession], tuple[float, int]] = operator.attrgetter("finished_at", "seq")
def _finished(s: SimSession) -> float:
    return s.finished_at if s.finished_at is not None else math.inf  # indexed ones are set


_seq: Callable[[SimSession], int] = operator.attrgetter("seq")
_created: Callable[[SimSession], float] = operator.attrgetter("created_at")


def _union(index: dict[str, list[SimSession]], keys: frozenset[str]) -> list[SimSession]:
    """The sessions under any of `keys`, ascending (created_at, seq)."""
    lists = [index.get(k, []) for k in keys]
    # Timsort merges the sorted runs in C: far quicker than heapq.merge's Python loop.
    return lists[0] if len(lists) == 1 else sorted(itertools.chain(*lists), key=_order)


def _matches(s: SimSession, q: ListQuery, needle: str | None, epoch: float) -> bool:
    if q.statuses and s.status not in q.statuses:
        return False
    if q.agents and s.agent not in q.agents:
        return False
    if q.group_id is not None and s.group_id != q.group_id:
        return False
    if q.parent_session_id is not None and s.parent_id != q.parent_session_id:
        return False
    if q.schedule_id is not None:
        return False  # the simulator has no schedules, so nothing was created by one
    created = epoch + s.created_at
    if q.created_after is not None and not created > q.created_after:
        return False
    if q.created_before is not None and not created < q.created_before:
        return False
    if q.finished_after is not None or q.finished_before is not None:
        if s.finished_at is None:
            return False
        finished = epoch + s.finished_at
        if q.finished_after is not None and not finished > q.finished_after:
            return False
        if q.finished_before is not None and not finished < q.finished_before:
            return False
    return needle is None or s.matches(needle)
