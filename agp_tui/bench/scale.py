"""`python -m agp_tui.bench scale [--quick] [--json]`: follow 1,000 / 10,000 sessions as one group.

A batch job of N sessions tagged with one group_id (the simulator's `Batch`: submitted at
a steady rate, half of it before agp-tui starts, so it is first seen mid-run) is followed
as one filter, `group:scale`, from start-up.

- Policy, in virtual time (bench/vtime.py: the loop's clock jumps to the next timer when
  nothing is ready; figures in simulated seconds, the same on any machine): the real
  `Engine` following the group for a simulated hour (10 minutes with --quick), the group
  collapsed to its aggregate line as it sits on the main screen.
  - requests_per_s: every request the engine made ÷ the window; ratio_vs_naive: ÷ the docs'
    loop (every member's /status every 3 s from its creation, or the window's start, until it
    ends) on the same world over the same window.
  - detect_p95_s: from each status change of a member (the simulator's status log) to the
    engine's first report of that member at or after it (GroupChanged), the first minute
    (bootstrap) included; detect_first_minute_p95_s the same for changes in that minute;
    detect_on_screen_p95_s for the 20 newest members at start (the rows an expanded group
    shows first); join_p95_s from a member's creation to its first report.
- The dashboard, in real time: `make_app` headless at 120x40 in a fresh process per size,
  following the group of 100 / 1,000 / 10,000 members served by a simulator process:
  time from start-up to the full aggregate line (ratio to the first painted table of an
  empty watchlist in the same process kind), CPU (% of a core) over a window once
  bootstrapped, RSS after it, keypress p95 on the expanded group (press `g`: its members'
  table). Each as a ratio to the same figure at 100 members in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

TARGET_RPS_10K = 2.0
TARGET_DETECT_P95 = 10.0
TARGET_ON_SCREEN_P95 = 5.0
TARGET_CPU_RATIO = 3.0
TARGET_RSS_RATIO = 4.0
TARGET_KEY_RATIO = 1.5
NAIVE_INTERVAL = 3.0
GROUP = "scale"
ON_SCREEN = 20
SIZE = (120, 40)
KEYS = (*["down"] * 8, "pagedown", *["up"] * 4, "pageup", "end", "home", "s", *["down"] * 3, "s")


def _rate(n: int) -> float:
    """Submissions a second: a 1,000 batch posted in ~3 minutes, a 10,000 one in ~17."""
    return 5.0 if n <= 1000 else 10.0


def _pct(values: list[float], p: float) -> float | None:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p * len(values)))], 2) if values else None


# -- policy, virtual time --------------------------------------------------------------------


async def run_policy(n: int, sim_seconds: float) -> dict[str, Any]:
    from agp_tui.api.backend import AiohttpBackend
    from agp_tui.api.client import AgpClient
    from agp_tui.api.query import SessionQuery
    from agp_tui.api.retry import RetryPolicy
    from agp_tui.api.status import TERMINAL
    from agp_tui.monitor.engine import Engine, EngineSettings
    from agp_tui.monitor.events import EngineEvent, GroupChanged
    from agp_tui.sim import SimServer, World
    from agp_tui.sim.batches import Batch
    from agp_tui.sim.clock import RealClock

    loop = asyncio.get_running_loop()
    rate = _rate(n)
    batch = Batch(GROUP, n, start=-(n / rate) / 2, rate=rate)  # workers: the group is N sessions
    world = World(seed=9, sessions=20, clock=RealClock(1.0, real=loop.time), quota_limit=10**7,
                  arrival_interval_s=0, batches=[batch])
    seen: list[tuple[float, str]] = []  # (world time, member id) of every report
    async with SimServer(world) as srv:
        client = AgpClient(srv.base_url, srv.api_key, backend=AiohttpBackend(), retry=RetryPolicy.off())
        engine = Engine(client, None, EngineSettings(seed=1))
        by_purpose = engine.count_requests()  # requests_by_purpose below

        def on_event(ev: EngineEvent) -> None:
            if isinstance(ev, GroupChanged):
                now = world.clock.now()
                seen.extend((now, sid) for sid, _old, _new in ev.changes)

        engine.subscribe(on_event)
        watch = engine.follow_query(SessionQuery(group_id=GROUP))
        w0 = world.sync()
        newest = sorted((s for s in world.all_sessions() if s.group_id == GROUP),
                        key=lambda s: s.created_at)[-ON_SCREEN:]
        on_screen = {s.id for s in newest}
        real0, cpu0 = time.perf_counter(), time.process_time()
        await engine.start()
        await asyncio.sleep(sim_seconds)
        real, cpu = time.perf_counter() - real0, time.process_time() - cpu0
        requests = engine.requests_granted
        members = len(watch.members)
        await engine.aclose()
        w1 = world.sync()
        logs = {s.id: list(s.status_log) for s in world.all_sessions() if s.group_id == GROUP}
    first: dict[str, list[float]] = {}
    for at, sid in seen:
        first.setdefault(sid, []).append(at)
    latencies: list[float] = []
    early: list[float] = []
    screen: list[float] = []
    joins: list[float] = []
    missed = naive = 0
    for sid, log in logs.items():
        created = log[0][0]
        end = next((t for t, st in log if st in TERMINAL), w1)
        if created < w1 and end > w0:
            naive += int((min(end, w1) - max(created, w0)) // NAIVE_INTERVAL) + 1
        reports = first.get(sid, [])
        if w0 <= created <= w1 - 30:
            hit = next((r for r in reports if r >= created), None)
            if hit is not None:
                joins.append(hit - created)
        for t, _status in log[1:]:
            if t < w0 or t > w1 - 30:
                continue
            hit = next((r for r in reports if r >= t), None)
            if hit is None:
                missed += 1
                continue
            latencies.append(hit - t)
            if t - w0 <= 60:
                early.append(hit - t)
            if sid in on_screen:
                screen.append(hit - t)
    return {
        "sessions": n, "members_seen": members, "sim_seconds": sim_seconds,
        "requests": requests, "requests_per_s": round(requests / (w1 - w0), 3),
        "naive_requests": naive, "ratio_vs_naive": round(requests / max(naive, 1), 5),
        "transitions": len(latencies) + missed, "missed": missed,
        "detect_p50_s": _pct(latencies, 0.5), "detect_p95_s": _pct(latencies, 0.95),
        "detect_first_minute_p95_s": _pct(early, 0.95), "first_minute_transitions": len(early),
        "detect_on_screen_p95_s": _pct(screen, 0.95), "join_p95_s": _pct(joins, 0.95),
        "policy_real_s": round(real, 1), "policy_cpu_s": round(cpu, 1),
        "requests_by_purpose": dict(sorted(by_purpose.items())),
    }


# -- the dashboard, real time ------------------------------------------------------------------


async def _child(spec: dict[str, Any]) -> dict[str, Any]:
    """One dashboard measurement in this fresh process (see the module docstring)."""
    from agp_tui.api.backend import AiohttpBackend
    from agp_tui.api.client import AgpClient
    from agp_tui.api.query import SessionQuery
    from agp_tui.api.retry import RetryPolicy
    from agp_tui.bench._simproc import simulator
    from agp_tui.bench.ui import _counting_driver, _proc_status_mb
    from agp_tui.monitor.engine import Engine, EngineSettings
    from agp_tui.ui.app import make_app
    from agp_tui.ui.screens.group import GroupScreen
    from agp_tui.ui.widgets.session_table import SessionTable

    n = int(spec["sessions"])
    sim_args = ["--seed", "5", "--sessions", "20", "--arrivals", "0"]
    if n:
        # All submitted before the dashboard starts (rate high): the first table is the whole group.
        sim_args += ["--batch", f"size={n},group={GROUP},start=-{n / 50 + 60:g},rate=50"]
    with simulator(*sim_args) as sim:
        client = AgpClient(sim.base_url, sim.api_key, backend=AiohttpBackend(), retry=RetryPolicy.off())
        engine = Engine(client, None, EngineSettings())
        if n:
            watch = engine.follow_query(SessionQuery(group_id=GROUP))
        app = make_app(engine, region="simulator")
        out: dict[str, Any] = {"sessions": n}
        waiter: list[tuple[tuple[object, ...], asyncio.Future[float]]] = []
        table: Any = None

        def state() -> tuple[object, ...]:
            return (table.cursor_row, round(table.scroll_y), table.sort_key)

        writes: list[float] = []  # when each frame reached the terminal
        paints: list[float] = []  # ... and the full-screen ones (not the set-up sequences)

        def on_write(data: str) -> None:
            writes.append(time.perf_counter())
            if len(data) >= SIZE[0] * SIZE[1] // 2:
                paints.append(writes[-1])
            if table is not None and waiter and state() != waiter[0][0] and not waiter[0][1].done():
                waiter[0][1].set_result(time.perf_counter())

        app.driver_class = _counting_driver(on_write)
        t0 = time.perf_counter()
        async with app.run_test(size=SIZE, headless=False) as pilot:
            # Start-up to a full first screen: the first frame written to the terminal once
            # the engine runs and, with a group, its whole first listing is read (the frame
            # that shows the full counts); empty, the first full-screen paint. (Waiting for the
            # app's next render instead waited up to the 1 s clock tick when nothing changed.)
            def up() -> bool:
                return engine.started and (watch.bootstrapped if n else bool(paints))

            while not up() and time.perf_counter() - t0 < 300:
                await asyncio.sleep(0.005)
            t_up = time.perf_counter()
            while n and writes[-1] < t_up and time.perf_counter() - t_up < 5:
                await asyncio.sleep(0.005)
            first = paints[0] if not n else next((w for w in writes if w >= t_up), time.perf_counter())
            out["first_table_s"] = round(first - t0, 3)
            if not n:
                await pilot.press("q")
                return out
            out["members"] = len(watch.members)
            await asyncio.sleep(2.0)
            cpu0, wall0 = time.process_time(), time.monotonic()
            await asyncio.sleep(float(spec["seconds"]))
            wall = time.monotonic() - wall0
            out["cpu_pct"] = round((time.process_time() - cpu0) / wall * 100, 2)
            out["rss_mb"] = round(_proc_status_mb("VmRSS"), 1)
            await pilot.press("g")
            while not isinstance(app.screen, GroupScreen):
                await asyncio.sleep(0.05)
            table = app.screen.query_one(SessionTable)
            while table.row_count < len(watch.members) and time.perf_counter() - t0 < 300:
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)
            latencies: list[float] = []
            by_key: dict[str, list[float]] = {}
            for i in range(int(spec["keys"])):
                key = KEYS[i % len(KEYS)]
                before = state()
                fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
                waiter[:] = [(before, fut)]
                k0 = time.perf_counter()
                await pilot.press(key)
                if state() == before:
                    continue
                try:
                    k1 = await asyncio.wait_for(fut, 2.0)
                except TimeoutError:
                    k1 = k0 + 2.0
                latencies.append((k1 - k0) * 1000)
                by_key.setdefault(key, []).append((k1 - k0) * 1000)
                await asyncio.sleep(0.05)
            waiter.clear()
            out["keys"] = len(latencies)
            out["key_p95_ms"] = _pct(latencies, 0.95)
            out["key_p95_ms_by_key"] = {k: _pct(v, 0.95) for k, v in sorted(by_key.items())}
            await pilot.press("escape", "q")
        return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def measure(quick: bool) -> dict[str, Any]:
    from agp_tui.bench.ui import run_child
    from agp_tui.bench.vtime import run_virtual

    sizes = (1000,) if quick else (1000, 10_000)
    sim_seconds = 600.0 if quick else 3600.0
    policy = {n: run_virtual(run_policy(n, sim_seconds)) for n in sizes}
    window = 5.0 if quick else 30.0
    keys = 20 if quick else 100
    ui_sizes = (100, 1000) if quick else (100, 1000, 10_000)
    empty = run_child({"sessions": 0}, "scale")
    ui = {n: run_child({"sessions": n, "seconds": window, "keys": keys}, "scale") for n in ui_sizes}
    big = max(ui_sizes)
    base = ui[100]
    figures: dict[str, Any] = {}
    for n in sizes:
        p = policy[n]
        figures[f"scale_requests_per_s_{n}"] = p["requests_per_s"]
        figures[f"scale_ratio_vs_naive_{n}"] = p["ratio_vs_naive"]
        figures[f"scale_detect_p95_s_{n}"] = p["detect_p95_s"]
        figures[f"scale_detect_on_screen_p95_s_{n}"] = p["detect_on_screen_p95_s"]
    for n in ui_sizes:
        figures[f"scale_first_table_s_{n}"] = ui[n]["first_table_s"]
        figures[f"scale_first_table_ratio_vs_empty_{n}"] = _ratio(ui[n]["first_table_s"],
                                                                  empty["first_table_s"])
    figures[f"scale_cpu_ratio_{big}_vs_100"] = _ratio(ui[big]["cpu_pct"], base["cpu_pct"])
    figures[f"scale_rss_ratio_{big}_vs_100"] = _ratio(ui[big]["rss_mb"], base["rss_mb"])
    figures[f"scale_key_p95_ratio_{big}_vs_100"] = _ratio(ui[big]["key_p95_ms"], base["key_p95_ms"])
    top = max(sizes)
    budgets: dict[str, float] = {
        f"scale_detect_p95_s_{top}": TARGET_DETECT_P95,
        f"scale_detect_on_screen_p95_s_{top}": TARGET_ON_SCREEN_P95,
        f"scale_cpu_ratio_{big}_vs_100": TARGET_CPU_RATIO,
        f"scale_rss_ratio_{big}_vs_100": TARGET_RSS_RATIO,
        f"scale_key_p95_ratio_{big}_vs_100": TARGET_KEY_RATIO,
    }
    if top == 10_000:
        budgets["scale_requests_per_s_10000"] = TARGET_RPS_10K
    verdicts = {k: "PASS" if figures.get(k) is not None and figures[k] <= v else "MISS"
                for k, v in budgets.items()}
    return {"benchmark": "scale", "quick": quick, **figures, "budgets": budgets, "verdicts": verdicts,
            "policy": {str(k): v for k, v in policy.items()},
            "dashboard": {"empty": empty, **{str(k): v for k, v in ui.items()}},
            "result": "PASS" if all(v == "PASS" for v in verdicts.values()) else "MISS"}


def _report(r: dict[str, Any]) -> None:
    print(f"scale — one followed group ({'quick' if r['quick'] else 'full'} run)")
    for key, value in r.items():
        if key.startswith("scale_"):
            budget = r["budgets"].get(key)
            tail = f"   budget ≤ {budget:g}  {r['verdicts'][key]}" if budget is not None else ""
            print(f"  {key:44} {value}{tail}")
    for n, p in r["policy"].items():
        print(f"  policy {n}: {json.dumps(p)}")
    for n, d in r["dashboard"].items():
        print(f"  dashboard {n}: {json.dumps(d)}")
    print(f"result: {r['result']}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m agp_tui.bench scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 members, 10 simulated minutes")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(asyncio.run(_child(json.loads(args.child)))))
        return 0
    result = measure(args.quick)
    if args.json:
        print(json.dumps(result))
    else:
        _report(result)
    return 0
