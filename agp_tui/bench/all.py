"""`python -m agp_tui.bench all [--quick] [--json]`: every benchmark, one after the other,
each in its own process, and one summary of the headline figures against their budgets.

The summary's keys are stable so that other tools can read them: `ui_cpu_pct_100`,
`ui_cpu_pct_1000`, `ui_key_p95_ms_1000`, `ui_rss_mb_1000`, `startup_demo_s`,
`startup_status_s`, `bandwidth_bytes_per_s_100`, `sim_status_polls_per_s`,
`sim_list_requests_per_s_10000`, and per engine
run `engine_requests_ratio_N`, `engine_detect_p95_s_N`, `engine_bootstrap_detect_p95_s_N`,
`engine_cpu_factor_N` (N = 100,
and 1000 without --quick), and for following trajectories `trajectory_bytes_ratio`,
`trajectory_cpu_ratio`, `trajectory_long_polls_per_min`, `trajectory_rss_mb_followed_20`,
and for following a group every `scale_*` figure of `bench scale` (requests per second and
detection at 1,000, and 10,000 without --quick; dashboard ratios to 100 members).
Each suite's full report is kept under `suites`.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from typing import Any

SUITES = ("sim", "startup", "bandwidth", "engine", "ui", "trajectory", "scale")


def _run(name: str, quick: bool) -> dict[str, Any]:
    argv = [sys.executable, "-m", "agp_tui.bench", name, "--json", *(["--quick"] if quick else [])]
    began = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-400:]}"}
    report: dict[str, Any] = json.loads(lines[-1])
    report["wall_s"] = round(time.monotonic() - began, 1)
    return report


def _row(value: Any, budget: str, ok: bool | None, baseline: str = "") -> dict[str, Any]:
    verdict = "—" if ok is None else ("PASS" if ok else "MISS")
    return {"value": value, "budget": budget, "baseline": baseline, "result": verdict}


def summarize(suites: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The headline figures: value, budget, same-run baseline (where one exists), verdict."""
    rows: dict[str, dict[str, Any]] = {}
    if "error" not in (s := suites.get("sim", {"error": ""})):
        rows["sim_status_polls_per_s"] = _row(s["status_polls_per_s"], f">= {s['budget_per_s']}",
                                              s["result"] == "PASS")
        if "list_requests_per_s" in s:
            rows["sim_list_requests_per_s_10000"] = _row(
                s["list_requests_per_s"], f">= {s['list_budget_per_s']}", s["list_result"] == "PASS",
                f"{s['list_sessions_total']:,} sessions, started in {s['big_world_startup_s']} s")
    if "error" not in (s := suites.get("startup", {"error": ""})):
        rows["startup_status_s"] = _row(s["startup_status_s"], f"<= {s['budget_s']}", s["within_budget"],
                                        f"bare interpreter {s['interpreter_floor_s']} s")
        d = s["demo"]
        rows["startup_demo_s"] = _row(s["startup_demo_s"], f"<= {d['budget_s']}", d["within_budget"])
    if "error" not in (s := suites.get("bandwidth", {"error": ""})):
        rows["bandwidth_bytes_per_s_100"] = _row(s["bytes_per_s"], f"<= {s['budget_bytes_per_s']}",
                                                 s["result"] == "PASS")
    if "error" not in (s := suites.get("engine", {"error": ""})):
        for r in s["runs"]:
            n = r["sessions"]
            rows[f"engine_requests_ratio_{n}"] = _row(
                r["requests_ratio_vs_naive"], "<= 0.25", r["requests_ratio_vs_naive"] <= 0.25,
                f"naive loop {r['naive_requests']} requests")
            p95 = r["detect_p95_s"]
            rows[f"engine_detect_p95_s_{n}"] = _row(p95, "<= 5.0", p95 is not None and p95 <= 5.0)
            if "bootstrap_detect_p95_s" in r:  # the first 60 s, while the engine learns its sessions
                boot = r["bootstrap_detect_p95_s"]
                rows[f"engine_bootstrap_detect_p95_s_{n}"] = _row(boot, "<= 5.0", boot is None or boot <= 5.0)
            factor = r["cpu_factor_vs_floor"]
            rows[f"engine_cpu_factor_{n}"] = _row(
                factor, "<= 1.5", factor is not None and factor <= 1.5,
                f"bare aiohttp loop {r['floor_cpu_ms_per_poll']} ms/poll")
    if "error" not in (s := suites.get("trajectory", {"error": ""})):
        b, term = s["budgets"], s["terminal"]
        rows["trajectory_bytes_ratio"] = _row(term["bytes_ratio"], f"<= {b['bytes_ratio']}",
                                              term["bytes_ratio"] <= b["bytes_ratio"],
                                              f"table alone {term['table_bytes_per_s']} B/s")
        rows["trajectory_cpu_ratio"] = _row(term["cpu_ratio"], f"<= {b['cpu_ratio']}",
                                            term["cpu_ratio"] <= b["cpu_ratio"],
                                            f"table alone {term['table_cpu_pct']} %")
        polls = s["requests"]["long_polls_per_min_followed"]
        rows["trajectory_long_polls_per_min"] = _row(polls, f"<= {b['long_polls_per_min']}",
                                                     polls <= b["long_polls_per_min"])
        mem = s["memory"]
        rows["trajectory_rss_mb_followed_20"] = _row(mem["rss_mb_followed_20"], f"<= {b['rss_mb']}",
                                                     mem["rss_mb_followed_20"] <= b["rss_mb"],
                                                     f"none followed {mem['rss_mb_followed_0']} MB")
    if "error" not in (s := suites.get("ui", {"error": ""})):
        for key, budget in s["budgets"].items():
            rows[key] = _row(s[key], f"<= {budget}", s["verdicts"][key] == "PASS")
    if "error" not in (s := suites.get("scale", {"error": ""})):
        for key, value in s.items():
            if key.startswith("scale_"):
                budget = s["budgets"].get(key)
                rows[key] = _row(value, f"<= {budget}" if budget is not None else "—",
                                 s["verdicts"][key] == "PASS" if budget is not None else None)
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m agp_tui.bench all", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="every suite's --quick (what CI runs)")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--only", default=",".join(SUITES),
                        help=f"comma-separated suites ({','.join(SUITES)})")
    args = parser.parse_args(argv)
    chosen = [s for s in args.only.split(",") if s]
    unknown = [s for s in chosen if s not in SUITES]
    if unknown:
        print(f"unknown suite(s): {', '.join(unknown)}; choose from {', '.join(SUITES)}", file=sys.stderr)
        return 2
    suites: dict[str, dict[str, Any]] = {}
    for name in chosen:
        if not args.json:
            print(f"running {name}{' --quick' if args.quick else ''} …", file=sys.stderr, flush=True)
        suites[name] = _run(name, args.quick)
    rows = summarize(suites)
    failed = sorted(n for n, s in suites.items() if "error" in s)
    report = {
        "benchmark": "all", "quick": args.quick,
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": _cpus()},
        **{k: r["value"] for k, r in rows.items()},
        "summary": rows, "failed_suites": failed, "suites": suites,
        "result": "PASS" if rows and not failed and all(r["result"] != "MISS" for r in rows.values())
        else "MISS",
    }
    if args.json:
        print(json.dumps(report))
    else:
        width = max(map(len, rows), default=10)
        print(f"{'figure':<{width}}  {'measured':>10}  {'budget':<10}  result  same-run baseline")
        for key, r in rows.items():
            print(f"{key:<{width}}  {r['value']!s:>10}  {r['budget']:<10}  {r['result']:<6}  {r['baseline']}")
        for name in failed:
            print(f"{name}: FAILED TO RUN: {suites[name]['error']}")
        print(f"overall: {report['result']}")
    return 1 if failed else 0


def _cpus() -> int | None:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
