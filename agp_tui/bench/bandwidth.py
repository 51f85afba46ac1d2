"""`python -m agp_tui.bench bandwidth [--quick] [--json]`: bytes per second the dashboard
writes to its terminal while 100 running sessions update — what an SSH link carries.

A simulator runs in its own process at real speed with 100 freshly created (so running)
sessions; the installed dashboard runs in a pseudo-terminal of 120x36 watching all of
them, and everything it writes is counted. The first seconds (the first full paint and
the initial fetches) are reported apart from the steady state.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from typing import Any

import aiohttp

from agp_tui.bench._pty import spawn
from agp_tui.bench._simproc import simulator
from agp_tui.bench.engine import create_sessions

BUDGET_BYTES_PER_S = 5_000  # issue 9: what an SSH link pays for 100 running sessions
COLS, ROWS = 120, 40
WARMUP_S = 5.0


# The dashboard with Textual's own screen writer instead of ui/textual_pinned.py: what the lean
# writer saves is measured, not assumed.
_TEXTUAL_WRITER = ("import sys; from agp_tui.ui import textual_pinned; textual_pinned.ENABLED = False; "
                   "from agp_tui.cli import main; sys.exit(main())")


def _run_dashboard(base_url: str, key: str, ids: list[str], seconds: float,
                   dump: str | None = None, writer: str = "lean") -> dict[str, Any]:
    warm = steady = 0
    raw = bytearray()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": f"{home}/config",
               "XDG_DATA_HOME": f"{home}/data", "COLUMNS": str(COLS), "LINES": str(ROWS)}
        start = ["-m", "agp_tui"] if writer == "lean" else ["-c", _TEXTUAL_WRITER]
        argv = [sys.executable, *start, "--base-url", base_url, "--api-key", key, *ids]
        with spawn(argv, COLS, ROWS, env) as pty:
            began = time.monotonic()
            while (now := time.monotonic()) - began < seconds:
                chunk = pty.read(0.2)
                if chunk is None:
                    break
                if dump is not None and chunk:
                    raw += f"\x00T{now - began:.3f}\x00".encode() + chunk
                if now - began < WARMUP_S:
                    warm += len(chunk)
                else:
                    steady += len(chunk)
    if dump is not None:
        with open(dump, "wb") as fh:
            fh.write(raw)
    steady_s = max(seconds - WARMUP_S, 1e-9)
    return {"first_seconds_bytes": warm, "steady_bytes": steady, "steady_seconds": round(steady_s, 1),
            "bytes_per_s": round(steady / steady_s), "exit_code": pty.proc.returncode}


async def _prepare(base_url: str, key: str, n: int) -> list[str]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as http:
        return await create_sessions(http, base_url, n)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m agp_tui.bench bandwidth", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="15 s instead of 45 s")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--writer", choices=("lean", "textual"), default="lean",
                        help="textual: switch ui/textual_pinned.py off, to see what it saves")
    parser.add_argument("--dump", metavar="FILE",
                        help="write everything the dashboard printed (NUL-delimited timestamps) to FILE")
    args = parser.parse_args(argv)
    seconds = 15.0 if args.quick else 45.0
    with simulator("--seed", "3", "--sessions", "20", "--quota-limit", "100000") as sim:
        ids = asyncio.run(_prepare(sim.base_url, sim.api_key, args.sessions))
        result = _run_dashboard(sim.base_url, sim.api_key, ids, seconds, args.dump, args.writer)
    report = {"benchmark": "bandwidth", "sessions": args.sessions, "terminal": f"{COLS}x{ROWS}",
              "writer": args.writer,
              **result, "budget_bytes_per_s": BUDGET_BYTES_PER_S,
              "result": "PASS" if result["bytes_per_s"] <= BUDGET_BYTES_PER_S else "MISS"}
    if args.json:
        print(json.dumps(report))
    else:
        print(f"dashboard output with {args.sessions} running sessions at {COLS}x{ROWS}: "
              f"{report['bytes_per_s']} bytes/s (budget <= {BUDGET_BYTES_PER_S}) {report['result']}")
        print(f"  first {WARMUP_S:.0f} s (first paint, initial fetches): "
              f"{result['first_seconds_bytes']} bytes; then {result['steady_bytes']} bytes "
              f"in {result['steady_seconds']} s; exit {result['exit_code']}")
    return 0
