"""`agp-tui status --group G [filters] [--json]`: the status of every session a query matches.

The parser runs this for `status` with any filter (`--group`, `--agent`, `--status`,
`--parent`, `--since`, `--filter`). Sessions come in listing order (newest first), each the
same object (or table row) as `status ID` prints: `GET /sessions/{id}` per session, with
`status.CONCURRENCY` lookups in flight (the client's retries and Retry-After handling apply
to each). It streams: list pages are read only as the lookups need them and each result is
printed once those listed before it are, so at most `WINDOW` results and one page of
summaries are held, however many sessions match. `--json` is the same array as `status
ID... --json`, written element by element.

`limits.command_timeout` is here the longest wait without a result (a page or a lookup
that does not come), not a bound on the whole run: 10,000 lookups take minutes against a
real server. On a terminal, stderr gets one line counting the sessions by status at the end.

Exit: 0 (no match: `[]`, or nothing); 1 if a lookup failed (the others are printed; the
first few failures get a line each, the rest are counted), or the run stopped partway (a
listing page failed, the key was refused, the server went away: what was read is printed
and the array closed, then one line); 2 for a bad filter or ids given with filters.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter

from agp_tui.api.client import Listing
from agp_tui.api.errors import AgpError, AuthError, InsecureTransport, Unreachable
from agp_tui.api.models import SessionSummary
from agp_tui.api.query import SessionQuery
from agp_tui.config import Settings
from agp_tui.headless.codes import EXIT_ERROR, EXIT_OK, describe_error, run
from agp_tui.headless.filters import query_from_args
from agp_tui.headless.output import JsonArray, StreamTable, Style, clean, err
from agp_tui.headless.shapes import session_json
from agp_tui.headless.status import CONCURRENCY, HEADERS, Result, layout, lookup, row
from agp_tui.headless.stream import Window, ordered_map
from agp_tui.runtime import make_client

WINDOW = 4 * CONCURRENCY  # results held at most while a slower one listed before them runs
SHOWN_FAILURES = 3  # lookup errors printed one by one; past them, counted
# Lookup errors after which the next lookups would fail the same way: the run stops there.
FATAL = (AuthError, InsecureTransport, Unreachable)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    query = query_from_args(args, settings)
    if isinstance(query, int):
        return query
    return run(lambda: stream_status(query, settings, as_json=args.json))


async def stream_status(query: SessionQuery, settings: Settings, *, as_json: bool) -> int:
    """Every session the query matches, streamed (see the module docstring)."""
    style = Style.detect()
    array = JsonArray() if as_json else None
    rows = StreamTable(HEADERS, style, **layout(style))
    within = settings.limits.command_timeout
    listing = Listing()
    counts: Counter[str] = Counter()
    failed = 0
    stop: AgpError | None = None

    async def one(summary: SessionSummary) -> Result:
        try:
            return summary.id, await lookup(client, summary.id), None
        except AgpError as exc:
            return summary.id, None, exc

    loop = asyncio.get_running_loop()
    # aiohttp, unlike `status ID`: its ~100 ms more to import are repaid within a few dozen
    # lookups (httpx costs ~3 ms of CPU more per request here, mostly in its pool).
    async with make_client(settings, fast=True) as client:
        source = client.iter_sessions(listing=listing, **query.filters())
        results = ordered_map(source, one, concurrency=CONCURRENCY, window=Window(WINDOW))
        try:
            async with asyncio.timeout(within) as clock:
                async for sid, session, exc in results:
                    clock.reschedule(loop.time() + within)  # a wait without progress is bounded
                    if isinstance(exc, FATAL):
                        stop = exc
                        break
                    if exc is not None:
                        failed += 1
                        if failed <= SHOWN_FAILURES:
                            err(f"{sid}: {describe_error(exc)}")
                    else:
                        assert session is not None
                        counts[session.status.status] += 1
                    if array is not None:
                        array.add(session_json(sid, session, exc))
                    else:
                        rows.add(row((sid, session, exc)))
        except TimeoutError:
            stop = Unreachable(f"no answer for {within:g} s (limits.command_timeout)")
        except AgpError as exc:  # a listing page failed
            stop = exc
        finally:
            await results.aclose()
    read = sum(counts.values()) + failed
    if stop is not None and not read:
        raise stop  # nothing read: one line on stderr, as for every command
    (array or rows).close()
    if failed > SHOWN_FAILURES:
        err(f"{failed - SHOWN_FAILURES} more lookups failed ({failed} in all)")
    if listing.truncated:
        err(f"listing truncated after {listing.pages} pages ({read} sessions); the server "
            "announced more: narrow the filters, or raise limits.max_list_pages")
    if stop is not None:
        err(f"{describe_error(stop)}; printed the {read} sessions read before")
    if _is_tty(sys.stderr):
        sys.stderr.write(summary_line(counts, failed) + "\n")
    return EXIT_ERROR if stop is not None or failed else EXIT_OK


def summary_line(counts: Counter[str], failed: int) -> str:
    """`1,204 sessions: 1,100 completed, 80 failed, 24 running` (most first)."""
    total = sum(counts.values()) + failed
    parts = [f"{n:,} {clean(s)}" for s, n in counts.most_common()]
    if failed:
        parts.append(f"{failed:,} not read")
    return f"{total:,} session{'s' if total != 1 else ''}" + (": " + ", ".join(parts) if parts else "")


def _is_tty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False
