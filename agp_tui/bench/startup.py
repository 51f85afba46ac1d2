"""`python -m agp_tui.bench startup [--quick] [--json] [--runs N]`: start-up times.

- startup_status_s: starts the simulator in a subprocess, then times `agp-tui status <id>
  --json` end to end (process start, imports, config, one HTTP request, JSON out) over N
  runs: median and p95 next to the budget, with the bare interpreter's start-up for scale.
  When the median is over budget it also lists the slowest imports (`python -X importtime`).
- startup_demo_s: `agp-tui --demo` in a 120x40 pseudo-terminal, from the process start to
  the first painted table that shows a session's status (the simulator starts in-process,
  the engine loads the demo sessions, the first frame reaches the terminal).

It reports; it never fails on a slow figure (exit 0 unless the benchmark itself broke).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from agp_tui.bench._pty import spawn

BUDGET_S = 0.3
DEMO_BUDGET_S = 1.0
DEMO_RUNS, DEMO_QUICK_RUNS = 7, 2
DEMO_SIZE = (120, 40)
# A table row shows one of these once its session's status has loaded.
_STATUS_WORDS = re.compile(r"running|completed|failed|paused|idle|pending|timed out|interrupted")
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
DEFAULT_RUNS = 15
QUICK_RUNS = 3
SIM_KEY = "hk-demo-0000000000000000"  # agp_tui.sim.DEMO_API_KEY, without importing the sim


def _command() -> list[str]:
    """The installed entry point when there is one (what users run), else `python -m agp_tui`."""
    script = Path(sys.executable).parent / "agp-tui"
    if script.exists():
        return [str(script)]
    found = shutil.which("agp-tui")
    return [found] if found else [sys.executable, "-m", "agp_tui"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> Any:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {SIM_KEY}"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


def _start_sim(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agp_tui", "sim", "--port", str(port), "--sessions", "50"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )
    base = f"http://127.0.0.1:{port}/api/v2"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"the simulator exited with {proc.returncode}: {err.strip()}")
        try:
            _get(base + "/sessions/quota")
            return proc, base
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the simulator did not start within 20 s")


def _time_runs(argv: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, env=env, check=False)
        times.append(time.perf_counter() - started)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:3])} exited {proc.returncode}: "
                               f"{proc.stderr.decode(errors='replace').strip()}")
    return times


def _time_demo(env: dict[str, str], runs: int) -> list[float]:
    """Seconds from spawning `agp-tui --demo` to the first frame with a session's status."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        painted = None
        with spawn([*_command(), "--demo"], DEMO_SIZE[0], DEMO_SIZE[1], env) as pty:
            seen = ""
            while painted is None and time.perf_counter() - started < 30:
                chunk = pty.read(0.05)
                if chunk is None:
                    break
                seen += _ESCAPES.sub(" ", chunk.decode(errors="replace"))
                if "status" in seen and _STATUS_WORDS.search(seen.split("status", 1)[1]):
                    painted = time.perf_counter() - started
        if painted is None:
            raise RuntimeError("agp-tui --demo painted no session status within 30 s")
        times.append(painted)
    return times


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


def _top_imports(argv_tail: list[str], env: dict[str, str], n: int = 12) -> list[dict[str, Any]]:
    """The `n` imports with the largest cumulative time, from `python -X importtime`."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "agp_tui", *argv_tail],
                          capture_output=True, text=True, env=env, check=False)
    rows: list[dict[str, Any]] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = [p.strip() for p in line[len("import time:"):].split("|")]
        if len(parts) == 3 and parts[1].isdigit():
            rows.append({"module": parts[2].strip(), "self_ms": int(parts[0]) / 1000,
                         "cumulative_ms": int(parts[1]) / 1000})
    rows.sort(key=lambda r: float(r["cumulative_ms"]), reverse=True)
    return rows[:n]


def measure(runs: int, budget: float = BUDGET_S, demo_runs: int = DEMO_RUNS) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="agp-bench-") as tmp:
        root = Path(tmp)
        (root / "home").mkdir()
        config = root / "config.toml"
        config.write_text("")
        env = {k: v for k, v in os.environ.items()
               if k not in ("AGP_BASE_URL", "AGP_PROFILE", "H_API_KEY", "HAI_API_KEY")}
        env.update(HOME=str(root / "home"), XDG_DATA_HOME=str(root / "data"),
                   XDG_CONFIG_HOME=str(root / "config"))
        sim, base = _start_sim(env)
        try:
            session_id = _get(base + "/sessions?size=1")["items"][0]["id"]
            tail = ["status", "--json", "--base-url", base, "--api-key", SIM_KEY,
                    "--config", str(config), session_id]
            argv = [*_command(), *tail]
            _time_runs(argv, env, 1)  # warm the page cache and .pyc files
            times = _time_runs(argv, env, runs)
            floor = _time_runs([sys.executable, "-c", "pass"], env, max(3, runs // 3))
            median = statistics.median(times)
            result: dict[str, Any] = {
                "benchmark": "startup",
                "command": "agp-tui status <id> --json",
                "runs": runs,
                "median_s": round(median, 4),
                "p95_s": round(_p95(times), 4),
                "min_s": round(min(times), 4),
                "max_s": round(max(times), 4),
                "budget_s": budget,
                "within_budget": median <= budget,
                "interpreter_floor_s": round(statistics.median(floor), 4),
                "top_imports": [] if median <= budget else _top_imports(tail, env),
            }
            _time_demo(env, 1)  # warm the page cache and textual's .pyc files
            demo = _time_demo(env, demo_runs)
            result["demo"] = {
                "command": "agp-tui --demo", "terminal": f"{DEMO_SIZE[0]}x{DEMO_SIZE[1]}",
                "runs": demo_runs, "median_s": round(statistics.median(demo), 3),
                "p95_s": round(_p95(demo), 3), "max_s": round(max(demo), 3),
                "budget_s": DEMO_BUDGET_S, "within_budget": statistics.median(demo) <= DEMO_BUDGET_S,
            }
            result["startup_status_s"] = result["median_s"]
            result["startup_demo_s"] = result["demo"]["median_s"]
        finally:
            sim.terminate()
            try:
                sim.wait(5)
            except subprocess.TimeoutExpired:
                sim.kill()
    return result


def _report(r: dict[str, Any]) -> None:
    verdict = "within budget" if r["within_budget"] else "OVER BUDGET"
    print(f"startup: {r['command']} over {r['runs']} runs")
    print(f"  median {r['median_s'] * 1000:6.0f} ms   budget {r['budget_s'] * 1000:.0f} ms   {verdict}")
    spread = f"(min {r['min_s'] * 1000:.0f}, max {r['max_s'] * 1000:.0f})"
    print(f"  p95    {r['p95_s'] * 1000:6.0f} ms   {spread}")
    print(f"  bare interpreter start {r['interpreter_floor_s'] * 1000:.0f} ms")
    d = r["demo"]
    verdict = "within budget" if d["within_budget"] else "OVER BUDGET"
    print(f"startup: {d['command']} to the first painted table ({d['terminal']}) over {d['runs']} runs")
    print(f"  median {d['median_s'] * 1000:6.0f} ms   budget {d['budget_s'] * 1000:.0f} ms   {verdict}")
    print(f"  p95    {d['p95_s'] * 1000:6.0f} ms   (max {d['max_s'] * 1000:.0f})")
    if r["top_imports"]:
        print("  slowest imports (cumulative ms, self ms):")
        for row in r["top_imports"]:
            print(f"    {row['cumulative_ms']:8.1f} {row['self_ms']:8.1f}  {row['module']}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m agp_tui.bench startup",
                                     description="Time `agp-tui status <id> --json` against the simulator.")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} runs instead of {DEFAULT_RUNS}")
    parser.add_argument("--runs", type=int, default=None, metavar="N", help="number of timed runs")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--budget", type=float, default=BUDGET_S, metavar="S",
                        help=f"budget in seconds (default {BUDGET_S})")
    args = parser.parse_args(argv)
    runs = args.runs or (QUICK_RUNS if args.quick else DEFAULT_RUNS)
    try:
        result = measure(max(runs, 1), args.budget, DEMO_QUICK_RUNS if args.quick else DEMO_RUNS)
    except RuntimeError as exc:
        print(f"startup benchmark failed: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result))
    else:
        _report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
