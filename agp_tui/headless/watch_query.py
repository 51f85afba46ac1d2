"""`agp-tui watch --group G [filters] [--exit-status] [--json]`: follow a whole slice until it settles.

The parser runs this for `watch` with any filter (`--group`, `--agent`, `--status`,
`--parent`, `--since`, `--filter`). Members are found and followed as the dashboard
follows a filter (`monitor/groups.py`): a few `GET /sessions` pages a tick, never one
`/status` poll per session, so 10,000 members cost about one request a second. It prints
as it learns, holding only one small record per member (id, status, times; ~0.2 KB):

- once the first listing is read, one line counting the members by status (`members`);
- then a line per status change of a member (`status`), and members that join (`joined`);
- on a terminal, the counts again every `PROGRESS_EVERY` seconds while they move;
- at the end, once every member is settled (terminal or idle), a `done` line with the counts.

Exit codes as `watch ID...`: 0 once all settled; with `--exit-status` the worst outcome
decides (1 failed, 3 timed out, 4 interrupted, 5 idle, 0 all completed); 2 for a bad filter
or ids given with filters, 130 on Ctrl-C. A filter that matches nothing settles at once
(exit 0, a line on stderr). A refused key, or a server that cannot be reached before the
first listing, is one line and exit 1; after it, outages are reported once and waited out.

`--json` prints JSON lines: {"event", "time", "id", "status", "old_status"} for changes,
{"event": "members" | "progress" | "done", "time", "members", "counts"} for counts
(`done` adds "exit_code").
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from agp_tui.api.errors import AgpError, AuthError, InsecureTransport
from agp_tui.api.query import SessionQuery
from agp_tui.config import Settings
from agp_tui.headless.codes import EXIT_OK, describe_error, exit_code_for, run
from agp_tui.headless.filters import query_from_args
from agp_tui.headless.output import Style, clean, err, iso, json_text, out
from agp_tui.monitor.groups import Change, GroupWatch
from agp_tui.runtime import make_client

DEFAULT_INTERVAL = 3.0  # seconds between list ticks (the dashboard's group_interval)
PROGRESS_EVERY = 30.0  # seconds between count lines on a terminal
FATAL = (AuthError, InsecureTransport)  # retrying cannot fix these


def handle(args: argparse.Namespace, settings: Settings) -> int:
    query = query_from_args(args, settings)
    if isinstance(query, int):
        return query
    interval = (args.interval or DEFAULT_INTERVAL) / args.time_scale
    return run(lambda: watch_query(query, settings, exit_status=args.exit_status, as_json=args.json,
                                   interval=interval))


class _Printer:
    def __init__(self, query: SessionQuery, *, as_json: bool) -> None:
        self.query = query
        self.as_json = as_json
        self.style = Style.detect()

    def _emit(self, event: str, **fields: Any) -> None:
        out(json_text({"event": event, "time": iso(time.time()), **fields}, indent=None), flush=True)

    def _line(self, text: str) -> None:
        out(f"{datetime.now():%H:%M:%S}  {text}", flush=True)

    def changes(self, changes: list[Change], *, bootstrapped: bool) -> None:
        for sid, old, new in changes:
            if old is None and not bootstrapped:
                continue  # the first listing is one `members` line, not 10,000
            shown = sid if not self.style.tty else sid[:8]
            if self.as_json:
                self._emit("joined" if old is None else "status", id=sid, status=new, old_status=old)
            elif old is None:
                self._line(f"{shown}  joined  {self.style.status(clean(new))}")
            else:
                self._line(f"{shown}  {clean(old)} {self.style.arrow} {self.style.status(clean(new))}")

    def counts(self, event: str, counts: Mapping[str, int], **extra: Any) -> None:
        members = sum(counts.values())
        if self.as_json:
            self._emit(event, members=members, counts=dict(sorted(counts.items())), **extra)
            return
        parts = " · ".join(f"{n:,} {clean(st)}" for st, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        what = {"members": "following", "progress": "now", "done": "settled"}[event]
        self._line(f"{what} {members:,} sessions ({clean(self.query.describe())})"
                   + (f": {parts}" if parts else ""))


async def watch_query(query: SessionQuery, settings: Settings, *, exit_status: bool, as_json: bool,
                      interval: float = DEFAULT_INTERVAL) -> int:
    printer = _Printer(query, as_json=as_json)
    watch: GroupWatch | None = None

    def on_change(changes: list[Change]) -> None:
        assert watch is not None
        printer.changes(changes, bootstrapped=watch.bootstrapped)

    async with make_client(settings, fast=True) as client:
        watch = GroupWatch(client, query, on_change=on_change, interval=interval)
        trouble: str | None = None
        last_progress = time.monotonic()
        shown_counts: dict[str, int] = {}
        delay = interval
        while True:
            try:
                was_bootstrapped = watch.bootstrapped
                await watch.tick()
                if trouble is not None:
                    err(f"connection back: {trouble} is over")
                    trouble, delay = None, interval
                if not was_bootstrapped:
                    printer.counts("members", watch.counts)
                    shown_counts = dict(watch.counts)
            except FATAL:
                raise  # one line from `run`, exit 1 (2 for an insecure URL)
            except AgpError as exc:
                if not watch.bootstrapped:
                    raise  # nothing read yet: the same as `watch ID` against a dead server
                text = describe_error(exc)
                if text != trouble:
                    err(f"{text}; retrying")
                trouble, delay = text, min(delay * 2, 30.0)
            if watch.settled():
                break
            now = time.monotonic()
            if (printer.style.tty or as_json) and now - last_progress >= PROGRESS_EVERY \
                    and dict(watch.counts) != shown_counts:
                printer.counts("progress", watch.counts)
                shown_counts, last_progress = dict(watch.counts), now
            await asyncio.sleep(delay)
    if not watch.members:
        err(f"no session matches {query.describe()}")
    statuses = list(watch.counts)
    code = exit_code_for(statuses, exit_status=exit_status) if statuses else EXIT_OK
    printer.counts("done", watch.counts, exit_code=code)
    return code
