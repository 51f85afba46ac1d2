"""`agp-tui ls`: list sessions of the account, newest first, with the API's filters.

Printed as the pages are read (at most one page of 100 summaries is held): `--json` is an
array of `{"id", "agent", "status", "created_at", "started_at", "finished_at",
"agent_view_url", "first_message"}` (see the README), written element by element.

Exit: 0; 1 on an API error (what was read before it is printed, the array closed); 2 for
a bad flag or filter.
"""

from __future__ import annotations

import argparse
import asyncio

from agp_tui.api.client import Listing
from agp_tui.api.errors import AgpError, Unreachable
from agp_tui.api.models import SessionSummary
from agp_tui.api.query import SessionQuery
from agp_tui.config import Settings
from agp_tui.headless.codes import EXIT_ERROR, EXIT_OK, describe_error, run
from agp_tui.headless.filters import query_from_args
from agp_tui.headless.output import JsonArray, StreamTable, Style, clean, dash, err, iso, local_time
from agp_tui.headless.shapes import summary_json
from agp_tui.runtime import make_client


def handle(args: argparse.Namespace, settings: Settings) -> int:
    query = query_from_args(args, settings)
    if isinstance(query, int):
        return query
    deadline = settings.limits.command_timeout
    return run(lambda: _ls(settings, query, args.limit or None, as_json=args.json), deadline=deadline)


async def _ls(settings: Settings, query: SessionQuery, limit: int | None, *, as_json: bool) -> int:
    listing = Listing()
    failure: AgpError | None = None
    within = settings.limits.command_timeout
    printer = _Printer(as_json=as_json)
    async with make_client(settings, fast=False) as client:  # httpx: ~100 ms lighter to import
        try:
            async with asyncio.timeout(within):
                async for s in client.iter_sessions(limit=limit, listing=listing, **query.filters()):
                    printer.add(s)
        except TimeoutError:
            failure = Unreachable(f"no complete answer within {within:g} s (limits.command_timeout)")
        except AgpError as exc:
            if not printer.count:
                raise  # nothing read: one line on stderr, as for every command
            failure = exc
    printer.close(quiet=failure is not None)
    if listing.truncated:
        err(f"listing truncated after {listing.pages} pages ({printer.count} sessions); the server "
            "announced more: narrow the filters, or raise limits.max_list_pages")
    if failure is not None:
        err(f"{describe_error(failure)}; listed the {printer.count} sessions read before")
        return EXIT_ERROR
    return EXIT_OK


class _Printer:
    """Summaries as JSON array elements or table rows, each printed as it is read."""

    def __init__(self, *, as_json: bool) -> None:
        self.style = Style.detect()
        self.json = JsonArray() if as_json else None
        self.table = StreamTable(["ID", "STATUS", "AGENT", "CREATED", "FIRST MESSAGE"], self.style,
                                 fit=((4, 20), (2, 12), (4, 0), (2, 8)), paint={1: self.style.status})
        self.count = 0

    def add(self, s: SessionSummary) -> None:
        self.count += 1
        if self.json is not None:
            self.json.add(summary_json(s))
            return
        created = local_time(s.created_at) if self.style.tty else (iso(s.created_at) or "-")
        message = clean(s.first_message.message) if s.first_message else ""
        self.table.add([s.id, dash(s.status), dash(s.agent), created, message or "-"])

    def close(self, *, quiet: bool) -> None:
        if self.json is not None:
            self.json.close()
            return
        self.table.close()
        if not self.count and self.style.tty and not quiet:
            err("no sessions match")
