"""Read routes over real HTTP: list, retrieve, status, events, quota, auth and error shapes."""

from __future__ import annotations

import uuid

import aiohttp
from sim_helpers import AUTH, EPOCH, Sim, make_world

from agp_tui.sim import SimServer
from agp_tui.sim.clock import iso

UNKNOWN = str(uuid.UUID(int=12345, version=4))


def first_top_level(sim: Sim) -> str:
    return next(s.id for s in sim.world.all_sessions() if s.parent_id is None)


async def test_auth_missing_or_wrong_key_is_a_gateway_401(sim: Sim) -> None:
    for headers in ({}, {"Authorization": "Bearer hk-wrong"}, {"Authorization": "Basic abc"}):
        for path in ("/sessions", "/sessions/quota", f"/sessions/{UNKNOWN}/status"):
            r = await sim.get(path, headers=headers)
            assert r.status == 401
            assert r.body == {"message": "Unauthorized"}
    r = await sim.post("/sessions", {"agent": "x"}, headers={})
    assert r.status == 401


async def test_other_keys_can_be_accepted() -> None:
    async with (
        SimServer(make_world(sessions=2), api_keys=["hk-a", "hk-b"]) as srv,
        aiohttp.ClientSession() as http,
    ):
        for key, status in (("hk-a", 200), ("hk-b", 200), ("hk-demo-0000000000000000", 401)):
            async with http.get(srv.base_url + "/sessions", headers={"Authorization": f"Bearer {key}"}) as r:
                assert r.status == status


async def test_unknown_and_malformed_ids(sim: Sim) -> None:
    r = await sim.get(f"/sessions/{UNKNOWN}")
    assert (r.status, r.body) == (404, {"detail": "Session not found"})
    for suffix in ("", "/status", "/changes", "/events"):
        r = await sim.get(f"/sessions/not-a-uuid{suffix}")
        assert r.status == 422
        (error,) = r.body["detail"]
        assert error["loc"] == ["path", "id"] and error["type"] == "uuid_parsing"
        assert {"msg", "input"} <= set(error)
    for verb in ("pause", "resume", "force_answer", "share"):
        r = await sim.post(f"/sessions/{UNKNOWN}/{verb}")
        assert (r.status, r.body) == (404, {"detail": "Session not found"})
    r = await sim.delete(f"/sessions/{UNKNOWN}")
    assert r.status == 404
    r = await sim.get("/nowhere")
    assert (r.status, r.body) == (404, {"detail": "Not Found"})


async def test_list_shape_default_sort_and_paging(sim: Sim) -> None:
    r = await sim.get("/sessions")
    assert r.status == 200
    assert set(r.body) == {"items", "page", "total"}
    assert r.body["page"] == 1 and len(r.body["items"]) == 10
    total = r.body["total"]
    assert total == len(sim.world)
    item = r.body["items"][0]
    assert set(item) == {
        "id",
        "agent",
        "status",
        "agent_view_url",
        "first_message",
        "created_at",
        "started_at",
        "finished_at",
        "anonymized_at",
    }
    assert isinstance(item["status"], str)
    assert item["created_at"].endswith("Z")
    created = [i["created_at"] for i in r.body["items"]]
    assert created == sorted(created, reverse=True)  # newest first by default
    asc = await sim.get("/sessions", [("sort", "created_at"), ("size", "100")])
    assert [i["created_at"] for i in asc.body["items"]] == sorted(i["created_at"] for i in asc.body["items"])
    seen: list[str] = []
    page = 1
    while True:
        r = await sim.get("/sessions", {"size": "7", "page": str(page)})
        seen += [i["id"] for i in r.body["items"]]
        if page * 7 >= r.body["total"]:
            break
        page += 1
    assert len(seen) == len(set(seen)) == total
    beyond = await sim.get("/sessions", {"page": "999"})
    assert beyond.body["items"] == [] and beyond.body["total"] == total


async def test_list_size_cap_and_bad_ints_are_422(sim: Sim) -> None:
    r = await sim.get("/sessions", {"size": "101"})
    assert r.status == 422
    (e,) = r.body["detail"]
    assert e["loc"] == ["query", "size"] and e["type"] == "less_than_equal" and e["input"] == "101"
    assert (await sim.get("/sessions", {"size": "100"})).status == 200
    for params in (
        {"size": "0"},
        {"page": "0"},
        {"page": "abc"},
        {"status": "bogus"},
        {"sort": "name"},
        {"created_after": "yesterday"},
    ):
        r = await sim.get("/sessions", params)
        assert r.status == 422, params
        assert r.body["detail"][0]["loc"][:2] == ["query", next(iter(params))]


async def test_list_filters(sim: Sim) -> None:
    sim.world.advance(120)
    sim.world.sync()
    sessions = sim.world.all_sessions()
    wanted = [("status", "running"), ("status", "completed"), ("size", "100")]
    expected = {s.id for s in sessions if s.status in ("running", "completed")}
    got: set[str] = set()
    for page in range(1, 20):
        r = await sim.get("/sessions", [*wanted, ("page", str(page))])
        assert r.body["total"] == len(expected)
        got |= {i["id"] for i in r.body["items"]}
        if page * 100 >= r.body["total"]:
            break
    assert got == expected
    agent = sessions[0].agent
    r = await sim.get("/sessions", {"agent": agent, "size": "100"})
    assert r.body["items"] and all(i["agent"] == agent for i in r.body["items"])
    parent = next(s for s in sessions if s.children)
    r = await sim.get("/sessions", {"parent_session_id": parent.id, "size": "100"})
    assert {i["id"] for i in r.body["items"]} == set(parent.children)
    grouped = next((s for s in sessions if s.group_id), None)
    if grouped is not None:
        r = await sim.get("/sessions", {"group_id": grouped.group_id, "size": "100"})
        assert grouped.id in {i["id"] for i in r.body["items"]}
    word = sessions[0].first_message["message"].split()[1].upper()  # type: ignore[index]
    r = await sim.get("/sessions", {"search": word, "size": "100"})
    assert sessions[0].id in {i["id"] for i in r.body["items"]}
    middle = sorted(s.created_at for s in sessions)[len(sessions) // 2]
    r = await sim.get("/sessions", {"created_after": iso(EPOCH + middle), "size": "100"})
    assert all(i["created_at"] > iso(EPOCH + middle) for i in r.body["items"])
    assert r.body["total"] == sum(1 for s in sessions if s.created_at > middle)
    r = await sim.get("/sessions", {"created_before": iso(EPOCH + middle), "size": "100"})
    assert r.body["total"] == sum(1 for s in sessions if s.created_at < middle)


async def test_retrieve_has_nested_status_and_request_echo(sim: Sim) -> None:
    sid = first_top_level(sim)
    r = await sim.get(f"/sessions/{sid}")
    assert r.status == 200
    body = r.body
    assert set(body) == {
        "id",
        "request",
        "status",
        "agent_view_url",
        "latest_answer",
        "created_at",
        "started_at",
        "finished_at",
    }
    assert body["agent_view_url"] == f"https://platform.eu.hcompany.ai/agent-view/{sid}"
    assert isinstance(body["status"], dict) and body["status"]["status"] in {
        "queued",
        "pending",
        "running",
        "paused",
        "idle",
        "awaiting_tool_results",
        "completed",
        "failed",
        "timed_out",
        "interrupted",
    }
    assert body["request"]["agent"] and body["request"]["messages"][0]["type"] == "user_message"
    assert body["request"]["parent_session_id"] is None
    s = sim.world.get(sid)
    assert s is not None and (body["finished_at"] is not None) == s.terminal


async def test_status_is_small_and_tracks_the_world(sim: Sim) -> None:
    sid = sim.running_top_level()[0]
    r = await sim.get(f"/sessions/{sid}/status")
    assert set(r.body) == {
        "status",
        "error",
        "error_code",
        "outcome",
        "steps",
        "usage_per_model",
        "subagent_session_ids",
    }
    steps = r.body["steps"]
    for row in r.body["usage_per_model"]:
        assert set(row) == {"name", "input_tokens", "output_tokens", "reasoning_tokens"}
    sim.world.advance(300)  # longer than any single (even slow) step
    later = await sim.get(f"/sessions/{sid}/status")
    assert later.body["steps"] > steps or later.body["status"] != "running"


async def test_quota(sim: Sim) -> None:
    r = await sim.get("/sessions/quota")
    assert r.status == 200
    body = r.body
    assert body["scope"] == "user" and body["limit"] == sim.world.quota_limit
    assert body["active"] == sim.world.active_count() > 0
    assert body["available"] == body["limit"] - body["active"]


async def test_events_paging_sort_and_type_filter(sim: Sim) -> None:
    sim.world.advance(600)
    sid = max(sim.world.all_sessions(), key=lambda s: len(s.events)).id
    r = await sim.get(f"/sessions/{sid}/events")
    assert set(r.body) == {"items", "page", "total"} and len(r.body["items"]) == min(50, r.body["total"])
    total = r.body["total"]
    assert r.body["items"][0]["type"] == "RequestStartEvent"
    for e in r.body["items"]:
        assert set(e) == {"type", "data", "timestamp"} and e["timestamp"].endswith("Z")
    stamps = [e["timestamp"] for e in r.body["items"]]
    assert stamps == sorted(stamps)
    desc = await sim.get(f"/sessions/{sid}/events", {"sort": "-timestamp", "size": "200"})
    assert desc.body["items"][-1]["type"] == "RequestStartEvent"
    metrics = await sim.get(f"/sessions/{sid}/events", {"type": "MetricsUpdateEvent", "size": "5"})
    assert metrics.body["total"] < total
    assert all(e["type"] == "MetricsUpdateEvent" for e in metrics.body["items"])
    assert "total_cost" in metrics.body["items"][0]["data"]["metrics"]
    page2 = await sim.get(f"/sessions/{sid}/events", {"size": "3", "page": "2"})
    all_events = await sim.get(f"/sessions/{sid}/events", {"size": "200"})
    assert page2.body["items"] == all_events.body["items"][3:6]
    for params in ({"size": "201"}, {"size": "0"}, {"page": "0"}, {"sort": "time"}):
        assert (await sim.get(f"/sessions/{sid}/events", params)).status == 422


async def test_share_makes_reads_public(sim: Sim) -> None:
    sid = first_top_level(sim)
    assert (await sim.get(f"/sessions/{sid}/status", headers={})).status == 401
    r = await sim.post(f"/sessions/{sid}/share")
    assert (r.status, r.body) == (200, {"share_url": f"/share/api/v1/trajectories/{sid}"})
    for suffix in ("", "/status", "/events", "/changes"):
        assert (await sim.get(f"/sessions/{sid}{suffix}", headers={})).status in (200, 204)
    assert (await sim.post(f"/sessions/{sid}/pause", headers={})).status == 401
    assert (await sim.get(f"/sessions/{sid}", headers={"Authorization": "Bearer nope"})).status == 401
    r = await sim.delete(f"/sessions/{sid}/share")
    assert r.status == 204 and r.text == ""
    assert (await sim.get(f"/sessions/{sid}/status", headers={})).status == 401
    assert (await sim.get(f"/sessions/{sid}/status", headers=AUTH)).status == 200
