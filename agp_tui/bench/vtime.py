"""An event loop whose clock jumps to the next timer whenever nothing is ready to run.

Benchmarks of the engine's *policy* (requests, detection latency) run the engine and an
in-process simulator on it: a simulated hour takes as long as its CPU work, however loaded
the machine, and every figure in simulated seconds is the same on any machine. CPU per
request is still measured in real process time.

Only for a closed world: every socket's other end must be in this process (loopback to an
in-process server), so "no I/O ready now" means none is coming until a timer fires.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _SkippingSelector(selectors.DefaultSelector):
    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)  # loopback data written in this process is already there
        if not ready and timeout:
            self.now += timeout  # idle until the next timer: skip to it
        elif not ready and timeout is None:
            ready = super().select(None)  # no timer at all: only I/O can wake us
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._skipping = _SkippingSelector()
        super().__init__(self._skipping)

    def time(self) -> float:
        return self._skipping.now


def run_virtual(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run`, on a `VirtualTimeLoop`."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main)
