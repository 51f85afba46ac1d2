"""A row is stale when its last good answer is older than its polling allows (issue 13).

Not only when polls fail: a poll that hangs, a starved budget or a stalled task leave the
numbers just as old. Settled sessions are final data, never stale; a long-poll that ends
with nothing new (204) vouches for what is shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from agp_tui.monitor.cadence import Cadence
from agp_tui.monitor.engine import Engine
from agp_tui.monitor.events import EngineEvent, SessionRecovered, Stale
from agp_tui.sim.fake_backend import FakeBackend

from .test_engine import settings, tokens, until

# A fast-forwarding loop (looptime): sleeps and timeouts take no real time.
pytestmark = pytest.mark.looptime

NOW = 1_800_000_000.0
SLOW = Cadence(pending=1.0, running=1.0, waiting=1.0, final_fetch=0.05, jitter=0.0, error_base=0.05)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBackend]:
    yield FakeBackend()


async def test_a_session_whose_polls_hang_turns_stale_then_recovers(fake: FakeBackend) -> None:
    clock = [NOW]
    s = fake.pin(steps=1, usage=tokens(100))
    done = fake.pin(status="completed", steps=3, usage=tokens(300))
    engine = Engine(fake.client(), None, settings(cadence=SLOW, stale_check_interval=0.02, stale_after=30.0),
                    wall=lambda: clock[0])
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    await engine.start([s.id, done.id])
    try:
        await until(lambda: engine.view(s.id).last_ok_at == NOW and not engine.view(done.id).polling)  # type: ignore[union-attr]
        fake.delay = 1.5  # requests now hang a while: no failure, no answer
        clock[0] = NOW + 29  # within stale_after (3 intervals of 1 s is less)
        await until(lambda: fake.in_flight[s.id] >= 1)
        assert not engine.view(s.id).stale and engine.stale_count == 0  # type: ignore[union-attr]
        clock[0] = NOW + 31
        await until(lambda: engine.view(s.id).stale)  # type: ignore[union-attr]
        assert engine.stale_count == 1
        assert any(isinstance(e, Stale) and e.session_id == s.id for e in events)
        assert not engine.view(done.id).stale  # type: ignore[union-attr]  # final data
        fake.delay = 0.0
        await until(lambda: not engine.view(s.id).stale)  # type: ignore[union-attr]  # it answers
        assert engine.stale_count == 0 and SessionRecovered(s.id) in events
    finally:
        await engine.aclose()


async def test_the_allowance_follows_the_sessions_own_cadence(fake: FakeBackend) -> None:
    # Paused: polled every 20 s; stale only after 3 of those (60 s), not after 30 s.
    clock = [NOW]
    s = fake.pin(status="paused")
    cadence = Cadence(pending=1.0, running=1.0, waiting=20.0, jitter=0.0)
    engine = Engine(fake.client(), None, settings(cadence=cadence, stale_check_interval=0.02),
                    wall=lambda: clock[0])
    await engine.start([s.id])
    try:
        await until(lambda: engine.view(s.id).last_ok_at == NOW)  # type: ignore[union-attr]
        clock[0] = NOW + 45
        await asyncio.sleep(0.1)  # several stale checks
        assert not engine.view(s.id).stale  # type: ignore[union-attr]
        clock[0] = NOW + 61
        await until(lambda: engine.view(s.id).stale)  # type: ignore[union-attr]
    finally:
        await engine.aclose()


async def test_an_empty_long_poll_answer_keeps_the_row_fresh(fake: FakeBackend) -> None:
    clock = [NOW]
    s = fake.pin(steps=2, usage=tokens(1000), events=5)
    engine = Engine(fake.client(), None, settings(long_poll_wait=1, long_poll_status_every=600.0),
                    wall=lambda: clock[0])
    engine.set_focus([s.id], s.id)
    await engine.start([s.id])
    try:
        await until(lambda: fake.calls["changes"] >= 1)
        clock[0] = NOW + 25
        answered = fake.calls["changes"]
        await until(lambda: fake.calls["changes"] > answered + 1)  # a 204 came back meanwhile
        assert engine.view(s.id).last_ok_at == NOW + 25  # type: ignore[union-attr]
    finally:
        await engine.aclose()
