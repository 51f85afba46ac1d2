"""The default aiohttp backend against a tiny real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from api_payloads import KEY, SID, STATUS_RUNNING

from agp_tui.api import (
    AgpClient,
    AiohttpBackend,
    AuthError,
    NotFound,
    RateLimited,
    RetryPolicy,
    SessionSummary,
    Unreachable,
)

seen: list[web.Request] = []
bodies: list[object] = []


def _authorized(request: web.Request) -> bool:
    return request.headers.get("Authorization") == f"Bearer {KEY}"


async def status(request: web.Request) -> web.Response:
    seen.append(request)
    if not _authorized(request):
        return web.json_response({"message": "Unauthorized"}, status=401)
    if request.match_info["sid"] != SID:
        return web.json_response({"detail": "Session not found"}, status=404)
    return web.json_response(STATUS_RUNNING)


async def changes(request: web.Request) -> web.Response:
    seen.append(request)
    return web.Response(status=204, headers={"ETag": request.query["from_index"]})


async def sessions(request: web.Request) -> web.Response:
    seen.append(request)
    items = [{"id": SID, "status": s, "created_at": "2026-06-11T09:12:03Z"}
             for s in request.query.getall("status")]
    return web.json_response({"items": items, "page": 1, "total": len(items)})


async def quota(request: web.Request) -> web.Response:
    seen.append(request)
    return web.json_response({"detail": "slow down"}, status=429, headers={"Retry-After": "3"})


async def message(request: web.Request) -> web.Response:
    seen.append(request)
    bodies.append(json.loads(await request.read()))
    return web.Response(status=202)


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(0.5)
    return web.json_response(STATUS_RUNNING)


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    seen.clear()
    bodies.clear()
    app = web.Application()
    app.router.add_get("/api/v2/sessions/quota", quota)
    app.router.add_get("/api/v2/sessions", sessions)
    app.router.add_get("/api/v2/sessions/{sid}/status", status)
    app.router.add_get("/api/v2/sessions/{sid}/changes", changes)
    app.router.add_post("/api/v2/sessions/{sid}/messages", message)
    app.router.add_get("/slow/api/v2/sessions/{sid}/status", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/api/v2"
    finally:
        await runner.cleanup()


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[AgpClient]:
    c = AgpClient(base_url, KEY, retry=RetryPolicy.off())  # no backend given: aiohttp by default
    assert isinstance(c._backend, AiohttpBackend)
    try:
        yield c
    finally:
        await c.aclose()


async def test_status_over_real_http(client: AgpClient) -> None:
    st = await client.get_status(SID.upper())
    assert st.status == "running" and st.steps == 7
    assert st.usage_per_model[0].input_tokens == 12400
    (req,) = seen
    assert req.method == "GET"
    assert req.path == f"/api/v2/sessions/{SID}/status"
    assert req.headers["Accept"] == "application/json"


async def test_changes_204_is_none(client: AgpClient) -> None:
    assert await client.get_changes(SID, 9, wait_for_seconds=0, include_events=False) is None
    (req,) = seen
    assert list(req.query.items()) == [
        ("from_index", "9"), ("wait_for_seconds", "0"), ("include_events", "false")]


async def test_repeated_query_keys_survive(client: AgpClient) -> None:
    page = await client.list_sessions(status=["running", "idle"], size=250)
    assert [s.status for s in page.items] == ["running", "idle"]
    assert all(isinstance(s, SessionSummary) for s in page.items)
    (req,) = seen
    assert req.query.getall("status") == ["running", "idle"]
    assert req.query["size"] == "100"


async def test_json_body_is_sent(client: AgpClient) -> None:
    await client.send_message(SID, "héllo")
    (req,) = seen
    assert req.method == "POST"
    assert req.content_type == "application/json"
    assert req.path == f"/api/v2/sessions/{SID}/messages"
    assert bodies == [{"type": "user_message", "message": "héllo"}]


async def test_error_mapping_and_headers(client: AgpClient) -> None:
    with pytest.raises(NotFound) as info:
        await client.get_status("0b7c1d2e-4f5a-4b6c-8d9e-0f1a2b3c4d5e")
    assert info.value.message == "Session not found"
    with pytest.raises(RateLimited) as rl:
        await client.get_quota()
    assert rl.value.retry_after == 3.0


async def test_gateway_401_over_real_http(base_url: str) -> None:
    async with AgpClient(base_url, "hk-wrong-key-000000000000", retry=RetryPolicy.off()) as c:
        with pytest.raises(AuthError) as info:
            await c.get_status(SID)
    assert info.value.status == 401
    assert info.value.message == "Unauthorized"


async def test_timeout_is_unreachable(base_url: str) -> None:
    async with AgpClient(base_url.replace("/api/v2", "/slow/api/v2"), KEY,
                         retry=RetryPolicy.off(), timeout=0.1) as c:
        with pytest.raises(Unreachable) as info:
            await c.get_status(SID)
    assert KEY not in str(info.value)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_connection_refused_is_unreachable() -> None:
    async with AgpClient(f"http://127.0.0.1:{_free_port()}/api/v2", KEY, retry=RetryPolicy.off()) as c:
        with pytest.raises(Unreachable) as info:
            await c.get_status(SID)
    err = info.value
    assert err.retryable and err.status is None
    assert KEY not in str(err) and KEY not in repr(err)


async def test_backend_closes_only_what_it_owns(base_url: str) -> None:
    owned = AiohttpBackend()
    async with AgpClient(base_url, KEY, backend=owned, retry=RetryPolicy.off()) as c:
        await c.get_status(SID)
        session = owned._session
        assert session is not None and not session.closed
    assert session.closed

    async with aiohttp.ClientSession() as shared:
        async with AgpClient(base_url, KEY, backend=AiohttpBackend(shared), retry=RetryPolicy.off()) as c:
            await c.get_status(SID)
        assert not shared.closed

