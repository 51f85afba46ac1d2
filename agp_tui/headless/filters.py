"""The filter options of `ls` and `status` (`parser.add_filter_options`) as one SessionQuery.

`--filter TEXT` is read by `SessionQuery.parse`, and every option value goes through the
same parsers, so a bad status, age or id reads the same from a flag, the text form, the
dashboard or the config. Options and the text combine: statuses and agents add up;
`group`, `parent` and `since` may be given once in all.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TypeVar

from agp_tui.api.ids import InvalidSessionId, normalize_session_id
from agp_tui.api.query import QueryError, SessionQuery, check_name, parse_since, parse_statuses
from agp_tui.config import Settings
from agp_tui.headless.codes import EXIT_USAGE
from agp_tui.headless.output import err
from agp_tui.headless.shortids import is_short_id
from agp_tui.headless.targets import short_ids


def query_from_args(args: argparse.Namespace, settings: Settings) -> SessionQuery | int:
    """The query the options and `--filter` give, or 2 after one line saying what is wrong:
    `agp-tui: --status: unknown status 'runnig'; did you mean running?`, or for the text
    form `agp-tui: --filter: status: unknown status ...` (the dashboard's words). Session
    ids given as well (`status`, `watch`) are a usage error too."""
    if getattr(args, "ids", None):
        err("give session ids or filters (--group, --filter, ...), not both")
        return EXIT_USAGE
    try:
        return _query(args, settings, time.time())
    except QueryError as exc:
        err(str(exc))
        return EXIT_USAGE


def _query(args: argparse.Namespace, settings: Settings, now: float) -> SessionQuery:
    try:
        query = SessionQuery.parse(args.query, now) if args.query is not None else SessionQuery()
    except QueryError as exc:
        raise QueryError(f"--filter: {exc}") from None
    with _option("agent"):
        agents = [check_name("agent", a) for value in args.agent for a in _split(value, "agent")]
    with _option("status"):
        statuses = parse_statuses(",".join(args.status)) if args.status else ()
        if args.status and not statuses:
            raise QueryError("status: give a value, e.g. --status running")
    with _option("group"):
        group = check_name("group", args.group) if args.group is not None else None
    with _option("parent"):
        parent = _parent(args.parent, settings)
    with _option("since"):
        since = parse_since(args.since, now) if args.since is not None else None
        if args.since is not None and since is None:
            raise QueryError("since: give an age (2h) or a date")
    return replace(
        query,
        group_id=_once("group", query.group_id, group),
        agents=tuple(dict.fromkeys([*query.agents, *agents])),
        statuses=tuple(dict.fromkeys([*query.statuses, *statuses])),
        parent_id=_once("parent", query.parent_id, parent),
        created_after=_once("since", query.created_after, since),
    )


@contextmanager
def _option(key: str) -> Iterator[None]:
    """A QueryError about `key` names the option: `status: ...` becomes `--status: ...`."""
    try:
        yield
    except QueryError as exc:
        text = str(exc)
        raise QueryError(f"--{key}: {text.removeprefix(key + ': ')}") from None


def _split(value: str, key: str) -> list[str]:
    parts = [v.strip() for v in value.split(",") if v.strip()]
    if not parts:
        raise QueryError(f"{key}: give a value, e.g. --{key} h/web-surfer")
    return parts


T = TypeVar("T")


def _once(key: str, from_text: T | None, from_option: T | None) -> T | None:
    if from_text is not None and from_option is not None and from_text != from_option:
        raise QueryError(f"--{key}: also given in --filter, differently; give it once")
    return from_option if from_option is not None else from_text


def _parent(token: str | None, settings: Settings) -> str | None:
    """A full id or Agent View URL, or a short id of a watched session (as everywhere)."""
    if token is None:
        return None
    try:
        return normalize_session_id(token)
    except InvalidSessionId as exc:
        short = short_ids(settings)
        found = short.resolve(token)
        if found is None:
            raise QueryError(short.why(token) if is_short_id(token) else exc.message) from None
        return found
