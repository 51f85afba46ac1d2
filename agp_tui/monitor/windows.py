"""Creation windows: the non-terminal sessions created between two watched sessions' creation
times, read with keyset-paged `GET /sessions` pages.

The sweeper's plain way to watch many sessions at once (a page per `SWEEP_CHUNK` candidates
at best), and the feed's rotating check of a chunk lists never show. A window gives up
(None) when reading it would cost more pages than polling its candidates costs requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from agp_tui.api.models import parse_time
from agp_tui.api.status import KNOWN, TERMINAL
from agp_tui.monitor import budget as prio
from agp_tui.monitor.core import Core
from agp_tui.monitor.tracked import Tracked

NON_TERMINAL = tuple(sorted(KNOWN - TERMINAL))
SWEEP_CHUNK = 80  # candidates per concurrently swept window (a page holds 100)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the sort key of a session without a creation time


def pages_at_best(candidates: int) -> int:
    """Pages a window sweep of this many candidates reads at best."""
    return -(-candidates // SWEEP_CHUNK)


async def window(core: Core, oldest: datetime, newest: datetime, count: int) -> dict[str, str] | None:
    """(id, status) of every non-terminal session created in [oldest, newest]; None when
    that takes more pages than polling its `count` candidates would cost requests."""
    max_pages = max(1, count // 4)
    seen: dict[str, str] = {}
    pages = 0
    after = oldest - timedelta(milliseconds=1)
    while True:
        async with core.budget.slot(prio.URGENT, purpose="sweep"):
            page = await core.client.list_session_states(
                status=NON_TERMINAL, created_after=after,
                created_before=newest + timedelta(milliseconds=1), sort="created_at", size=100,
            )
        pages += 1
        fresh = [(sid, st) for sid, st, _ in page.items if sid not in seen]
        seen.update(fresh)
        if not page.has_more or not fresh:
            return seen
        if pages >= max_pages:
            return None
        # Keyset paging: the next page starts after the last creation time seen, so
        # sessions finishing meanwhile cannot shift others past a page boundary (with
        # page numbers they would, and look finished). The millisecond of overlap
        # re-reads ties at the boundary instead of skipping them.
        last = parse_time(page.items[-1][2])
        if last is None:
            return seen
        after = last - timedelta(milliseconds=1)


async def sweep(core: Core, cands: Sequence[Tracked]) -> dict[str, str] | None:
    """(id, status) of the non-terminal sessions in the windows over all `cands`; None when
    one window proved the org too busy for sweeps to pay off. Raises the first error.

    Candidates go in creation order, in chunks that each fit a page or two: the chunks'
    windows are read concurrently, so a sweep of a thousand sessions takes about one round
    trip, not ten in a row (detection latency), and each window holds few of the org's
    other sessions."""
    ordered = sorted(cands, key=lambda t: t.created_at or EPOCH)
    chunks = [ordered[i:i + SWEEP_CHUNK] for i in range(0, len(ordered), SWEEP_CHUNK)]
    results = await asyncio.gather(
        *(window(core, c[0].created_at or EPOCH, c[-1].created_at or EPOCH, len(c)) for c in chunks),
        return_exceptions=True,
    )
    seen: dict[str, str] = {}
    for result in results:
        if isinstance(result, BaseException):
            raise result
        if result is None:
            return None
        seen.update(result)
    return seen
