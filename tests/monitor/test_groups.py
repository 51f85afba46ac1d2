"""GroupWatch: a followed query's members and their status changes, from list pages only.

The world runs on a ManualClock behind a real simulator on loopback: between two ticks the
test moves time, and during a tick the world holds still, so after every tick each member's
status must equal the world's, exactly, at a few list requests a tick whatever the size.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agp_tui.api import AgpClient, RetryPolicy
from agp_tui.api.query import SessionQuery
from agp_tui.monitor.groups import Change, GroupWatch
from agp_tui.sim import DEMO_API_KEY, ManualClock, SimServer, World
from agp_tui.sim.events import metrics
from agp_tui.sim.fake_backend import Call, FakeBackend, canned
from agp_tui.sim.world import user_message

# A fast-forwarding loop (looptime): the engine's sleeps take no real time.
pytestmark = pytest.mark.looptime


def add(world: World, n: int, group: str, rng: random.Random) -> None:
    for _ in range(n):
        world.create({"agent": rng.choice(("h/web-surfer-flash", "h/web-surfer")), "group_id": group,
                      "messages": [user_message("find a flight")]}, queue=True)


def truth(world: World, group: str) -> dict[str, str]:
    world.sync()  # play the ticks due by the clock (the server does so on each request)
    return {s.id: s.status for s in world.all_sessions() if s.group_id == group}


async def follow_for(world: World, watch: GroupWatch, ticks: int, seconds: float) -> None:
    """The first listing, then `ticks` ticks `seconds` of world time apart."""
    await watch.tick()
    for _ in range(ticks):
        world.clock.advance(seconds)
        await watch.tick()


@pytest.fixture
async def sim() -> AsyncIterator[tuple[World, AgpClient]]:
    world = World(seed=11, sessions=40, clock=ManualClock(), arrival_interval_s=0, quota_limit=10_000)
    async with SimServer(world) as srv:
        client = AgpClient(srv.base_url, DEMO_API_KEY, retry=RetryPolicy.off())
        try:
            yield world, client
        finally:
            await client.aclose()


async def test_members_and_statuses_match_the_world_after_every_tick(sim: tuple[World, AgpClient]) -> None:
    world, client = sim
    rng = random.Random(5)
    add(world, 250, "batch-1", rng)
    add(world, 30, "other", rng)
    changes: list[Change] = []
    watch = GroupWatch(client, SessionQuery(group_id="batch-1"), on_change=changes.extend)
    await watch.tick()  # bootstrap: the whole group, 3 pages
    assert {m.id: m.status for m in watch.members.values()} == truth(world, "batch-1")
    bootstrap_requests = watch.requests
    transitions = 0
    for tick in range(60):
        before = truth(world, "batch-1")
        world.clock.advance(rng.choice((2.0, 5.0, 9.0)))
        if tick % 7 == 3:
            add(world, rng.randint(1, 40), "batch-1", rng)  # a batch still arriving
        after = truth(world, "batch-1")
        transitions += sum(1 for sid, st in after.items() if before.get(sid) != st)
        await watch.tick()
        got = {m.id: m.status for m in watch.members.values()}
        assert got == after, f"tick {tick}: {len(set(got.items()) ^ set(after.items()))} differ"
        assert sum(watch.counts.values()) == len(after) and all(v > 0 for v in watch.counts.values())
    assert transitions > 200  # the world really moved
    per_tick = (watch.requests - bootstrap_requests) / 60
    assert per_tick <= 4.5, per_tick  # new + finished + small sets (+ a reconcile page each 5th)
    assert {c[0] for c in changes} == set(truth(world, "batch-1"))


async def test_a_status_in_the_query_picks_who_enters_it_followed_to_their_end(
    sim: tuple[World, AgpClient],
) -> None:
    """`status:running`: members are the sessions found running, at start or later (one
    pending at start joins when it starts), each followed to its end."""
    world, client = sim
    rng = random.Random(6)
    add(world, 120, "batch-2", rng)
    world.clock.advance(3)
    watch = GroupWatch(client, SessionQuery(group_id="batch-2", statuses=("running",)))
    await watch.tick()
    ever_running = {sid for sid, st in truth(world, "batch-2").items() if st == "running"}
    assert set(watch.members) == ever_running and 0 < len(ever_running) < 120
    for _ in range(300):
        world.clock.advance(2)
        await watch.tick()
        ever_running |= {sid for sid, st in truth(world, "batch-2").items() if st == "running"}
        # Everyone who was running at a tick is a member from that tick on.
        assert ever_running <= set(watch.members)
        if watch.settled() and all(st != "pending" for st in truth(world, "batch-2").values()):
            break
    now = truth(world, "batch-2")
    assert watch.settled()
    assert {m.id: m.status for m in watch.members.values()} == {s: now[s] for s in watch.members}
    # A member is someone seen running: never one that went from pending straight to an end.
    assert set(watch.members) <= {s.id for s in world.all_sessions()
                                  if s.group_id == "batch-2" and "running" in {st for _, st in s.status_log}}


async def test_details_read_final_figures_once(sim: tuple[World, AgpClient]) -> None:
    world, client = sim
    add(world, 20, "batch-3", random.Random(7))
    watch = GroupWatch(client, SessionQuery(group_id="batch-3"))
    await watch.tick()
    for _ in range(100):
        world.clock.advance(30)
        await watch.tick()
        if watch.settled():
            break
    unread = [m.id for m in watch.unread_finished()]
    assert unread and await watch.read_details(unread) == len(unread)
    assert not list(watch.unread_finished())
    totals = watch.totals()
    assert totals.read == len(unread) and totals.steps == sum(
        world.get(sid).steps for sid in unread)  # type: ignore[union-attr]
    assert sum(totals.tokens.values()) > 0


async def test_an_ended_member_is_read_in_one_request_with_its_cost(sim: tuple[World, AgpClient]) -> None:
    """/changes without events carries steps, tokens per model and cost: the totals equal
    the world's own metrics, exactly, at one request a member; a running member is read
    through /status (no cost there) and counts toward tokens, not cost."""
    world, client = sim
    add(world, 30, "batch-5", random.Random(3))
    watch = GroupWatch(client, SessionQuery(group_id="batch-5"))
    await follow_for(world, watch, 10, 20)
    ended = [m.id for m in watch.unread_finished()]
    running = [m.id for m in watch.members.values() if m.status == "running"]
    assert ended and running
    before = watch.requests
    assert await watch.read_details(ended) == len(ended)
    assert watch.requests - before == len(ended)
    want_tokens: Counter[str] = Counter()
    want_cost = 0.0
    unpriced = 0
    for sid in ended:
        s = world.get(sid)
        assert s is not None
        m = metrics(s.steps, s.usage_rows())
        for row in m["cost_per_model"]:
            want_tokens[row["name"]] += row["input_tokens"] + row["output_tokens"] + row["reasoning_tokens"]
        if m["total_cost"] is None:
            unpriced += 1
        else:
            want_cost += m["total_cost"]
    totals = watch.totals()
    assert totals.tokens == want_tokens and totals.unpriced == unpriced
    assert totals.priced == len(ended) - unpriced and totals.cost == pytest.approx(want_cost)
    assert totals.priced > 0
    await watch.read_details(running[:3])
    after = watch.totals()
    assert after.read == len(ended) + 3 and after.priced == totals.priced  # no cost from /status
    assert not any(watch.members[sid].final_read for sid in running[:3])


async def test_ended_per_minute_counts_the_worlds_finish_times(sim: tuple[World, AgpClient]) -> None:
    world, client = sim
    rng = random.Random(9)
    add(world, 120, "batch-6", rng)
    watch = GroupWatch(client, SessionQuery(group_id="batch-6"))
    await watch.tick()
    for _ in range(40):
        world.clock.advance(rng.choice((5.0, 20.0)))
        await watch.tick()
    now = world.epoch + world.now()
    got = watch.throughput(now, 15)
    world.sync()
    ends = [s.finished_at for s in world.all_sessions()
            if s.group_id == "batch-6" and s.finished_at is not None]
    want = Counter(int((world.epoch + f) // 60) for f in ends)
    last = int(now // 60)
    assert got == tuple(want.get(m, 0) for m in range(last - 14, last + 1))
    assert sum(got) > 10


async def test_the_engine_follows_a_query_in_its_budget_and_reads_details(
    sim: tuple[World, AgpClient],
) -> None:
    from agp_tui.monitor.engine import Engine, EngineSettings
    from agp_tui.monitor.events import EngineEvent, GroupChanged

    world, client = sim
    add(world, 150, "batch-4", random.Random(8))
    engine = Engine(client, None, EngineSettings(seed=1, group_interval=1.0, group_detail_rps=20.0,
                                                 group_focus_rps=20.0))
    requests = engine.count_requests()
    heard: list[GroupChanged] = []

    def listen(ev: EngineEvent) -> None:
        if isinstance(ev, GroupChanged):
            heard.append(ev)

    engine.subscribe(listen)
    watch = engine.follow_query(SessionQuery(group_id="batch-4"))
    assert engine.follow_query(SessionQuery(group_id="batch-4")) is watch  # one target
    await engine.start()
    try:
        for _ in range(100):
            await asyncio.sleep(0.05)
            if watch.bootstrapped:
                break
        visible = list(watch.members)[:5]
        engine.set_group_focus(watch.key, visible)
        for _ in range(100):
            await asyncio.sleep(0.05)
            if all(watch.members[s].steps is not None for s in visible):
                break
        assert all(watch.members[s].steps is not None for s in visible)  # on screen: read first
        assert {c[0] for ev in heard for c in ev.changes} == set(watch.members)
        assert requests["group"] >= 2 and [g.key for g in engine.groups()] == ["group:batch-4"]
        assert engine.unfollow_query(watch.key) and engine.groups() == []
    finally:
        await engine.aclose()


async def test_a_kept_filter_is_followed_again_at_the_next_start(
    sim: tuple[World, AgpClient], tmp_path: Path,
) -> None:
    """`persist` (the discover screen's F) keeps the filter in the watchlist file: the next
    engine over that file follows it from its start; `unfollow` forgets it there too."""
    from agp_tui.monitor.engine import Engine, EngineSettings
    from agp_tui.monitor.watchlist import Watchlist

    world, client = sim
    add(world, 10, "kept", random.Random(2))
    path = tmp_path / "watchlist.json"
    first = Engine(client, Watchlist(path), EngineSettings(seed=1))
    await first.start()
    first.follow_query(SessionQuery(group_id="kept"), persist=True)
    first.follow_query(SessionQuery(group_id="this-run-only"))
    await first.stop()

    second = Engine(client, Watchlist(path), EngineSettings(seed=1, group_interval=1.0))
    await second.start()
    try:
        assert [(g.key, g.kept) for g in second.groups()] == [("group:kept", True)]
        watch = second.groups()[0]
        for _ in range(100):
            await asyncio.sleep(0.05)
            if watch.bootstrapped:
                break
        assert set(watch.members) == set(truth(world, "kept"))
        assert second.unfollow_query("group:kept") and not second.groups()
    finally:
        await second.stop()
    third = Watchlist(path)
    third.load()
    assert third.follows() == []


async def test_without_changes_ended_members_are_read_with_status() -> None:
    """A server or proxy that answers /changes with 404: each ended member is still read
    (/status: steps and tokens, no cost); after three such answers /changes is not asked."""
    world = World(seed=11, sessions=0, clock=ManualClock(), arrival_interval_s=0, quota_limit=10_000)
    fake = FakeBackend(world)
    add(world, 12, "batch-7", random.Random(4))
    client = fake.client()
    watch = GroupWatch(client, SessionQuery(group_id="batch-7"))
    await follow_for(world, watch, 40, 30)
    ended = [m.id for m in watch.unread_finished()]
    assert len(ended) >= 5
    fake.fail(404, kind="changes")
    assert await watch.read_details(ended) == len(ended)
    assert fake.calls["changes"] == 3 and fake.calls["status"] == len(ended)
    totals = watch.totals()
    assert totals.read == len(ended) and totals.priced == 0 and sum(totals.tokens.values()) > 0
    assert not list(watch.unread_finished())
    await client.aclose()


async def test_a_server_ignoring_finished_after_is_read_by_a_walk_of_the_slice() -> None:
    """An older server drops `finished_after` (it would hand back the whole slice each
    tick): the first answer tells, it is not asked again, and what ends is found by a
    rotating walk of up to 10 pages a tick; statuses still equal the world's."""
    world = World(seed=11, sessions=0, clock=ManualClock(), arrival_interval_s=0, quota_limit=10_000)
    fake = FakeBackend(world)
    add(world, 250, "batch-8", random.Random(6))
    first = next(iter(truth(world, "batch-8")))

    def ignore_finished_after(call: Call) -> Any:
        if call.param("finished_after") is None:
            return None  # the World answers
        item = {"id": first, "status": "running", "created_at": "2026-06-11T08:55:00Z", "finished_at": None}
        return canned(200, {"items": [item], "page": 1, "total": 251})

    fake.fail(ignore_finished_after, kind="list")
    client = fake.client()
    watch = GroupWatch(client, SessionQuery(group_id="batch-8"))
    await watch.tick()
    for tick in range(12):
        world.clock.advance(10)
        await watch.tick()
        if tick >= 3:  # the first ticks: a walk (3 pages) since the server told
            assert {m.id: m.status for m in watch.members.values()} == truth(world, "batch-8"), tick
    assert not watch.finished_after_ok
    asked = [c for c in fake.requests if c.param("finished_after") is not None]
    assert len(asked) == 1
    await client.aclose()
