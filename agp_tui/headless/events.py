"""`agp-tui events ID [--from N] [--follow] [--exit-status] [--json]`: a session's trajectory.

Without `--follow`: every event from index N (default 0) to now, read from `/changes`
pages without waiting, then exit 0. With `--follow`: then long-poll `/changes` for new
ones until the session settles (terminal, or idle waiting for a message), drain what is
left past the cursor (the last events and the answer ride the last pages: agp-api.md
§6.5), and exit as `watch` does (`--exit-status`: 0 completed, 1 failed, 3 timed out,
4 interrupted, 5 idle).

On a terminal each event is one line: index, local time, kind and what happened, cut to
the width. Piped: tab-separated `index, timestamp, type, kind, title`, nothing cut.
`--json`: one JSON object per line, the event's envelope as the server sent it plus its
index: `{"index": 12, "type": "AgentEvent", "data": {...}, "timestamp": "..."}`.
"""

from __future__ import annotations

import argparse
import asyncio

from agp_tui.api.client import AgpClient
from agp_tui.api.events import read_event
from agp_tui.api.models import Event
from agp_tui.api.status import is_settled
from agp_tui.config import Settings
from agp_tui.headless.codes import EXIT_OK, EXIT_USAGE, exit_code_for, run
from agp_tui.headless.output import Style, clean, cut, err, iso, json_text, out
from agp_tui.headless.targets import resolve_one
from agp_tui.runtime import make_client

PAGE = 200  # events asked per /changes page
WAIT = 20  # seconds each --follow long-poll may be held
STATUS_EVERY = 5.0  # seconds between /status checks while a too-early answer is waited out
MIN_GAP = 2.0  # seconds at least between the starts of two long-polls
DRAIN_PAGES = 1000  # at most this many pages read without waiting (200,000 events)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    if args.exit_status and not args.follow:
        err("--exit-status needs --follow (without it, events exits 0 once it has printed them)")
        return EXIT_USAGE
    sid = resolve_one(args.id, settings)
    if isinstance(sid, int):
        return sid
    printer = Printer(Style.detect(), as_json=args.json)
    return run(lambda: _events(sid, settings, args.start, printer, follow=args.follow,
                               exit_status=args.exit_status))


class Printer:
    """One event per line, flushed as it comes (a `--follow` reader sees it at once)."""

    def __init__(self, style: Style, *, as_json: bool) -> None:
        self.style = style
        self.as_json = as_json
        self.printed = 0

    def event(self, index: int, event: Event) -> None:
        self.printed += 1
        if self.as_json:
            envelope = {"index": index, "type": event.type, "data": dict(event.data),
                        "timestamp": event.timestamp_text or iso(event.timestamp)}
            out(json_text(envelope, indent=None), flush=True)
            return
        info = read_event(event)
        if not self.style.tty:
            cells = [str(index), iso(event.timestamp) or "", clean(event.type), info.kind.value,
                     clean(info.title)]
            out("\t".join(cells), flush=True)
            return
        when = event.timestamp.astimezone().strftime("%H:%M:%S") if event.timestamp else "--:--:--"
        kind = self.style.paint(f"{info.kind.value:<11}", _PAINT.get(info.kind.value, ""))
        head = f"#{index:<5} {when}  "
        room = max(self.style.width - len(head) - 13, 10)
        out(f"{head}{kind}  {cut(clean(info.title), room)}", flush=True)


_PAINT = {"error": "error", "answer": "completed", "flow": "warning", "metrics": "dim",
          "status": "dim", "other": "dim"}


async def _events(sid: str, settings: Settings, start: int, printer: Printer, *,
                  follow: bool, exit_status: bool) -> int:
    async with make_client(settings, fast=False) as client:
        cursor = await _drain(client, sid, start, printer)
        if not follow:
            if not printer.printed and not printer.as_json:
                total = await client.count_events(sid)
                err(f"no events from #{start}: the session has {total:,}"
                    + (f" (#0 to #{total - 1})" if total else ""))
            return EXIT_OK
        return await _follow(client, sid, cursor, printer, exit_status=exit_status)


async def _drain(client: AgpClient, sid: str, cursor: int, printer: Printer) -> int:
    """Print every event past `cursor` without waiting; returns the new cursor."""
    for _ in range(DRAIN_PAGES):
        changes = await client.get_changes(sid, cursor, include_events=True, limit=PAGE)
        if changes is None or not changes.new_events:
            return cursor
        if changes.next_index <= cursor:
            return cursor  # a page that does not move the cursor would be read forever
        for offset, event in enumerate(changes.new_events):
            printer.event(cursor + offset, event)
        cursor = changes.next_index
        if len(changes.new_events) < PAGE:
            return cursor  # a short page is the end of what there is
    return cursor


async def _follow(client: AgpClient, sid: str, cursor: int, printer: Printer, *, exit_status: bool) -> int:
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        changes = await client.get_changes(sid, cursor, wait_for_seconds=WAIT, include_events=True,
                                           limit=PAGE)
        if changes is not None and changes.next_index > cursor:
            for offset, event in enumerate(changes.new_events):
                printer.event(cursor + offset, event)
            cursor = changes.next_index
        # A 200 carries the status; a 204 (nothing new) is also what a session that is over
        # answers: then /status says.
        status = changes.status if changes is not None else (await client.get_status(sid)).status
        if is_settled(status):
            await _drain(client, sid, cursor, printer)
            return exit_code_for([status], exit_status=exit_status)
        await asyncio.sleep(_pause(loop.time() - started, empty=changes is None or not changes.new_events))


def _pause(held: float, *, empty: bool) -> float:
    """Seconds before the next long-poll. A server (or proxy) that answers "nothing new" at
    once instead of holding the request must not be asked again at once, 20 times a
    second: an early empty answer waits out the hold it skipped, checking /status every
    `STATUS_EVERY` seconds meanwhile; any answer is at least `MIN_GAP` from the next."""
    if empty and held < WAIT / 2:
        return min(WAIT - held, STATUS_EVERY)
    return max(MIN_GAP - held, 0.0)
