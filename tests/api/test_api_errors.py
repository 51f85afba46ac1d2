"""HTTP answers and transport failures map onto the small error family, never leaking the key."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from api_payloads import KEY, SID, TRANSPORT_FAILURES, reply, transport_failure

from agp_tui.api import (
    AgpClient,
    AgpError,
    AuthError,
    BadResponse,
    NotFound,
    RateLimited,
    RequestRejected,
    ServerError,
    Unreachable,
)
from agp_tui.api.errors import detail_text, error_for_status
from agp_tui.sim.fake_backend import FakeBackend

VALIDATION_422 = {
    "detail": [{"type": "missing", "loc": ["body", "agent"], "msg": "Field required", "input": {}}],
}

# Every call that can meet an error, each reading one session (or none).
CALLS: dict[str, Callable[[AgpClient], Awaitable[Any]]] = {
    "get_status": lambda c: c.get_status(SID),
    "get_session": lambda c: c.get_session(SID),
    "list_sessions": lambda c: c.list_sessions(),
    "get_changes": lambda c: c.get_changes(SID),
    "get_quota": lambda c: c.get_quota(),
    "pause": lambda c: c.pause(SID),
    "resume": lambda c: c.resume(SID),
    "force_answer": lambda c: c.force_answer(SID),
    "cancel": lambda c: c.cancel(SID),
    "send_message": lambda c: c.send_message(SID, "hi"),
}
READS = ["get_status", "get_session", "list_sessions", "get_changes", "get_quota"]


def assert_clean(err: BaseException) -> None:
    """No rendering of an error carries the key, nor any 10-character piece of it."""
    pieces = [KEY[i:i + 10] for i in range(3, len(KEY) - 9)]  # past the public "hk-" prefix
    for text in (str(err), repr(err), " ".join(map(str, err.args)), getattr(err, "message", "")):
        assert KEY not in text
        leaked = [p for p in pieces if p in text]
        assert not leaked, f"key fragment {leaked[0]!r} in {text!r}"


@pytest.mark.parametrize(("status", "body", "cls", "message"), [
    (400, {"detail": "Invalid message format"}, RequestRejected, "Invalid message format"),
    (409, {"detail": "Idempotency-Key request in flight; retry shortly"}, RequestRejected,
     "Idempotency-Key request in flight; retry shortly"),
    (422, VALIDATION_422, RequestRejected, "body.agent: Field required"),
    (401, {"detail": "Authentication required"}, AuthError, "Authentication required"),
    (401, {"message": "Unauthorized"}, AuthError, "Unauthorized"),
    (403, {"detail": "Cannot write reserved h/ resources"}, AuthError, "Cannot write reserved h/ resources"),
    (403, {"message": "Forbidden"}, AuthError, "Forbidden"),
    (404, {"detail": "Session not found"}, NotFound, "Session not found"),
    (404, {"detail": "Not an agentic session"}, NotFound, "Not an agentic session"),
    (429, {"detail": "Concurrent trajectory limit reached (10/10)"}, RateLimited,
     "Concurrent trajectory limit reached (10/10)"),
    (500, {"detail": "Internal Server Error"}, ServerError, "Internal Server Error"),
    (502, {"detail": "Bad gateway"}, ServerError, "Bad gateway"),
    (503, {"detail": "Upstream temporarily unavailable while publishing command"}, ServerError,
     "Upstream temporarily unavailable while publishing command"),
    (504, {"detail": "Upstream timeout while consuming command"}, ServerError,
     "Upstream timeout while consuming command"),
])
@pytest.mark.parametrize("call", sorted(CALLS))
async def test_status_mapping(
    client: AgpClient, server: FakeBackend, call: str, status: int, body: object,
    cls: type[AgpError], message: str,
) -> None:
    server.queue(reply(status, body))
    with pytest.raises(cls) as info:
        await CALLS[call](client)
    err = info.value
    assert type(err) is cls
    assert err.status == status
    assert err.message == message
    assert str(err) == f"{cls.title}: {message}"
    assert_clean(err)
    assert len(server.requests) == 1


@pytest.mark.parametrize(("status", "retryable"), [
    (400, False), (401, False), (403, False), (404, False), (409, False), (422, False),
    (429, True), (500, False), (501, False), (502, True), (503, True), (504, True),
])
def test_retryable_flags(status: int, retryable: bool) -> None:
    assert error_for_status(status, None, None).retryable is retryable


def test_422_with_several_items_and_odd_entries() -> None:
    body = {"detail": [
        {"type": "missing", "loc": ["body", "agent"], "msg": "Field required"},
        {"type": "less_than_equal", "loc": ["query", "size"],
         "msg": "Input should be less than or equal to 100"},
        {"type": "value_error", "loc": ["body", "messages", 0, "message"], "msg": "bad"},
        {"type": "value_error", "loc": [], "msg": "whole body wrong"},
        "free text",
    ]}
    assert detail_text(body) == (
        "body.agent: Field required; query.size: Input should be less than or equal to 100; "
        "body.messages.0.message: bad; whole body wrong; free text"
    )


def test_detail_preferred_over_message() -> None:
    assert detail_text({"detail": "from api", "message": "from gateway"}) == "from api"
    assert detail_text({"message": "from gateway"}) == "from gateway"
    assert detail_text({"error": "other"}) == ""
    assert detail_text(["not", "an", "object"]) == ""
    assert detail_text({"detail": {"code": 7}}) == "{'code': 7}"


@pytest.mark.parametrize(("status", "cls", "message"), [
    (401, AuthError, "Missing or invalid API key"),
    (404, NotFound, "Not found"),
    (418, RequestRejected, "HTTP 418"),
    (502, ServerError, "Upstream error"),
    (503, ServerError, "Service temporarily unavailable"),
])
@pytest.mark.parametrize("body", ["", "<html><body>502 Bad Gateway</body></html>", "{}"])
async def test_error_without_a_usable_body_gets_a_reason(
    client: AgpClient, server: FakeBackend, status: int, cls: type[AgpError], message: str, body: str,
) -> None:
    server.queue(reply(status, text=body))
    with pytest.raises(cls) as info:
        await client.get_status(SID)
    assert info.value.message == message
    assert info.value.status == status


async def test_rate_limited_carries_retry_after(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(429, {"detail": "Concurrent trajectory limit reached (3/3)"},
                      headers={"Retry-After": "7"}))
    with pytest.raises(RateLimited) as info:
        await client.get_status(SID)
    assert info.value.retry_after == 7.0
    assert info.value.retryable
    assert info.value.status == 429


async def test_server_error_carries_retry_after(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(503, {"detail": "busy"}, headers={"retry-after": "1"}))
    with pytest.raises(ServerError) as info:
        await client.get_quota()
    assert info.value.retry_after == 1.0
    server.queue(reply(502, {"detail": "busy"}))
    with pytest.raises(ServerError) as info:
        await client.get_quota()
    assert info.value.retry_after is None


@pytest.mark.parametrize("kind", TRANSPORT_FAILURES)
@pytest.mark.parametrize("call", sorted(CALLS))
async def test_transport_failure_is_unreachable(
    make_client: Callable[..., AgpClient], server: FakeBackend, call: str, kind: str,
) -> None:
    failure, options = transport_failure(server, kind)
    if failure is not None:
        server.fail(failure)  # every time: aiohttp itself re-sends an idempotent request once
    with pytest.raises(Unreachable) as info:
        await CALLS[call](make_client(**options))
    err = info.value
    assert err.retryable
    assert err.status is None
    assert "Error" in err.message  # the library's own words: ClientConnectorError, ReadError...
    assert_clean(err)


@pytest.mark.parametrize("call", READS)
@pytest.mark.parametrize("text", ["<html>maintenance</html>", "not json", '{"status": "running"', "\udcff"])
async def test_non_json_200_is_bad_response(
    client: AgpClient, server: FakeBackend, call: str, text: str
) -> None:
    if text == "\udcff":
        server.queue(reply(200, content=b"\xff\xfe\x00garbage"))
    else:
        server.queue(reply(200, text=text))
    with pytest.raises(BadResponse) as info:
        await CALLS[call](client)
    assert info.value.status == 200
    assert "not JSON" in info.value.message
    assert_clean(info.value)


@pytest.mark.parametrize(("call", "payload"), [
    ("get_status", []),
    ("get_status", "running"),
    ("get_status", None),
    ("get_status", {}),
    ("get_status", {"status": 3}),
    ("get_status", {"status": None, "steps": 2}),
    ("get_status", {"status": "running", "usage_per_model": ["holo"]}),
    ("get_session", []),
    ("get_session", {"status": {"status": "running"}, "created_at": "2026-06-11T09:12:03Z"}),
    ("get_session", {"id": SID, "status": {"steps": 3}}),
    ("get_session", {"id": SID}),
    ("get_session", {"id": 7, "status": "running"}),
    ("list_sessions", []),
    ("list_sessions", {"page": 1, "total": 0}),
    ("list_sessions", {"items": {"id": SID}, "page": 1, "total": 1}),
    ("list_sessions", {"items": [{"status": "running"}], "page": 1, "total": 1}),
    ("list_sessions", {"items": [{"id": SID}], "page": 1, "total": 1}),
    ("list_sessions", {"items": [SID], "page": 1, "total": 1}),
    ("get_changes", []),
    ("get_changes", {"new_events": []}),
    ("get_changes", {"status": "running", "new_events": ["AgentStartedEvent"]}),
    ("get_changes", {"status": "running", "metrics": "cheap"}),
    ("get_quota", []),
    ("get_quota", 10),
])
async def test_wrong_shape_is_bad_response(
    client: AgpClient, server: FakeBackend, call: str, payload: object
) -> None:
    server.queue(reply(200, text=json.dumps(payload)))
    with pytest.raises(BadResponse) as info:
        await CALLS[call](client)
    assert isinstance(info.value, AgpError)
    assert_clean(info.value)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 429, 500, 503])
@pytest.mark.parametrize("call", ["get_status", "send_message"])
async def test_key_echoed_by_the_server_never_reaches_an_error(
    client: AgpClient, server: FakeBackend, call: str, status: int,
) -> None:
    # A gateway or proxy that quotes the credential back must not carry it into the UI.
    server.queue(reply(status, {"detail": f"Invalid API key {KEY!r}", "message": f"Bearer {KEY}"}))
    with pytest.raises(AgpError) as info:
        await CALLS[call](client)
    assert info.value.status == status
    assert "Invalid API key" in info.value.message
    assert_clean(info.value)


async def test_key_echoed_in_a_non_json_body_never_reaches_an_error(
    client: AgpClient, server: FakeBackend
) -> None:
    server.queue(reply(200, text=f"Authorization: Bearer {KEY}"))
    with pytest.raises(BadResponse) as info:
        await client.get_status(SID)
    assert_clean(info.value)
