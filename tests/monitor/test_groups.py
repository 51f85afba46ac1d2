"""GroupWatch: a followed query's members and their status changes, from list pages only.

The world runs on a ManualClock behind a real simulator on loopback: between two ticks the
test moves time, and during a tick the world holds still, so after every tick each member's
status must equal the world's, exactly, at a few list requests a tick whatever the size.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from agp_tui.api import AgpClient, RetryPolicy
from agp_tui.api.query import SessionQuery
from agp_tui.monitor.groups import Change, GroupWatch
from agp_tui.sim import DEMO_API_KEY, ManualClock, SimServer, World
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
