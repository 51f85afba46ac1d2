"""Work over a listing of any length in bounded memory: a few lookups in flight, results in
listing order as they come back.

`ordered_map` reads its source only as far as its window has room, so at most `window`
results (and one page of the source) are held however long the listing; a lookup that
finishes early waits for those listed before it, so the output keeps the listing's order.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TypeVar

from agp_tui.api.errors import AgpError

T = TypeVar("T")
R = TypeVar("R")


class Window:
    """How many results `ordered_map` held at once (`high_water`), for tests and benchmarks."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.high_water = 0


async def ordered_map(
    source: AsyncIterator[T], fn: Callable[[T], Awaitable[R]], *, concurrency: int,
    window: Window,
) -> AsyncGenerator[R, None]:
    """`fn(item)` for each item, at most `concurrency` running, yielded in source order.

    An AgpError from the source (a listing page that failed) is raised only after every
    result of the items read before it was yielded: the caller prints what was read, then
    says why it stopped. Leaving early cancels the lookups still running.
    """
    gate = asyncio.Semaphore(concurrency)

    async def bounded(item: T) -> R:
        async with gate:
            return await fn(item)

    running: deque[asyncio.Task[R]] = deque()
    failure: AgpError | None = None
    exhausted = False
    try:
        while True:
            while not exhausted and len(running) < window.size:
                try:
                    item = await anext(source)
                except StopAsyncIteration:
                    exhausted = True
                except AgpError as exc:
                    failure, exhausted = exc, True
                else:
                    running.append(asyncio.ensure_future(bounded(item)))
                    window.high_water = max(window.high_water, len(running))
            if not running:
                break
            yield await running.popleft()
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        closing = getattr(source, "aclose", None)
        if closing is not None:
            await closing()
    if failure is not None:
        raise failure
