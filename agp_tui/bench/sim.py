"""`python -m agp_tui.bench sim [--quick] [--json]`: how many `/status` polls per second the
simulator serves, measured from a separate process like a real client would see it; then,
for following big groups (issue 17), how long a 10,000-session world takes to start and how
many `GET /sessions` pages of 100 it serves a second (a mix: newest pages, a group's pages,
`status=running`, keyset `created_after` pages).

The simulator runs in its own process (`python -m agp_tui.sim --port 0`), so client and
server do not share a GIL; a bare aiohttp loop at fixed concurrency polls ~200 session ids
for a fixed duration. It reports against the budget and never fails the run: a MISS is a
number to look at, not a crash.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import aiohttp

from agp_tui.bench._simproc import simulator

BUDGET_PER_S = 500.0
BUDGET_LIST_PER_S = 500.0
SESSIONS = 200
CONCURRENCY = 16
BIG_WORLD = 10_000  # top-level sessions; subagents come on top


async def _drive(base_url: str, key: str, duration: float) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as http:
        ids: list[str] = []
        for page in (1, 2):
            async with http.get(f"{base_url}/sessions", params={"size": "100", "page": str(page)}) as r:
                ids += [item["id"] for item in (await r.json())["items"]]
        ids = ids[:SESSIONS]
        latencies: list[float] = []
        errors = 0
        stop_at = time.perf_counter() + duration

        async def worker(offset: int) -> None:
            nonlocal errors
            i = offset
            while time.perf_counter() < stop_at:
                sid = ids[i % len(ids)]
                i += CONCURRENCY
                started = time.perf_counter()
                try:
                    async with http.get(f"{base_url}/sessions/{sid}/status") as r:
                        await r.read()
                        if r.status != 200:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(CONCURRENCY)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    count = len(latencies)

    def pct(p: float) -> float:
        return round(latencies[min(count - 1, int(p * count))] * 1000, 2) if count else 0.0

    rate = round((count - errors) / elapsed, 1)
    return {
        "benchmark": "sim",
        "status_polls_per_s": rate,
        "budget_per_s": BUDGET_PER_S,
        "result": "PASS" if rate >= BUDGET_PER_S and errors == 0 else "MISS",
        "requests": count,
        "errors": errors,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "concurrency": CONCURRENCY,
        "sessions": len(ids),
        "duration_s": round(elapsed, 2),
    }


async def _drive_lists(base_url: str, key: str, duration: float) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as http:
        async with http.get(f"{base_url}/sessions", params={"size": "100"}) as r:
            body = await r.json()
        total = body["total"]
        groups = sorted({i["group_id"] for i in body["items"] if i.get("group_id")}) or ["qa-smoke"]
        oldest = body["items"][-1]["created_at"]
        mix: list[dict[str, str]] = [
            {"size": "100", "page": str(p)} for p in range(1, 11)
        ] + [{"size": "100", "group_id": g} for g in groups] + [
            {"size": "100", "status": "running"},
            {"size": "100", "status": "running", "group_id": groups[0]},
            {"size": "100", "created_after": oldest, "sort": "created_at"},
        ]
        count = errors = 0
        stop_at = time.perf_counter() + duration

        async def worker(offset: int) -> None:
            nonlocal count, errors
            i = offset
            while time.perf_counter() < stop_at:
                params = mix[i % len(mix)]
                i += CONCURRENCY
                try:
                    async with http.get(f"{base_url}/sessions", params=params) as r:
                        await r.read()
                        errors += r.status != 200
                except aiohttp.ClientError:
                    errors += 1
                count += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(CONCURRENCY)))
        elapsed = time.perf_counter() - began
    rate = round((count - errors) / elapsed, 1)
    return {"list_requests_per_s": rate, "list_errors": errors, "list_sessions_total": total,
            "list_mix": len(mix), "list_budget_per_s": BUDGET_LIST_PER_S,
            "list_result": "PASS" if rate >= BUDGET_LIST_PER_S and errors == 0 else "MISS"}


def big_world(duration: float, seed: int) -> dict[str, Any]:
    began = time.perf_counter()
    with simulator("--seed", str(seed), "--sessions", str(BIG_WORLD)) as sim:
        startup = time.perf_counter() - began
        report = asyncio.run(_drive_lists(sim.base_url, sim.api_key, duration))
    return {"big_world_sessions": BIG_WORLD, "big_world_startup_s": round(startup, 2), **report}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m agp_tui.bench sim", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 s instead of 10 s")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--duration", type=float, default=None, help="seconds to poll (overrides --quick)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    duration = args.duration if args.duration is not None else (2.0 if args.quick else 10.0)
    with simulator("--seed", str(args.seed), "--sessions", "300") as sim:
        report = asyncio.run(_drive(sim.base_url, sim.api_key, duration))
    report.update(big_world(duration, args.seed))
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"sim /status polls: {report['status_polls_per_s']:.0f}/s "
            f"(budget >= {BUDGET_PER_S:.0f}/s) {report['result']}"
        )
        print(
            f"  requests {report['requests']}, errors {report['errors']}, "
            f"p50 {report['p50_ms']} ms, p95 {report['p95_ms']} ms"
        )
        print(
            f"  concurrency {CONCURRENCY}, {report['sessions']} sessions, {report['duration_s']} s, "
            "simulator in a separate process"
        )
        print(
            f"sim GET /sessions pages of 100, {report['big_world_sessions']:,} top-level sessions "
            f"({report['list_sessions_total']:,} with subagents): {report['list_requests_per_s']:.0f}/s "
            f"(budget >= {BUDGET_LIST_PER_S:.0f}/s) {report['list_result']}, errors {report['list_errors']}; "
            f"that world started in {report['big_world_startup_s']} s"
        )
    return 0
