"""`python -m agp_tui.bench trajectory [--quick] [--json]`: what following an agent costs.

Three measurements, each against a baseline taken in the same run:

- terminal: the installed dashboard in a 120x40 pseudo-terminal watching 20 running
  sessions, alternately on its table ("table") and with the trajectory screen following
  the first (busy) session ("trajectory"), runs interleaved A/B/A/B so the machine's
  noise falls on both. Bytes written to the terminal and the dashboard process's CPU
  (/proc) over the steady window; reported as trajectory / table ratios (targets: bytes
  <= 1.5x, CPU <= 1.3x).
- requests: the engine in this process against an in-process simulator whose world
  stands still (nothing happens), one session on screen, followed vs not followed.
  Policy, not speed: long-poll waits are 1/10 of the defaults and the counts are scaled
  back to a real minute (target: <= 3 requests/min of long-poll for a followed session,
  and following adds no steady-state request).
- memory: the dashboard (make_app, the real engine) with 1,000 watched sessions for a
  simulated hour (10 minutes with --quick) at speed 20, with and without 20 of them
  followed; RSS after (today's budget: 150 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp

BUDGET_BYTES_RATIO = 1.5
BUDGET_CPU_RATIO = 1.3
BUDGET_LONG_POLLS_PER_MIN = 3.0
BUDGET_RSS_MB = 150.0
COLS, ROWS = 120, 40
WARMUP_S = 6.0
POLICY_SCALE = 10.0  # long-poll waits divided by this in the requests measurement


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def _terminal_run(base_url: str, key: str, ids: list[str], seconds: float,
                  trajectory: bool) -> dict[str, float]:
    from agp_tui.bench._pty import spawn

    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": f"{home}/config",
               "XDG_DATA_HOME": f"{home}/data", "COLUMNS": str(COLS), "LINES": str(ROWS)}
        argv = [sys.executable, "-m", "agp_tui", "--base-url", base_url, "--api-key", key, *ids]
        with spawn(argv, COLS, ROWS, env) as pty:
            began = time.monotonic()
            while time.monotonic() - began < WARMUP_S:
                if pty.read(0.2) is None:
                    break
            if trajectory:
                os.write(pty.master, b"t")  # on the first row: its trajectory, followed
                settle = time.monotonic()
                while time.monotonic() - settle < 2.0:
                    pty.read(0.2)
            cpu0, t0, written = _cpu_seconds(pty.proc.pid), time.monotonic(), 0
            while time.monotonic() - t0 < seconds:
                chunk = pty.read(0.2)
                if chunk is None:
                    break
                written += len(chunk)
            wall = time.monotonic() - t0
            cpu = _cpu_seconds(pty.proc.pid) - cpu0
    return {"bytes_per_s": written / wall, "cpu_pct": cpu / wall * 100}


def terminal(quick: bool) -> dict[str, Any]:
    from agp_tui.bench._simproc import simulator
    from agp_tui.bench.engine import create_sessions

    seconds, rounds = (5.0, 3) if quick else (30.0, 3)  # a median of three: one busy moment is not a figure

    async def prepare(base: str, key: str) -> list[str]:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as http:
            return await create_sessions(http, base, 20)

    runs: dict[str, list[dict[str, float]]] = {"table": [], "trajectory": []}
    with simulator("--seed", "3", "--sessions", "10", "--quota-limit", "100000") as sim:
        ids = asyncio.run(prepare(sim.base_url, sim.api_key))
        for _ in range(rounds):
            for mode in ("table", "trajectory"):
                run = _terminal_run(sim.base_url, sim.api_key, ids, seconds, mode == "trajectory")
                runs[mode].append(run)

    def median(mode: str, key: str) -> float:
        values = sorted(float(r[key]) for r in runs[mode])
        return values[len(values) // 2]

    out: dict[str, Any] = {"seconds_per_run": seconds, "rounds": rounds}
    for mode in runs:
        out[f"{mode}_bytes_per_s"] = round(median(mode, "bytes_per_s"))
        out[f"{mode}_cpu_pct"] = round(median(mode, "cpu_pct"), 2)
    out["bytes_ratio"] = round(out["trajectory_bytes_per_s"] / max(out["table_bytes_per_s"], 1), 2)
    out["cpu_ratio"] = round(out["trajectory_cpu_pct"] / max(out["table_cpu_pct"], 0.01), 2)
    return out


async def _requests_run(follow: bool, seconds: float) -> dict[str, float]:
    from agp_tui.api import AgpClient, RetryPolicy
    from agp_tui.monitor.engine import Engine, EngineSettings
    from agp_tui.sim import DEMO_API_KEY, ManualClock, SimServer, World

    world = World(seed=11, sessions=30, clock=ManualClock(), arrival_interval_s=0)  # stands still
    sid = next(s.id for s in world.all_sessions() if s.status == "running" and s.parent_id is None)
    async with SimServer(world) as srv:
        client = AgpClient(srv.base_url, DEMO_API_KEY, retry=RetryPolicy.off())
        defaults = EngineSettings()
        settings = replace(defaults, seed=1, sweep=False,
                           long_poll_wait=max(1, round(defaults.long_poll_wait / POLICY_SCALE)),
                           long_poll_status_every=defaults.long_poll_status_every / POLICY_SCALE,
                           quota_interval=3600.0)
        engine = Engine(client, None, settings)
        counts = engine.count_requests()
        engine.set_focus([sid], sid)
        await engine.start([sid])
        if follow:
            engine.follow_events(sid)
        await asyncio.sleep(2.0)  # loaded, following: the steady state starts
        before = dict(counts)
        await asyncio.sleep(seconds)
        after = dict(counts)
        await engine.aclose()
    # The window covers `seconds * POLICY_SCALE` seconds of the real policy's time.
    per_min = 60.0 / (seconds * POLICY_SCALE)
    delta = {k: (after.get(k, 0) - before.get(k, 0)) * per_min for k in after}
    return {k: round(v, 2) for k, v in delta.items() if v}


def requests(quick: bool) -> dict[str, Any]:
    seconds = 6.0 if quick else 24.0
    plain = asyncio.run(_requests_run(False, seconds))
    followed = asyncio.run(_requests_run(True, seconds))
    total = {"not_followed": round(sum(plain.values()), 2), "followed": round(sum(followed.values()), 2)}
    return {"window_s": seconds, "scale": POLICY_SCALE, "per_min_not_followed": plain,
            "per_min_followed": followed, "total_per_min": total,
            "long_polls_per_min_followed": followed.get("long-poll", 0.0),
            "following_adds_per_min": round(total["followed"] - total["not_followed"], 2)}


async def _memory_child(spec: dict[str, Any]) -> dict[str, Any]:
    from agp_tui.api.backend import AiohttpBackend
    from agp_tui.api.client import AgpClient
    from agp_tui.api.retry import RetryPolicy
    from agp_tui.bench._simproc import simulator
    from agp_tui.bench.engine import create_sessions, scaled
    from agp_tui.monitor.engine import Engine
    from agp_tui.ui.app import make_app

    n, speed, followed = int(spec["sessions"]), 20.0, int(spec["followed"])
    sim_args = ("--seed", "5", "--sessions", "20", "--quota-limit", "100000", "--speed", str(speed))
    with simulator(*sim_args) as sim:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {sim.api_key}"}) as http:
            ids = await create_sessions(http, sim.base_url, n)
        client = AgpClient(sim.base_url, sim.api_key, backend=AiohttpBackend(), retry=RetryPolicy.off())
        engine = Engine(client, None, scaled(speed))
        app = make_app(engine, initial_ids=ids, region="simulator")
        async with app.run_test(size=(COLS, ROWS)) as pilot:
            began = time.monotonic()
            while time.monotonic() - began < 120 and not all(
                    (v := engine.view(s)) is not None and v.status is not None for s in ids):
                await asyncio.sleep(0.2)
            for sid in ids[:followed]:
                engine.follow_events(sid)
            await asyncio.sleep(float(spec["sim_minutes"]) * 60 / speed)
            gc.collect()
            held = sum(len(b) for s in ids[:followed] if (b := engine.trajectory(s)) is not None)
            rss = _status_mb("VmRSS")
            await pilot.press("q")
    return {"followed": followed, "events_held": held, "rss_mb": round(rss, 1)}


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def memory(quick: bool) -> dict[str, Any]:
    minutes = 10 if quick else 60
    out: dict[str, Any] = {"sessions": 1000, "sim_minutes": minutes}
    for followed in (0, 20):
        spec = {"sessions": 1000, "followed": followed, "sim_minutes": minutes}
        argv = [sys.executable, "-m", "agp_tui.bench", "trajectory", "--child", json.dumps(spec)]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=1800)
        if proc.returncode != 0:
            raise RuntimeError(f"memory run failed: {proc.stderr.strip()[-500:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        out[f"rss_mb_followed_{followed}"] = result["rss_mb"]
        if followed:
            out["events_held"] = result["events_held"]
    out["rss_ratio"] = round(out["rss_mb_followed_20"] / out["rss_mb_followed_0"], 3)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m agp_tui.bench trajectory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short windows")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(asyncio.run(_memory_child(json.loads(args.child)))))
        return 0
    term = terminal(args.quick)
    reqs = requests(args.quick)
    mem = memory(args.quick)
    report = {
        "benchmark": "trajectory", "terminal": term, "requests": reqs, "memory": mem,
        "budgets": {"bytes_ratio": BUDGET_BYTES_RATIO, "cpu_ratio": BUDGET_CPU_RATIO,
                    "long_polls_per_min": BUDGET_LONG_POLLS_PER_MIN, "rss_mb": BUDGET_RSS_MB},
    }
    if args.json:
        print(json.dumps(report))
        return 0
    verdict = {True: "PASS", False: "MISS"}
    print(f"terminal at {COLS}x{ROWS}, 20 running sessions, {term['rounds']} round(s) of "
          f"{term['seconds_per_run']:.0f} s (medians):")
    ok_bytes, ok_cpu = term["bytes_ratio"] <= BUDGET_BYTES_RATIO, term["cpu_ratio"] <= BUDGET_CPU_RATIO
    print(f"  bytes/s  table {term['table_bytes_per_s']}  trajectory {term['trajectory_bytes_per_s']}  "
          f"ratio {term['bytes_ratio']} (<= {BUDGET_BYTES_RATIO}) {verdict[ok_bytes]}")
    print(f"  CPU %    table {term['table_cpu_pct']}  trajectory {term['trajectory_cpu_pct']}  "
          f"ratio {term['cpu_ratio']} (<= {BUDGET_CPU_RATIO}) {verdict[ok_cpu]}")
    lp = reqs["long_polls_per_min_followed"]
    print(f"requests per minute for one idle session on screen (policy, waits / {POLICY_SCALE:g}): "
          f"not followed {reqs['per_min_not_followed']}, followed {reqs['per_min_followed']}; "
          f"long-polls {lp} (<= {BUDGET_LONG_POLLS_PER_MIN}) {verdict[lp <= BUDGET_LONG_POLLS_PER_MIN]}; "
          f"following adds {reqs['following_adds_per_min']}/min")
    print(f"memory, 1,000 sessions, {mem['sim_minutes']} simulated minutes: "
          f"RSS {mem['rss_mb_followed_0']} MB, with 20 followed {mem['rss_mb_followed_20']} MB "
          f"({mem['events_held']} events held), "
          f"ratio {mem['rss_ratio']} (budget {BUDGET_RSS_MB:.0f} MB) "
          f"{verdict[mem['rss_mb_followed_20'] <= BUDGET_RSS_MB]}")
    return 0
