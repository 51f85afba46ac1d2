"""`agp-tui status [ID...] [--json]`: one look at each session, then exit.

With no id, the sessions of the profile's watchlist; `-` reads ids from stdin. (With
filters instead of ids, the parser runs `status_query`, which streams; this module's
lookup, rows and JSON are shared with it.)

`--json` prints an array, one object per id in the order given (see the README):
`{"id", "agent", "status", "outcome", "steps", "tokens": {"input", "output", "reasoning",
"cached", "total"}, "usage_per_model": [{"name", "input_tokens", "output_tokens",
"reasoning_tokens", "cached_tokens"}], "children": [id], "error", "error_code", "parent_id", "group_id",
"agent_view_url", "created_at", "started_at", "finished_at", "answer", "lookup_error":
null | {"kind", "message", "http_status"}}`.

Exit: 0 (also with no session at all: an empty watchlist or input prints `[]`); 1 if any
lookup failed (the others are still printed); 2 for malformed ids.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import replace
from typing import TypedDict

from agp_tui.api.client import AgpClient
from agp_tui.api.errors import AgpError, NotFound, Unreachable
from agp_tui.api.models import Session
from agp_tui.config import Settings
from agp_tui.headless.codes import EXIT_ERROR, EXIT_OK, describe_error, run
from agp_tui.headless.output import Painter, Style, clean, dash, err, out, print_json, table
from agp_tui.headless.shapes import session_json, usage_totals
from agp_tui.headless.targets import report_nothing, resolve_ids
from agp_tui.runtime import make_client

CONCURRENCY = 8  # lookups in flight at once

Result = tuple[str, Session | None, AgpError | None]


def handle(args: argparse.Namespace, settings: Settings) -> int:
    """`status [ID...]`; the parser sends `status` with filters to `status_query` instead."""
    ids = resolve_ids(args.ids, settings)
    if isinstance(ids, int):
        return ids
    if not ids:  # as `watch` does: exit 0, see report_nothing
        report_nothing(args.ids, settings)
        return print_json([]) if args.json else EXIT_OK
    deadline = settings.limits.command_timeout
    return run(lambda: _status(ids, settings, as_json=args.json), deadline=deadline)


async def lookup(client: AgpClient, sid: str) -> Session:
    """The session, its answer filled in (see `with_answer`)."""
    return await with_answer(client, await client.get_session(sid))


async def fetch_all(client: AgpClient, ids: list[str], *, within: float | None = None) -> list[Result]:
    """Each session, or why not; lookups still going after `within` seconds are given up
    (as Unreachable), so one slow server cannot hold back the answers that did come."""
    gate = asyncio.Semaphore(CONCURRENCY)
    loop = asyncio.get_running_loop()
    end = loop.time() + within if within is not None else None

    async def one(sid: str) -> Result:
        try:
            async with asyncio.timeout_at(end), gate:
                return sid, await lookup(client, sid), None
        except AgpError as exc:
            return sid, None, exc
        except TimeoutError:
            return sid, None, Unreachable(f"no complete answer within {within:g} s (limits.command_timeout)")

    return list(await asyncio.gather(*(one(s) for s in ids)))


async def with_answer(client: AgpClient, session: Session) -> Session:
    """`session`, its answer filled from `/changes` when the server has no `latest_answer`
    (older API versions): from index 0 without events, a settled session's page carries it."""
    if session.latest_answer is not None or not session.status.terminal:
        return session
    try:
        changes = await client.get_changes(session.id, 0, include_events=False)
    except AgpError:
        return session  # the answer is a nicety here: the status was read
    if changes is None or changes.answer is None:
        return session
    return replace(session, latest_answer=changes.answer)


async def _status(ids: list[str], settings: Settings, *, as_json: bool) -> int:
    async with make_client(settings, fast=False) as client:  # httpx: ~100 ms lighter to import
        results = await fetch_all(client, ids, within=settings.limits.command_timeout)
    failures = [(sid, exc) for sid, _, exc in results if exc is not None]
    if as_json:
        print_json([session_json(sid, s, exc) for sid, s, exc in results])
    elif len(failures) < len(results):
        style = Style.detect()
        for line in table(HEADERS, [row(r) for r in results], style, **layout(style)):
            out(line)
    distinct = {(type(e), str(e)) for _, e in failures}
    if (failures and len(failures) == len(results) and len(distinct) == 1
            and not isinstance(failures[0][1], NotFound)):
        err(describe_error(failures[0][1]))  # unreachable, bad key: one line, not one per id
    else:
        for sid, exc in failures:
            err(f"{sid}: {describe_error(exc)}")
    return EXIT_ERROR if failures else EXIT_OK


HEADERS = ["ID", "AGENT", "STATUS", "STEPS", "IN", "OUT", "REASONING", "CHILDREN", "ERROR"]


class _Layout(TypedDict):
    right: frozenset[int]
    clip: frozenset[int]
    fit: Sequence[tuple[int, int]]
    paint: dict[int, Painter]


def layout(style: Style) -> _Layout:
    # When the rows overflow the terminal, ids shrink first to the 8 characters the dashboard
    # shows (28 columns back, and still accepted as short ids); then the error, which keeps
    # whatever width is left, gives way in turns with agent names. Piped, nothing is cut.
    return {
        "right": frozenset({3, 4, 5, 6, 7}), "clip": frozenset({0}),
        "fit": ((0, 8), (8, 24), (1, 12), (8, 12), (1, 8), (8, 0)),
        "paint": {2: style.status, 8: lambda t: t if t == "-" else style.paint(t, "error")},
    }


def row(result: Result) -> list[str]:
    sid, session, exc = result
    if session is None:
        return [sid, "-", "-", "-", "-", "-", "-", "-", clean(str(exc))]
    st = session.status
    i, o, r = usage_totals(st.usage_per_model)
    return [
        session.id, dash(session.agent), dash(st.status), str(st.steps), str(i), str(o), str(r),
        str(len(st.subagent_session_ids)), dash(st.error) if st.error else "-",
    ]
