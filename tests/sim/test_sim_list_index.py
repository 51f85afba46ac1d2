"""`GET /sessions` reads indexes (group, agent, status, parent, created range) instead of
testing every session: a 10,000-session world serves pages of 100 at thousands a second
(`python -m agp_tui.bench sim`). Here: the indexed answer equals the plain filter over every
session, page for page, for thousands of random queries, while time passes and sessions are
paused, resumed and cancelled (each a status change the status index must follow)."""

from __future__ import annotations

import random

from agp_tui.sim import ManualClock, World, steering
from agp_tui.sim.world import ListQuery, _matches


def plain(world: World, q: ListQuery) -> tuple[list[str], int]:
    every = world.all_sessions()
    source = reversed(every) if q.newest_first else iter(every)
    needle = q.search.lower() if q.search else None
    hits = [s for s in source if _matches(s, q, needle, world.epoch)]
    start = (q.page - 1) * q.size
    return [s.id for s in hits[start : start + q.size]], len(hits)


def random_query(world: World, rng: random.Random) -> ListQuery:
    every = world.all_sessions()
    groups = [*sorted({s.group_id for s in every if s.group_id}), "no-such-group"]
    parents = [*[s.id for s in every if s.children][:20], "00000000-0000-4000-8000-000000000000"]
    statuses = sorted({s.status for s in every})
    agents = sorted({s.agent for s in every if s.agent})
    times = sorted(world.epoch + s.created_at for s in rng.sample(every, 2))

    def maybe(p: float) -> bool:
        return rng.random() < p

    return ListQuery(
        statuses=frozenset(rng.sample(statuses, rng.randint(1, 2))) if maybe(0.4) else frozenset(),
        agents=frozenset(rng.sample(agents, rng.randint(1, 2))) if maybe(0.25) else frozenset(),
        group_id=rng.choice(groups) if maybe(0.4) else None,
        parent_session_id=rng.choice(parents) if maybe(0.2) else None,
        search=rng.choice(["the", "zzz"]) if maybe(0.1) else None,
        created_after=times[0] if maybe(0.3) else None,
        created_before=times[1] if maybe(0.3) else None,
        finished_after=world.epoch + 100 if maybe(0.1) else None,
        newest_first=maybe(0.7), page=rng.randint(1, 8), size=rng.choice([1, 5, 10, 100]),
    )


def test_indexed_pages_equal_the_plain_filter_while_the_world_moves() -> None:
    world = World(seed=4, sessions=400, clock=ManualClock(), arrival_interval_s=30)
    rng = random.Random(1)
    checked = 0
    for _round in range(12):
        world.advance(rng.uniform(5, 120))
        world.sync()
        live = [s for s in world.all_sessions() if not s.terminal]
        for s in rng.sample(live, min(3, len(live))):  # steering moves statuses too
            action = rng.choice([steering.pause, steering.cancel, steering.resume])
            if action is steering.resume and s.status != "paused":
                continue
            try:
                action(world, s)
            except steering.NotRunning:  # refused (409 over HTTP): fine here
                continue
        world.sync()
        for _ in range(150):
            q = random_query(world, rng)
            items, total = world.query(q)
            assert ([s.id for s in items], total) == plain(world, q), q
            checked += 1
    assert checked == 1800
