"""A simulator in its own process, so a benchmark's client and server never share a GIL."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LISTENING = re.compile(r"listening on (http://\S+)")


@dataclass(frozen=True)
class SimProcess:
    proc: subprocess.Popen[str]
    base_url: str
    api_key: str


def start_simulator(*args: str) -> SimProcess:
    """`python -m agp_tui.sim --port 0 ARGS...`, returned once it prints its URL and key."""
    root = str(Path(__file__).resolve().parents[2])  # the checkout: works uninstalled too
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "agp_tui.sim", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    assert proc.stdout is not None
    base_url = key = ""
    deadline = time.monotonic() + 90  # a 10,000-session world takes ~15 s here
    while time.monotonic() < deadline and not (base_url and key):
        line = proc.stdout.readline()
        if not line:
            break
        if m := LISTENING.search(line):
            base_url = m.group(1)
        if line.startswith("API key: "):
            key = line.split(": ", 1)[1].strip()
    if not (base_url and key):
        proc.kill()
        err = proc.stderr.read() if proc.stderr else ""
        raise RuntimeError(f"simulator did not start: {err.strip()[-300:]}")
    return SimProcess(proc, base_url, key)


def stop_simulator(sim: SimProcess) -> None:
    sim.proc.terminate()  # SIGTERM: the simulator shuts down cleanly
    try:
        sim.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        sim.proc.kill()
        sim.proc.wait()


@contextmanager
def simulator(*args: str) -> Iterator[SimProcess]:
    sim = start_simulator(*args)
    try:
        yield sim
    finally:
        stop_simulator(sim)
