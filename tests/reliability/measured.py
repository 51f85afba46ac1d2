"""Running the installed `agp-tui` against a hostile server and measuring what it cost.

`run_measured` starts the command, optionally interrupts it (Ctrl-C) after a while, and
reaps it with `os.wait4`, whose rusage is that one child's: peak RSS without polling and
without counting anything else this test process ever started. The child gets an address
space limit, so a regression (a gzip bomb inflated in full) fails the test with a
MemoryError instead of taking the shared machine down.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from headless_helpers import AGP

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


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def run_measured(
    args: Sequence[str], env: Mapping[str, str], *, timeout: float, interrupt_after: float | None = None,
    stdin: str = "", cwd: Path | None = None, umask: int | None = None,
) -> Measured:
    """`agp-tui ARGS...`: exit code, output, wall seconds and peak RSS (MB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryFile() as inp:
        inp.write(stdin.encode())
        inp.seek(0)

        def setup() -> None:
            _limit_memory()
            if umask is not None:
                os.umask(umask)

        start = time.monotonic()
        proc = subprocess.Popen([*AGP, *args], stdin=inp, stdout=out, stderr=err, env=dict(env),
                                cwd=cwd, preexec_fn=setup)
        interrupted = killed = False
        status, usage = 0, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            elapsed = time.monotonic() - start
            if interrupt_after is not None and not interrupted and elapsed >= interrupt_after:
                proc.send_signal(signal.SIGINT)
                interrupted = True
            if elapsed >= timeout and not killed:
                proc.kill()
                killed = True
            time.sleep(0.02)
        seconds = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting
        out.seek(0)
        err.seek(0)
        return Measured(
            code=None if killed else proc.returncode,
            out=out.read().decode("utf-8", "replace"),
            err=err.read().decode("utf-8", "replace"),
            seconds=seconds,
            peak_mb=(usage.ru_maxrss if usage is not None else 0) / 1024,
        )


def run_together(jobs: Sequence[Callable[[], Measured]]) -> list[Measured]:
    """Run measured commands side by side (each is its own process, measured on its own):
    a test's several runs take as long as its slowest, not their sum."""
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(lambda job: job(), jobs))
