"""Fidelity: the official `hai-agents` SDK talks to the simulator and every response
validates into the SDK's own pydantic models, with no field the models do not know."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pydantic
import pytest
from hai_agents.base_client import AsyncBaseClient
from hai_agents.core.api_error import ApiError
from hai_agents.errors import UnprocessableEntityError
from hai_agents.polling import SETTLED_SESSION_STATUSES, async_wait_for_session
from hai_agents.types import SessionEventZero, ShareLink
from sim_helpers import EPOCH, make_world

from agp_tui.sim import DEMO_API_KEY, RealClock, SimServer, World
from agp_tui.sim.events import render


def assert_known_fields(value: Any, path: str = "$") -> None:
    """Recursively: no pydantic model in the response carries an unknown (extra) field."""
    if isinstance(value, pydantic.BaseModel):
        extra = value.model_extra or {}
        assert not extra, f"{path} ({type(value).__name__}) has unknown fields {sorted(extra)}"
        for name in type(value).model_fields:
            assert_known_fields(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            assert_known_fields(item, f"{path}[{i}]")


def client_for(server: SimServer, http: httpx.AsyncClient) -> AsyncBaseClient:
    # The SDK appends /api/v2/... itself; no retries so an error surfaces at once.
    return AsyncBaseClient(base_url=server.origin, api_key=DEMO_API_KEY, max_retries=0, httpx_client=http)


@pytest.fixture
async def sdk() -> AsyncIterator[tuple[AsyncBaseClient, World]]:
    world = make_world(seed=12, sessions=40)
    async with SimServer(world, long_poll_cap=5) as server, httpx.AsyncClient(timeout=10) as http:
        yield client_for(server, http), world


async def test_reads_validate_into_sdk_models(sdk: tuple[AsyncBaseClient, World]) -> None:
    client, world = sdk
    world.advance(900)
    page = await client.sessions.list_sessions(status=["running", "completed", "failed"], size=100)
    assert page.items and page.total >= len(page.items)
    assert_known_fields(page)
    for summary in page.items[:15]:
        session = await client.sessions.get_session(summary.id)
        assert_known_fields(session)
        assert session.status.status == summary.status
        status = await client.sessions.get_session_status(summary.id)
        assert_known_fields(status)
        changes = await client.sessions.get_session_changes(summary.id, from_index=0)
        assert changes is not None
        assert_known_fields(changes)
        for event in changes.new_events or []:
            # Typed variants, not the generic TrajectoryEvent fallback.
            assert type(event).__name__.startswith("SessionEventZero_"), event
        cursor = len(changes.new_events or [])
        drained = await client.sessions.get_session_changes(summary.id, from_index=cursor, wait_for_seconds=0)
        assert drained is None  # 204
        events = await client.sessions.list_session_events(summary.id, size=200)
        assert_known_fields(events)
        assert events.total == cursor
    quota = await client.sessions.get_session_quota()
    assert_known_fields(quota)
    assert quota.available == quota.limit - quota.active


async def test_writes_succeed_through_the_sdk(sdk: tuple[AsyncBaseClient, World]) -> None:
    client, world = sdk
    created = await client.sessions.create_session(
        agent="h/web-surfer", messages="Find flights", max_steps=30, idempotency_key="sdk-1"
    )
    assert_known_fields(created)
    assert created.status.status == "pending"
    world.advance(30)
    sid = created.id
    assert (await client.sessions.get_session_status(sid)).status == "running"
    await client.sessions.pause_session(sid)
    assert (await client.sessions.get_session_status(sid)).status == "paused"
    await client.sessions.resume_session(sid)
    await client.sessions.resume_session(sid)  # no-op on running
    await client.sessions.send_session_messages(sid, request={"type": "user_message", "message": "faster"})
    share = await client.sessions.share_session(sid)
    assert isinstance(share, ShareLink) and share.share_url.endswith(sid)
    await client.sessions.unshare_session(sid)
    await client.sessions.force_session_answer(sid)
    await client.sessions.cancel_session(sid)
    final = await client.sessions.get_session(sid)
    assert final.status.status in ("interrupted", "completed") and final.finished_at is not None
    await client.sessions.cancel_session(sid)  # terminal: still fine
    trail = await client.sessions.get_session_changes(sid, from_index=0)
    assert trail is not None
    assert_known_fields(trail)
    types = [e.type for e in trail.new_events or []]
    assert all(type(e).__name__.startswith("SessionEventZero_") for e in trail.new_events or [])
    assert "AgentRunStatusChangeEvent" in types and types[-1] == "AgentCompletionEvent"


async def test_errors_map_onto_sdk_errors(sdk: tuple[AsyncBaseClient, World]) -> None:
    client, _ = sdk
    with pytest.raises(UnprocessableEntityError) as bad_id:
        await client.sessions.get_session("not-a-uuid")
    assert bad_id.value.body.detail[0].loc == ["path", "id"]  # parsed as HTTPValidationError
    with pytest.raises(ApiError) as missing:
        await client.sessions.get_session_status("00000000-0000-4000-8000-000000000000")
    assert missing.value.status_code == 404 and missing.value.body == {"detail": "Session not found"}
    with pytest.raises(UnprocessableEntityError):
        await client.sessions.get_session_changes("00000000-0000-4000-8000-000000000000", wait_for_seconds=60)


async def test_sdk_wait_loop_settles_a_session_in_a_fast_world() -> None:
    world = World(seed=2, sessions=0, clock=RealClock(speed=400), start_epoch=EPOCH, arrival_interval_s=0)
    async with SimServer(world) as server, httpx.AsyncClient(timeout=10) as http:
        client = client_for(server, http)
        created = await client.sessions.create_session(
            agent="h/web-surfer-flash", messages="Top 3 HN stories"
        )
        # The helper is typed for the full AsyncClient; the base client has the same surface.
        result = await async_wait_for_session(
            cast(Any, client), created.id, wait_for_seconds=2, timeout_seconds=20
        )
    assert result.status in SETTLED_SESSION_STATUSES
    assert result.events and result.events[0].type == "RequestStartEvent"
    if result.status == "completed":
        assert result.answer is not None and result.outcome is not None
    if result.status in ("failed", "timed_out"):
        assert result.error_code is not None


def test_every_event_the_world_emits_is_a_typed_sdk_event() -> None:
    # Rarer events (pauses, tool waits, errors, idle turns) need a big, long-running sample.
    world = make_world(seed=30, sessions=150, arrival_interval_s=30)
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(SessionEventZero)
    seen: set[str] = set()
    for _ in range(3):
        world.advance(1800)
        world.sync()
    for s in world.all_sessions():
        for e in s.events:
            event = adapter.validate_python(render(e, world.epoch))
            assert_known_fields(event)
            kind = getattr(event.data, "kind", None)
            seen.add(f"{event.type}:{kind}" if kind else event.type)
    assert seen >= {
        "RequestStartEvent",
        "RequestStartDispatchedEvent",
        "AgentStartedEvent",
        "ActiveStateChangeEvent",
        "AgentEvent:policy_event",
        "AgentEvent:answer_event",
        "AgentEvent:message_event",
        "AgentEvent:flow_event",
        "AgentEvent:observation_event",  # what a web agent saw (url, title, page text)
        "AgentEvent:error_event",  # the step that failed, before AgentErrorEvent
        "MetricsUpdateEvent",
        "AgentRunStatusChangeEvent",
        "AgentCompletionEvent",
        "AgentErrorEvent",
    }, seen
