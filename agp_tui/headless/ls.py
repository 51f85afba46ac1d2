"""`agp-tui ls`: list sessions of the account, newest first, with the API's filters.

`--json` prints an array of `{"id", "agent", "status", "created_at", "started_at",
"finished_at", "agent_view_url", "first_message"}` (see the README).

Exit: 0; 1 on an API error; 2 for a bad flag or a malformed --parent id.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agp_tui.api.models import SessionSummary
    from agp_tui.config import Settings

DEFAULT_LIMIT = 20


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (no limit) or more")
    return value


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser],
               common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "ls", parents=[common], help="list sessions of the account, newest first",
        description="List sessions, newest first. Filters combine; --status and --agent repeat "
                    "(or take comma-separated values) and match any of their values.",
    )
    p.add_argument("--status", action="append", default=[], metavar="S",
                   help="only this status (running, idle, completed, failed, ...); repeatable")
    p.add_argument("--agent", action="append", default=[], metavar="A",
                   help="only sessions of this agent (catalog name); repeatable")
    p.add_argument("--group", metavar="G", help="only sessions tagged with this group_id")
    p.add_argument("--parent", metavar="ID", help="only subagent sessions of this parent session "
                   "(its id, or the start of a watched session's id)")
    p.add_argument("--limit", type=_limit, default=DEFAULT_LIMIT, metavar="N",
                   help=f"at most N sessions (default {DEFAULT_LIMIT}; 0 = all)")
    p.add_argument("--json", action="store_true", help="print a JSON array (schema in the README)")
    p.set_defaults(handler=handle)


def _split(values: list[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def handle(args: argparse.Namespace, settings: Settings) -> int:
    from agp_tui.api.ids import InvalidSessionId, normalize_session_id
    from agp_tui.headless.codes import EXIT_USAGE, run
    from agp_tui.headless.output import err

    parent = None
    if args.parent is not None:
        try:
            parent = normalize_session_id(args.parent)
        except InvalidSessionId as exc:
            from agp_tui.headless.shortids import is_short_id
            from agp_tui.headless.targets import short_ids

            short = short_ids(settings)
            parent = short.resolve(args.parent)
            if parent is None:
                err(f"--parent: {short.why(args.parent) if is_short_id(args.parent) else exc.message}")
                return EXIT_USAGE
    filters = {
        "status": _split(args.status), "agent": _split(args.agent),
        "group_id": args.group, "parent_session_id": parent,
    }
    deadline = settings.limits.command_timeout
    return run(lambda: _ls(settings, filters, args.limit or None, as_json=args.json), deadline=deadline)


async def _ls(settings: Settings, filters: dict[str, Any], limit: int | None, *, as_json: bool) -> int:
    from agp_tui.api.client import Listing
    from agp_tui.api.errors import AgpError, Unreachable
    from agp_tui.headless.codes import EXIT_ERROR, EXIT_OK, describe_error
    from agp_tui.headless.output import err, print_json
    from agp_tui.headless.shapes import summary_json
    from agp_tui.runtime import make_client

    listing = Listing()
    failure: AgpError | None = None
    within = settings.limits.command_timeout
    async with make_client(settings, fast=False) as client:  # httpx: ~100 ms lighter to import
        try:
            async with asyncio.timeout(within):
                async for s in client.iter_sessions(limit=limit, listing=listing, **filters):
                    listing.items.append(s)
        except TimeoutError:
            failure = Unreachable(f"no complete answer within {within:g} s (limits.command_timeout)")
        except AgpError as exc:
            if not listing.items:
                raise  # nothing read: one line on stderr, as for every command
            failure = exc
    items = listing.items
    if as_json:
        print_json([summary_json(s) for s in items])
    else:
        _print_table(items, quiet=failure is not None)
    if listing.truncated:
        err(f"listing truncated after {listing.pages} pages ({len(items)} sessions); the server "
            "announced more: narrow the filters, or raise limits.max_list_pages")
    if failure is not None:
        err(f"{describe_error(failure)}; listed the {len(items)} sessions read before")
        return EXIT_ERROR
    return EXIT_OK


def _print_table(items: list[SessionSummary], *, quiet: bool = False) -> None:
    from agp_tui.headless.output import Style, clean, dash, err, iso, local_time, out, table

    style = Style.detect()
    if not items:
        if style.tty and not quiet:
            err("no sessions match")
        return
    rows = []
    for s in items:
        created = local_time(s.created_at) if style.tty else (iso(s.created_at) or "-")
        message = clean(s.first_message.message) if s.first_message else ""
        rows.append([s.id, dash(s.status), dash(s.agent), created, message or "-"])
    for line in table(["ID", "STATUS", "AGENT", "CREATED", "FIRST MESSAGE"], rows, style,
                      fit=((4, 20), (2, 12), (4, 0), (2, 8)), paint={1: style.status}):
        out(line)
