"""`POST /sessions`: shape, echo, validation, idempotency, parent links, quota and queueing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from sim_helpers import AUTH, Sim, make_world

from agp_tui.sim import SimServer
from agp_tui.sim.catalog import TERMINAL

TASK = {"agent": "h/web-surfer-flash", "messages": "Top 3 stories on Hacker News?"}


@pytest.fixture
async def tiny() -> AsyncIterator[Sim]:
    """An empty world with a quota of 2, to reach the limit on purpose."""
    world = make_world(sessions=0, quota_limit=2)
    async with SimServer(world) as server, aiohttp.ClientSession() as http:
        yield Sim(server, world, http)


async def test_create_returns_a_pending_session(sim: Sim) -> None:
    before = len(sim.world)
    r = await sim.post("/sessions", {**TASK, "max_steps": 40, "group_id": "nightly-batch-9"})
    assert r.status == 201
    body = r.body
    assert body["status"] == {
        "status": "pending",
        "error": None,
        "error_code": None,
        "outcome": None,
        "steps": 0,
        "usage_per_model": [],
        "subagent_session_ids": [],
    }
    assert body["request"] == {
        "agent": "h/web-surfer-flash",
        "messages": [
            {"type": "user_message", "message": TASK["messages"], "images": [], "caller_id": "user"}
        ],
        "max_steps": 40,
        "max_time_s": None,
        "idle_timeout_s": None,
        "group_id": "nightly-batch-9",
        "parent_session_id": None,
        "overrides": {},
    }
    assert body["started_at"] is None and body["finished_at"] is None and body["latest_answer"] is None
    assert body["agent_view_url"].endswith(body["id"])
    assert len(sim.world) == before + 1
    listed = await sim.get("/sessions", {"group_id": "nightly-batch-9"})
    assert [i["id"] for i in listed.body["items"]] == [body["id"]]
    sim.world.advance(60)
    assert (await sim.get(f"/sessions/{body['id']}/status")).body["status"] != "pending"


async def test_message_forms_are_normalised(sim: Sim) -> None:
    one = {"type": "user_message", "message": "hi", "images": ["data:image/png;base64,AAAA"]}
    for messages, texts in ((one, ["hi"]), ([{"message": "a"}, {"message": "b"}], ["a", "b"]), (None, [])):
        r = await sim.post("/sessions", {"agent": "fast-searcher", "messages": messages})
        assert r.status == 201
        echoed = r.body["request"]["messages"]
        assert [m["message"] for m in echoed] == texts
        assert all(m["type"] == "user_message" and m["caller_id"] == "user" for m in echoed)


async def test_validation_errors_use_the_fastapi_list_shape(sim: Sim) -> None:
    cases = [
        ({"messages": "x"}, ["body", "agent"], "missing"),
        ({**TASK, "surprise": 1}, ["body", "surprise"], "extra_forbidden"),
        ({**TASK, "max_steps": 0}, ["body", "max_steps"], "greater_than"),
        ({**TASK, "max_time_s": -1}, ["body", "max_time_s"], "greater_than"),
        ({**TASK, "queue": "maybe"}, ["body", "queue"], "bool_type"),
        (
            {**TASK, "messages": [{"text": "no message key"}]},
            ["body", "messages", 0, "text"],
            "extra_forbidden",
        ),
        ([TASK], ["body"], "model_attributes_type"),
    ]
    for body, loc, type_ in cases:
        r = await sim.post("/sessions", body)
        assert r.status == 422, body
        assert any(e["loc"] == loc and e["type"] == type_ for e in r.body["detail"]), r.body
        assert all({"type", "loc", "msg", "input"} <= set(e) for e in r.body["detail"])
    async with sim.http.post(
        sim.server.base_url + "/sessions",
        data=b"{not json",
        headers={**AUTH, "Content-Type": "application/json"},
    ) as raw:
        assert raw.status == 422
        assert (await raw.json())["detail"][0]["type"] == "json_invalid"


async def test_idempotency_key(sim: Sim) -> None:
    key = {**AUTH, "Idempotency-Key": "run-42"}
    first = await sim.post("/sessions", TASK, headers=key)
    count = len(sim.world)
    sim.world.advance(30)
    replay = await sim.post("/sessions", TASK, headers=key)
    assert (replay.status, replay.body) == (201, first.body)  # the original, still "pending"
    assert len(sim.world) == count
    clash = await sim.post("/sessions", {**TASK, "max_steps": 5}, headers=key)
    assert clash.status == 422 and isinstance(clash.body["detail"], str)
    blank = await sim.post("/sessions", TASK, headers={**AUTH, "Idempotency-Key": "  "})
    assert (blank.status, blank.body) == (422, {"detail": "Idempotency-Key must not be blank"})
    other = await sim.post("/sessions", TASK, headers={**AUTH, "Idempotency-Key": "run-43"})
    assert other.status == 201 and other.body["id"] != first.body["id"]


async def test_parent_links_both_ways(sim: Sim) -> None:
    parent = (await sim.post("/sessions", {"agent": "acme/research-manager", "messages": "plan"})).body
    child = await sim.post(
        "/sessions",
        {"agent": "fast-searcher", "messages": "search", "parent_session_id": parent["id"].upper()},
    )
    assert child.status == 201
    assert child.body["request"]["parent_session_id"] == parent["id"]
    status = (await sim.get(f"/sessions/{parent['id']}/status")).body
    assert child.body["id"] in status["subagent_session_ids"]
    roster = await sim.get("/sessions", {"parent_session_id": parent["id"]})
    assert child.body["id"] in {i["id"] for i in roster.body["items"]}
    orphan = await sim.post("/sessions", {**TASK, "parent_session_id": "0" * 32})
    assert (orphan.status, orphan.body) == (404, {"detail": "Parent session not found"})


async def test_max_steps_is_honoured(sim: Sim) -> None:
    ids = [(await sim.post("/sessions", {**TASK, "max_steps": 3})).body["id"] for _ in range(4)]
    sim.world.advance(3600)
    for sid in ids:
        st = (await sim.get(f"/sessions/{sid}/status")).body
        assert st["status"] in TERMINAL and st["steps"] <= 3


async def test_quota_limit_gives_429_or_queues(tiny: Sim) -> None:
    for _ in range(2):
        assert (await tiny.post("/sessions", TASK)).status == 201
    quota = (await tiny.get("/sessions/quota")).body
    assert quota == {"scope": "user", "limit": 2, "active": 2, "available": 0}
    refused = await tiny.post("/sessions", {**TASK, "queue": False})
    assert (refused.status, refused.body) == (429, {"detail": "Concurrent trajectory limit reached (2/2)"})
    queued = await tiny.post("/sessions", TASK)  # queue defaults to true
    assert queued.status == 201 and queued.body["status"]["status"] == "queued"
    tiny.world.advance(5)
    assert (await tiny.get(f"/sessions/{queued.body['id']}/status")).body["status"] == "queued"
    first = tiny.world.all_sessions()[0]
    assert (await tiny.delete(f"/sessions/{first.id}")).status == 204
    tiny.world.advance(30)  # the freed slot goes to the queued session
    assert (await tiny.get(f"/sessions/{queued.body['id']}/status")).body["status"] != "queued"
