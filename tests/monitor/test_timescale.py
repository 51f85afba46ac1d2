"""time_scaled: against a simulator X times faster, every duration the engine keeps is divided
by X and every rate multiplied, so the schedule is speed 1's, compressed."""

from __future__ import annotations

import dataclasses

import pytest

from agp_tui.monitor.cadence import Cadence
from agp_tui.monitor.settings import EngineSettings
from agp_tui.monitor.timescale import time_scaled

# Not durations or rates of ours: counts, switches, fractions, and the seconds the *server*
# holds a long-poll (a sped-up simulator holds it that long in real time too).
UNSCALED = {"max_in_flight", "history_buckets", "sweep", "sweep_min_sessions", "bootstrap_min_sessions",
            "overdue_factor", "offline_after", "follow_children", "long_poll", "long_poll_wait",
            "long_poll_max", "max_children", "max_tree_depth", "group_max_members", "seed"}
RATES = {"max_rps", "group_detail_rps", "group_focus_rps"}
CADENCE_UNSCALED = {"jitter", "background_factor"}


def test_every_duration_is_divided_and_every_rate_multiplied() -> None:
    base, fast = EngineSettings(), time_scaled(EngineSettings(), 10.0)
    for f in dataclasses.fields(EngineSettings):
        if f.name == "cadence" or f.name in UNSCALED:
            continue
        was, now = getattr(base, f.name), getattr(fast, f.name)
        expected = was * 10 if f.name in RATES else was / 10
        assert now == pytest.approx(expected), f.name
    for f in dataclasses.fields(Cadence):
        was, now = getattr(base.cadence, f.name), getattr(fast.cadence, f.name)
        if f.name in CADENCE_UNSCALED or not isinstance(was, float):
            assert now == was, f.name
        else:
            assert now == pytest.approx(was / 10), f.name
