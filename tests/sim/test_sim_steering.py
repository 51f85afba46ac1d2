"""Steering over HTTP: pause/resume, messages, cancel cascade, force_answer."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sim_helpers import Sim, make_world

from agp_tui.sim import steering
from agp_tui.sim.catalog import TERMINAL


async def status(sim: Sim, sid: str) -> dict[str, Any]:
    r = await sim.get(f"/sessions/{sid}/status")
    assert r.status == 200
    return r.body  # type: ignore[no-any-return]


async def advance_until(
    sim: Sim, sid: str, wanted: Collection[str], step: float = 10, limit: int = 400
) -> str:
    for _ in range(limit):
        current = (await status(sim, sid))["status"]
        if current in wanted:
            return current  # type: ignore[no-any-return]
        sim.world.advance(step)
    raise AssertionError(f"{sid} never reached {wanted}")


def kinds(sim: Sim, sid: str) -> list[str]:
    s = sim.world.get(sid)
    assert s is not None
    return [e.data["kind"] if isinstance(e.data, dict) and "kind" in e.data else e.type for e in s.events]


async def test_pause_freezes_and_resume_continues(sim: Sim) -> None:
    sid = sim.running_top_level()[0]
    r = await sim.post(f"/sessions/{sid}/pause")
    assert r.status == 202 and r.text == ""
    paused = await status(sim, sid)
    assert paused["status"] == "paused"
    assert kinds(sim, sid)[-2:] == ["AgentRunStatusChangeEvent", "flow_event"]
    sim.world.advance(600)
    assert await status(sim, sid) == paused  # nothing happens while paused
    assert (await sim.post(f"/sessions/{sid}/pause")).status == 202  # already paused: no-op
    assert (await sim.post(f"/sessions/{sid}/resume")).status == 202
    assert (await status(sim, sid))["status"] == "running"
    assert (await sim.post(f"/sessions/{sid}/resume")).status == 202  # running: documented no-op
    sim.world.advance(300)
    after = await status(sim, sid)
    assert after["steps"] > paused["steps"] or after["status"] in TERMINAL


def test_a_pause_delays_the_plan_by_its_length() -> None:
    plain, paused = make_world(seed=6), make_world(seed=6)
    for w in (plain, paused):
        w.advance(10)
        w.sync()
    sid = next(s.id for s in plain.all_sessions() if s.status == "running" and s.parent_id is None)
    target = paused.get(sid)
    assert target is not None
    steering.pause(paused, target)
    paused.advance(100)
    steering.resume(paused, target)
    plain.advance(5000)
    paused.advance(4900)
    a, b = plain.get(sid), paused.get(sid)
    assert a is not None and b is not None and a.terminal and b.terminal
    assert b.finished_at == round(a.finished_at + 100, 3)  # type: ignore[operator]
    assert (a.status, a.steps, a.usage) == (b.status, b.steps, b.usage)


async def test_pause_resume_force_on_terminal_are_409(sim: Sim) -> None:
    sim.world.sync()
    sid = next(s.id for s in sim.world.all_sessions() if s.terminal)
    for verb in ("pause", "resume", "force_answer"):
        r = await sim.post(f"/sessions/{sid}/{verb}")
        assert (r.status, r.body) == (409, {"detail": "Session is not running"})


async def test_messages_echo_resume_and_validate(sim: Sim) -> None:
    sid = sim.running_top_level()[0]
    r = await sim.post(f"/sessions/{sid}/messages", {"type": "user_message", "message": "also check prices"})
    assert r.status == 202 and r.text == ""
    assert kinds(sim, sid)[-1] == "message_event"
    batch = {"type": "batch", "messages": [{"message": "one"}, {"type": "user_message", "message": "two"}]}
    assert (await sim.post(f"/sessions/{sid}/messages", batch)).status == 202
    assert kinds(sim, sid)[-2:] == ["message_event", "message_event"]
    await sim.post(f"/sessions/{sid}/pause")
    assert (await sim.post(f"/sessions/{sid}/messages", {"message": "wake up"})).status == 202
    assert (await status(sim, sid))["status"] == "running"  # auto-resumed
    for bad in (
        {"nope": 1},
        {"type": "batch", "messages": []},
        "text",
        {"type": "user_message"},
        {"type": "tool_result"},
        {"type": "batch", "messages": [{"message": 3}]},
    ):
        r = await sim.post(f"/sessions/{sid}/messages", bad)
        assert (r.status, r.body) == (400, {"detail": "Invalid message format"}), bad


async def test_message_wakes_idle_and_restarts_terminal(sim: Sim) -> None:
    created = []
    for i in range(6):
        r = await sim.post(
            "/sessions", {"agent": "h/web-surfer-flash", "messages": f"task {i}", "idle_timeout_s": 3600}
        )
        created.append(r.body["id"])
    sim.world.advance(1)
    idle = None
    for _ in range(300):
        states = {sid: (await status(sim, sid))["status"] for sid in created}
        idle = next((sid for sid, st in states.items() if st == "idle"), None)
        if idle:
            break
        sim.world.advance(10)
    assert idle is not None
    assert (await sim.post(f"/sessions/{idle}/messages", {"message": "one more thing"})).status == 202
    assert (await status(sim, idle))["status"] == "running"
    assert await advance_until(sim, idle, {"idle"} | TERMINAL) in {"idle"} | TERMINAL

    await sim.delete(f"/sessions/{idle}")
    assert (await status(sim, idle))["status"] == "interrupted"
    assert (await sim.post(f"/sessions/{idle}/messages", {"message": "restart please"})).status == 202
    restarted = await sim.get(f"/sessions/{idle}")
    assert restarted.body["status"]["status"] == "pending" and restarted.body["finished_at"] is None
    assert await advance_until(sim, idle, {"running"}) == "running"
    assert "message_event" in kinds(sim, idle)[-8:]


async def test_cancel_cascades_to_live_descendants(sim: Sim) -> None:
    sim.world.sync()
    live = {s.id for s in sim.world.all_sessions() if not s.terminal}
    parent = next(s for s in sim.world.all_sessions() if s.id in live and live & set(s.children))
    active_before = sim.world.active_count()
    r = await sim.delete(f"/sessions/{parent.id}")
    assert r.status == 204 and r.text == ""
    body = (await sim.get(f"/sessions/{parent.id}")).body
    assert body["status"]["status"] == "interrupted" and body["finished_at"]
    assert [e.type for e in parent.events][-1] == "AgentCompletionEvent"
    stack = list(parent.children)
    while stack:
        child = sim.world.get(stack.pop())
        assert child is not None and child.terminal and child.finished_at is not None
        stack += child.children
    assert sim.world.active_count() < active_before
    again = await sim.delete(f"/sessions/{parent.id}")  # terminal: a no-op 204
    assert again.status == 204
    assert (await status(sim, parent.id))["status"] == "interrupted"


async def test_force_answer_answers_after_children(sim: Sim) -> None:
    sim.world.sync()
    manager = next(
        s
        for s in sim.world.all_sessions()
        if s.status == "running" and s.children and s.profile.idle_timeout_s is None
    )
    r = await sim.post(f"/sessions/{manager.id}/force_answer")
    assert r.status == 202 and r.text == ""
    assert kinds(sim, manager.id)[-1] == "flow_event"
    final = await advance_until(sim, manager.id, TERMINAL, step=1)
    assert final == "completed"
    body = (await sim.get(f"/sessions/{manager.id}")).body
    assert body["latest_answer"] is not None and body["status"]["outcome"] in {"partial", "success"}
    for cid in manager.children:
        child = sim.world.get(cid)
        assert child is not None and child.terminal
        assert child.finished_at <= manager.finished_at  # type: ignore[operator]
