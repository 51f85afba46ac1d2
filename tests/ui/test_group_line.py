"""The aggregate line of a followed group: exact counts, figures marked while partial."""

from __future__ import annotations

from rich.cells import cell_len

from agp_tui.monitor.group_view import Aggregate
from agp_tui.ui.group_line import group_line, models_line


def agg(**over: object) -> Aggregate:
    base: dict[str, object] = dict(
        key="group:nightly-7", members=2000, counts=(("running", 1204), ("completed", 650), ("failed", 146)),
        read=700, steps=41_200, tokens=12_400_000, per_model=(), bootstrapped=True, truncated=False,
        error=None)
    base.update(over)
    return Aggregate(**base)  # type: ignore[arg-type]


def test_counts_are_exact_and_partial_figures_say_so() -> None:
    text = group_line(agg()).plain
    assert text.startswith("▤ group:nightly-7 2,000 · ● 1,204 running · ✔ 650 completed")
    assert "steps ≥41k · tokens ≥12M (700/2,000 read)" in text


def test_every_member_read_drops_the_marks() -> None:
    text = group_line(agg(read=2000)).plain
    assert "steps 41k · tokens 12M" in text and "≥" not in text and "read)" not in text


def test_too_long_for_the_width_the_counts_lose_their_words_first() -> None:
    wide = group_line(agg(), 200).plain
    narrow = group_line(agg(), 100).plain
    assert "1,204 running" in wide
    assert "●1,204" in narrow and "running" not in narrow and "steps ≥41k" in narrow
    assert cell_len(narrow) <= 100


def test_listing_errors_and_hostile_keys() -> None:
    assert "listing… 300 found" in group_line(agg(bootstrapped=False, members=300, counts=())).plain
    text = group_line(agg(key="group:\x1b[2Jevil", error="Server error 503\x07")).plain
    assert "\x1b" not in text and "\x07" not in text and "! Server error 503" in text
    assert "2,000+" in group_line(agg(truncated=True)).plain


def test_cost_and_the_ended_per_minute_sparkline() -> None:
    text = group_line(agg(cost=3.2104, priced=650, ended_per_minute=(0, 2, 4, 8))).plain
    assert "cost ≥$3.21 (700/2,000 read)" in text
    assert text.endswith("ended/min ▁▃▅█ peak 8")
    assert "ended/min" not in group_line(agg(ended_per_minute=(0, 0, 0))).plain  # nothing ended yet
    every = group_line(agg(read=2000, priced=2000, cost=12.5)).plain
    assert "cost $12.50" in every and "≥" not in every


def test_narrow_the_sparkline_goes_after_the_words() -> None:
    a = agg(cost=3.21, priced=650, ended_per_minute=(1, 2, 3) * 5)
    full = group_line(a).plain
    mid = group_line(a, cell_len(full) - 1).plain
    assert "running" not in mid and "peak 3" in mid
    narrow = group_line(a, 100).plain
    assert "peak" not in narrow and "cost ≥$3.21" in narrow and cell_len(narrow) <= 100


def test_models_line_names_each_model_and_how_far_cost_is_known() -> None:
    a = agg(per_model=(("holo3-122b", 8_100_000), ("gpt\x1b[31m", 4_300_000)), cost=3.21, priced=640,
            unpriced=10)
    text = models_line(a).plain
    assert text == ("tokens holo3-122b ≥8.1M · gpt ≥4.3M · cost ≥$3.21 over 640 members"
                    " (10 with an unpriced model)")
    assert "none read yet" in models_line(agg(read=0)).plain


def test_the_group_screen_puts_the_sparkline_on_its_second_line() -> None:
    a = agg(ended_per_minute=(0, 3, 6), per_model=(("holo3", 5_000),))
    assert "ended/min" not in group_line(a, sparkline=False).plain
    assert models_line(a).plain.startswith("ended/min ▁▅█ peak 6 · tokens holo3 ≥5.0k")
