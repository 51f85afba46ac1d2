"""Idempotent GETs are retried on transient failures only, within capped attempts and time."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace

import pytest
from api_payloads import CHANGES_200, FAST_RETRY, SID, STALL_S, STATUS_RUNNING, reply

import agp_tui.api.client as client_mod
from agp_tui.api import (
    AgpClient,
    AgpError,
    AuthError,
    NotFound,
    RateLimited,
    RequestRejected,
    RetryPolicy,
    ServerError,
    Unreachable,
    parse_retry_after,
)
from agp_tui.sim.fake_backend import FakeBackend, Stall

OK = reply(200, STATUS_RUNNING)
TIMEOUT = 0.3  # the client's deadline where a failure is a stalled answer


class FakeClock:
    """Stands in for the client's `time` and `asyncio`: sleeping advances a virtual clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(client_mod, "time", SimpleNamespace(monotonic=fake.monotonic))
    monkeypatch.setattr(client_mod, "asyncio", SimpleNamespace(sleep=fake.sleep))
    return fake


# -- parse_retry_after --------------------------------------------------------------------

NOW = datetime(2015, 10, 21, 7, 27, 30, tzinfo=UTC)


@pytest.mark.parametrize(("value", "expected"), [
    ("5", 5.0),
    (" 2.5 ", 2.5),
    ("0", 0.0),
    ("-3", 0.0),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 30.0),
    ("Wed, 21 Oct 2015 07:28:00 -0000", 30.0),  # a date without a zone is read as UTC
    ("Wed, 21 Oct 2015 09:28:00 +0200", 30.0),
    ("Wed, 21 Oct 2015 08:27:30 GMT", 3600.0),
    ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),  # already past: go now
    (None, None),
    ("", None),
    ("   ", None),
    ("soon", None),
    ("nan", None),
    ("inf", None),
    ("-inf", None),
    ("1e12", 3600.0),  # capped: a day-long wait is a misconfiguration, not advice
    ("Wed, 21 Oct 2016 07:28:00 GMT", 3600.0),
    ("Wed, 32 Oct 2015 07:28:00 GMT", None),
])
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_date_uses_the_clock_when_now_is_not_given() -> None:
    when = datetime.now(UTC) + timedelta(seconds=90)
    got = parse_retry_after(format_datetime(when, usegmt=True))
    assert got is not None and 85 <= got <= 90


# -- RetryPolicy.delay --------------------------------------------------------------------


def test_delay_backs_off_exponentially_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=8.0)
    rng = random.Random(42)
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (12, 8.0)]:
        samples = [policy.delay(attempt, None, rng) for _ in range(50)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples), (attempt, samples)
        assert len(set(samples)) > 1  # jittered, not a constant


def test_delay_honours_retry_after_as_sent() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=8.0)
    assert policy.delay(0, 3.0) == 3.0
    assert policy.delay(5, 0.0) == 0.0
    assert policy.delay(0, 30.0) == 30.0  # above max_delay: the caller gives up instead


def test_off_policy() -> None:
    off = RetryPolicy.off()
    assert off.enabled is False
    assert off.attempts == 1
    default = RetryPolicy()
    assert default.enabled and default.attempts > 1


# -- what is retried ----------------------------------------------------------------------

TRANSIENT = [
    pytest.param(Unreachable("dropped"), id="dropped"),  # over loopback: the connection is closed
    pytest.param(Stall(STALL_S), id="timeout"),  # answered after the client's deadline (TIMEOUT)
    pytest.param(reply(429, {"detail": "slow down"}), id="429"),
    pytest.param(reply(502, {"detail": "bad gateway"}), id="502"),
    pytest.param(reply(503, {"detail": "busy"}), id="503"),
    pytest.param(reply(504, {"detail": "upstream timeout"}), id="504"),
]


def on_the_wire(failure: object, backend_kind: str, method: str = "GET") -> list[object]:
    """One failed try of the client, as the server sees it: aiohttp itself re-sends an
    idempotent request (GET, DELETE) once when its connection drops (RFC 9112 9.3.1)."""
    resent = backend_kind == "aiohttp" and isinstance(failure, Unreachable) and method in ("GET", "DELETE")
    return [failure, failure] if resent else [failure]


@pytest.mark.parametrize("failure", TRANSIENT)
async def test_get_retried_on_transient_failure(
    make_client, server: FakeBackend, failure: object, backend_kind: str,
) -> None:
    tries = on_the_wire(failure, backend_kind)
    server.queue(*tries, OK)
    st = await make_client(retry=FAST_RETRY, timeout=TIMEOUT).get_status(SID)
    assert st.status == "running"
    assert len(server.requests) == len(tries) + 1
    assert all(r.method == "GET" for r in server.requests)


@pytest.mark.parametrize("failure", TRANSIENT)
async def test_every_get_call_retries(
    make_client, server: FakeBackend, failure: object, backend_kind: str,
) -> None:
    client = make_client(retry=FAST_RETRY, timeout=TIMEOUT)
    tries = on_the_wire(failure, backend_kind)
    server.queue(*tries, reply(200, CHANGES_200))
    assert await client.get_changes(SID, 4) is not None
    server.queue(*tries, reply(200, {"items": [], "page": 1, "total": 0}))
    await client.list_sessions()
    server.queue(*tries, reply(200, {"scope": "org", "limit": 3, "active": 0, "available": 3}))
    await client.get_quota()
    assert len(server.requests) == 3 * (len(tries) + 1)


async def test_attempts_are_capped(make_client, server: FakeBackend) -> None:
    server.fail(reply(503, {"detail": "still busy"}))
    with pytest.raises(ServerError) as info:
        await make_client(retry=FAST_RETRY).get_status(SID)
    assert len(server.requests) == 3
    assert info.value.message == "still busy"

    server.requests.clear()
    policy = RetryPolicy(attempts=5, base_delay=0.001, max_delay=0.001, max_total=2.0)
    with pytest.raises(ServerError):
        await make_client(retry=policy).get_status(SID)
    assert len(server.requests) == 5


async def test_the_last_failure_is_raised(make_client, server: FakeBackend, backend_kind: str) -> None:
    dropped = on_the_wire(Unreachable("dropped"), backend_kind)
    server.queue(reply(503, {"detail": "first"}), *dropped, reply(429, {"detail": "third"}))
    with pytest.raises(RateLimited) as info:
        await make_client(retry=FAST_RETRY).get_status(SID)
    assert info.value.message == "third"
    assert len(server.requests) == len(dropped) + 2


@pytest.mark.parametrize(("status", "cls"), [
    (400, RequestRejected), (401, AuthError), (403, AuthError), (404, NotFound),
    (409, RequestRejected), (422, RequestRejected), (500, ServerError),
])
async def test_never_retried_on_client_errors(
    make_client, server: FakeBackend, status: int, cls: type[AgpError],
) -> None:
    server.queue(reply(status, {"detail": "no"}, headers={"Retry-After": "0"}), OK)
    with pytest.raises(cls):
        await make_client(retry=FAST_RETRY).get_status(SID)
    assert len(server.requests) == 1


@pytest.mark.parametrize("failure", TRANSIENT)
@pytest.mark.parametrize("call", ["pause", "resume", "force_answer", "cancel", "send_message"])
async def test_actions_never_retried(
    make_client, server: FakeBackend, call: str, failure: object, backend_kind: str,
) -> None:
    tries = on_the_wire(failure, backend_kind, "DELETE" if call == "cancel" else "POST")
    server.queue(*tries, reply(202))
    client = make_client(retry=FAST_RETRY, timeout=TIMEOUT)
    args = (SID, "hello") if call == "send_message" else (SID,)
    with pytest.raises(AgpError) as info:
        await getattr(client, call)(*args)
    assert info.value.retryable  # worth retrying in general, yet not a POST/DELETE
    assert len(server.requests) == len(tries)  # the client's one try (aiohttp re-sends a DELETE)


@pytest.mark.parametrize("failure", TRANSIENT)
async def test_off_policy_makes_one_try(
    make_client, server: FakeBackend, failure: object, backend_kind: str,
) -> None:
    tries = on_the_wire(failure, backend_kind)
    server.queue(*tries, OK)
    with pytest.raises(AgpError):
        await make_client(retry=RetryPolicy.off(), timeout=TIMEOUT).get_status(SID)
    assert len(server.requests) == len(tries)


async def test_disabled_policy_with_attempts_still_makes_one_try(make_client, server: FakeBackend) -> None:
    server.queue(reply(503), OK)
    with pytest.raises(ServerError):
        await make_client(retry=RetryPolicy(enabled=False, attempts=5)).get_status(SID)
    assert len(server.requests) == 1


# -- waits: Retry-After and the total budget (virtual clock) -------------------------------


async def test_retry_after_seconds_is_honoured(make_client, server: FakeBackend, clock: FakeClock) -> None:
    server.queue(reply(429, {"detail": "slow"}, headers={"Retry-After": "7"}),
                reply(503, {"detail": "busy"}, headers={"Retry-After": "2.5"}), OK)
    policy = RetryPolicy(attempts=3, base_delay=0.5, max_delay=1.0, max_total=60.0)
    await make_client(retry=policy).get_status(SID)
    assert clock.sleeps == [7.0, 2.5]
    assert len(server.requests) == 3


async def test_retry_after_http_date_is_honoured(make_client, server: FakeBackend, clock: FakeClock) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    server.queue(reply(503, {"detail": "busy"}, headers={"Retry-After": when}), OK)
    policy = RetryPolicy(attempts=3, base_delay=0.5, max_delay=1.0, max_total=60.0)
    await make_client(retry=policy).get_status(SID)
    assert len(clock.sleeps) == 1
    assert 27.0 <= clock.sleeps[0] <= 30.0


async def test_past_http_date_retries_at_once(make_client, server: FakeBackend, clock: FakeClock) -> None:
    server.queue(reply(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), OK)
    await make_client(retry=RetryPolicy(max_total=5.0)).get_status(SID)
    assert clock.sleeps == [0.0]


async def test_backoff_without_retry_after(make_client, server: FakeBackend, clock: FakeClock) -> None:
    server.queue(reply(502), reply(502), OK)
    policy = RetryPolicy(attempts=3, base_delay=1.0, max_delay=8.0, max_total=60.0)
    await make_client(retry=policy).get_status(SID)
    assert len(clock.sleeps) == 2
    assert 0.5 <= clock.sleeps[0] <= 1.0
    assert 1.0 <= clock.sleeps[1] <= 2.0


async def test_retry_after_beyond_the_budget_gives_up_at_once(
    make_client, server: FakeBackend, clock: FakeClock,
) -> None:
    server.queue(reply(429, {"detail": "come back later"}, headers={"Retry-After": "120"}), OK)
    with pytest.raises(RateLimited) as info:
        await make_client(retry=RetryPolicy(attempts=5, max_total=20.0)).get_status(SID)
    assert info.value.retry_after == 120.0
    assert clock.sleeps == []
    assert len(server.requests) == 1


async def test_total_time_is_capped(make_client, server: FakeBackend, clock: FakeClock) -> None:
    server.fail(reply(503, {"detail": "busy"}, headers={"Retry-After": "4"}))
    policy = RetryPolicy(attempts=10, base_delay=0.5, max_delay=1.0, max_total=10.0)
    with pytest.raises(ServerError):
        await make_client(retry=policy).get_status(SID)
    # t=0 try, wait 4; t=4 try, wait 4; t=8 try: 8+4 > 10, give up.
    assert clock.sleeps == [4.0, 4.0]
    assert len(server.requests) == 3


async def test_total_time_is_capped_in_real_time(make_client, server: FakeBackend) -> None:
    policy = RetryPolicy(attempts=100, base_delay=0.04, max_delay=0.04, max_total=0.3)
    client = make_client(retry=policy)
    server.queue(OK)
    await client.get_status(SID)  # the client's first request sets it up (~0.1 s on a loaded machine)
    server.fail(reply(504))
    before = len(server.requests)
    start = time.monotonic()
    with pytest.raises(ServerError):
        await client.get_status(SID)
    elapsed = time.monotonic() - start
    assert elapsed < policy.max_total + 0.2  # what a loaded machine adds to the last try
    assert 2 <= len(server.requests) - before <= 40  # retried, then stopped by the time cap, not at 100


async def test_unreachable_retries_use_backoff(make_client, server: FakeBackend, clock: FakeClock) -> None:
    server.fail(Unreachable("dropped"))  # every time
    policy = RetryPolicy(attempts=3, base_delay=2.0, max_delay=8.0, max_total=60.0)
    with pytest.raises(Unreachable):
        await make_client(retry=policy).get_status(SID)
    assert len(clock.sleeps) == 2
    assert 1.0 <= clock.sleeps[0] <= 2.0 and 2.0 <= clock.sleeps[1] <= 4.0


async def test_client_retries_by_default(make_client, server: FakeBackend, clock: FakeClock) -> None:
    server.queue(reply(503), OK)
    client: AgpClient = make_client(retry=None)  # None: the client's own default policy
    assert (await client.get_status(SID)).status == "running"
    assert len(server.requests) == 2
    assert len(clock.sleeps) == 1
