"""Poll cadence by state, backoff on errors, and jitter bounds."""

import random

import pytest

from agp_tui.monitor.cadence import Cadence

C = Cadence(jitter=0.0)


@pytest.mark.parametrize(
    ("status", "expected"),
    [(None, 2.0), ("pending", 2.0), ("running", 3.0), ("paused", 15.0), ("idle", 15.0),
     ("awaiting_tool_results", 15.0), ("queued", 15.0), ("some_new_status", 15.0)],
)
def test_interval_by_state(status: str | None, expected: float) -> None:
    assert C.interval(status, 0.0) == expected


@pytest.mark.parametrize("status", ["completed", "failed", "timed_out", "interrupted"])
def test_terminal_stops(status: str) -> None:
    assert C.interval(status, 0.0) is None


def test_running_backs_off_toward_slow_after_ten_minutes() -> None:
    assert C.interval("running", 599.0) == 3.0
    assert C.interval("running", 900.0) == pytest.approx(9.0)  # halfway up the ramp
    assert C.interval("running", 1200.0) == 15.0
    assert C.interval("running", 10_000.0) == 15.0


def test_background_sessions_poll_slower_but_capped() -> None:
    assert C.interval("running", 0.0, background=True) == 60.0
    assert C.interval("paused", 0.0, background=True) == 60.0  # 300 capped at 60
    never_faster = Cadence(jitter=0.0, background_max=10.0)
    assert never_faster.interval("paused", 0.0, background=True) == 15.0


def test_jitter_stays_within_bounds_and_varies() -> None:
    c = Cadence(jitter=0.2)
    rng = random.Random(1)
    values = [c.interval("running", 0.0, rng=rng) for _ in range(200)]
    assert all(2.4 <= v <= 3.6 for v in values if v is not None)
    assert len({round(v or 0, 3) for v in values}) > 50


def test_error_backoff_doubles_to_cap_and_honours_retry_after() -> None:
    assert [C.error_delay(n, None) for n in (1, 2, 3, 4, 10)] == [2.0, 4.0, 8.0, 16.0, 60.0]
    assert C.error_delay(1, 7.5) == 7.5
    assert C.error_delay(5, 0.0) == 2.0  # never faster than the pending cadence
