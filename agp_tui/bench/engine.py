"""`python -m agp_tui.bench engine [--quick] [--json]`: how few requests the engine needs,
how fast it notices status changes, and what each poll costs in CPU.

For each size (100 and 1,000 watched sessions) a simulator runs in its own process at
`--speed` (a simulated hour in minutes). The bench creates the sessions through the API,
watches them with the real `Engine` (all intervals divided by the speed, the request
budget multiplied by it, so the schedule is the one a user gets at speed 1), with the first
15 sessions "on screen" as in an 80x24 dashboard, and scores it against the simulator's
ground truth (`/_sim/truth`):

- requests_ratio_vs_naive: requests made ÷ requests of the docs' loop (every session polled
  every 3 s until terminal), computed on the same world over the same window.
- detect_p50_s / detect_p95_s: from a session leaving `running` (ground truth) to the
  engine's StatusChanged for it, in simulated seconds. Transitions the engine never saw
  (a pause shorter than a poll, say) are counted in `missed`, not in the percentiles.
- cpu_ms_per_poll: this process's CPU time while the engine runs ÷ requests it made;
  floor_cpu_ms_per_poll: the same for a bare aiohttp loop of /status GETs on the same
  server in the same run.
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
from agp_tui.monitor.engine import Engine, EngineSettings
from agp_tui.monitor.events import EngineEvent, StatusChanged
from agp_tui.monitor.timescale import time_scaled

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


async def create_sessions(http: aiohttp.ClientSession, base: str, n: int) -> list[str]:
    sem = asyncio.Semaphore(16)

    async def one(i: int) -> str:
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


def score(
    truth: dict[str, Any], ids: list[str], seen: list[tuple[float, StatusChanged]],
    w0: float, w1: float,
) -> dict[str, Any]:
    speed, origin = float(truth["speed"]), float(truth["origin_monotonic"])
    naive = 0
    latencies: list[float] = []
    missed = 0
    slowest: list[tuple[float, str, float]] = []  # (latency, session, seconds into the window)
    by_id: dict[str, list[tuple[float, str]]] = {}
    for mono, ev in seen:
        by_id.setdefault(ev.session_id, []).append(((mono - origin) * speed, ev.new))
    for sid in ids:
        log = [(float(t), s) for t, s in truth["sessions"][sid]["log"]]
        end = next((t for t, s in log if s in TERMINAL), w1)
        naive += int(max(min(end, w1) - w0, 0.0) // NAIVE_INTERVAL) + 1
        detections = by_id.get(sid, [])
        for (_t, status), (t_next, _) in zip(log, [*log[1:], (w1, "")], strict=True):
            if status != RUNNING or t_next < w0 or t_next > w1 - 30.0:
                continue  # only departures from running inside the window (with 30 s to spare)
            hit = next((d for d, s in detections if d >= t_next - 0.5 and s != RUNNING), None)
            if hit is None:
                missed += 1
            else:
                latencies.append(max(hit - t_next, 0.0))
                slowest.append((round(hit - t_next, 2), sid[:8], round(t_next - w0, 1)))
    latencies.sort()

    def pct(p: float) -> float | None:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2) if latencies else None

    return {"naive_requests": naive, "transitions": len(latencies) + missed, "missed": missed,
            "detect_p50_s": pct(0.5), "detect_p95_s": pct(0.95),
            "slowest_detections": sorted(slowest, reverse=True)[:5]}


async def run_size(sim: SimProcess, plan: Plan) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {sim.api_key}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        ids = await create_sessions(http, sim.base_url, plan.sessions)
        client = AgpClient(sim.base_url, sim.api_key, backend=AiohttpBackend(), retry=RetryPolicy.off())
        engine = Engine(client, None, scaled(plan.speed))
        seen: list[tuple[float, StatusChanged]] = []

        def on_event(ev: EngineEvent) -> None:
            if isinstance(ev, StatusChanged):
                seen.append((time.monotonic(), ev))

        engine.subscribe(on_event)
        engine.set_focus(ids[:ON_SCREEN], ids[0])
        async with http.get(f"{sim.base_url.removesuffix('/api/v2')}/_sim/truth") as r:
            w0 = float((await r.json())["now"])
        cpu0 = time.process_time()
        real_seconds = plan.sim_seconds / plan.speed
        await engine.start(ids)
        await asyncio.sleep(real_seconds)
        cpu = time.process_time() - cpu0
        requests = engine.requests_granted
        await engine.aclose()
        async with http.get(f"{sim.base_url.removesuffix('/api/v2')}/_sim/truth") as r:
            truth = await r.json()
        floor_ms = await floor_cpu_ms(http, sim.base_url, ids, requests / real_seconds,
                                      min(real_seconds, 20.0))
    w1 = w0 + plan.sim_seconds
    result = score(truth, ids, seen, w0, w1)
    cpu_ms = cpu * 1000 / max(requests, 1)
    return {
        "sessions": plan.sessions, "sim_seconds": plan.sim_seconds, "speed": plan.speed,
        "requests": requests, **result,
        "requests_ratio_vs_naive": round(requests / max(result["naive_requests"], 1), 3),
        "cpu_ms_per_poll": round(cpu_ms, 3), "floor_cpu_ms_per_poll": round(floor_ms, 3),
        "cpu_factor_vs_floor": round(cpu_ms / floor_ms, 2) if floor_ms else None,
        "requests_by_purpose": dict(sorted(engine.requests.items())),
    }


def verdict(r: dict[str, Any]) -> str:
    ok = (
        r["requests_ratio_vs_naive"] <= TARGET_RATIO
        and r["detect_p95_s"] is not None and r["detect_p95_s"] <= TARGET_P95
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
    parser.add_argument("--speed", type=float, default=20.0, help="world seconds per real second")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in (args.sizes or ("100" if args.quick else "100,1000")).split(",")]
    minutes = args.sim_minutes or (10.0 if args.quick else 60.0)
    runs = []
    for n in sizes:
        plan = Plan(n, minutes * 60, args.speed)
        with simulator("--seed", "7", "--sessions", "20", "--speed", str(args.speed),
                       "--quota-limit", "100000") as sim:
            r = asyncio.run(run_size(sim, plan))
        r["result"] = verdict(r)
        runs.append(r)
    report = {
        "benchmark": "engine",
        "targets": {"requests_ratio_vs_naive": f"<= {TARGET_RATIO}", "detect_p95_s": f"<= {TARGET_P95}",
                    "cpu_ms_per_poll": f"<= {TARGET_CPU_FACTOR} x floor_cpu_ms_per_poll"},
        "runs": runs,
        # The headline figures are the largest run's.
        **{k: runs[-1][k] for k in ("requests_ratio_vs_naive", "detect_p50_s", "detect_p95_s",
                                    "cpu_ms_per_poll", "floor_cpu_ms_per_poll")},
        "result": "PASS" if all(r["result"] == "PASS" for r in runs) else "MISS",
    }
    if args.json:
        print(json.dumps(report))
        return 0
    for r in runs:
        print(f"engine, {r['sessions']} sessions, {r['sim_seconds'] / 60:.0f} simulated min at speed "
              f"{r['speed']:g}: {r['result']}")
        print(f"  requests {r['requests']} vs naive {r['naive_requests']}: ratio "
              f"{r['requests_ratio_vs_naive']} (target <= {TARGET_RATIO})")
        print(f"  detection p50 {r['detect_p50_s']} s, p95 {r['detect_p95_s']} s (target <= {TARGET_P95}); "
              f"{r['transitions']} transitions, {r['missed']} never seen")
        print(f"  requests by purpose: {r['requests_by_purpose']}")
        print(f"  cpu {r['cpu_ms_per_poll']} ms/poll vs floor {r['floor_cpu_ms_per_poll']} ms "
              f"(x{r['cpu_factor_vs_floor']}, target <= x{TARGET_CPU_FACTOR})")
    return 0
