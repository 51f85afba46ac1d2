"""Suite-wide setup shared by every test folder."""

from __future__ import annotations

import compileall
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

# A job that a non-interactive shell starts in the background (`pytest &`, nohup, some CI
# wrappers) inherits SIGINT ignored, and so would every `agp-tui` the tests start: the
# tests that press Ctrl-C and expect exit 130 would wait out their timeouts and fail.
# A Python handler is reset to the default on exec, so children get a working Ctrl-C.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Bytecode caches on, whatever the shell says. With PYTHONDONTWRITEBYTECODE set (as on the
# machines this suite runs on), every `agp-tui` the tests start compiled agp_tui from source
# again (~0.25 CPU-s a process, a few hundred processes), and every xdist worker rewrote the
# asserts of all ~110 test modules (~5 CPU-s a worker). The controller compiles agp_tui once,
# before the workers start; workers and the processes they start inherit the environment.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False
if "PYTEST_XDIST_WORKER" not in os.environ:
    compileall.compile_dir(Path(__file__).parents[1] / "agp_tui", quiet=1)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (pyproject's addopts) starts two workers per core, not one: many tests wait
    in real time (tmux screens, soaks, rate windows, processes starting), and a second
    worker computes while they wait. On the 2-core machine of BENCHMARKS.md ("suite") the
    suite took 537 s with 2 workers and 303 s with 4; 6 overloaded a shared machine into
    timing failures. `PYTEST_XDIST_AUTO_NUM_WORKERS=N` still sets the number."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 2 * (cores or 1)


# Figures that tests report (`report_figure` in tests/reliability: soak and kill counts),
# repeated at the end of the run's output. They travel in each test's report, which is how
# they get here from xdist's worker processes.
_FIGURES: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        _FIGURES.extend(str(value) for key, value in report.user_properties if key == "figure")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _FIGURES:
        terminalreporter.write_sep("-", "reliability figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
