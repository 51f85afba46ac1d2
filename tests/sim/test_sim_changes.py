"""`/changes`: cursor, 204 + ETag, long-poll wake-ups, cap, include_events and drain."""

from __future__ import annotations

import asyncio
import time
import uuid

import aiohttp
from sim_helpers import AUTH, EPOCH, Sim

from agp_tui.sim import RealClock, SimServer, World

CHANGES_KEYS = {
    "status",
    "started_at",
    "finished_at",
    "error",
    "error_code",
    "answer",
    "outcome",
    "metrics",
    "new_events",
}


def completed_session(sim: Sim) -> str:
    sim.world.sync()
    return next(s.id for s in sim.world.all_sessions() if s.status == "completed" and s.answers)


async def test_cursor_then_204_with_etag(sim: Sim) -> None:
    sid = sim.running_top_level()[0]
    r = await sim.get(f"/sessions/{sid}/changes", {"from_index": "0"})
    assert r.status == 200 and set(r.body) == CHANGES_KEYS
    events = r.body["new_events"]
    assert events[0]["type"] == "RequestStartEvent"
    metrics = r.body["metrics"]
    assert set(metrics) == {
        "steps",
        "cost_per_model",
        "input_cost",
        "output_cost",
        "reasoning_cost",
        "total_cost",
    }
    for row in metrics["cost_per_model"]:
        assert {
            "name",
            "input_tokens",
            "output_tokens",
            "reasoning_tokens",
            "input_cost",
            "output_cost",
            "reasoning_cost",
            "total_cost",
        } == set(row)
    cursor = len(events)
    done = await sim.get(f"/sessions/{sid}/changes", {"from_index": str(cursor)})
    assert done.status == 204 and done.text == "" and done.headers["ETag"] == str(cursor)
    beyond = await sim.get(f"/sessions/{sid}/changes", {"from_index": str(cursor + 50)})
    assert beyond.status == 204 and beyond.headers["ETag"] == str(cursor + 50)


async def test_limit_pages_and_negative_cursor_clamps(sim: Sim) -> None:
    sid = sim.running_top_level()[0]
    full = (await sim.get(f"/sessions/{sid}/changes")).body["new_events"]
    got: list[object] = []
    cursor = 0
    while True:
        r = await sim.get(f"/sessions/{sid}/changes", {"from_index": str(cursor), "limit": "3"})
        if r.status == 204:
            break
        assert len(r.body["new_events"]) <= 3
        got += r.body["new_events"]
        cursor += len(r.body["new_events"])
    assert got == full
    negative = await sim.get(f"/sessions/{sid}/changes", {"from_index": "-7"})
    assert negative.body["new_events"] == full


async def test_include_events_false_is_still_gated_on_new_events(sim: Sim) -> None:
    sid = sim.running_top_level()[0]
    r = await sim.get(f"/sessions/{sid}/changes", {"from_index": "0", "include_events": "false"})
    assert r.status == 200 and r.body["new_events"] == []
    end = len(sim.world.get(sid).events)  # type: ignore[union-attr]
    r = await sim.get(f"/sessions/{sid}/changes", {"from_index": str(end), "include_events": "false"})
    assert r.status == 204


async def test_terminal_session_drains_to_204(sim: Sim) -> None:
    sid = completed_session(sim)
    r = await sim.get(f"/sessions/{sid}/changes", {"from_index": "0"})
    assert r.status == 200 and r.body["status"] == "completed" and r.body["finished_at"]
    assert r.body["answer"] is not None and r.body["outcome"]
    types = [e["type"] for e in r.body["new_events"]]
    assert types[-1] == "AgentCompletionEvent"
    kinds = [e["data"].get("kind") for e in r.body["new_events"]]
    assert kinds.index("answer_event") < types.index("AgentCompletionEvent")
    drained = await sim.get(
        f"/sessions/{sid}/changes", {"from_index": str(len(types)), "wait_for_seconds": "0"}
    )
    assert drained.status == 204  # even though terminal: read terminality from /status


async def test_answer_rides_the_page_that_delivers_it(sim: Sim) -> None:
    sid = completed_session(sim)
    s = sim.world.get(sid)
    assert s is not None
    answer_index = s.answers[-1][0]
    early = await sim.get(f"/sessions/{sid}/changes", {"from_index": "0", "limit": str(answer_index)})
    assert early.body["answer"] is None and early.body["status"] == "completed"
    late = await sim.get(f"/sessions/{sid}/changes", {"from_index": str(answer_index)})
    assert late.body["answer"] == s.latest_answer
    sdk_way = await sim.get(
        f"/sessions/{sid}/changes", {"from_index": "0", "include_events": "false", "wait_for_seconds": "0"}
    )
    assert sdk_way.body["answer"] == s.latest_answer and sdk_way.body["new_events"] == []


async def test_wait_above_cap_is_422_and_404_comes_first(sim: Sim) -> None:
    sid = sim.running_top_level()[0]
    r = await sim.get(f"/sessions/{sid}/changes", {"wait_for_seconds": "6"})  # fixture cap is 5
    assert r.status == 422
    (e,) = r.body["detail"]
    assert e["loc"] == ["query", "wait_for_seconds"] and e["type"] == "less_than_equal"
    assert (await sim.get(f"/sessions/{sid}/changes", {"wait_for_seconds": "-1"})).status == 422
    assert (await sim.get(f"/sessions/{sid}/changes", {"include_events": "maybe"})).status == 422
    started = time.monotonic()
    r = await sim.get(f"/sessions/{uuid.uuid4()}/changes", {"wait_for_seconds": "5"})
    assert r.status == 404 and time.monotonic() - started < 1


async def test_long_poll_times_out_with_204(sim: Sim) -> None:
    sid = sim.running_top_level()[0]
    end = len(sim.world.get(sid).events)  # type: ignore[union-attr]
    started = time.monotonic()
    r = await sim.get(f"/sessions/{sid}/changes", {"from_index": str(end), "wait_for_seconds": "1"})
    assert r.status == 204 and r.headers["ETag"] == str(end)
    assert 0.9 < time.monotonic() - started < 3


async def test_long_poll_wakes_when_the_clock_moves(sim: Sim) -> None:
    sid = sim.running_top_level()[0]
    end = len(sim.world.get(sid).events)  # type: ignore[union-attr]
    poll = asyncio.create_task(
        sim.get(f"/sessions/{sid}/changes", {"from_index": str(end), "wait_for_seconds": "5"})
    )
    await asyncio.sleep(0.2)
    assert not poll.done()
    started = time.monotonic()
    sim.world.advance(300)
    r = await poll
    assert r.status == 200 and r.body["new_events"]
    assert time.monotonic() - started < 1  # woke at once, not at the end of the wait


async def test_long_poll_wakes_on_a_steering_action(sim: Sim) -> None:
    sid = sim.running_top_level()[0]
    end = len(sim.world.get(sid).events)  # type: ignore[union-attr]
    poll = asyncio.create_task(
        sim.get(f"/sessions/{sid}/changes", {"from_index": str(end), "wait_for_seconds": "5"})
    )
    await asyncio.sleep(0.2)
    started = time.monotonic()
    assert (await sim.post(f"/sessions/{sid}/messages", {"message": "hurry up"})).status == 202
    r = await poll
    assert time.monotonic() - started < 1
    kinds = [e["data"].get("kind") for e in r.body["new_events"]]
    assert "message_event" in kinds


async def test_long_poll_wakes_on_the_next_scripted_tick_in_real_time() -> None:
    world = World(seed=4, sessions=20, clock=RealClock(speed=20), start_epoch=EPOCH, arrival_interval_s=0)
    async with SimServer(world) as srv, aiohttp.ClientSession(headers=AUTH) as http:
        s = min((s for s in world.all_sessions() if s.status == "running"), key=lambda s: s.next_t())
        sid, end = s.id, len(s.events)
        due_in = world.real_delay_until(s.next_t())
        assert due_in < 15
        started = time.monotonic()
        async with http.get(
            f"{srv.base_url}/sessions/{sid}/changes",
            params={"from_index": str(end), "wait_for_seconds": "20"},
        ) as r:
            assert r.status == 200
            assert (await r.json())["new_events"]
        # Woken by the session's own next tick, well before the 20 s wait ran out.
        assert time.monotonic() - started < due_in + 1.5
