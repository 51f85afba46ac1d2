"""Suite-wide setup shared by every test folder."""

from __future__ import annotations

import signal
from typing import Any

import pytest

# A job that a non-interactive shell starts in the background (`pytest &`, nohup, some CI
# wrappers) inherits SIGINT ignored, and so would every `agp-tui` the tests start: the
# tests that press Ctrl-C and expect exit 130 would wait out their timeouts and fail.
# A Python handler is reset to the default on exec, so children get a working Ctrl-C.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


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
