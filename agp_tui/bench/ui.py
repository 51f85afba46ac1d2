"""`python -m agp_tui.bench ui [--quick] [--json]`: what the dashboard costs while it runs.

The real dashboard (`make_app`, the real `Engine` over aiohttp) runs headless at 120x40 in
a fresh process per measurement, against a simulator in another process, so its CPU and
memory are the dashboard's alone:

- ui_cpu_pct_100 / ui_cpu_pct_1000: CPU time of the dashboard process over a window of
  wall time (60 s; 10 s with --quick), as a percentage of one core, watching 100 / 1,000
  freshly created (running) sessions at real speed, after they have all loaded.
- ui_key_p95_ms_1000: with 1,000 sessions, keypress to the first rendered frame that shows
  its effect (cursor row, scroll or sort order changed), over a mix of navigation keys and
  sort cycling, while the data keeps updating. Frames are composited and rendered to the
  bytes a terminal would get, handed to a driver that counts them (`_counting_driver`);
  the latency ends when the first frame showing the key's effect has been written.
- ui_rss_mb_1000: resident memory after one simulated hour (10 minutes with --quick) of
  1,000 sessions, the simulator at speed 20 and every engine interval divided by 20 as in
  the engine benchmark, so the token histories fill as they would in an hour.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

BUDGET_CPU_PCT = {100: 10.0, 1000: 25.0}
BUDGET_KEY_P95_MS = 50.0
BUDGET_RSS_MB = 150.0
SIZE = (120, 40)
KEYS = (*["down"] * 8, "pagedown", *["up"] * 4, "pageup", "end", "home", "s", *["down"] * 3, "s")


def _proc_status_mb(field: str) -> float:
    """A `VmRSS`-style figure of this process from /proc, in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def _counting_driver(on_write: Callable[[str], None]) -> type[Any]:
    """A headless driver that tells Textual it is not headless: every frame is then
    composited and rendered to the exact bytes a terminal would get and handed to `write`,
    which counts them instead of writing. (Public API: `App.driver_class` and `Driver`.)"""
    from textual.drivers.headless_driver import HeadlessDriver

    class CountingDriver(HeadlessDriver):
        @property
        def is_headless(self) -> bool:
            return False

        def write(self, data: str) -> None:
            on_write(data)

    return CountingDriver


async def _child(spec: dict[str, Any]) -> dict[str, Any]:
    """One measurement in this (fresh) process; see the module docstring."""
    from agp_tui.api.backend import AiohttpBackend
    from agp_tui.api.client import AgpClient
    from agp_tui.api.retry import RetryPolicy
    from agp_tui.bench._simproc import simulator
    from agp_tui.bench.engine import create_sessions, scaled
    from agp_tui.monitor.engine import Engine, EngineSettings
    from agp_tui.ui.app import make_app
    from agp_tui.ui.widgets.session_table import SessionTable

    n, speed = int(spec["sessions"]), float(spec.get("speed", 1.0))
    sim_args = ["--seed", "5", "--sessions", "20", "--quota-limit", "100000", "--speed", str(speed)]
    with simulator(*sim_args) as sim:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {sim.api_key}"}) as http:
            ids = await create_sessions(http, sim.base_url, n)
        client = AgpClient(sim.base_url, sim.api_key, backend=AiohttpBackend(), retry=RetryPolicy.off())
        engine = Engine(client, None, scaled(speed) if speed != 1.0 else EngineSettings())
        app = make_app(engine, initial_ids=ids, region="simulator")
        out: dict[str, Any] = {"sessions": n, "speed": speed}
        written = [0]
        waiter: list[tuple[tuple[object, ...], asyncio.Future[float]]] = []
        table: Any = None

        def state() -> tuple[object, ...]:
            return (table.cursor_row, round(table.scroll_y), table.sort_key)

        def on_write(data: str) -> None:
            written[0] += len(data)  # what a terminal gets
            if table is not None and waiter and state() != waiter[0][0] and not waiter[0][1].done():
                waiter[0][1].set_result(time.perf_counter())

        app.driver_class = _counting_driver(on_write)
        async with app.run_test(size=SIZE, headless=False) as pilot:
            table = app.main.query_one(SessionTable)
            began = time.monotonic()
            while time.monotonic() - began < 120 and not all(
                (v := engine.view(s)) is not None and v.status is not None for s in ids
            ):
                await asyncio.sleep(0.2)
            out["load_s"] = round(time.monotonic() - began, 2)
            if spec["mode"] == "live":
                await asyncio.sleep(2.0)  # the first full frames after loading are not steady state
                cpu0, wall0, bytes0, req0 = time.process_time(), time.monotonic(), written[0], \
                    engine.requests_granted
                await asyncio.sleep(float(spec["seconds"]))
                wall = time.monotonic() - wall0
                out.update(
                    window_s=round(wall, 1),
                    cpu_pct=round((time.process_time() - cpu0) / wall * 100, 2),
                    requests_per_s=round((engine.requests_granted - req0) / wall, 1),
                    bytes_per_s=round((written[0] - bytes0) / wall),
                )
                latencies: list[float] = []
                by_key: dict[str, list[float]] = {}
                for i in range(int(spec.get("keys", 0))):
                    key = KEYS[i % len(KEYS)]
                    before = state()
                    fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
                    waiter[:] = [(before, fut)]
                    t0 = time.perf_counter()
                    await pilot.press(key)
                    if state() == before:  # the key changed nothing (home at the top, say)
                        continue
                    try:
                        t1 = await asyncio.wait_for(fut, 2.0)
                    except TimeoutError:
                        t1 = t0 + 2.0
                    ms = (t1 - t0) * 1000
                    latencies.append(ms)
                    by_key.setdefault(key, []).append(ms)
                    await asyncio.sleep(0.05)  # a fast typist, and the data keeps coming
                waiter.clear()
                if latencies:
                    out.update(
                        keys=len(latencies),
                        key_p50_ms=round(_pct(latencies, 0.5) or 0, 1),
                        key_p95_ms=round(_pct(latencies, 0.95) or 0, 1),
                        key_max_ms=round(max(latencies), 1),
                        key_p95_ms_by_key={k: round(_pct(v, 0.95) or 0, 1)
                                           for k, v in sorted(by_key.items())},
                    )
            else:  # "hour": let a simulated hour of history accumulate, then weigh the process
                await asyncio.sleep(float(spec["sim_minutes"]) * 60 / speed)
                gc.collect()
                histories = [h for s in ids if (h := engine.history(s)) is not None]
                out.update(
                    sim_minutes=spec["sim_minutes"],
                    rss_mb=round(_proc_status_mb("VmRSS"), 1),
                    peak_rss_mb=round(_proc_status_mb("VmHWM"), 1),
                    histories=len(histories),
                    models_tracked=sum(len(h.models()) for h in histories),
                    requests=engine.requests_granted,
                )
            await pilot.press("q")
        return out


def run_child(spec: dict[str, Any], suite: str = "ui") -> dict[str, Any]:
    """`python -m agp_tui.bench SUITE --child SPEC` in a fresh process: its last JSON line."""
    proc = subprocess.run([sys.executable, "-m", "agp_tui.bench", suite, "--child", json.dumps(spec)],
                          capture_output=True, text=True, check=False, timeout=1800)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{suite} bench child {spec} failed ({proc.returncode}): "
                           f"{proc.stderr.strip()[-600:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def measure(quick: bool) -> dict[str, Any]:
    window = 10.0 if quick else 60.0
    live = {n: run_child({"mode": "live", "sessions": n, "seconds": window,
                           "keys": (40 if quick else 200) if n == 1000 else 0})
            for n in (100, 1000)}
    hour = run_child({"mode": "hour", "sessions": 1000, "speed": 20.0, "sim_minutes": 10 if quick else 60})
    figures = {
        "ui_cpu_pct_100": live[100]["cpu_pct"],
        "ui_cpu_pct_1000": live[1000]["cpu_pct"],
        "ui_key_p95_ms_1000": live[1000].get("key_p95_ms"),
        "ui_rss_mb_1000": hour["rss_mb"],
    }
    budgets = {"ui_cpu_pct_100": BUDGET_CPU_PCT[100], "ui_cpu_pct_1000": BUDGET_CPU_PCT[1000],
               "ui_key_p95_ms_1000": BUDGET_KEY_P95_MS, "ui_rss_mb_1000": BUDGET_RSS_MB}
    verdicts = {k: "PASS" if figures[k] is not None and figures[k] <= budgets[k] else "MISS" for k in figures}
    return {"benchmark": "ui", "quick": quick, "terminal": f"{SIZE[0]}x{SIZE[1]}", **figures,
            "budgets": budgets, "verdicts": verdicts, "live_100": live[100], "live_1000": live[1000],
            "hour_1000": hour, "result": "PASS" if all(v == "PASS" for v in verdicts.values()) else "MISS"}


def _report(r: dict[str, Any]) -> None:
    l100, l1000, hour = r["live_100"], r["live_1000"], r["hour_1000"]
    print(f"ui: the dashboard headless at {r['terminal']} against the simulator: {r['result']}")
    for n, live in ((100, l100), (1000, l1000)):
        key = f"ui_cpu_pct_{n}"
        print(f"  CPU with {n:>5} sessions: {live['cpu_pct']:6.2f} % of a core over {live['window_s']} s "
              f"(budget <= {r['budgets'][key]:g} %) {r['verdicts'][key]}   "
              f"[{live['requests_per_s']} req/s, {live['bytes_per_s']} bytes/s to the terminal, "
              f"loaded in {live['load_s']} s]")
    print(f"  keypress to frame, 1,000 sessions: p95 {l1000.get('key_p95_ms')} ms "
          f"(budget <= {BUDGET_KEY_P95_MS:g} ms) {r['verdicts']['ui_key_p95_ms_1000']}   "
          f"[p50 {l1000.get('key_p50_ms')} ms, max {l1000.get('key_max_ms')} ms over {l1000.get('keys')} "
          f"keys; p95 by key {l1000.get('key_p95_ms_by_key')}]")
    print(f"  RSS after {hour['sim_minutes']} simulated min of 1,000 sessions: {hour['rss_mb']} MB "
          f"(budget <= {BUDGET_RSS_MB:g} MB) {r['verdicts']['ui_rss_mb_1000']}   "
          f"[peak {hour['peak_rss_mb']} MB, {hour['models_tracked']} model histories, "
          f"{hour['requests']} requests]")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m agp_tui.bench ui", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 s windows, 40 keys, 10 simulated minutes")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # one measurement, in a fresh process
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(asyncio.run(_child(json.loads(args.child)))))
        return 0
    try:
        report = measure(args.quick)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"ui benchmark failed: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report))
    else:
        _report(report)
    return 0
