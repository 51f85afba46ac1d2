"""`agp-tui status [ID...] [--json]`: one look at each session, then exit.

With no id, the sessions of the profile's watchlist; `-` reads ids from stdin.

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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agp_tui.api.client import AgpClient
    from agp_tui.api.errors import AgpError
    from agp_tui.api.models import Session
    from agp_tui.config import Settings

CONCURRENCY = 8  # lookups in flight at once


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser],
               common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "status", parents=[common], help="print the current status of sessions",
        description="Look up each session once and print a table (or JSON). With no ID, the "
                    "sessions on the profile's watchlist.",
    )
    p.add_argument("ids", nargs="*", metavar="ID",
                   help="session id, Agent View URL, or the start (6+ characters) of a watched "
                        "session's id; '-' reads ids from stdin")
    p.add_argument("--json", action="store_true", help="print a JSON array (schema in the README)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    from agp_tui.headless.codes import EXIT_OK, run
    from agp_tui.headless.output import print_json
    from agp_tui.headless.targets import report_nothing, resolve_ids

    ids = resolve_ids(args.ids, settings)
    if isinstance(ids, int):
        return ids
    if not ids:  # as `watch` does: exit 0, see report_nothing
        report_nothing(args.ids, settings)
        return print_json([]) if args.json else EXIT_OK
    deadline = settings.limits.command_timeout
    return run(lambda: _status(ids, settings, as_json=args.json), deadline=deadline)


async def fetch_all(
    client: AgpClient, ids: list[str], *, within: float | None = None
) -> list[tuple[str, Session | None, AgpError | None]]:
    """Each session, or why not; lookups still going after `within` seconds are given up
    (as Unreachable), so one slow server cannot hold back the answers that did come."""
    from agp_tui.api.errors import AgpError, Unreachable

    gate = asyncio.Semaphore(CONCURRENCY)
    loop = asyncio.get_running_loop()
    end = loop.time() + within if within is not None else None

    async def one(sid: str) -> tuple[str, Session | None, AgpError | None]:
        try:
            async with asyncio.timeout_at(end), gate:
                session = await client.get_session(sid)
                return sid, await with_answer(client, session), None
        except AgpError as exc:
            return sid, None, exc
        except TimeoutError:
            return sid, None, Unreachable(f"no complete answer within {within:g} s (limits.command_timeout)")

    return list(await asyncio.gather(*(one(s) for s in ids)))


async def with_answer(client: AgpClient, session: Session) -> Session:
    """`session`, its answer filled from `/changes` when the server has no `latest_answer`
    (older API versions): from index 0 without events, a settled session's page carries it."""
    from dataclasses import replace

    from agp_tui.api.errors import AgpError

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
    from agp_tui.api.errors import NotFound
    from agp_tui.headless.codes import EXIT_ERROR, EXIT_OK, describe_error
    from agp_tui.headless.output import err, print_json
    from agp_tui.headless.shapes import session_json
    from agp_tui.runtime import make_client

    async with make_client(settings, fast=False) as client:  # httpx: ~100 ms lighter to import
        results = await fetch_all(client, ids, within=settings.limits.command_timeout)
    failures = [(sid, exc) for sid, _, exc in results if exc is not None]
    if as_json:
        print_json([session_json(sid, s, exc) for sid, s, exc in results])
    elif len(failures) < len(results):
        _print_table(results)
    distinct = {(type(e), str(e)) for _, e in failures}
    if (failures and len(failures) == len(results) and len(distinct) == 1
            and not isinstance(failures[0][1], NotFound)):
        err(describe_error(failures[0][1]))  # unreachable, bad key: one line, not one per id
    else:
        for sid, exc in failures:
            err(f"{sid}: {describe_error(exc)}")
    return EXIT_ERROR if failures else EXIT_OK


def _print_table(results: list[tuple[str, Session | None, AgpError | None]]) -> None:
    from agp_tui.headless.output import Style, clean, dash, out, table
    from agp_tui.headless.shapes import usage_totals

    style = Style.detect()
    rows = []
    for sid, session, exc in results:
        if session is None:
            rows.append([sid, "-", "-", "-", "-", "-", "-", "-", clean(str(exc))])
            continue
        st = session.status
        i, o, r = usage_totals(st.usage_per_model)
        rows.append([
            session.id, dash(session.agent), dash(st.status), str(st.steps), str(i), str(o), str(r),
            str(len(st.subagent_session_ids)), dash(st.error) if st.error else "-",
        ])
    headers = ["ID", "AGENT", "STATUS", "STEPS", "IN", "OUT", "REASONING", "CHILDREN", "ERROR"]
    # When the rows overflow the terminal, ids shrink first to the 8 characters the dashboard
    # shows (28 columns back, and still accepted as short ids); then the error, which keeps
    # whatever width is left, gives way in turns with agent names. Piped, nothing is cut.
    fit = ((0, 8), (8, 24), (1, 12), (8, 12), (1, 8), (8, 0))
    paint = {2: style.status, 8: lambda t: t if t == "-" else style.paint(t, "error")}
    for line in table(headers, rows, style, right=frozenset({3, 4, 5, 6, 7}), fit=fit, paint=paint,
                      clip=frozenset({0})):
        out(line)
