"""TokenHistory: cadence-independent token rates from cumulative counters.

Times are offsets from T, a multiple of every bucket size used here, so bucket k of a test
covers [T + 10k, T + 10k + 10) and expected values can be worked out by hand.
"""

from __future__ import annotations

import random
from fractions import Fraction
from itertools import pairwise

import pytest

from agp_tui.api.models import ModelUsage
from agp_tui.monitor.history import OTHER, TokenHistory

T = 1_764_000_000.0  # a multiple of 10 (and of 60)


def mu(name: str = "m", i: int = 0, o: int = 0, r: int = 0, c: int | None = None) -> ModelUsage:
    return ModelUsage(name=name, input_tokens=i, output_tokens=o, reasoning_tokens=r, cached_tokens=c)


def reference(points: list[tuple[float, int]], buckets: int, bs: float, now: float) -> list[Fraction]:
    """Exact per-bucket tokens/s, written independently of the implementation: each
    interval's growth is integrated over each bucket with rational arithmetic."""
    newest = int(Fraction(now) // Fraction(bs))
    out = [Fraction(0)] * buckets
    for (t0, c0), (t1, c1) in pairwise(points):
        f0, f1 = Fraction(t0), Fraction(t1)
        rate = Fraction(c1 - c0) / (f1 - f0)
        for i in range(buckets):
            k = newest - buckets + 1 + i
            lo, hi = max(f0, k * Fraction(bs)), min(f1, (k + 1) * Fraction(bs))
            if hi > lo:
                out[i] += rate * (hi - lo) / Fraction(bs)
    return out


# ------------------------------------------------------------------- alignment / spreading


def test_interval_inside_one_bucket_lands_in_that_bucket() -> None:
    h = TokenHistory(buckets=6, bucket_seconds=10)
    h.observe(T + 2, [mu(o=0)])
    h.observe(T + 8, [mu(o=60)])
    assert h.series("m") == pytest.approx([0, 0, 0, 0, 0, 6.0])  # 60 tokens / 10 s bucket


def test_buckets_are_aligned_to_wall_clock_not_to_first_observation() -> None:
    # Poll phases differ (T+9/T+11 and T+5/T+15) but both cross the T+10 boundary.
    a = TokenHistory(buckets=4, bucket_seconds=10)
    a.observe(T + 9, [mu(o=0)])
    a.observe(T + 11, [mu(o=20)])
    b = TokenHistory(buckets=4, bucket_seconds=10)
    b.observe(T + 5, [mu(o=0)])
    b.observe(T + 15, [mu(o=100)])
    assert a.series("m", now=T + 15) == pytest.approx([0, 0, 1.0, 1.0])
    assert b.series("m", now=T + 15) == pytest.approx([0, 0, 5.0, 5.0])


def test_fifteen_second_gap_spreads_over_three_buckets_in_proportion() -> None:
    h = TokenHistory(buckets=5, bucket_seconds=10)
    h.observe(T + 8, [mu(o=0)])
    h.observe(T + 23, [mu(o=150)])  # 10 tok/s over [8, 23]: 2 s, 10 s, 3 s of it
    assert h.series("m", "output") == pytest.approx([0, 0, 2.0, 10.0, 3.0])
    assert max(h.series("m")) == pytest.approx(10.0)  # no spike: the true rate, not 15.0


def test_irregular_polls_match_exact_reference_and_sum_to_the_deltas() -> None:
    rng = random.Random(7)
    h = TokenHistory(buckets=60, bucket_seconds=10)
    t, count = T + 0.37, 0
    points = [(t, count)]
    h.observe(t, [mu(o=count)])
    for gap in [3, 15, 40] * 4 + [3.5, 0.25, 15, 40, 7.75]:
        t += gap
        count += rng.randrange(0, 5000)
        points.append((t, count))
        h.observe(t, [mu(o=count)])
    # The whole run (~250 s) fits the 600 s window, so every token is accounted for.
    got = h.series("m")
    want = reference(points, 60, 10, now=t)
    assert got == pytest.approx([float(x) for x in want], rel=1e-12, abs=1e-9)
    assert sum(v * 10 for v in got) == pytest.approx(count, rel=1e-12)
    assert count > 0


def test_rates_do_not_depend_on_poll_cadence() -> None:
    # Constant 10 tok/s watched by a 3 s poller and a 7 s poller at different phases.
    def counters(t: float) -> int:
        return round(10 * (t - T))

    fast, slow = TokenHistory(buckets=12, bucket_seconds=10), TokenHistory(buckets=12, bucket_seconds=10)
    for t in [T + 1 + 3 * i for i in range(40)]:
        fast.observe(t, [mu(o=counters(t))])
    for t in [T + 2 + 7 * i for i in range(18)]:
        slow.observe(t, [mu(o=counters(t))])
    now = T + 115  # both have observations after T+110
    # Buckets [T+10, T+110) are fully covered by both pollers.
    f, s = fast.series("m", now=now), slow.series("m", now=now)
    assert f[1:11] == pytest.approx([10.0] * 10)
    assert s[1:11] == pytest.approx([10.0] * 10)


def test_gap_longer_than_window_keeps_only_its_in_window_share() -> None:
    h = TokenHistory(buckets=6, bucket_seconds=10)
    h.observe(T + 5, [mu(o=0)])
    h.observe(T + 205, [mu(o=2000)])  # 10 tok/s for 200 s; window is [T+150, T+210)
    got = h.series("m")
    assert got == pytest.approx([10.0, 10.0, 10.0, 10.0, 10.0, 5.0])
    assert sum(got) * 10 == pytest.approx(550)  # not 2000 piled into the oldest bucket
    assert h.latest_rate("m") == pytest.approx(10.0)


# ------------------------------------------------------------------- baselines and resets


def test_first_observation_is_only_a_baseline() -> None:
    h = TokenHistory(buckets=6, bucket_seconds=10)
    assert h.observe(T + 1, [mu(i=90_000, o=5_000)]) is True  # a new model is a change
    assert h.series("m") == [0.0] * 6
    assert h.latest_rate("m") == 0.0
    h.observe(T + 6, [mu(i=90_010, o=5_040)])
    assert h.series("m", "total")[-1] == pytest.approx(5.0)  # 50 tokens, not 95,050
    assert h.latest_rate("m") == pytest.approx(10.0)
    assert h.totals("m") == mu(i=90_010, o=5_040)


def test_model_new_on_a_later_observation_counts_from_zero() -> None:
    h = TokenHistory(buckets=6, bucket_seconds=10)
    h.observe(T + 1, [mu("a", o=100)])
    h.observe(T + 6, [mu("a", o=100), mu("b", o=50)])
    assert h.series("a") == [0.0] * 6
    assert h.series("b")[-1] == pytest.approx(5.0)  # all 50, spread over [1, 6]
    assert h.latest_rate("b") == pytest.approx(10.0)
    assert h.models() == ["a", "b"]


def test_models_after_an_empty_first_observation_count_from_zero() -> None:
    h = TokenHistory(buckets=6, bucket_seconds=10)
    assert h.observe(T + 1, []) is False
    h.observe(T + 5, [mu(o=40)])
    assert h.series("m")[-1] == pytest.approx(4.0)


def test_counter_going_down_rebaselines_without_negative_rates() -> None:
    h = TokenHistory(buckets=6, bucket_seconds=10)
    h.observe(T + 1, [mu(i=1000, o=500)])
    h.observe(T + 3, [mu(i=1100, o=500)])  # +100
    assert h.observe(T + 5, [mu(i=10, o=5)]) is True  # the server reset the session
    assert min(h.series("m")) >= 0.0
    assert h.series("m")[-1] == pytest.approx(10.0)  # still just the +100
    assert h.latest_rate("m") == 0.0
    h.observe(T + 7, [mu(i=40, o=5)])  # +30 from the new baseline
    assert h.series("m")[-1] == pytest.approx(13.0)
    assert h.latest_rate("m", "input") == pytest.approx(15.0)


def test_out_of_order_observation_is_ignored() -> None:
    h = TokenHistory(buckets=6, bucket_seconds=10)
    h.observe(T + 10, [mu(o=100)])
    assert h.observe(T + 5, [mu(o=999_999)]) is False
    assert h.totals("m") == mu(o=100)
    assert h.last_observed_at == T + 10
    h.observe(T + 15, [mu(o=150)])
    assert h.series("m")[-1] == pytest.approx(5.0)


def test_equal_timestamps_merge_into_the_interval_that_just_ended() -> None:
    merged = TokenHistory(buckets=6, bucket_seconds=10)
    merged.observe(T + 2, [mu(o=0)])
    merged.observe(T + 8, [mu(o=60)])
    merged.observe(T + 8, [mu(o=90)])
    single = TokenHistory(buckets=6, bucket_seconds=10)
    single.observe(T + 2, [mu(o=0)])
    single.observe(T + 8, [mu(o=90)])
    assert merged.series("m") == pytest.approx(single.series("m"))
    assert merged.series("m")[-1] == pytest.approx(9.0)
    assert merged.latest_rate("m") == pytest.approx(15.0)  # 90 over 6 s


def test_equal_timestamp_on_the_baseline_stays_a_baseline() -> None:
    h = TokenHistory(buckets=6, bucket_seconds=10)
    h.observe(T + 2, [mu(o=100)])
    h.observe(T + 2, [mu(o=150), mu("late", o=70)])
    assert h.combined() == [0.0] * 6
    h.observe(T + 4, [mu(o=160), mu("late", o=70)])
    assert h.combined()[-1] == pytest.approx(1.0)


def test_merge_across_a_crossed_boundary_spreads_like_the_original_interval() -> None:
    h = TokenHistory(buckets=4, bucket_seconds=10)
    h.observe(T + 5, [mu(o=0)])
    h.observe(T + 15, [mu(o=100)])
    h.observe(T + 15, [mu(o=200)])
    assert h.series("m") == pytest.approx([0, 0, 10.0, 10.0])


def test_observe_reports_whether_anything_moved() -> None:
    h = TokenHistory()
    assert h.observe(T, [mu(o=1)]) is True
    assert h.observe(T + 1, [mu(o=1)]) is False
    assert h.observe(T + 2, [mu(o=1, c=0)]) is False  # cached None and 0 are the same count
    assert h.observe(T + 3, [mu(o=1, c=4)]) is True
    assert h.latest_rate("m") == 0.0  # cached alone is not part of total
    assert h.latest_rate("m", "cached") == pytest.approx(4.0)


def test_model_missing_from_a_poll_resumes_over_the_whole_gap() -> None:
    h = TokenHistory(buckets=6, bucket_seconds=10)
    h.observe(T + 1, [mu("a", o=0), mu("b", o=0)])
    h.observe(T + 3, [mu("a", o=20), mu("b", o=20)])
    assert h.latest_rate("b") == pytest.approx(10.0)
    h.observe(T + 5, [mu("a", o=40)])  # "b" omitted by the server this time
    assert h.latest_rate("b") == 0.0  # its last rate would be stale
    h.observe(T + 9, [mu("a", o=40), mu("b", o=80)])
    assert h.series("b")[-1] == pytest.approx(8.0)
    assert h.latest_rate("b") == pytest.approx(10.0)  # +60 over [3, 9]


# --------------------------------------------------------------------------- kinds


def test_kinds_are_kept_apart_and_total_excludes_cached() -> None:
    h = TokenHistory(buckets=3, bucket_seconds=10)
    h.observe(T + 1, [mu(i=0, o=0, r=0, c=0)])
    h.observe(T + 9, [mu(i=100, o=20, r=30, c=80)])
    last = {k: h.series("m", k)[-1] for k in ("input", "output", "reasoning", "cached", "total")}
    assert last == pytest.approx(
        {"input": 10.0, "output": 2.0, "reasoning": 3.0, "cached": 8.0, "total": 15.0}
    )
    assert h.latest_rate("m", "reasoning") == pytest.approx(30 / 8)


def test_unknown_kind_is_an_error() -> None:
    h = TokenHistory()
    h.observe(T, [mu()])
    with pytest.raises(ValueError, match="unknown token kind"):
        h.series("m", "tokens")  # type: ignore[arg-type]


def test_combined_sums_every_model() -> None:
    h = TokenHistory(buckets=3, bucket_seconds=10)
    h.observe(T + 1, [mu("a"), mu("b")])
    h.observe(T + 9, [mu("a", o=100), mu("b", i=50, c=40)])
    assert h.combined(now=T + 11) == pytest.approx([0, 15.0, 0])
    assert h.combined("cached", now=T + 11) == pytest.approx([0, 4.0, 0])
    assert h.combined() == pytest.approx([x + y for x, y in zip(h.series("a"), h.series("b"), strict=True)])


def test_duplicate_model_names_in_one_poll_are_summed() -> None:
    h = TokenHistory(buckets=3, bucket_seconds=10)
    h.observe(T + 1, [mu("a", o=10), mu("a", o=5)])
    h.observe(T + 6, [mu("a", o=30), mu("a", o=35)])  # 65 - 15 = +50, not a reset
    assert h.series("a")[-1] == pytest.approx(5.0)
    assert h.totals("a") == mu("a", o=65)


# ----------------------------------------------------------------- window and memory


@pytest.mark.parametrize("now", [None, T - 1e6, T + 3, T + 1e9])
@pytest.mark.parametrize("buckets", [1, 7, 60])
def test_series_always_has_exactly_buckets_values(buckets: int, now: float | None) -> None:
    h = TokenHistory(buckets=buckets, bucket_seconds=10)
    assert len(h.series("m", now=now)) == buckets  # before any observation
    assert len(h.combined(now=now)) == buckets
    h.observe(T + 1, [mu(o=0)])
    h.observe(T + 9, [mu(o=80)])
    for got in (h.series("m", now=now), h.series("nope", now=now), h.combined("input", now=now)):
        assert len(got) == buckets


def test_advancing_now_shifts_data_left_and_pads_trailing_zeros() -> None:
    h = TokenHistory(buckets=5, bucket_seconds=10)
    h.observe(T + 1, [mu(o=0)])
    h.observe(T + 9, [mu(o=80)])
    assert h.series("m") == pytest.approx([0, 0, 0, 0, 8.0])
    assert h.series("m", now=T + 25) == pytest.approx([0, 0, 8.0, 0, 0])
    assert h.series("m", now=T + 45) == pytest.approx([8.0, 0, 0, 0, 0])
    assert h.series("m", now=T + 55) == [0.0] * 5
    # A `now` before the data shows the empty past, and nothing later than `now`.
    assert h.series("m", now=T - 5) == [0.0] * 5


def test_ring_wraps_old_buckets_roll_off_and_memory_stays_fixed() -> None:
    h = TokenHistory(buckets=6, bucket_seconds=10)
    h.observe(T + 0.5, [mu(o=0)])
    ring = h._tracks["m"].ring  # internal: the ring must never be reallocated or grow
    count = 0
    for k in range(1, 30):  # interval k = [T+10(k-1)+0.5, T+10k+0.5] at k tokens/s
        count += 10 * k
        h.observe(T + 10 * k + 0.5, [mu(o=count)])
    # Bucket j holds 0.5 s of interval j (rate j) and 9.5 s of interval j+1 (rate j+1);
    # the newest, bucket 29, holds only the last 0.5 s of interval 29.
    want = [(0.5 * j + 9.5 * (j + 1)) / 10 for j in range(24, 29)] + [0.5 * 29 / 10]
    assert h.series("m") == pytest.approx(want)
    assert h._tracks["m"].ring is ring
    assert len(ring) == 4 * 6


def test_a_long_quiet_gap_clears_the_whole_ring() -> None:
    h = TokenHistory(buckets=4, bucket_seconds=10)
    h.observe(T + 1, [mu(o=0)])
    h.observe(T + 9, [mu(o=80)])
    h.observe(T + 1000, [mu(o=80)])
    assert h.series("m") == [0.0] * 4
    # and history after the gap fills the same ring again
    h.observe(T + 1005, [mu(o=130)])
    assert h.series("m") == pytest.approx([0, 0, 0, 5.0])


def test_models_beyond_the_cap_fold_into_other() -> None:
    h = TokenHistory(buckets=3, bucket_seconds=10, max_models=2)
    h.observe(T + 1, [mu("a"), mu("b"), mu("c", o=5), mu("d", o=7, c=1)])
    assert h.models() == ["a", "b", OTHER]
    assert h.totals(OTHER) == mu(OTHER, o=12, c=1)
    assert h.totals("c") is None
    h.observe(T + 6, [mu("a"), mu("b"), mu("c", o=25), mu("d", o=7, c=1), mu("e", o=10)])
    assert h.series(OTHER)[-1] == pytest.approx(3.0)  # c +20 and newcomer e +10
    assert h.models() == ["a", "b", OTHER]


def test_invalid_construction_is_rejected() -> None:
    for kwargs in (
        {"buckets": 0},
        {"bucket_seconds": 0},
        {"bucket_seconds": float("nan")},
        {"max_models": 0},
    ):
        with pytest.raises(ValueError, match="must be"):
            TokenHistory(**kwargs)


def test_unknown_model_reads_as_empty() -> None:
    h = TokenHistory(buckets=3)
    h.observe(T, [mu("a", o=1)])
    assert h.series("zzz") == [0.0, 0.0, 0.0]
    assert h.latest_rate("zzz") == 0.0
    assert h.totals("zzz") is None
