"""Mutated AGP payloads into every model parser and through the real client.

The only exception allowed out of a parser is `BadResponse`; out of the client, only the
`AgpError` family (BadResponse for a 2xx it cannot read). Whatever is accepted is typed
and within range, so nothing downstream meets a NaN cost, a 10**300 token count or a
datetime that overflows when converted.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from fuzz_payloads import (
    ODD_ERROR_BODIES,
    any_payload,
    changes_payload,
    deep,
    dumps,
    error_payload,
    fuzz_settings,
    quota_payload,
    raw_bodies,
    session_payload,
    status_payload,
    summary_payload,
    times,
    wrong_status_shape,
)
from hypothesis import example, given
from hypothesis import strategies as st

from agp_tui.api import AgpClient, RetryPolicy
from agp_tui.api.errors import AgpError, BadResponse
from agp_tui.api.models import (
    MAX_COUNT,
    Changes,
    Metrics,
    ModelCost,
    ModelUsage,
    Quota,
    Session,
    SessionStatus,
    SessionSummary,
    UserMessage,
    parse_time,
)

BASE = "https://agp.test/api/v2"
SID = "00000001-0000-4000-8000-000000000001"


def _count(n: object) -> None:
    assert isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_COUNT, n


def _time(t: object) -> None:
    assert t is None or (isinstance(t, datetime) and t.tzinfo is not None and 1970 <= t.year <= 9000)
    if isinstance(t, datetime):
        t.timestamp()
        t.astimezone()  # the views convert to local time: must not overflow


def _amount(x: object) -> None:
    assert x is None or (isinstance(x, float) and math.isfinite(x) and x >= 0), x


def _opt_str(s: object) -> None:
    assert s is None or isinstance(s, str)


def check_usage(u: ModelUsage | ModelCost) -> None:
    assert isinstance(u.name, str)
    for n in (u.input_tokens, u.output_tokens, u.reasoning_tokens):
        _count(n)
    float(u.input_tokens + u.output_tokens + u.reasoning_tokens)  # sums stay in float range


def check_status(st: SessionStatus) -> None:
    assert isinstance(st.status, str)
    for s in (st.error, st.error_code, st.outcome):
        _opt_str(s)
    _count(st.steps)
    for u in st.usage_per_model:
        check_usage(u)
        assert u.cached_tokens is None or 0 <= u.cached_tokens <= MAX_COUNT
    assert all(isinstance(c, str) for c in st.subagent_session_ids)


def check_message(m: UserMessage | None) -> None:
    assert m is None or (isinstance(m.message, str) and isinstance(m.caller_id, str))


def check_session(s: Session) -> None:
    assert isinstance(s.id, str)
    check_status(s.status)
    for v in (s.agent, s.parent_session_id, s.group_id, s.agent_view_url):
        _opt_str(v)
    check_message(s.first_message)
    for t in (s.created_at, s.started_at, s.finished_at):
        _time(t)


def check_summary(s: SessionSummary) -> None:
    assert isinstance(s.id, str) and isinstance(s.status, str)
    _opt_str(s.agent)
    check_message(s.first_message)
    for t in (s.created_at, s.started_at, s.finished_at):
        _time(t)


def check_metrics(m: Metrics) -> None:
    _count(m.steps)
    for c in m.cost_per_model:
        check_usage(c)
        _amount(c.total_cost)
    for x in (m.input_cost, m.output_cost, m.reasoning_cost, m.total_cost):
        _amount(x)


def check_changes(c: Changes) -> None:
    assert isinstance(c.status, str)
    check_metrics(c.metrics)
    for e in c.new_events:
        assert isinstance(e.type, str)
        _time(e.timestamp)
        assert e.kind is None or isinstance(e.kind, str)
    _time(c.started_at)
    _time(c.finished_at)


def check_quota(q: Quota) -> None:
    assert isinstance(q.scope, str)
    for n in (q.limit, q.active, q.available):
        _count(n)


def parse_or_refuse(parse: Callable[[], Any], check: Callable[[Any], None]) -> None:
    try:
        parsed = parse()
    except BadResponse as exc:
        assert len(str(exc)) < 300  # the message quotes a wrong value, never all of it
        return
    check(parsed)


PARSERS: list[tuple[str, Any, Callable[[Any], Any], Callable[[Any], None]]] = [
    ("status", status_payload, SessionStatus.from_json, check_status),
    ("session", session_payload, Session.from_json, check_session),
    ("summary", summary_payload, SessionSummary.from_json, check_summary),
    ("changes", changes_payload, lambda p: Changes.from_json(p, 0), check_changes),
    ("metrics", changes_payload.map(lambda d: d.get("metrics")), Metrics.from_json, check_metrics),
    ("quota", quota_payload, Quota.from_json, check_quota),
    ("usage", status_payload.map(lambda d: d.get("usage_per_model")),
     lambda p: [ModelUsage.from_json(u) for u in p] if isinstance(p, list) else ModelUsage.from_json(p),
     lambda r: [check_usage(u) for u in (r if isinstance(r, list) else [r])]),
    ("message", session_payload.map(lambda d: d.get("request")), UserMessage.from_json, check_message),
]


@pytest.mark.parametrize(("name", "strategy", "parse", "check"), PARSERS, ids=[p[0] for p in PARSERS])
def test_parsers_refuse_only_with_bad_response(name: str, strategy: Any, parse: Callable[[Any], Any],
                                               check: Callable[[Any], None]) -> None:
    @fuzz_settings(150)
    @given(st.one_of(strategy, any_payload))
    def run(payload: Any) -> None:
        parse_or_refuse(lambda: parse(payload), check)

    run()


@fuzz_settings(150)
@given(wrong_status_shape)
def test_a_wrong_status_shape_is_a_bad_response(payload: Any) -> None:
    """Wrong shapes are refused as BadResponse by all three parsers of a session's status."""
    parsers: list[Callable[[Any], Any]] = [SessionStatus.from_json, lambda p: Changes.from_json(p, 0)]
    if not isinstance(payload, str):  # a Session may carry its status as a bare string
        parsers.append(lambda p: Session.from_json({"id": SID, "status": p}))
    for parse in parsers:
        with pytest.raises(BadResponse):
            parse(payload)


@fuzz_settings(100)
@given(st.one_of(st.text(max_size=40), times))
def test_parse_time_never_raises(value: object) -> None:
    _time(parse_time(value))


def test_the_edge_values_behind_the_fixes() -> None:
    """The specific payloads that used to raise or leak (each named by its old failure)."""
    # OverflowError in views: a 10**400 count; ValueError: repr() of a 5000-digit int.
    st = SessionStatus.from_json({"status": "x", "steps": 10**400, "usage_per_model": [
        {"name": "m", "input_tokens": 1e300, "output_tokens": -5}]})
    assert st.steps == MAX_COUNT and st.usage_per_model[0].input_tokens == MAX_COUNT
    assert st.usage_per_model[0].output_tokens == 0
    with pytest.raises(BadResponse, match="huge int"):
        SessionStatus.from_json({"status": 10**5000})
    # "$nanP" in the cost column: NaN and Infinity are valid to Python's json.
    m = Metrics.from_json(json.loads('{"total_cost": NaN, "input_cost": -Infinity, "output_cost": -1}'))
    assert m.total_cost is None and m.input_cost is None and m.output_cost is None
    # OverflowError converting to UTC or local time.
    assert parse_time("9999-12-31T23:59:59-23:59") is None
    assert parse_time("0001-01-01T00:00:00+23:59") is None
    naive = parse_time("2026-06-11T09:00:00")
    assert naive is not None and naive.utcoffset() is not None


# -- through the real client -------------------------------------------------------------------

CODES = (200, 200, 200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503)
RETRY_AFTER = ("", "5", "-1", "nan", "inf", "1e400", "Wed, 21 Oct 2015 07:28:00 GMT", "soon")


async def _call_everything(body: bytes, code: int, retry_after: str) -> list[BaseException]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(code, content=body, headers={"Retry-After": retry_after})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    errors: list[BaseException] = []
    async with AgpClient(BASE, "hk-fuzz-0000", http=http, retry=RetryPolicy.off()) as client:
        calls: list[Callable[[], Any]] = [
            lambda: client.get_status(SID), lambda: client.get_session(SID), client.get_quota,
            lambda: client.list_sessions(status=["running"]), client.list_session_states,
            lambda: client.count_events(SID), lambda: client.get_changes(SID, 3),
            lambda: client.list_children(SID), lambda: client.pause(SID),
        ]
        for call in calls:
            try:
                await call()
            except AgpError as exc:
                errors.append(exc)
                str(exc)  # the message builds
            except BaseException as exc:  # anything else is the bug: the assertion names it
                raise AssertionError(f"{type(exc).__name__} escaped the client: {exc!r:.200}") from exc
    return errors


@fuzz_settings(120)
@given(st.one_of(any_payload.map(dumps), error_payload.map(dumps), raw_bodies),
       st.sampled_from(CODES), st.sampled_from(RETRY_AFTER))
@example(deep(100_000), 200, "")
@example(b'{"detail": [{"loc": 5, "msg": "x"}]}', 422, "")
def test_the_client_raises_only_agp_errors(body: bytes, code: int, retry_after: str) -> None:
    errors = asyncio.run(_call_everything(body, code, retry_after))
    if 200 <= code < 300:  # the server said yes: the only complaint left is the body's shape
        assert all(isinstance(e, BadResponse) for e in errors), errors


@pytest.mark.parametrize("body", [deep(100_000), deep(50_000, "object"), b"\xff\xfe", b"NaN",
                                  b'{"steps": ' + b"9" * 5000 + b"}", *ODD_ERROR_BODIES])
@pytest.mark.parametrize("code", [200, 422, 503])
def test_unreadable_bodies_are_agp_errors(body: bytes, code: int) -> None:
    """Each odd body on a success and on two failures (hypothesis may not draw every pair)."""
    errors = asyncio.run(_call_everything(body, code, ""))
    assert errors and all(isinstance(e, AgpError) for e in errors)
