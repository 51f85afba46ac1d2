"""Waiting in loop time, for engine tests on looptime's fast-forwarding loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


def now() -> float:
    return asyncio.get_running_loop().time()


async def until(pred: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait, in loop time, until `pred()` holds; checked every 5 ms of it."""
    deadline = now() + timeout
    while not pred():
        if now() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)
