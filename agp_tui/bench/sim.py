"""`python -m agp_tui.bench sim [--quick] [--json]`: how many `/status` polls per second the
simulator serves, measured from a separate process like a real client would see it; then,
for following big groups (issue 17), how long a 10,000-session world takes to start and how
many `GET /sessions` pages of 100 it serves a second (a mix: newest pages, a group's pages,
`status=running`, keyset `created_after` pages), and the same for a group follower's
filtered polls (`finished_after=` a moment ago, `status=pending`, a group's recent finishes,
agent and parent pages).

In process, in the same run: a World's start-up at 1,000 and 10,000 top-level sessions (the
ratio says how it scales; ~10x is linear), and without `--quick` the old way's cost too (every
session's past written out as events, what start-up did before it went lazy); and what a
manual clock costs per one-second move while a 10,000-session batch arrives and runs.

The simulator runs in its own process (`python -m agp_tui.sim --port 0`), so client and
server do not share a GIL; a bare aiohttp loop at fixed concurrency polls ~200 session ids
for a fixed duration. It reports against the budget and never fails the run: a MISS is a
number to look at, not a crash.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import time
from typing import Any

import aiohttp

from agp_tui.bench._simproc import simulator
from agp_tui.sim.batches import Batch
from agp_tui.sim.clock import ManualClock, iso
from agp_tui.sim.world import World

BUDGET_PER_S = 500.0
BUDGET_LIST_PER_S = 500.0
SESSIONS = 200
CONCURRENCY = 16
BIG_WORLD = 10_000  # top-level sessions; subagents come on top
BASE_WORLD = 1_000  # the start-up ratio's baseline, in the same run
BATCH = 10_000  # sessions of the batch a manual clock follows
BATCH_SUBMIT_S = 180.0  # submitted over three minutes


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


Params = dict[str, str] | list[tuple[str, str]]


async def _drive_lists(base_url: str, key: str, duration: float) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as http:
        async with http.get(f"{base_url}/sessions", params={"size": "100"}) as r:
            body = await r.json()
        total = body["total"]
        groups = sorted({i["group_id"] for i in body["items"] if i.get("group_id")}) or ["qa-smoke"]
        oldest = body["items"][-1]["created_at"]
        mix: list[Params] = [
            {"size": "100", "page": str(p)} for p in range(1, 11)
        ] + [{"size": "100", "group_id": g} for g in groups] + [
            {"size": "100", "status": "running"},
            {"size": "100", "status": "running", "group_id": groups[0]},
            {"size": "100", "created_after": oldest, "sort": "created_at"},
        ]
        plain = await _rate(http, base_url, mix, duration)
        # A group follower's polls (issue 17): what finished a moment ago (world time runs
        # at speed 1 from the wall clock, so "now" is the client's now), what is pending.
        recent = iso(time.time() - 30)
        async with http.get(f"{base_url}/sessions", params={"size": "100", "status": "running"}) as r:
            running = (await r.json())["items"]
        managers = [i["id"] for i in running if i["agent"] in MANAGERS]
        parent = managers[0] if managers else running[0]["id"] if running else ""
        followed: list[Params] = [
            {"size": "100", "finished_after": recent},
            {"size": "100", "status": "pending"},
            [("size", "100"), ("status", "queued"), ("status", "pending")],
            {"size": "100", "group_id": groups[0], "finished_after": recent},
            {"size": "100", "group_id": groups[-1], "status": "running"},
            {"size": "100", "finished_after": iso(time.time() - 3600), "sort": "created_at"},
            {"size": "100", "agent": "h/web-surfer-flash", "created_after": oldest},
            {"size": "100", "parent_session_id": parent},
        ]
        filtered = await _rate(http, base_url, followed, duration)
    rate = plain["rate"]
    return {"list_requests_per_s": rate, "list_errors": plain["errors"], "list_sessions_total": total,
            "list_mix": len(mix), "list_budget_per_s": BUDGET_LIST_PER_S,
            "list_result": "PASS" if rate >= BUDGET_LIST_PER_S and plain["errors"] == 0 else "MISS",
            "list_filtered_requests_per_s": filtered["rate"], "list_filtered_errors": filtered["errors"],
            "list_filtered_mix": len(followed),
            "list_filtered_result": "PASS" if filtered["rate"] >= BUDGET_LIST_PER_S
            and filtered["errors"] == 0 else "MISS"}


MANAGERS = ("acme/research-manager", "h/deep-researcher")


async def _rate(
    http: aiohttp.ClientSession, base_url: str, mix: list[Params], duration: float
) -> dict[str, Any]:
    """GET /sessions with each of `mix` in turn, at fixed concurrency, for `duration` s."""
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
    return {"rate": round((count - errors) / elapsed, 1), "errors": errors}


def _start(sessions: int, seed: int, *, eager: bool = False) -> tuple[World, float]:
    """Seconds to build a world (and with `eager`, to write out every session's past)."""
    gc.collect()
    began = time.perf_counter()
    world = World(seed=seed, sessions=sessions, clock=ManualClock(), arrival_interval_s=0)
    if eager:
        for s in world.all_sessions():
            s.events  # noqa: B018 - reading writes the detail: what start-up did before
    return world, time.perf_counter() - began


def world_startup(seed: int, *, quick: bool) -> dict[str, Any]:
    """Start-up in process, at 1,000 and 10,000 top-level sessions in the same run."""
    _, base = _start(BASE_WORLD, seed)
    world, big = _start(BIG_WORLD, seed)
    out: dict[str, Any] = {
        "world_sessions_with_subagents_10000": len(world),
        "world_start_s_1000": round(base, 3),
        "world_start_s_10000": round(big, 3),
        "world_start_ratio_10000_to_1000": round(big / base, 2),
    }
    del world
    if not quick:
        _, eager = _start(BIG_WORLD, seed, eager=True)
        out["world_start_eager_s_10000"] = round(eager, 3)
        out["world_start_ratio_lazy_to_eager"] = round(big / eager, 3)
    return out


def clock_cost(seed: int, *, quick: bool) -> dict[str, Any]:
    """A manual clock moved a second at a time while a 10,000-session batch arrives (over
    three minutes) and runs: real milliseconds per move, each answering one list poll."""
    batch = Batch("bench-batch", BATCH, start=0.0, rate=BATCH / BATCH_SUBMIT_S)
    world = World(seed=seed, sessions=0, clock=ManualClock(), arrival_interval_s=0, batches=[batch],
                  quota_limit=BATCH + 500)
    moves = 60 if quick else 1800
    costs: list[float] = []
    for _ in range(moves):
        began = time.perf_counter()
        world.advance(1.0)
        world.sync()
        costs.append(time.perf_counter() - began)
    costs.sort()
    return {
        "clock_batch_sessions": BATCH,
        "clock_moves": moves,
        "clock_move_mean_ms": round(sum(costs) / moves * 1000, 3),
        "clock_move_p95_ms": round(costs[int(moves * 0.95)] * 1000, 3),
        "clock_move_max_ms": round(costs[-1] * 1000, 2),
        "clock_sessions_at_end": len(world),
    }


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
    report.update(world_startup(args.seed, quick=args.quick))
    report.update(clock_cost(args.seed, quick=args.quick))
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
            f"that world started in {report['big_world_startup_s']} s (process start to listening)"
        )
        print(
            "  a group follower's filtered polls (finished_after, status=pending, group+finished_after, "
            f"agent, parent): {report['list_filtered_requests_per_s']:.0f}/s "
            f"{report['list_filtered_result']}, errors {report['list_filtered_errors']}"
        )
        eager = report.get("world_start_eager_s_10000")
        print(
            f"sim World start-up in process: {report['world_start_s_10000']} s at {BIG_WORLD:,} top-level "
            f"sessions ({report['world_sessions_with_subagents_10000']:,} with subagents), "
            f"{report['world_start_s_1000']} s at {BASE_WORLD:,}: "
            f"x{report['world_start_ratio_10000_to_1000']}"
            + (f"; writing every past event too (the old start-up) {eager} s, "
               f"lazy/eager {report['world_start_ratio_lazy_to_eager']}" if eager is not None else "")
        )
        print(
            f"sim manual clock, 1 s moves while a {BATCH:,}-session batch arrives over "
            f"{BATCH_SUBMIT_S:.0f} s and runs: mean {report['clock_move_mean_ms']} ms, "
            f"p95 {report['clock_move_p95_ms']} ms, "
            f"max {report['clock_move_max_ms']} ms over {report['clock_moves']} moves"
        )
    return 0
