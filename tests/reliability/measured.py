"""Running the installed `agp-tui` against a hostile server and measuring what it cost.

`run_measured` starts the command under `rss_probe.py`, optionally interrupts it (Ctrl-C)
after a while or once something happened, and reads the command's own peak RSS, which the
probe gets from `wait4`. (Spawned straight from this test process, a child's RSS high-water
mark would start at this process's size.) The command gets an address space limit, so a
regression (a gzip bomb inflated in full) fails the test with a MemoryError instead of
taking the shared machine down.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from headless_helpers import AGP

PROBE = Path(__file__).with_name("rss_probe.py")
AS_LIMIT = 3 * 1024**3  # bytes of address space a measured command may map
RSS_BOUND_MB = 100.0  # the bound: peak RSS under any single hostile answer, above idle
EXIT_SLACK_S = 5.0  # the bound: every headless command exits within its deadline + 5 s
RATE_BOUND = 1.0  # the bound: requests per second per followed session


@dataclass
class Measured:
    code: int | None  # None: still running at the timeout, killed
    out: str
    err: str
    seconds: float
    peak_mb: float

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def run_measured(
    args: Sequence[str], env: Mapping[str, str], *, timeout: float, interrupt_after: float | None = None,
    interrupt_when: Callable[[], bool] | None = None, stdin: str = "", cwd: Path | None = None,
    umask: int | None = None,
) -> Measured:
    """`agp-tui ARGS...`: exit code, output, wall seconds and peak RSS (MB).

    Ctrl-C is sent at `interrupt_after` seconds, or as soon as `interrupt_when()` holds (and
    then at `interrupt_after` at the latest)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryFile() as inp, tempfile.NamedTemporaryFile("r") as report:
        inp.write(stdin.encode())
        inp.seek(0)
        probe = [sys.executable, str(PROBE), report.name, str(AS_LIMIT),
                 "-" if umask is None else f"{umask:o}", "--", *AGP, *args]
        start = time.monotonic()
        proc = subprocess.Popen(probe, stdin=inp, stdout=out, stderr=err, env=dict(env), cwd=cwd)
        interrupted = killed = False
        while proc.poll() is None:
            elapsed = time.monotonic() - start
            due = interrupt_after is not None and elapsed >= interrupt_after
            if not interrupted and (due or (interrupt_when is not None and interrupt_when())):
                proc.send_signal(signal.SIGINT)
                interrupted = True
            if elapsed >= timeout and not killed:
                proc.send_signal(signal.SIGTERM)  # the probe kills the command, then reports
                killed = True
            time.sleep(0.02)
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        peak_kb = report.read().strip()
        return Measured(
            code=None if killed else proc.returncode,
            out=out.read().decode("utf-8", "replace"),
            err=err.read().decode("utf-8", "replace"),
            seconds=seconds,
            peak_mb=int(peak_kb or 0) / 1024,
        )


def run_together(jobs: Sequence[Callable[[], Measured]]) -> list[Measured]:
    """Run measured commands side by side (each is its own process, measured on its own):
    a test's several runs take as long as its slowest, not their sum."""
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(lambda job: job(), jobs))
