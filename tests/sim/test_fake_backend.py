"""FakeBackend: the simulator answering in-process, the same as over loopback, plus its hooks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agp_tui.api import AgpClient, AiohttpBackend, HttpxBackend, RetryPolicy
from agp_tui.api.backend import RawResponse
from agp_tui.api.errors import AuthError, BadResponse, NotFound, RateLimited, ServerError, Unreachable
from agp_tui.sim.fake_backend import Call, FakeBackend, Patch, sid_of, status_of
from agp_tui.sim.server import SimServer
from agp_tui.sim.ticks import Finish, Step

MODEL = "holo3-1-35b-a3b"
A, B, C = sid_of(1), sid_of(2), sid_of(3)


def world_of_three(fake: FakeBackend) -> None:
    fake.pin(A, agent="acme/manager", status="running", steps=3, usage=[(MODEL, 3000, 300, 0)],
             started=-60)
    fake.pin(B, parent=A, status="completed", steps=2, usage=[(MODEL, 500, 50, 0)], answer="done",
             created=-30, finished=-5)
    fake.pin(C, status="exploded", created=-10)  # a status the client has never heard of


@pytest.fixture
def fake() -> FakeBackend:
    backend = FakeBackend()
    world_of_three(backend)
    return backend


@pytest.fixture(params=["httpx", "aiohttp"])
async def over_loopback(request: pytest.FixtureRequest, fake: FakeBackend) -> AsyncIterator[AgpClient]:
    """A client of the same World and hooks, over a socket, through either real backend."""
    server = SimServer(fake.world, api_keys=fake.api_keys, middlewares=[fake.middleware()])
    await server.start()
    backend = HttpxBackend() if request.param == "httpx" else AiohttpBackend()
    client = AgpClient(server.base_url, fake.api_keys[0], backend=backend, retry=RetryPolicy.off())
    try:
        yield client
    finally:
        await client.aclose()
        await server.stop()


async def test_in_process_answers_are_the_loopback_answers(
    fake: FakeBackend, over_loopback: AgpClient,
) -> None:
    here = fake.client()
    for ask in (lambda c: c.get_status(A), lambda c: c.get_session(B), lambda c: c.get_status(C),
                lambda c: c.list_children(A), lambda c: c.get_changes(B, from_index=0),
                lambda c: c.get_quota()):
        assert await ask(here) == await ask(over_loopback)
    with pytest.raises(NotFound):
        await here.get_status(sid_of(99))
    with pytest.raises(NotFound):
        await over_loopback.get_status(sid_of(99))


async def test_pinned_state_is_what_the_api_says(fake: FakeBackend) -> None:
    client = fake.client()
    a, b, c = await client.get_status(A), await client.get_session(B), await client.get_status(C)
    assert (a.status, a.steps, a.subagent_session_ids) == ("running", 3, (B,))
    assert a.usage_per_model[0].input_tokens == 3000
    assert b.status.status == "completed" and b.latest_answer == "done" and b.parent_session_id == A
    assert b.finished_at is not None and b.started_at is not None and b.finished_at > b.started_at
    assert c.status == "exploded"
    changes = await client.get_changes(B, from_index=0)
    assert changes.metrics is not None and changes.metrics.steps == 2  # events agree with counters
    assert changes.metrics.total_cost is not None and changes.metrics.total_cost > 0


async def test_step_and_set_move_a_session_and_wake_a_long_poll(fake: FakeBackend) -> None:
    client = fake.client()
    cursor = await client.count_events(A)
    held = asyncio.create_task(client.get_changes(A, from_index=cursor, wait_for_seconds=20))
    await asyncio.sleep(0.05)
    assert not held.done()  # nothing new: the World holds it (a manual clock never ticks)
    fake.step(A, usage=[(MODEL, 1000, 100, 0)])
    changes = await asyncio.wait_for(held, 2)
    assert changes.new_events and changes.metrics is not None and changes.metrics.steps == 4
    fake.set(A, status="failed", error="boom", error_code="internal")
    st = await client.get_status(A)
    assert (st.status, st.error, st.error_code, st.steps) == ("failed", "boom", "internal", 4)
    assert st.usage_per_model[0].input_tokens == 4000


async def test_plan_plays_ticks_as_the_clock_reaches_them(fake: FakeBackend) -> None:
    usage = (MODEL, 10, 1, 0)  # flat: model, in, out, reasoning
    fake.plan(A, [Step(1.0, usage, 0, 0, False), Finish(2.0, "completed")])
    client = fake.client()
    assert (await client.get_status(A)).steps == 3
    fake.world.advance(1)
    assert (await client.get_status(A)).steps == 4
    fake.world.advance(1)
    assert (await client.get_status(A)).status == "completed"


async def test_faults_match_by_kind_and_session_in_order_and_heal(fake: FakeBackend) -> None:
    client = fake.client()
    fake.fail(503, kind="status", session=A, times=1)
    refused = fake.fail(401)
    with pytest.raises(ServerError):
        await client.get_status(A)  # the first matching fault, once
    with pytest.raises(AuthError) as info:
        await client.get_status(B)
    assert info.value.message == "Unauthorized"  # the gateway's shape
    fake.heal(refused)
    assert (await client.get_status(A)).status == "running"
    assert fake.calls["status"] == 3 and fake.per_session[A] == 2 and fake.faults == []


async def test_a_function_may_answer_or_let_the_world_answer(fake: FakeBackend) -> None:
    seen: list[Call] = []

    def only_b(call: Call) -> RawResponse | None:
        seen.append(call)
        return RawResponse(200, {}, b"<html>maintenance</html>") if call.session == B else None

    fake.fail(only_b)
    client = fake.client()
    assert (await client.get_status(A)).steps == 3
    with pytest.raises(BadResponse):
        await client.get_status(B)
    assert [c.session for c in seen] == [A, B] and seen[0].kind == "status"
    assert seen[0].path == f"/sessions/{A}/status"


async def test_patch_edits_the_worlds_answer(fake: FakeBackend) -> None:
    def cached(body: Any) -> None:
        for usage in status_of(body)["usage_per_model"]:
            usage["cached_tokens"] = 7

    fake.fail(Patch(cached), session=A)
    client = fake.client()
    assert (await client.get_status(A)).usage_per_model[0].cached_tokens == 7
    assert (await client.get_session(A)).status.usage_per_model[0].cached_tokens == 7
    assert (await client.get_status(B)).usage_per_model[0].cached_tokens is None


async def test_name_children_adds_ids_the_world_lacks(fake: FakeBackend) -> None:
    fake.name_children(A, sid_of(77))
    assert (await fake.client().get_status(A)).subagent_session_ids == (B, sid_of(77))


async def test_hold_delay_and_timeout(fake: FakeBackend) -> None:
    client = fake.client()
    gate = fake.hold(A)
    held = asyncio.create_task(client.get_status(A))
    assert (await client.get_status(B)).status == "completed"  # others are not held
    await asyncio.sleep(0.02)
    assert not held.done() and fake.in_flight[A] == 1
    gate.set()
    assert (await asyncio.wait_for(held, 2)).status == "running"
    fake.delay = 5.0
    with pytest.raises(Unreachable, match="no complete answer within"):
        await fake.client(timeout=0.1).get_status(A)


async def test_concurrent_requests_per_session_are_counted(fake: FakeBackend) -> None:
    fake.delay = 0.02
    client = fake.client()
    await asyncio.gather(client.get_status(A), client.get_status(A), client.get_status(B))
    assert fake.max_overlap == 2 and fake.per_session[A] == 2


async def test_over_loopback_a_raised_fault_is_a_dropped_connection(
    fake: FakeBackend, over_loopback: AgpClient,
) -> None:
    fake.offline()
    with pytest.raises(Unreachable):
        await over_loopback.get_status(A)
    fake.heal()
    before = fake.calls["status"]  # (aiohttp retries a dropped keep-alive connection once)
    fake.fail(429, headers={"Retry-After": "3"}, times=1)
    with pytest.raises(RateLimited) as info:
        await over_loopback.get_status(A)
    assert info.value.retry_after == 3.0
    assert (await over_loopback.get_status(A)).status == "running"
    assert fake.calls["status"] == before + 2  # the middleware records what the socket carried
