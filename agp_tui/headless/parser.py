"""Every headless subcommand's arguments, and the dispatch to its implementation module.

Building the parser imports nothing but argparse: it runs on every invocation, the
dashboard's included. Each command's `handler` names its module (`agp_tui.headless.<name>`,
whose `handle(args, settings) -> int` does the work); only the chosen command's module is
imported, once the arguments are parsed, and those modules import what they use at the top.

To add options to a command, add them to its function below; `add_filter_options` gives
any command the `GET /sessions` filters (`--group`, `--agent`, `--status`, `--parent`,
`--since`, `--filter`), read by `agp_tui.headless.filters.query_from_args`. A command whose
filtered form is another job names a second module: `status` runs `status_query` when a
filter is given (`Command("status", filtered="status_query")`); `watch --group` would be
`add_filter_options(p)` in `_watch` and `Command("watch", filtered="<its module>")`.
"""

from __future__ import annotations

import argparse
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agp_tui.config import Settings

    Sub = argparse._SubParsersAction[argparse.ArgumentParser]

DEFAULT_LIMIT = 20  # `ls` without --limit
IDS_HELP = ("session id, Agent View URL, or the start (6+ characters) of a watched session's "
            "id; '-' reads ids from stdin")
ONE_ID_HELP = "a session id, Agent View URL, or the start of a watched session's id"


class Command:
    """A handler that imports `agp_tui.headless.<module>` when called, and runs its `handle`;
    with `filtered`, that module instead when a filter option was given (`status --group G`
    streams a listing: a different job from looking up the ids given)."""

    def __init__(self, module: str, *, filtered: str | None = None) -> None:
        self.module = module
        self.filtered = filtered

    def module_for(self, args: argparse.Namespace) -> str:
        return self.filtered if self.filtered and filters_given(args) else self.module

    def __call__(self, args: argparse.Namespace, settings: Settings) -> int:
        handle = import_module(f"agp_tui.headless.{self.module_for(args)}").handle
        return int(handle(args, settings))

    def __repr__(self) -> str:
        return f"Command({self.module!r}, filtered={self.filtered!r})"


def filters_given(args: argparse.Namespace) -> bool:
    """Whether any option of `add_filter_options` was given (`--status ''` too: an error)."""
    return bool(getattr(args, "status", None) or getattr(args, "agent", None)
                or any(getattr(args, name, None) is not None
                       for name in ("query", "group", "parent", "since")))


def _whole(text: str, least: int, meaning: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be {least} ({meaning}) or more")
    return value


def _limit(text: str) -> int:
    return _whole(text, 0, "no limit")


def _depth(text: str) -> int:
    return _whole(text, 0, "the root alone")


def _index(text: str) -> int:
    return _whole(text, 0, "the first event")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def add_filter_options(p: argparse.ArgumentParser) -> None:
    """The `GET /sessions` filters, as options and as the text form `--filter` takes."""
    g = p.add_argument_group(
        "filters", "Filters combine (every one given must match); --status and --agent repeat "
                   "or take comma-separated values and match any of them.")
    g.add_argument("--group", metavar="G", help="only sessions tagged with this group_id")
    g.add_argument("--agent", action="append", default=[], metavar="A",
                   help="only sessions of this agent (catalog name); repeatable")
    g.add_argument("--status", action="append", default=[], metavar="S",
                   help="only this status (running, idle, completed, failed, ...); repeatable")
    g.add_argument("--parent", metavar="ID", help="only subagent sessions of this parent session "
                   "(its id, or the start of a watched session's id)")
    g.add_argument("--since", metavar="AGE|DATE",
                   help="only sessions created after an age (90s, 15m, 2h, 3d, 1w) or an ISO "
                        "date/time (local time without an offset)")
    g.add_argument("--filter", dest="query", metavar="TEXT",
                   help="the same filters as one text, as the dashboard and config write them: "
                        "'group:G agent:A status:S parent:ID since:2h'")


def _status(sub: Sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "status", parents=[common], help="print the current status of sessions",
        description="Look up each session once and print a table (or JSON). With no ID, the "
                    "sessions on the profile's watchlist; with filters, every session they match "
                    "(streamed in listing order as the lookups come back).",
    )
    p.add_argument("ids", nargs="*", metavar="ID", help=IDS_HELP)
    p.add_argument("--json", action="store_true", help="print a JSON array (schema in the README)")
    add_filter_options(p)
    p.set_defaults(handler=Command("status", filtered="status_query"))


def _ls(sub: Sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "ls", parents=[common], help="list sessions of the account, newest first",
        description="List sessions, newest first, printed page by page as they are read.",
    )
    add_filter_options(p)
    p.add_argument("--limit", type=_limit, default=DEFAULT_LIMIT, metavar="N",
                   help=f"at most N sessions (default {DEFAULT_LIMIT}; 0 = all)")
    p.add_argument("--json", action="store_true", help="print a JSON array (schema in the README)")
    p.set_defaults(handler=Command("ls"))


def _tree(sub: Sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "tree", parents=[common], help="show a session's subagent tree with totals",
        description="Walk a session's subagent sessions and print them as a tree, with the "
                    "steps and tokens summed over the whole tree.",
    )
    p.add_argument("id", metavar="ID",
                   help="the root session id, Agent View URL, or the start of a watched session's id")
    p.add_argument("--depth", type=_depth, default=None, metavar="N",
                   help="levels of subagents to show below the root (default: all)")
    p.add_argument("--json", action="store_true", help="print nested JSON (schema in the README)")
    p.set_defaults(handler=Command("tree"))


def _watch(sub: Sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "watch", parents=[common], help="follow sessions, one line per change, until they settle",
        description="Follow sessions and print a line per change until every one is settled "
                    "(terminal, idle, or not found). With no ID, the profile's watchlist; with "
                    "filters, every session they match, followed through list pages (a group of "
                    "10,000 costs about one request a second).",
        epilog="--exit-status codes: 0 all completed, 1 failed or not found, 3 timed out, "
               "4 interrupted, 5 idle; 130 on Ctrl-C.",
    )
    p.add_argument("ids", nargs="*", metavar="ID", help=IDS_HELP)
    p.add_argument("--exit-status", action="store_true",
                   help="exit non-zero unless every session completed (codes below)")
    p.add_argument("--interval", type=_seconds, default=None, metavar="S",
                   help="poll every S seconds and print progress at most every S seconds per "
                        "session (default: the profile's poll cadence)")
    p.add_argument("--json", action="store_true", help="print JSON lines (schema in the README)")
    p.add_argument("--time-scale", type=_seconds, default=1.0, metavar="X",
                   help="the server's clock runs X times faster than ours (a simulator run with "
                        "--speed X): every poll interval, backoff, stale threshold and the "
                        "progress throttle is divided by X (default 1)")
    add_filter_options(p)
    p.set_defaults(handler=Command("watch", filtered="watch_query"))


def _events(sub: Sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "events", parents=[common], help="print a session's trajectory events (--follow: live)",
        description="Print what an agent did, event by event: thoughts, tool calls, pages seen, "
                    "answers, errors. --follow keeps printing new events until the session settles.",
    )
    p.add_argument("id", metavar="ID", help=ONE_ID_HELP)
    p.add_argument("--from", dest="start", type=_index, default=0, metavar="N",
                   help="start at event N (0: the first; events are numbered from 0)")
    p.add_argument("--follow", "-f", action="store_true",
                   help="keep printing new events until the session settles, then exit as watch does")
    p.add_argument("--exit-status", action="store_true",
                   help="with --follow: exit 1 failed, 3 timed out, 4 interrupted, 5 idle (as watch)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per event and line: the envelope, plus its index")
    p.set_defaults(handler=Command("events"))


def _watchlist(sub: Sub, common: argparse.ArgumentParser) -> None:
    """`watchlist ACTION`; the action is `args.watchlist_action` (`ls` when none is given)."""
    handler = Command("watchlist")
    p = sub.add_parser("watchlist", parents=[common], help="edit the profile's saved watchlist",
                       description="The watchlist the dashboard opens with, one per profile and "
                                   "server (`agp-tui config` shows its file).")
    p.set_defaults(handler=handler, json=False, watchlist_action="ls")
    cmds = p.add_subparsers(dest="watchlist_command", metavar="ACTION")
    add = cmds.add_parser("add", parents=[common], help="add session ids (args or stdin)")
    add.add_argument("ids", nargs="*", metavar="ID", help="ids or Agent View URLs; '-' reads stdin")
    add.add_argument("--label", metavar="TEXT",
                     help="label for the sessions, also those already on the list")
    add.set_defaults(watchlist_action="add")
    rm = cmds.add_parser("rm", aliases=["remove"], parents=[common], help="remove session ids")
    rm.add_argument("ids", nargs="*", metavar="ID",
                    help="ids, Agent View URLs or the start of an id on the list; '-' reads stdin")
    rm.set_defaults(watchlist_action="rm")
    ls = cmds.add_parser("ls", aliases=["list"], parents=[common], help="list the watchlist")
    ls.add_argument("--json", action="store_true", help="print the export JSON array")
    ls.set_defaults(watchlist_action="ls")
    export = cmds.add_parser("export", parents=[common], help="print the watchlist as JSON")
    export.set_defaults(watchlist_action="export")
    imp = cmds.add_parser("import", parents=[common], help="add ids from a file or stdin")
    imp.add_argument("file", nargs="?", metavar="FILE", help="file to read; '-' or none: stdin")
    imp.set_defaults(watchlist_action="import")


COMMANDS = (_status, _ls, _tree, _watch, _events, _watchlist)


def register(sub: Sub, common: argparse.ArgumentParser) -> None:
    """Add every headless subcommand; each sets `handler(args, settings) -> int`."""
    for add in COMMANDS:
        add(sub, common)


__all__ = ["COMMANDS", "Command", "add_filter_options", "filters_given", "register"]
