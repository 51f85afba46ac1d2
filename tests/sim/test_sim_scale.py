"""Big worlds (issue 17): fast start-up without playing the past, batch jobs arriving at a
steady rate, a clock whose moves cost the sessions that have something due, and every
`GET /sessions` filter at 10,000+ sessions equal to the plain filter over the world."""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sim_helpers import EPOCH, Sim, make_world
from test_sim_list_index import plain

from agp_tui.sim import ManualClock, SimServer, World, steering
from agp_tui.sim.batches import Batch, BatchSpecError, parse_batch, split
from agp_tui.sim.catalog import TERMINAL
from agp_tui.sim.cli import _parser, build_world
from agp_tui.sim.clock import iso, parse_iso
from agp_tui.sim.events import render
from agp_tui.sim.session import SimSession
from agp_tui.sim.ticks import Step
from agp_tui.sim.world import ListQuery


def detail(w: World) -> list[tuple[Any, ...]]:
    w.sync()
    out = []
    for s in w.all_sessions():
        w.get(s.id)
        out.append((s.id, s.status, s.status_log, s.steps, tuple(s.usage), s.children, s.answers,
                    s.status_json(), [render(e, w.epoch) for e in s.events]))
    return out


def test_start_writes_no_events() -> None:
    w = make_world(seed=1, sessions=1500)
    assert len(w) > 3000
    # Heads are current (lists need them), but no session's past was written out.
    assert all(len(s._events) == 1 and s._detailed == 0 for s in w.all_sessions())
    assert all(s.status_log[-1][1] == s.status for s in w.all_sessions())
    done = [s for s in w.all_sessions() if s.terminal]
    assert done and all(s.finished_at is not None for s in done)
    s = done[0]
    assert s.events[-1].type in {"AgentCompletionEvent", "AgentErrorEvent"}  # written on first read
    assert s.steps >= 0 and s._detailed == s.cursor


def test_detail_written_late_equals_detail_written_as_time_passes() -> None:
    batch = Batch("b", 300, start=-30, rate=5, agent=None, steps=20)
    eager, lazy = (make_world(seed=6, sessions=120, batches=[batch], arrival_interval_s=15) for _ in range(2))
    rng = random.Random(2)
    for _ in range(25):
        step = rng.uniform(1, 90)
        for w in (eager, lazy):
            w.advance(step)
        eager.sync()
        for s in eager.all_sessions():  # read everything every time: the old eager world
            eager.get(s.id)
            assert s.events
        lazy.sync()  # heads only
    assert detail(eager) == detail(lazy)


def test_steering_a_lazy_world_matches_an_eager_one() -> None:
    worlds = [make_world(seed=8, sessions=200), make_world(seed=8, sessions=200)]
    for n, w in enumerate(worlds):
        w.advance(60)
        if n == 0:
            detail(w)
        w.sync()
        live = [s for s in w.all_sessions() if s.parent_id is None and s.status == "running"]
        steering.pause(w, live[0])
        steering.force_answer(w, live[1])
        steering.cancel(w, live[2])
        w.advance(400)
        w.sync()
    assert detail(worlds[0]) == detail(worlds[1])


def test_a_clock_move_costs_the_sessions_that_have_something_due(monkeypatch: pytest.MonkeyPatch) -> None:
    w = make_world(seed=2, sessions=4000, batches=[Batch("g", 2000, start=-200, rate=10)])
    calls = Counter[str]()
    real = SimSession.catch_up

    def counting(self: SimSession, now: float, spawn: Any) -> None:
        calls[self.id] += 1
        real(self, now, spawn)

    monkeypatch.setattr(SimSession, "catch_up", counting)
    total = len(w)
    for _ in range(30):
        now = w.now() + 1
        due = sum(1 for s in w.all_sessions() if s.next_t() <= now)
        calls.clear()
        w.advance(1)
        w.sync()
        new = len(w) - total
        total = len(w)
        assert sum(calls.values()) <= due + new
    assert due < total / 20  # a second's moves touch a few percent of a 10,000-session world


# -- batches -----------------------------------------------------------------------------------
def test_a_batch_arrives_at_its_rate_runs_at_once_and_drains() -> None:
    w = make_world(seed=4, sessions=0, batches=[Batch("nightly-7", 1000, start=-20, rate=10)])
    times = [t for t, _ in Batch("nightly-7", 1000, start=-20, rate=10).submissions(w.seed)]
    assert len(w) == sum(1 for t in times if t <= 0)  # the past is there, the rest to come
    assert 100 < len(w) < 300
    peak, finished = 0, []
    for _ in range(120):
        w.advance(30)
        w.sync()
        running = sum(1 for s in w.all_sessions() if s.status == "running")
        peak = max(peak, running)
    members = w.all_sessions()
    assert len(members) == 1000
    assert all(s.group_id == "nightly-7" and s.parent_id is None and s.agent == "h/web-surfer-flash"
               for s in members)
    assert w.query(ListQuery(group_id="nightly-7"))[1] == 1000
    gaps = [b.created_at - a.created_at for a, b in itertools.pairwise(members)]
    assert 0.08 < sum(gaps) / len(gaps) < 0.12  # ten a second
    assert peak > 600  # most of the batch runs at the same time
    finished = sorted(s.finished_at for s in members if s.finished_at is not None)
    assert len(finished) > 980  # an hour later nearly all are done...
    assert finished[len(finished) * 9 // 10] - finished[0] > 600  # ...over tens of minutes
    assert not any(s.status in ("paused", "awaiting_tool_results", "idle") for s in members)


def test_batches_are_deterministic_and_independent_of_the_rest() -> None:
    b = Batch("reconcile-q3", 300, start=-100, rate=3)

    def ids(w: World) -> list[str]:
        return [s.id for s in w.all_sessions() if s.group_id == "reconcile-q3" and s.parent_id is None]

    alone = make_world(seed=9, sessions=0, batches=[b])
    crowded = make_world(seed=9, sessions=300, batches=[Batch("other", 100), b])
    assert ids(alone) == ids(crowded) == ids(make_world(seed=9, sessions=0, batches=[b]))
    assert ids(alone) != ids(make_world(seed=10, sessions=0, batches=[b]))


def test_split_and_parse() -> None:
    parts = split(10_001, 4, start=-60, rate=20)
    assert [p.size for p in parts] == [2501, 2500, 2500, 2500]
    assert [p.group_id for p in parts] == ["batch-1", "batch-2", "batch-3", "batch-4"]
    assert [p.start for p in parts] == [-60, 65.05, 190.05, 315.05]  # back to back at 20/s
    assert parse_batch("2000") == [Batch("batch-1", 2000)]
    assert parse_batch("size=600,group=n,rate=2.5,start=-30,agent=mix,steps=10", 3) == [
        Batch("n", 600, -30, 2.5, None, 10)]
    assert [b.start for b in parse_batch("size=90,groups=3,every=600,group=g")] == [0, 600, 1200]
    for bad in ("", "size=x", "rate=0,size=3", "size=3,colour=red", "size=-1", "size=5,groups=0"):
        with pytest.raises(BatchSpecError):
            parse_batch(bad)


def test_cli_builds_a_grouped_world() -> None:
    args = _parser().parse_args(["--sessions", "50", "--seed", "2", "--arrivals", "0",
                                 "--batch", "size=400,group=night,start=-10,rate=20",
                                 "--batch", "size=200,groups=2,start=100"])
    w = build_world(args)
    assert w.quota_limit == 500 + 600 and w.arrival_interval_s == 0
    assert [b.group_id for b in w.batches] == ["night", "batch-2-1", "batch-2-2"]
    assert 100 < sum(1 for s in w.all_sessions() if s.group_id == "night") < 400
    assert not any(s.group_id and s.group_id.startswith("batch-2") for s in w.all_sessions())
    args = _parser().parse_args(["--quota-limit", "7", "--batch", "10"])
    assert build_world(args).quota_limit == 7


# -- list filters over thousands of sessions -----------------------------------------------------
@pytest.fixture(scope="module")
def big() -> World:
    """~5,000 sessions: every filter's pages 1, 2 and 7 of 100 have rows (10,000 checked the
    same, at twice the suite's time; `bench sim` measures list pages at 10,000)."""
    batches = [Batch("nightly-1", 1000, start=-60, rate=15),
               Batch("nightly-2", 800, start=20, rate=20, agent=None)]  # managers: subagents join
    w = World(seed=5, sessions=1200, clock=ManualClock(), start_epoch=EPOCH, arrival_interval_s=10,
              batches=batches, quota_limit=10**6)
    w.advance(240)
    w.sync()
    assert len(w) > 4_000
    return w


def queries(w: World, rng: random.Random) -> Iterator[ListQuery]:
    every = w.all_sessions()
    done = sorted(w.epoch + s.finished_at for s in every if s.finished_at is not None)
    created = [w.epoch + s.created_at for s in rng.sample(every, 4)]
    now = w.epoch + w.now()
    parents = [s.id for s in every if s.children]
    for newest_first in (True, False):
        for page in (1, 2, 7):
            kw: dict[str, Any] = {"newest_first": newest_first, "page": page, "size": 100}
            yield ListQuery(**kw)
            # The follower's polls: what finished since a moment ago (an exact finish time
            # too, to check the bound is strict), what is still pending.
            yield ListQuery(finished_after=now - 5, **kw)
            yield ListQuery(finished_after=done[-30], **kw)
            yield ListQuery(finished_after=rng.choice(done), group_id="nightly-1", **kw)
            yield ListQuery(finished_before=rng.choice(done), **kw)
            yield ListQuery(finished_after=done[len(done) // 3], finished_before=done[len(done) // 2], **kw)
            yield ListQuery(statuses=frozenset({"pending"}), **kw)
            yield ListQuery(statuses=frozenset({"queued", "pending"}), **kw)
            yield ListQuery(statuses=frozenset({"running", "completed"}), group_id="nightly-2", **kw)
            yield ListQuery(created_after=created[0], **kw)
            yield ListQuery(created_before=created[1], **kw)
            yield ListQuery(created_after=min(created[2:]), created_before=max(created[2:]), **kw)
            yield ListQuery(created_after=created[0], statuses=frozenset({"running"}), **kw)
            yield ListQuery(group_id="nightly-1", **kw)
            yield ListQuery(group_id="nightly-2", **kw)
            yield ListQuery(group_id="no-such-group", **kw)
            yield ListQuery(agents=frozenset({"h/web-surfer-flash"}), **kw)
            yield ListQuery(agents=frozenset({"fast-searcher", "acme/invoice-bot"}), **kw)
            yield ListQuery(parent_session_id=rng.choice(parents), **kw)
            yield ListQuery(parent_session_id=rng.choice(parents), statuses=frozenset(TERMINAL), **kw)


def test_every_filter_at_scale_equals_the_plain_filter(big: World) -> None:
    rng = random.Random(3)
    checked = 0
    for _ in range(2):  # each query is checked by a scan of the whole world: 10,000 sessions
        big.advance(rng.uniform(3, 40))
        big.sync()
        for q in queries(big, rng):
            items, total = big.query(q)
            assert ([s.id for s in items], total) == plain(big, q), q
            checked += 1
    assert checked == 2 * 2 * 3 * 20


def test_finished_bounds_are_strict(big: World) -> None:
    s = max((s for s in big.all_sessions() if s.finished_at is not None), key=lambda s: s.finished_at or 0)
    at = big.epoch + (s.finished_at or 0)

    def ids(**kw: float) -> set[str]:
        return {x.id for x in big.query(ListQuery(size=100, **kw))[0]}

    assert s.id in ids(finished_after=at - 0.0005)
    assert s.id not in ids(finished_after=at)
    assert s.id in ids(finished_after=at - 0.0005, finished_before=at + 0.0005)
    assert s.id not in ids(finished_after=at - 0.0005, finished_before=at)


async def test_the_follower_polls_over_http(big: World) -> None:
    import aiohttp

    async with SimServer(big) as server, aiohttp.ClientSession() as http:
        sim = Sim(server, big, http)
        since = iso(big.epoch + big.now() - 30)
        for params in ([("finished_after", since), ("size", "100")],
                       [("status", "pending"), ("status", "queued"), ("size", "100")],
                       [("group_id", "nightly-2"), ("finished_after", since), ("sort", "created_at"),
                        ("size", "100")]):
            r = await sim.get("/sessions", params)
            assert r.status == 200, r.text
            keys = dict(params)
            q = ListQuery(statuses=frozenset(v for k, v in params if k == "status"),
                          group_id=keys.get("group_id"),
                          finished_after=parse_iso(since) if "finished_after" in keys else None,
                          newest_first=keys.get("sort") != "created_at", size=100)
            ids, total = plain(big, q)
            assert [i["id"] for i in r.body["items"]] == ids and r.body["total"] == total


def test_status_after_a_sync_counts_the_steps_the_head_passed() -> None:
    w = make_world(seed=12, sessions=60)
    for s in (s for s in w.all_sessions() if s.status == "running"):
        w.get(s.id)
        steps_only = list(itertools.takewhile(lambda k: type(k) is Step, s.future()))
        if len(steps_only) >= 2:
            break
    before = json.loads(s.status_json())
    w.advance(steps_only[1].t - w.now())  # two steps pass, nothing else
    w.sync()  # heads only (a step has none): no read of s in between
    after = json.loads(s.status_json())
    assert after["steps"] == before["steps"] + 2
    assert after == s.status_dict()
