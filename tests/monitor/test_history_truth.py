"""Sparklines and rates never invent activity: sessions first seen at every age (issue 13).

Before start, mid-run (an estimate, marked as such), after it finished (flat), long
before the window, and with a server clock ahead of ours.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from agp_tui.api.models import ModelUsage
from agp_tui.monitor.engine import Engine
from agp_tui.monitor.history import TokenHistory
from agp_tui.sim.fake_backend import FakeBackend, fake_world

from .test_engine import settings, tokens, until

# A fast-forwarding loop (looptime): sleeps and timeouts take no real time.
pytestmark = pytest.mark.looptime

NOW = 1_800_000_000.0  # a bucket boundary: 10 s buckets line up with it
MODEL = "holo3-1-35b-a3b"


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def usage(n: int) -> list[ModelUsage]:
    return [ModelUsage(MODEL, n, n // 10, 0)]


# -- TokenHistory ------------------------------------------------------------------------

def test_grew_since_spreads_the_first_counters_as_an_estimate() -> None:
    h = TokenHistory(buckets=12, bucket_seconds=10.0)
    assert h.observe(NOW, usage(60_000), grew_since=NOW - 60)
    series = h.series(MODEL, "input", now=NOW)
    assert sum(series) * 10 == pytest.approx(60_000)
    assert h.estimated_until == NOW
    # Nothing before NOW was measured: the whole window up to the bucket holding NOW.
    assert h.estimated_buckets(NOW) == 12
    assert h.rate_is_estimate()
    assert h.observe(NOW + 10, usage(61_000))
    assert not h.rate_is_estimate()  # the latest interval was measured
    assert h.latest_rate(MODEL, "input") == pytest.approx(100.0)
    # As time goes on the estimated prefix slides out of the window.
    assert h.estimated_buckets(NOW + 10) == 11
    assert h.estimated_buckets(NOW + 200) == 0


def test_without_grew_since_the_first_counters_are_a_flat_baseline() -> None:
    h = TokenHistory(buckets=12, bucket_seconds=10.0)
    h.observe(NOW, usage(60_000))
    assert sum(h.series(MODEL, now=NOW)) == 0
    assert h.estimated_buckets(NOW) == 0 and not h.rate_is_estimate()
    assert h.latest_rate(MODEL) == 0.0


def test_a_start_in_our_future_is_a_baseline_not_a_dropped_observation() -> None:
    # Server clock 30 s ahead: the session "started" after our now.
    h = TokenHistory(buckets=12, bucket_seconds=10.0)
    assert h.observe(NOW, usage(5_000), grew_since=NOW + 30)
    assert h.last_observed_at == NOW
    assert sum(h.series(MODEL, now=NOW)) == 0
    assert h.estimated_buckets(NOW) == 0
    assert h.observe(NOW + 10, usage(6_000))  # the next poll is measured as usual
    assert h.latest_rate(MODEL, "input") == pytest.approx(100.0)


def test_a_start_long_before_the_window_keeps_only_its_in_window_share_dim() -> None:
    h = TokenHistory(buckets=12, bucket_seconds=10.0)  # a 2-minute window
    h.observe(NOW, usage(3_600_000), grew_since=NOW - 3600)  # an hour of work, 1k tokens/s
    series = h.series(MODEL, "input", now=NOW)
    assert sum(series) * 10 == pytest.approx(1000 * 110, rel=0.01)  # only the window's share
    assert max(series) == pytest.approx(1000.0)  # the average pace, never a spike
    assert h.estimated_buckets(NOW) == 12  # all of it estimated


# -- the engine --------------------------------------------------------------------------

@pytest.fixture
async def fake() -> AsyncIterator[FakeBackend]:
    yield FakeBackend(fake_world(epoch=NOW))  # world time 0 is our NOW


async def watch_one(fake: FakeBackend, sid: str, clock: list[float]) -> Engine:
    engine = Engine(fake.client(), None, settings(bucket_seconds=10.0), wall=lambda: clock[0])
    await engine.start([sid])
    await until(lambda: fake.per_session[sid] >= 1 and engine.view(sid).status is not None)  # type: ignore[union-attr]
    return engine


async def test_first_seen_long_after_it_failed_shows_no_activity(fake: FakeBackend) -> None:
    s = fake.pin(status="failed", steps=40, usage=tokens(900_000), started=iso(NOW - 11 * 3600),
                 finished=iso(NOW - 10 * 3600))
    engine = await watch_one(fake, s.id, [NOW])
    try:
        hist = engine.history(s.id)
        assert hist is not None and hist.models() == [MODEL]
        assert sum(hist.series(MODEL, now=NOW)) == 0  # flat: nothing happened in the window
        assert hist.latest_rate(MODEL) == 0.0 and hist.estimated_buckets(NOW) == 0
    finally:
        await engine.aclose()


async def test_first_seen_just_after_it_finished_shows_no_invented_rate(fake: FakeBackend) -> None:
    # Finished 20 s ago, inside the window: its work is still not spread into it.
    s = fake.pin(status="completed", steps=5, usage=tokens(50_000), started=iso(NOW - 80),
                 finished=iso(NOW - 20))
    engine = await watch_one(fake, s.id, [NOW])
    try:
        hist = engine.history(s.id)
        assert hist is not None
        assert sum(hist.series(MODEL, now=NOW)) == 0
    finally:
        await engine.aclose()


async def test_first_seen_mid_run_is_an_estimate_then_measured(fake: FakeBackend) -> None:
    clock = [NOW]
    s = fake.pin(steps=10, usage=tokens(60_000), started=iso(NOW - 60))
    engine = await watch_one(fake, s.id, clock)
    try:
        hist = engine.history(s.id)
        assert hist is not None
        assert sum(hist.series(MODEL, "input", now=NOW)) * 10 == pytest.approx(60_000)
        assert hist.estimated_buckets(NOW) == 60 and hist.rate_is_estimate()
        clock[0] = NOW + 10
        fake.step(s.id, usage=tokens(1_000))
        await until(lambda: hist.last_observed_at == NOW + 10 and not hist.rate_is_estimate())
        assert hist.latest_rate(MODEL, "input") == pytest.approx(100.0)
    finally:
        await engine.aclose()


async def test_first_seen_before_start_is_all_measured(fake: FakeBackend) -> None:
    clock = [NOW]
    s = fake.pin(status="pending")
    engine = await watch_one(fake, s.id, clock)
    try:
        fake.set(s.id, status="running", when=iso(NOW + 1))
        clock[0] = NOW + 10
        fake.step(s.id, usage=tokens(2_000), when=iso(NOW + 10))
        hist = engine.history(s.id)
        assert hist is not None
        await until(lambda: MODEL in hist.models())
        assert hist.estimated_buckets(NOW + 10) == 0 and not hist.rate_is_estimate()
        assert sum(hist.series(MODEL, "input", now=NOW + 10)) * 10 == pytest.approx(2_000)
    finally:
        await engine.aclose()


async def test_growth_seen_at_the_finish_is_placed_before_finished_at(fake: FakeBackend) -> None:
    clock = [NOW]
    s = fake.pin(steps=1, usage=tokens(1_000), started=iso(NOW - 5))
    engine = await watch_one(fake, s.id, clock)
    try:
        hist = engine.history(s.id)
        assert hist is not None
        # It finished at NOW+5 having used 3,000 more; we only poll again at NOW+60.
        fake.set(s.id, status="completed", usage=tokens(4_000), when=iso(NOW + 5))
        engine.refresh([s.id])
        clock[0] = NOW + 60
        await until(lambda: engine.view(s.id).status_text == "completed" and not engine.view(s.id).polling)  # type: ignore[union-attr]
        series = hist.series(MODEL, "input", now=NOW + 60)
        after_finish = series[-5:]  # the buckets from NOW+20 on
        assert sum(after_finish) == 0, series
        assert sum(series) * 10 == pytest.approx(4_000)
    finally:
        await engine.aclose()


async def test_a_finish_in_our_future_never_places_work_after_now(fake: FakeBackend) -> None:
    # Server clock 2 minutes ahead: finished_at is after our now.
    clock = [NOW]
    s = fake.pin(steps=1, usage=tokens(1_000))
    engine = await watch_one(fake, s.id, clock)
    try:
        hist = engine.history(s.id)
        assert hist is not None
        fake.set(s.id, status="completed", usage=tokens(3_000), when=iso(NOW + 130))
        clock[0] = NOW + 10
        engine.refresh([s.id])
        await until(lambda: not engine.view(s.id).polling)  # type: ignore[union-attr]
        assert hist.last_observed_at is not None and hist.last_observed_at <= NOW + 10
        assert sum(hist.series(MODEL, "input", now=NOW + 10)) * 10 == pytest.approx(2_000)
    finally:
        await engine.aclose()
