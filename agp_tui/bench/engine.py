"""`python -m agp_tui.bench engine [--quick] [--json]`: how few requests the engine needs,
how fast it notices status changes, and what each poll costs in CPU.

For each size (100 and 1,000 watched sessions) the bench creates the sessions through the
API, watches them with the real `Engine` at its default settings, with the first 15
sessions "on screen" as in an 80x24 dashboard, and scores it against the simulator's
ground truth (each session's status log):

- Policy, in virtual time: the simulator runs in this process on a loop whose clock jumps
  to the next timer whenever nothing is ready (bench/vtime.py), and the world's clock is
  that loop's. A simulated hour takes as long as its CPU work, and the figures are in
  simulated seconds, the same on any machine, however loaded:
  - requests_ratio_vs_naive: requests made ÷ requests of the docs' loop (every session
    polled every 3 s until terminal), on the same world over the same window;
  - detect_p50_s / detect_p95_s: from a session leaving `running` to the engine's
    StatusChanged for it. The engine starts with the window, so its bootstrap (the first
    list pages, the first polls) is measured too; bootstrap_detect_p95_s is the p95 of the
    transitions in its first 60 s. Transitions never seen are counted in `missed`.
- CPU, in real time: a simulator in its own process at `--speed` (intervals divided by it,
  monitor/timescale.py) for a shorter window; cpu_ms_per_poll is this process's CPU ÷
  requests, floor_cpu_ms_per_poll the same for a bare aiohttp loop of /status GETs on the
  same server in the same run, paced at the engine's rate; the target is their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, replace
from typing import Any

import aiohttp

from agp_tui.api.backend import AiohttpBackend
from agp_tui.api.client import AgpClient
from agp_tui.api.retry import RetryPolicy
from agp_tui.api.status import RUNNING, TERMINAL
from agp_tui.bench._simproc import SimProcess, simulator
from agp_tui.bench.vtime import run_virtual
from agp_tui.monitor.engine import Engine, EngineSettings
from agp_tui.monitor.events import EngineEvent, StatusChanged
from agp_tui.monitor.timescale import time_scaled
from agp_tui.sim import SimServer, World
from agp_tui.sim.clock import RealClock

NAIVE_INTERVAL = 3.0
ON_SCREEN = 15
TARGET_RATIO = 0.25
TARGET_P95 = 5.0
TARGET_CPU_FACTOR = 1.5
AGENTS = ("h/web-surfer-flash", "h/web-surfer", "acme/lead-qualifier", "h/desktop-operator",
          "acme/invoice-bot", "acme/research-manager")


@dataclass(frozen=True)
class Plan:
    sessions: int
    sim_seconds: float
    speed: float


def scaled(speed: float) -> EngineSettings:
    """Default settings on a clock `speed` times faster (see `monitor/timescale.py`)."""
    return replace(time_scaled(EngineSettings(), speed), seed=1)


async def create_sessions(http: aiohttp.ClientSession, base: str, n: int, spacing: float = 0.0) -> list[str]:
    """`n` sessions; `spacing` seconds apart in loop time (in virtual time creation takes none,
    and a thousand sessions created in one millisecond would all tie on `created_at`)."""
    sem = asyncio.Semaphore(16)

    async def one(i: int) -> str:
        if spacing:
            await asyncio.sleep(i * spacing)
        body = {"agent": AGENTS[i % len(AGENTS)], "messages": f"benchmark task {i}"}
        async with sem, http.post(f"{base}/sessions", json=body) as r:
            r.raise_for_status()
            return str((await r.json())["id"])

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def floor_cpu_ms(
    http: aiohttp.ClientSession, base: str, ids: list[str], rate: float, duration: float
) -> float:
    """CPU per /status poll of the simplest possible client, aiohttp GET + json.loads, paced
    at the engine's own request rate: a loopback request costs more CPU when the server
    has to be woken than in a tight loop, so the floor must see the same pace."""
    loop = asyncio.get_running_loop()
    sem = asyncio.Semaphore(8)

    async def one(i: int) -> None:
        async with sem, http.get(f"{base}/sessions/{ids[i % len(ids)]}/status") as r:
            json.loads(await r.read())

    await asyncio.gather(*(one(i) for i in range(20)))  # warm the connection pool
    count = max(int(rate * duration), 1)
    tasks: list[asyncio.Task[None]] = []
    cpu = time.process_time()
    start = loop.time()
    for i in range(count):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return (time.process_time() - cpu) * 1000 / count


async def run_cpu(sim: SimProcess, plan: Plan) -> dict[str, Any]:
    """CPU per request in real time: the simulator in its own process at `plan.speed`."""
    headers = {"Authorization": f"Bearer {sim.api_key}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        ids = await create_sessions(http, sim.base_url, plan.sessions)
        client = AgpClient(sim.base_url, sim.api_key, backend=AiohttpBackend(), retry=RetryPolicy.off())
        engine = Engine(client, None, scaled(plan.speed))
        engine.set_focus(ids[:ON_SCREEN], ids[0])
        cpu0 = time.process_time()
        real_seconds = plan.sim_seconds / plan.speed
        await engine.start(ids)
        await asyncio.sleep(real_seconds)
        cpu = time.process_time() - cpu0
        requests = engine.requests_granted
        await engine.aclose()
        floor_ms = await floor_cpu_ms(http, sim.base_url, ids, requests / real_seconds,
                                      min(real_seconds, 20.0))
    cpu_ms = cpu * 1000 / max(requests, 1)
    return {"cpu_sim_seconds": plan.sim_seconds, "cpu_speed": plan.speed,
            "cpu_ms_per_poll": round(cpu_ms, 3), "floor_cpu_ms_per_poll": round(floor_ms, 3),
            "cpu_factor_vs_floor": round(cpu_ms / floor_ms, 2) if floor_ms else None}


CREATE_SPACING = 0.002  # as fast as the real-time run creates them (16 at a time over loopback)
BOOTSTRAP_WINDOW = 60.0  # simulated seconds from the engine's start that count as its bootstrap


def score(
    logs: dict[str, list[tuple[float, str]]], ids: list[str], seen: list[tuple[float, StatusChanged]],
    w0: float, w1: float,
) -> dict[str, Any]:
    """Ground truth against what the engine saw, both in world seconds (see `run_size`)."""
    naive = 0
    latencies: list[float] = []
    early: list[float] = []  # departures within BOOTSTRAP_WINDOW of the start
    missed = 0
    slowest: list[tuple[float, str, float]] = []  # (latency, session, seconds into the window)
    by_id: dict[str, list[tuple[float, str]]] = {}
    for at, ev in seen:
        by_id.setdefault(ev.session_id, []).append((at, ev.new))
    for sid in ids:
        log = logs[sid]
        end = next((t for t, s in log if s in TERMINAL), w1)
        naive += int(max(min(end, w1) - w0, 0.0) // NAIVE_INTERVAL) + 1
        detections = by_id.get(sid, [])
        for (_t, status), (t_next, _) in zip(log, [*log[1:], (w1, "")], strict=True):
            if status != RUNNING or t_next < w0 or t_next > w1 - 30.0:
                continue  # only departures from running inside the window (with 30 s to spare)
            hit = next((d for d, s in detections if d >= t_next and s != RUNNING), None)
            if hit is None:
                missed += 1
                continue
            latencies.append(hit - t_next)
            if t_next - w0 <= BOOTSTRAP_WINDOW:
                early.append(hit - t_next)
            slowest.append((round(hit - t_next, 2), sid[:8], round(t_next - w0, 1)))
    return {"naive_requests": naive, "transitions": len(latencies) + missed, "missed": missed,
            "detect_p50_s": pct(latencies, 0.5), "detect_p95_s": pct(latencies, 0.95),
            "bootstrap_transitions": len(early), "bootstrap_detect_p95_s": pct(early, 0.95),
            "slowest_detections": sorted(slowest, reverse=True)[:5]}


def pct(values: list[float], p: float) -> float | None:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p * len(values)))], 2) if values else None


async def run_policy(plan: Plan) -> dict[str, Any]:
    """One size on a virtual-time loop: the simulator in this process, its world clock the
    loop's, and the engine at its default settings (no time scaling): every interval is the
    one a user gets, and the figures in simulated seconds do not depend on this machine."""
    loop = asyncio.get_running_loop()
    world = World(seed=7, sessions=20, clock=RealClock(1.0, real=loop.time), quota_limit=100_000)
    async with SimServer(world) as srv:
        headers = {"Authorization": f"Bearer {srv.api_key}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            ids = await create_sessions(http, srv.base_url, plan.sessions, CREATE_SPACING)
            client = AgpClient(srv.base_url, srv.api_key, backend=AiohttpBackend(), retry=RetryPolicy.off())
            engine = Engine(client, None, replace(EngineSettings(), seed=1))
            by_purpose = engine.count_requests()  # requests_by_purpose below
            seen: list[tuple[float, StatusChanged]] = []

            def on_event(ev: EngineEvent) -> None:
                if isinstance(ev, StatusChanged):
                    seen.append((world.clock.now(), ev))

            engine.subscribe(on_event)
            engine.set_focus(ids[:ON_SCREEN], ids[0])
            w0 = world.sync()
            real0 = time.perf_counter()
            await engine.start(ids)  # the bootstrap is part of the measured window
            await asyncio.sleep(plan.sim_seconds)
            real = time.perf_counter() - real0
            requests = engine.requests_granted
            await engine.aclose()
            w1 = world.sync()
            logs = {s.id: list(s.status_log) for s in world.all_sessions()}
    result = score(logs, ids, seen, w0, w1)
    return {
        "sessions": plan.sessions, "sim_seconds": plan.sim_seconds,
        "policy_real_seconds": round(real, 1), "requests": requests, **result,
        "requests_ratio_vs_naive": round(requests / max(result["naive_requests"], 1), 3),
        "requests_by_purpose": dict(sorted(by_purpose.items())),
    }


def verdict(r: dict[str, Any]) -> str:
    ok = (
        r["requests_ratio_vs_naive"] <= TARGET_RATIO
        and r["detect_p95_s"] is not None and r["detect_p95_s"] <= TARGET_P95
        and (r["bootstrap_detect_p95_s"] is None or r["bootstrap_detect_p95_s"] <= TARGET_P95)
        and r["cpu_factor_vs_floor"] is not None and r["cpu_factor_vs_floor"] <= TARGET_CPU_FACTOR
    )
    return "PASS" if ok else "MISS"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m agp_tui.bench engine", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 sessions, 10 simulated minutes")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--sizes", default=None, help="comma-separated session counts (default 100,1000)")
    parser.add_argument("--sim-minutes", type=float, default=None, help="simulated window (default 60)")
    parser.add_argument("--cpu-minutes", type=float, default=None,
                        help="simulated window of the real-time CPU run (default 60; --quick 2)")
    parser.add_argument("--speed", type=float, default=20.0,
                        help="world seconds per real second in the CPU run")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in (args.sizes or ("100" if args.quick else "100,1000")).split(",")]
    minutes = args.sim_minutes or (10.0 if args.quick else 60.0)
    cpu_minutes = args.cpu_minutes or (2.0 if args.quick else 60.0)
    runs = []
    for n in sizes:
        r = run_virtual(run_policy(Plan(n, minutes * 60, 1.0)))
        with simulator("--seed", "7", "--sessions", "20", "--speed", str(args.speed),
                       "--quota-limit", "100000") as sim:
            r.update(asyncio.run(run_cpu(sim, Plan(n, cpu_minutes * 60, args.speed))))
        r["result"] = verdict(r)
        runs.append(r)
    report = {
        "benchmark": "engine",
        "targets": {"requests_ratio_vs_naive": f"<= {TARGET_RATIO}", "detect_p95_s": f"<= {TARGET_P95}",
                    "bootstrap_detect_p95_s": f"<= {TARGET_P95}",
                    "cpu_ms_per_poll": f"<= {TARGET_CPU_FACTOR} x floor_cpu_ms_per_poll"},
        "runs": runs,
        # The headline figures are the largest run's.
        **{k: runs[-1][k] for k in ("requests_ratio_vs_naive", "detect_p50_s", "detect_p95_s",
                                    "bootstrap_detect_p95_s", "cpu_ms_per_poll", "floor_cpu_ms_per_poll")},
        "result": "PASS" if all(r["result"] == "PASS" for r in runs) else "MISS",
    }
    if args.json:
        print(json.dumps(report))
        return 0
    for r in runs:
        print(f"engine, {r['sessions']} sessions, {r['sim_seconds'] / 60:.0f} simulated min in virtual "
              f"time ({r['policy_real_seconds']} s real): {r['result']}")
        print(f"  requests {r['requests']} vs naive {r['naive_requests']}: ratio "
              f"{r['requests_ratio_vs_naive']} (target <= {TARGET_RATIO})")
        print(f"  detection p50 {r['detect_p50_s']} s, p95 {r['detect_p95_s']} s (target <= {TARGET_P95}); "
              f"{r['transitions']} transitions, {r['missed']} never seen")
        print(f"  during the bootstrap (first {BOOTSTRAP_WINDOW:.0f} s): p95 {r['bootstrap_detect_p95_s']} s "
              f"over {r['bootstrap_transitions']} transitions")
        print(f"  requests by purpose: {r['requests_by_purpose']}")
        print(f"  cpu {r['cpu_ms_per_poll']} ms/poll vs floor {r['floor_cpu_ms_per_poll']} ms "
              f"(x{r['cpu_factor_vs_floor']}, target <= x{TARGET_CPU_FACTOR}; "
              f"{r['cpu_sim_seconds'] / 60:.0f} simulated min at speed {r['cpu_speed']:g})")
    return 0
