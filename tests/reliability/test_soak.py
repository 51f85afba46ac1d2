"""Soak under chaos (issue 8, item 1): the dashboard and `agp-tui watch` each follow ~30
sessions for 10 simulated minutes against a simulator that fails on purpose, then the
trouble stops and both must agree with the server.

Setup, shared by both soaks:
- the simulator runs in its own process (`agp_tui.bench._simproc`) at `SPEED` times real
  time, so 10 simulated minutes take 600 / SPEED real seconds;
- chaos, as the issue asks: 10 % 5xx, 5 % 429 with Retry-After, 2 % malformed JSON, 1 %
  dropped connections, and latency spikes up to 3 s on `SPIKE_RATE` of the requests. Every
  duration is given in *simulated* time and divided by SPEED (spikes up to 3 / SPEED real
  seconds, Retry-After 1 / SPEED), as the engine's own intervals are (`time_scaled`, the
  engine bench's scaling; `watch --time-scale`): the client sees the trouble a user would,
  compressed;
- 26 sessions created through the API (managers among them, so subagent trees grow) and 4
  of the world's own live sessions; during the run the test pauses, resumes and cancels
  some of them (through the chaotic API, retrying as a script would) while others finish
  or fail on their own;
- at the end chaos is switched off (`POST /_sim/chaos`) and world time frozen
  (`POST /_sim/clock`), so "the client agrees with the server" is exact: every watched
  session's status must equal `/_sim/truth` within one poll interval (`RECOVERY_BOUND_SIM`,
  the engine's longest regular interval, that of waiting sessions), with nothing left
  stale or in error, no crash, no unhandled error.

Each soak prints one summary line (run pytest with -s to see it, or read it in the
captured output of a failure).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from agp_tui.api.backend import AiohttpBackend, Backend, Params, RawResponse
from agp_tui.api.client import AgpClient
from agp_tui.api.errors import Unreachable
from agp_tui.api.retry import RetryPolicy
from agp_tui.api.status import TERMINAL
from agp_tui.bench._simproc import SimProcess, simulator
from agp_tui.monitor.cadence import Cadence
from agp_tui.monitor.engine import Engine, EngineSettings
from agp_tui.monitor.events import EngineEvent, SessionError, SessionRecovered, Stale
from agp_tui.monitor.timescale import time_scaled
from agp_tui.monitor.watchlist import Watchlist

SPEED = 24.0  # world seconds per real second: 10 simulated minutes in 25 s (CPU stays low: ~6 s a soak)
SIM_SECONDS = 600.0
CREATED = 26
EXISTING = 4
WAVE = 5  # the dashboard starts with fewer and adds two waves of this many while chaos runs
TROUBLE_WAIT_SIM = 60.0  # at most this long past the 10 minutes for a session to be failing
SPIKE_RATE = 0.05
CHAOS = ",".join([
    "5xx=0.10", "429=0.05", "malformed=0.02", "drop=0.01",
    f"spike={SPIKE_RATE}", f"spike_ms={3000 / SPEED:g}", f"jitter={100 / SPEED:g}",
    f"retry_after={1 / SPEED:g}", "seed=5",
])
# One poll interval: a waiting (paused / idle) session is polled this often, the longest
# regular interval there is; running ones poll every 3 s and list sweeps follow statuses
# every 3 s, so most sessions agree far sooner.
RECOVERY_BOUND_SIM = Cadence().waiting
# What this machine adds on top, in real seconds: two shared cores, other test runs, a
# Textual app drawing frames. It is not engine time: the engine's part is the bound above.
# 0.5 s at x24 is the 12 simulated seconds that 1 s was at x12, so the whole bound, 27 sim-s,
# is what it was when the soak ran at half the speed (recovery measures 2-4 sim-s).
HARNESS_SLACK = 0.5
AGENTS = ("acme/research-manager", "h/web-surfer-flash", "h/web-surfer", "acme/lead-qualifier",
          "h/deep-researcher", "acme/invoice-bot")


# -- the simulator side ----------------------------------------------------------------------


@dataclass
class Sim:
    proc: SimProcess
    http: aiohttp.ClientSession
    steering: Counter[str] = field(default_factory=Counter)

    @property
    def origin(self) -> str:
        return self.proc.base_url.removesuffix("/api/v2")

    async def control(self, method: str, path: str, body: object = None) -> Any:
        """A `/_sim/` route: never touched by chaos, so one try is enough."""
        async with self.http.request(method, self.origin + path, json=body) as r:
            assert r.status == 200, (path, r.status, await r.text())
            return await r.json()

    async def chaos(self, spec: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.control("POST", "/_sim/chaos", {"chaos": spec})
        return result

    async def truth(self) -> dict[str, str]:
        """Every session's status now, from the simulator's ground truth."""
        body = await self.control("GET", "/_sim/truth")
        return {sid: s["log"][-1][1] for sid, s in body["sessions"].items()}

    async def steer(self, method: str, path: str) -> bool:
        """A steering call through the chaotic API, retried as a careful script would: a
        retry after a reply we could not read may find the action already done (409)."""
        for attempt in range(30):
            try:
                async with self.http.request(method, self.proc.base_url + path) as r:
                    text = await r.text()
                    if r.status < 300 or (r.status == 409 and attempt):
                        self.steering[path.rsplit("/", 1)[-1] if method == "POST" else "cancel"] += 1
                        return True
                    if r.status == 409:
                        return False  # not in a state this action applies to
                    assert r.status in (429, 502, 503, 504) or (r.status == 200 and text), (r.status, text)
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.02)
        raise AssertionError(f"{method} {path} kept failing")

    async def create(self, n: int, tag: str) -> list[str]:
        """New sessions, safe to retry through chaos: an `Idempotency-Key` makes a retry
        after a lost or garbled answer return the session made the first time."""
        ids = []
        for i in range(n):
            body = {"agent": AGENTS[i % len(AGENTS)], "messages": f"soak task {tag}-{i}"}
            headers = {"Idempotency-Key": f"soak-{tag}-{i}"}
            for _ in range(30):
                try:
                    async with self.http.post(f"{self.proc.base_url}/sessions", json=body,
                                              headers=headers) as r:
                        text = await r.text()
                        if r.status == 201:
                            ids.append(str(json.loads(text)["id"]))
                            break
                        # 200 is chaos's garbled answer: the session was made, the retry says which.
                        assert r.status in (200, 429, 502, 503, 504), (r.status, text)
                except (aiohttp.ClientError, ValueError):
                    pass
                await asyncio.sleep(0.02)
            else:
                raise AssertionError("creating a session kept failing")
        return ids

    async def existing_live(self, n: int) -> list[str]:
        async with self.http.get(f"{self.proc.base_url}/sessions",
                                 params=[("status", "running"), ("size", str(n))]) as r:
            assert r.status == 200
            items = (await r.json())["items"]
            return [str(item["id"]) for item in items if not item.get("parent_session_id")]


async def run_schedule(sim: Sim, ids: list[str], start: float,
                       extra: Mapping[float, Callable[[], Awaitable[None]]] = {}) -> list[str]:
    """Steer sessions at fixed simulated times while chaos runs; returns the paused ones
    still paused at the end. Actions pick sessions by their ground-truth status then."""
    loop = asyncio.get_running_loop()
    paused: list[str] = []

    async def running(k: int) -> list[str]:
        truth = await sim.truth()
        return [s for s in ids if truth.get(s) == "running"][:k]

    async def pause(k: int) -> None:
        for sid in await running(k):
            if await sim.steer("POST", f"/sessions/{sid}/pause"):
                paused.append(sid)

    async def resume_one() -> None:
        truth = await sim.truth()
        for sid in [s for s in paused if truth.get(s) == "paused"][:1]:
            if await sim.steer("POST", f"/sessions/{sid}/resume"):
                paused.remove(sid)

    async def cancel(k: int) -> None:
        for sid in await running(k):
            await sim.steer("DELETE", f"/sessions/{sid}")

    # The last moves come shortly before chaos stops, so the client has catching up to do.
    plan: dict[float, Callable[[], Awaitable[None]]] = {
        60.0: lambda: pause(3), 180.0: resume_one, 240.0: lambda: cancel(2), 420.0: lambda: pause(2),
        585.0: resume_one, 590.0: lambda: pause(1), 595.0: lambda: cancel(1), **extra,
    }
    for at in sorted(plan):
        await asyncio.sleep(max(start + at / SPEED - loop.time(), 0.0))
        await plan[at]()
    await asyncio.sleep(max(start + SIM_SECONDS / SPEED - loop.time(), 0.0))
    return paused


async def setup_sessions(sim: Sim, created: int = CREATED) -> list[str]:
    ids = await sim.create(created, "start")
    existing = [s for s in await sim.existing_live(EXISTING * 2) if s not in ids][:EXISTING]
    return ids + existing


def start_sim() -> Any:
    # Chaos starts "off" but switchable: the sessions are created on a calm server.
    return simulator("--seed", "11", "--sessions", "20", "--speed", str(SPEED),
                     "--quota-limit", "100000", "--chaos", "off")


def http_for(proc: SimProcess) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(headers={"Authorization": f"Bearer {proc.api_key}"})


def summary(name: str, figures: Mapping[str, object], report: Callable[[str], None]) -> str:
    line = f"SOAK {name}: " + ", ".join(f"{k} {v}" for k, v in figures.items())
    report(line)
    return line


# -- the dashboard ---------------------------------------------------------------------------


class CountingBackend:
    """The engine's backend, counting what came back: the failures the client really saw."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.seen: Counter[str] = Counter()

    async def request(self, method: str, url: str, *, params: Params, headers: Mapping[str, str],
                      json_body: object | None, timeout: float) -> RawResponse:
        self.seen["requests"] += 1
        try:
            resp = await self.inner.request(method, url, params=params, headers=headers,
                                            json_body=json_body, timeout=timeout)
        except Unreachable as exc:
            self.seen["timeout" if "Timeout" in exc.message else "drop"] += 1
            raise
        if resp.status >= 500:
            self.seen["5xx"] += 1
        elif resp.status == 429:
            self.seen["429"] += 1
        elif resp.status == 200 and resp.body:
            try:
                json.loads(resp.body)
            except ValueError:
                self.seen["malformed"] += 1
        return resp

    async def aclose(self) -> None:
        await self.inner.aclose()


class Troubles:
    """Everything that would mean an unhandled error: asyncio's exception handler, error
    logs of agp_tui (the engine and the app log there before they show anything), errors
    the app reported (worker failures, failed renders)."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def on_loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.items.append(f"loop: {context.get('message')} {context.get('exception')!r}")

    def handler(self) -> logging.Handler:
        troubles = self

        class Collect(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                troubles.items.append(f"log {record.name}: {record.getMessage()}")

        return Collect(level=logging.ERROR)


def status_cells(app: Any, sid: str) -> tuple[str, str]:
    from agp_tui.ui.widgets.session_table import SessionTable

    table = app.main.query_one(SessionTable)
    return str(table.get_cell(sid, "status").plain).strip(), str(table.get_cell(sid, "updated").plain)


def disagreements(engine: Engine, ids: list[str], truth: Mapping[str, str]) -> list[str]:
    bad = []
    for sid in ids:
        v = engine.view(sid)
        st = v.status.status if v is not None and v.status is not None else None
        if v is None or st != truth[sid] or v.stale or v.error_kind or v.not_found:
            bad.append(f"{sid[:8]} engine={st} truth={truth[sid]} stale={v and v.stale} "
                       f"error={v and v.error_kind}")
    return bad


async def test_dashboard_soak_under_chaos(tmp_path: Path, report_figure: Callable[[str], None]) -> None:
    from agp_tui.ui.app import make_app
    from agp_tui.ui.format import status_label
    from agp_tui.ui.screens.tree import TreeScreen

    loop = asyncio.get_running_loop()
    troubles = Troubles()
    log_handler = troubles.handler()
    logging.getLogger("agp_tui").addHandler(log_handler)
    old_handler = loop.get_exception_handler()
    loop.set_exception_handler(troubles.on_loop_exception)
    try:
        with start_sim() as proc:
            async with http_for(proc) as http:
                sim = Sim(proc, http)
                ids = await setup_sessions(sim, CREATED - 2 * WAVE)
                watchlist_path = tmp_path / "watchlist-soak.json"
                Watchlist(watchlist_path).add(ids)
                backend = CountingBackend(AiohttpBackend())
                client = AgpClient(proc.base_url, proc.api_key, backend=backend, retry=RetryPolicy.off(),
                                   timeout=15.0 / SPEED)
                engine = Engine(client, Watchlist(watchlist_path), time_scaled(EngineSettings(seed=1), SPEED))
                events: Counter[str] = Counter()

                def count(ev: EngineEvent) -> None:
                    if isinstance(ev, Stale | SessionError | SessionRecovered):
                        events[type(ev).__name__] += 1

                engine.subscribe(count)
                app = make_app(engine)
                reported: list[str] = []
                report = app.report_error
                app.report_error = lambda what, exc: (reported.append(f"{what}: {exc!r}"),  # type: ignore[method-assign]
                                                      report(what, exc))[1]
                async with app.run_test(size=(120, 40)) as pilot:
                    deadline = loop.time() + 10
                    while not all(engine.view(s) and engine.view(s).status for s in ids):  # type: ignore[union-attr]
                        assert loop.time() < deadline, "the sessions never loaded"
                        await pilot.pause(0.05)
                    await sim.chaos(CHAOS)
                    start = loop.time()

                    async def open_tree() -> None:
                        managers = [s for s in ids if engine.children_of(s)]
                        assert managers, "no watched session grew subagents"
                        app.open_tree(managers[0])

                    async def close_tree() -> None:
                        if isinstance(app.screen, TreeScreen):
                            app.pop_screen()

                    def wave(tag: str) -> Callable[[], Awaitable[None]]:
                        async def add() -> None:
                            new = await sim.create(WAVE, tag)
                            assert engine.add(new) == new  # what the `a` key does
                            ids.extend(new)
                        return add

                    paused = await run_schedule(sim, ids, start, {
                        200.0: wave("w1"), 300.0: open_tree, 400.0: wave("w2"), 450.0: close_tree,
                    })
                    # Stop while some session is failing, so recovery has something to show:
                    # refresh everything now and then (`R`), as a user would on a flaky link.
                    until = loop.time() + TROUBLE_WAIT_SIM / SPEED
                    next_refresh = loop.time()
                    while loop.time() < until and not any(
                            (v := engine.view(s)) and v.error_kind for s in ids):
                        if loop.time() >= next_refresh:
                            engine.refresh()
                            next_refresh = loop.time() + 5.0 / SPEED
                        await asyncio.sleep(0.005)
                    in_trouble = [s for s in ids if (v := engine.view(s)) and (v.error_kind or v.stale)]
                    # Chaos stops, the world holds still: from here the dashboard must agree.
                    chaos_report = await sim.chaos("off")
                    await sim.control("POST", "/_sim/clock", {"frozen": True})
                    stopped = loop.time()
                    truth = await sim.truth()
                    recovered_after: float | None = None
                    while loop.time() - stopped < 3 * (RECOVERY_BOUND_SIM / SPEED + HARNESS_SLACK):
                        if not disagreements(engine, ids, truth):
                            recovered_after = loop.time() - stopped
                            break
                        await asyncio.sleep(0.01)
                    left = disagreements(engine, ids, truth)
                    await pilot.pause(0.6)  # two frames: the table shows what the engine knows
                    cells = {sid: status_cells(app, sid) for sid in ids}
                    crashed = app._exception  # Textual keeps the exception that would end the app
                    running = app.is_running
                    connection = engine.connection.value
                    fallback = sum(1 for sid in ids if engine._core.store.tracked[sid].long_poll_failed)
                    on_disk = Watchlist(watchlist_path).load()
                    watched = engine.watched_ids()
                    seen = dict(backend.seen)
                    requests = engine.requests_granted
                    retries = engine.retries
    finally:
        loop.set_exception_handler(old_handler)
        logging.getLogger("agp_tui").removeHandler(log_handler)

    injected = chaos_report["injected"]
    statuses = Counter(truth[s] for s in ids)
    matched = len(ids) - len(left)
    summary("dashboard", {
        "sim": f"{SIM_SECONDS:.0f} s at x{SPEED:g}", "sessions": len(ids), "final statuses": dict(statuses),
        "in trouble when chaos stopped": len(in_trouble),
        "steering": dict(sim.steering), "requests": requests, "server injected": injected,
        "client saw": {k: v for k, v in seen.items() if k != "requests"}, "retries": retries,
        "stale marks": events["Stale"], "errors shown": events["SessionError"],
        "recoveries": events["SessionRecovered"], "long-poll fallbacks": fallback,
        "recovered after": (f"{recovered_after:.2f} s real = {recovered_after * SPEED:.1f} sim-s"
                            if recovered_after is not None else "never"),
        "bound": f"{RECOVERY_BOUND_SIM:g} sim-s + {HARNESS_SLACK:g} s", "matched": f"{matched}/{len(ids)}",
        "troubles": len(troubles.items) + len(reported),
    }, report_figure)
    # The run had the trouble it was meant to have, and sessions did move.
    assert injected["5xx"] and injected["429"] and injected["malformed"] and injected["drop"], injected
    assert injected["spike"], injected
    assert paused and statuses.keys() & TERMINAL, statuses
    # No crash, no unhandled error anywhere.
    assert crashed is None and running
    assert not troubles.items and not reported, (troubles.items, reported)
    # Every session agrees with the server, within one poll interval of the chaos stopping.
    assert not left, left
    assert recovered_after is not None and recovered_after <= RECOVERY_BOUND_SIM / SPEED + HARNESS_SLACK
    assert connection == "live"
    # ...and the table shows it, with no row marked stale.
    wrong_cells = {s[:8]: c for s, c in cells.items()
                   if not status_label(truth[s]).startswith(c[0].rstrip("…")) or "!" in c[1]}
    assert not wrong_cells, wrong_cells
    # The watchlist lost nothing, on screen or on disk.
    assert sorted(watched) == sorted(ids)
    assert sorted(e.id for e in on_disk) == sorted(ids)
    # Passing trouble never made a session give up its live feed for /status polls.
    assert fallback == 0


# -- the headless watch ----------------------------------------------------------------------


class LineReader:
    """A subprocess's output, read on a thread so the test's loop never blocks on it."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def join(self) -> None:
        self._thread.join(timeout=10)


def watch_state(lines: list[str], ids: list[str]) -> tuple[dict[str, str | None], dict[str, str]]:
    """What the watch output says now: each session's last status, and the sessions whose
    last error or stale line has no `recovered` after it (still in trouble)."""
    status: dict[str, str | None] = dict.fromkeys(ids)
    trouble: dict[str, str] = {}
    for line in lines:
        ev = json.loads(line)
        sid = ev["id"]
        if sid not in status:
            continue
        if ev["event"] == "status":
            status[sid] = ev["status"]
        elif ev["event"] in ("error", "stale"):
            trouble[sid] = f"{ev['event']} {ev.get('error_kind')}"
        elif ev["event"] == "recovered":
            trouble.pop(sid, None)
    return status, trouble


async def test_watch_soak_under_chaos(tmp_path: Path, report_figure: Callable[[str], None]) -> None:
    loop = asyncio.get_running_loop()
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("AGP_BASE_URL", "AGP_PROFILE", "H_API_KEY", "HAI_API_KEY", "AGP_TUI_CONFIG")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               TERM="dumb", PYTHONUNBUFFERED="1")
    with start_sim() as proc:
        async with http_for(proc) as http:
            sim = Sim(proc, http)
            ids = await setup_sessions(sim)
            watch = subprocess.Popen(
                [sys.executable, "-m", "agp_tui", "watch", *ids, "--json", "--time-scale", f"{SPEED:g}",
                 "--base-url", proc.base_url],  # the key in H_API_KEY: not in `ps`, no warning
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env={**env, "H_API_KEY": proc.api_key}, cwd=tmp_path,
            )
            try:
                out, err = LineReader(watch.stdout), LineReader(watch.stderr)
                deadline = loop.time() + 15
                while any(s is None for s in watch_state(out.lines, ids)[0].values()):
                    assert watch.poll() is None, f"watch ended early: {err.lines[-5:]}"
                    assert loop.time() < deadline, "the watch never printed every status"
                    await asyncio.sleep(0.05)
                await sim.chaos(CHAOS)
                start = loop.time()
                paused = await run_schedule(sim, ids, start)
                assert watch.poll() is None, f"watch ended under chaos: {err.lines[-5:]}"
                until = loop.time() + TROUBLE_WAIT_SIM / SPEED
                while loop.time() < until and not watch_state(list(out.lines), ids)[1]:
                    await asyncio.sleep(0.005)
                in_trouble = watch_state(list(out.lines), ids)[1]
                chaos_report = await sim.chaos("off")
                await sim.control("POST", "/_sim/clock", {"frozen": True})
                stopped = loop.time()
                truth = await sim.truth()
                recovered_after: float | None = None
                while loop.time() - stopped < 3 * (RECOVERY_BOUND_SIM / SPEED + HARNESS_SLACK):
                    status, trouble = watch_state(list(out.lines), ids)
                    if not trouble and all(status[s] == truth[s] for s in ids):
                        recovered_after = loop.time() - stopped
                        break
                    await asyncio.sleep(0.01)
                status, trouble = watch_state(list(out.lines), ids)
                left = [f"{s[:8]} watch={status[s]} truth={truth[s]}" for s in ids if status[s] != truth[s]]
                # Then everything still going is cancelled: the watch must settle by itself.
                for sid in ids:
                    if truth[sid] not in TERMINAL and truth[sid] != "idle":
                        await sim.steer("DELETE", f"/sessions/{sid}")
                final_truth = await sim.truth()
                try:
                    code: int | None = await asyncio.to_thread(watch.wait, 30)
                except subprocess.TimeoutExpired:
                    code = None  # it never settled: reported below
            finally:
                if watch.poll() is None:
                    watch.send_signal(signal.SIGINT)
                    watch.wait(10)
            out.join()
            err.join()
    done = json.loads(out.lines[-1]) if out.lines else {}
    injected = chaos_report["injected"]
    events = Counter(json.loads(line)["event"] for line in out.lines)
    summary("watch", {
        "sim": f"{SIM_SECONDS:.0f} s at x{SPEED:g}", "sessions": len(ids),
        "in trouble when chaos stopped": len(in_trouble),
        "final statuses": dict(Counter(final_truth[s] for s in ids)), "steering": dict(sim.steering),
        "server injected": injected, "lines": dict(events),
        "recovered after": (f"{recovered_after:.2f} s real = {recovered_after * SPEED:.1f} sim-s"
                            if recovered_after is not None else "never"),
        "bound": f"{RECOVERY_BOUND_SIM:g} sim-s + {HARNESS_SLACK:g} s",
        "matched": f"{len(ids) - len(left)}/{len(ids)}", "exit": code,
    }, report_figure)
    assert injected["5xx"] and injected["429"] and injected["malformed"] and injected["drop"], injected
    assert paused
    stderr = "\n".join(err.lines)
    assert "Traceback" not in stderr and not stderr.strip(), stderr[-2000:]
    assert not left and not trouble, (left, trouble)
    assert recovered_after is not None and recovered_after <= RECOVERY_BOUND_SIM / SPEED + HARNESS_SLACK
    # It ended by itself, on a `done` line whose outcomes are the server's final statuses.
    assert code == 0 and done.get("event") == "done", (code, out.lines[-3:])
    assert done["outcomes"] == {s: final_truth[s] for s in ids}

