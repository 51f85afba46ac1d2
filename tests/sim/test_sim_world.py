"""The world model on its own: determinism, growth, trees, lifecycles, time."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from sim_helpers import EPOCH, make_world

from agp_tui.sim import ManualClock, RealClock, World, steering
from agp_tui.sim.catalog import TERMINAL
from agp_tui.sim.events import render


def snapshot(world: World) -> list[tuple[Any, ...]]:
    world.sync()
    return [
        (s.id, s.status, s.steps, tuple(s.usage), tuple(s.children), len(s.events), s.finished_at)
        for s in world.all_sessions()
    ]


def test_same_seed_same_world_at_same_times() -> None:
    a, b = make_world(seed=7), make_world(seed=7)
    assert snapshot(a) == snapshot(b)
    for _ in range(4):
        a.advance(150)
        b.advance(150)
        assert snapshot(a) == snapshot(b)
    assert snapshot(make_world(seed=8)) != snapshot(a)


def test_state_does_not_depend_on_how_often_it_was_asked() -> None:
    # Lazy materialisation must give the same answer whether polled every 5 s or never.
    often, once = make_world(seed=11), make_world(seed=11)
    for _ in range(120):
        often.advance(5)
        often.sync()
    once.advance(600)
    assert snapshot(often) == snapshot(once)


def test_same_actions_same_answers() -> None:
    worlds = [make_world(seed=5, sessions=150), make_world(seed=5, sessions=150)]
    for w in worlds:
        w.advance(20)
        w.sync()
        target = next(s for s in w.all_sessions() if s.status == "running")
        steering.pause(w, target)
        w.advance(30)
        steering.send_messages(w, target, ["carry on"])
        w.sync()
        others = [s for s in w.all_sessions() if s.status == "running" and s is not target]
        steering.force_answer(w, others[0])
        steering.cancel(w, others[1])
        w.advance(300)
    assert snapshot(worlds[0]) == snapshot(worlds[1])
    events = [[render(e, w.epoch) for s in w.all_sessions() for e in s.events] for w in worlds]
    assert events[0] == events[1]


def test_steps_and_usage_never_decrease() -> None:
    w = make_world(seed=2, sessions=30)
    last: dict[str, tuple[int, dict[str, tuple[int, int, int]]]] = {}
    for _ in range(40):
        w.advance(20)
        w.sync()
        for s in w.all_sessions():
            usage = {r[0]: r[1:] for r in s.usage_rows()}
            if s.id in last:
                steps, before = last[s.id]
                assert s.steps >= steps
                for name, tokens in before.items():
                    assert all(x >= y for x, y in zip(usage[name], tokens, strict=True))
            last[s.id] = (s.steps, usage)


def test_usage_magnitudes_are_realistic() -> None:
    w = make_world(seed=4, sessions=60)
    w.advance(3600)
    w.sync()
    worked = [s for s in w.all_sessions() if s.steps >= 3]
    assert worked
    for s in worked:
        for name, tin, tout, treason in s.usage_rows():
            assert 1_000 < tin / s.steps < 200_000, name  # thousands of input tokens per step
            assert 10 < tout / s.steps < 2_000, name  # hundreds of output tokens
            assert treason >= 0
    assert any(len(s.usage_rows()) >= 2 for s in worked)  # several models in one session
    assert any(r[3] > 0 for s in worked for r in s.usage_rows())  # some reasoning models


def test_subagent_trees_are_bounded_and_linked() -> None:
    w = make_world(seed=9, sessions=150)
    w.advance(3600)
    w.sync()
    by_id = {s.id: s for s in w.all_sessions()}
    assert any(s.children for s in by_id.values())
    for s in by_id.values():
        assert len(s.children) <= 8
        depth, node = 0, s
        while node.parent_id is not None:
            node = by_id[node.parent_id]
            depth += 1
        assert depth <= 3
        assert s.profile.depth == depth
        for cid in s.children:
            assert by_id[cid].request["parent_session_id"] == s.id
            assert by_id[cid].created_at >= s.created_at
    assert max(s.profile.depth for s in by_id.values()) >= 2


def test_lifecycles_are_consistent() -> None:
    w = make_world(seed=1, sessions=120)
    w.advance(7200)
    w.sync()
    seen = Counter(s.status for s in w.all_sessions())
    assert {"completed", "failed", "timed_out", "interrupted"} <= set(seen)
    for s in w.all_sessions():
        times = [e.t for e in s.events]
        assert times == sorted(times)
        types = [e.type for e in s.events]
        assert types[0] == "RequestStartEvent"
        if s.terminal:
            assert s.finished_at is not None and s.finished_at >= s.created_at
        else:
            assert s.finished_at is None
        if s.status == "completed":
            assert s.outcome in {"success", "partial", "infeasible", "blocked"}
            answer_at = max(i for i, e in enumerate(s.events) if _kind(e.data) == "answer_event")
            assert types.index("AgentCompletionEvent") > answer_at
        if s.status == "failed":
            assert s.error and s.error_code in {
                "environment_error",
                "no_answer",
                "internal",
                "answer_validation",
            }
            assert "AgentErrorEvent" in types
        if s.status == "timed_out":
            assert s.error_code == "timeout"


def test_statuses_over_time_cover_the_enum() -> None:
    w = make_world(seed=21, sessions=120, arrival_interval_s=30)
    seen: set[str] = set()
    for _ in range(60):
        w.advance(30)
        w.sync()
        seen |= {s.status for s in w.all_sessions()}
    assert {"pending", "running", "idle", "completed", "failed"} <= seen
    assert seen & {"paused", "awaiting_tool_results", "queued"}


def test_new_top_level_sessions_keep_arriving() -> None:
    w = make_world(seed=3, sessions=10, arrival_interval_s=30)
    before = len([s for s in w.all_sessions() if s.parent_id is None])
    w.advance(1800)
    w.sync()
    top = [s for s in w.all_sessions() if s.parent_id is None]
    assert len(top) - before > 20
    assert all(s.created_at <= 1800 for s in top)


def test_speed_factor_scales_world_time() -> None:
    real = [100.0]
    clock = RealClock(speed=30, real=lambda: real[0])
    assert clock.now() == 0
    real[0] += 2
    assert clock.now() == 60
    assert clock.real_delay(90) == 3
    assert ManualClock().real_delay(1) == float("inf")
    w = World(seed=1, sessions=5, clock=clock, start_epoch=EPOCH, arrival_interval_s=0)
    assert w.now() == 60


def test_demo_ids_are_live_top_level_sessions_with_a_tree() -> None:
    w = make_world(seed=0, sessions=200)
    ids = w.demo_session_ids()
    assert 3 <= len(ids) <= 12
    sessions = [w.get(i) for i in ids]
    assert all(s is not None and s.parent_id is None and not s.terminal for s in sessions)
    assert any(s is not None and s.profile.agent.role == "manager" for s in sessions)


def test_two_thousand_sessions_stay_cheap() -> None:
    started = time.perf_counter()
    w = make_world(seed=1, sessions=2000)
    build = time.perf_counter() - started
    assert len(w) > 2000
    assert build < 15  # ~1 s on the dev box; a generous bound that still catches blow-ups
    target = w.initial_live_ids[0]
    started = time.perf_counter()
    for _ in range(2000):
        s = w.get(target)
        assert s is not None
        s.status_json()
    assert time.perf_counter() - started < 1.0  # the /status path is a dict hit
    assert sum(1 for s in w.all_sessions() if s.status not in TERMINAL) < w.quota_limit


def _kind(data: object) -> str | None:
    return data.get("kind") if isinstance(data, dict) else None
