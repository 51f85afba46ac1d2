"""The one clock all of the engine's scheduling reads.

`loop_clock` is the running event loop's time, so a fast-forwarding test loop (looptime)
makes every interval, backoff, pacing gap and rate limit virtual at once. Pure parts (the
scheduler) take any `Clock`: unit tests hand them a float they move by hand.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

Clock = Callable[[], float]  # monotonic seconds


def loop_clock() -> float:
    """The running loop's time; outside a loop (an engine being built) `time.monotonic`,
    which the default loop uses too."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()
