"""`python -m agp_tui.bench all` summarises every suite under the keys the README promises."""

from __future__ import annotations

from typing import Any

from agp_tui.bench.all import summarize

ISSUE_KEYS = {"ui_cpu_pct_100", "ui_cpu_pct_1000", "ui_key_p95_ms_1000", "ui_rss_mb_1000",
              "startup_demo_s", "startup_status_s", "bandwidth_bytes_per_s_100"}


def _suites(**over: Any) -> dict[str, dict[str, Any]]:
    suites: dict[str, dict[str, Any]] = {
        "sim": {"status_polls_per_s": 9000.0, "budget_per_s": 500, "result": "PASS"},
        "startup": {"startup_status_s": 0.22, "budget_s": 0.3, "within_budget": True,
                    "interpreter_floor_s": 0.02,
                    "demo": {"budget_s": 1.0, "within_budget": True}, "startup_demo_s": 0.6},
        "bandwidth": {"bytes_per_s": 3100, "budget_bytes_per_s": 5000, "result": "PASS"},
        "engine": {"runs": [{"sessions": 100, "requests_ratio_vs_naive": 0.2, "naive_requests": 5000,
                             "detect_p95_s": 3.1, "bootstrap_detect_p95_s": 2.4, "cpu_factor_vs_floor": 1.0,
                             "floor_cpu_ms_per_poll": 0.7}]},
        "ui": {"ui_cpu_pct_100": 3.0, "ui_cpu_pct_1000": 6.0, "ui_key_p95_ms_1000": 61.0,
               "ui_rss_mb_1000": 83.0,
               "budgets": {"ui_cpu_pct_100": 10.0, "ui_cpu_pct_1000": 25.0, "ui_key_p95_ms_1000": 50.0,
                           "ui_rss_mb_1000": 150.0},
               "verdicts": {"ui_cpu_pct_100": "PASS", "ui_cpu_pct_1000": "PASS",
                            "ui_key_p95_ms_1000": "MISS", "ui_rss_mb_1000": "PASS"}},
    }
    suites.update(over)
    return suites


def test_every_headline_key_is_reported_with_its_budget_and_verdict() -> None:
    rows = summarize(_suites())
    assert rows.keys() >= ISSUE_KEYS
    assert {"engine_requests_ratio_100", "engine_detect_p95_s_100", "engine_cpu_factor_100"} <= rows.keys()
    assert rows["ui_key_p95_ms_1000"] == {"value": 61.0, "budget": "<= 50.0", "baseline": "",
                                          "result": "MISS"}
    assert rows["startup_status_s"]["baseline"] == "bare interpreter 0.02 s"
    assert rows["engine_cpu_factor_100"]["baseline"].startswith("bare aiohttp loop")
    assert rows["engine_bootstrap_detect_p95_s_100"]["result"] == "PASS"


def test_the_simulators_list_throughput_at_10000_sessions_is_a_headline() -> None:
    sim = {"status_polls_per_s": 9000.0, "budget_per_s": 500, "result": "PASS", "list_requests_per_s": 2187.0,
           "list_budget_per_s": 500.0, "list_result": "PASS", "list_sessions_total": 23631,
           "big_world_startup_s": 12.8}
    rows = summarize(_suites(sim=sim))
    assert rows["sim_list_requests_per_s_10000"] == {
        "value": 2187.0, "budget": ">= 500.0", "result": "PASS",
        "baseline": "23,631 sessions, started in 12.8 s"}


def test_a_suite_that_failed_to_run_drops_its_figures_but_not_the_others() -> None:
    rows = summarize(_suites(ui={"error": "exit 1: boom"}))
    assert "ui_cpu_pct_100" not in rows and "startup_demo_s" in rows


def test_trajectory_figures_are_ratios_to_the_table_alone() -> None:
    trajectory = {
        "terminal": {"bytes_ratio": 0.86, "cpu_ratio": 1.4, "table_bytes_per_s": 1403, "table_cpu_pct": 3.27},
        "requests": {"long_polls_per_min_followed": 3.0},
        "memory": {"rss_mb_followed_0": 80.8, "rss_mb_followed_20": 82.2},
        "budgets": {"bytes_ratio": 1.5, "cpu_ratio": 1.3, "long_polls_per_min": 3.0, "rss_mb": 150.0},
    }
    rows = summarize(_suites(trajectory=trajectory))
    assert rows["trajectory_bytes_ratio"] == {"value": 0.86, "budget": "<= 1.5",
                                              "baseline": "table alone 1403 B/s", "result": "PASS"}
    assert rows["trajectory_cpu_ratio"]["result"] == "MISS"
    assert rows["trajectory_long_polls_per_min"]["result"] == "PASS"
    assert rows["trajectory_rss_mb_followed_20"]["baseline"] == "none followed 80.8 MB"


def test_following_a_group_reports_its_figures_with_budgets_where_there_are_some() -> None:
    scale = {"scale_requests_per_s_1000": 1.6, "scale_detect_p95_s_1000": 2.85,
             "scale_key_p95_ratio_1000_vs_100": 1.9,
             "budgets": {"scale_detect_p95_s_1000": 10.0, "scale_key_p95_ratio_1000_vs_100": 1.5},
             "verdicts": {"scale_detect_p95_s_1000": "PASS", "scale_key_p95_ratio_1000_vs_100": "MISS"}}
    rows = summarize(_suites(scale=scale))
    assert rows["scale_requests_per_s_1000"] == {"value": 1.6, "budget": "—", "baseline": "", "result": "—"}
    assert rows["scale_detect_p95_s_1000"]["result"] == "PASS"
    assert rows["scale_key_p95_ratio_1000_vs_100"]["result"] == "MISS"
