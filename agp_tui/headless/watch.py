"""`agp-tui watch [ID...] [--exit-status] [--interval S] [--json]`: follow sessions until settled.

Runs the monitor engine (the dashboard's, without the watchlist file) and prints one line
per change: every status change (the first status seen included), steps/tokens progress
at most once per interval per session, poll errors and recoveries, subagents found, and
connection trouble. It exits once every session is settled: terminal (after the engine's
final fetch of its counters), idle (waiting for a message), or not found. With no id it
watches the profile's watchlist; `-` reads ids from stdin.

A refused key, or a server that cannot be reached before any answer came, ends the watch
with one line on stderr and exit 1; once answers came, outages are reported and waited out.

`--time-scale X` is for servers whose clock runs X times faster (`agp-tui sim --speed X`,
as the soak tests run it): the engine's intervals, backoffs and thresholds are divided by X.

Exit codes: 0 when all settled, or 1 if a session could not be read (not found, or a
403/400 that retrying cannot fix). With `--exit-status`, like `gh run watch --exit-status`,
the outcome decides, worst first: 1 a session failed (or could not be read), 3 timed out,
4 interrupted, 5 idle (waiting for input), 0 all completed. 2 for malformed ids, 130 on
Ctrl-C. No session at all (an empty watchlist or input) is settled at once: a line on
stderr, the `done` line, exit 0.

`--json` prints JSON lines, one object per event, each with the keys `event` (status,
progress, error, recovered, children, stale, connection, done), `time`, `id`, `agent`,
`status`, `old_status`, `steps`, `tokens`, `error`, `error_kind`, plus `children`
(children), `connection` (connection), `age` (stale), `exit_code` and `outcomes` (done).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import fields

from agp_tui.api.status import IDLE
from agp_tui.config import Settings
from agp_tui.headless.codes import EXIT_ERROR, EXIT_OK, exit_code_for, run
from agp_tui.headless.lines import LineWriter
from agp_tui.headless.output import Style, err
from agp_tui.headless.shapes import usage_totals
from agp_tui.headless.targets import report_nothing, resolve_ids
from agp_tui.monitor import events as ev
from agp_tui.monitor.cadence import Cadence
from agp_tui.monitor.engine import Engine
from agp_tui.monitor.events import Connection, EngineEvent
from agp_tui.monitor.timescale import time_scaled
from agp_tui.monitor.view import SessionView
from agp_tui.runtime import engine_settings, make_engine

__all__ = ["Watcher", "cadence_for", "exit_code_for", "handle"]

# Poll errors that retrying cannot fix (403: this key may not read it; 400/422): the session
# settles as "error". Others (unreachable, 5xx, 429, a garbled body) are waited out.
PERMANENT_ERRORS = frozenset({"AuthError", "RequestRejected"})
CHECK_EVERY = 0.2  # seconds between checks whether everything settled


def cadence_for(settings: Settings, interval: float | None) -> Cadence:
    p = settings.poll
    if interval is None:
        return Cadence(pending=p.pending, running=p.running, running_slow=p.running_slow,
                       slow_after=p.slow_after, waiting=p.waiting, jitter=p.jitter)
    return Cadence(
        pending=interval, running=interval, running_slow=max(interval, p.running_slow),
        slow_after=p.slow_after, waiting=interval, jitter=p.jitter,
        final_fetch=min(interval, 2.0), error_base=min(interval, 2.0),
    )


def handle(args: argparse.Namespace, settings: Settings) -> int:
    ids = resolve_ids(args.ids, settings)
    if isinstance(ids, int):
        return ids
    if not ids:  # nothing to wait for: settled at once, exit 0 (as `status`; see report_nothing)
        report_nothing(args.ids, settings)
        LineWriter(Style.detect(), as_json=args.json).done({}, EXIT_OK)
        return EXIT_OK
    speed: float = args.time_scale
    throttle = (args.interval if args.interval is not None else settings.poll.running) / speed

    async def main() -> int:
        scaled = time_scaled(engine_settings(settings, cadence=cadence_for(settings, args.interval)), speed)
        engine = make_engine(settings, persist=False,
                             **{f.name: getattr(scaled, f.name) for f in fields(scaled)})
        watcher = Watcher(engine, ids, Style.detect(), as_json=args.json, throttle=throttle,
                          exit_status=args.exit_status)
        return await watcher.run()

    return run(main)


class Watcher:
    def __init__(self, engine: Engine, ids: list[str], style: Style, *, as_json: bool,
                 throttle: float, exit_status: bool) -> None:
        self.engine = engine
        self.ids = ids
        self.id_set = frozenset(ids)
        self.exit_status = exit_status
        self.throttle = throttle
        self.write = LineWriter(style, as_json=as_json)
        self.last_progress: dict[str, float] = {}  # monotonic time of the last line per session
        self.shown: dict[str, tuple[int, int]] = {}  # (steps, tokens) last printed
        self.pending: set[str] = set()  # progress held back by the throttle
        self.answered = False  # the server answered at least once
        self.trouble_shown: Connection | None = None  # the OFFLINE / STALE state last printed
        self.given_up: set[str] = set()  # sessions whose polls fail for good (PERMANENT_ERRORS)

    async def run(self) -> int:
        queue: asyncio.Queue[EngineEvent] = asyncio.Queue()
        unsubscribe = self.engine.subscribe(queue.put_nowait)
        try:
            await self.engine.start(self.ids)
            self.engine.set_focus(self.ids)
            while True:
                while not queue.empty():
                    fatal = self.handle(queue.get_nowait())
                    if fatal is not None:
                        return fatal
                code = self.finished()
                if code is not None:
                    self.flush(force=True)
                    self.write.done(self.outcomes(), code)
                    return code
                try:
                    event = await asyncio.wait_for(queue.get(), self.next_flush())
                except TimeoutError:
                    self.flush()
                    continue
                fatal = self.handle(event)
                if fatal is not None:
                    return fatal
        finally:
            unsubscribe()
            await self.engine.aclose()

    # -- events -----------------------------------------------------------------------

    def handle(self, event: EngineEvent) -> int | None:
        """Print what the event means; an exit code when the watch cannot go on."""
        sid = getattr(event, "session_id", None)
        if sid is not None and sid not in self.id_set:
            return None  # a subagent the engine learned about: not what we were asked to watch
        if isinstance(event, ev.StatusChanged):
            self.answered = True
            view = self.view(event.session_id)
            self.write.status(view, event.old, event.new, event.at)
            self._mark_shown(view)
        elif isinstance(event, ev.UsageChanged):
            self.answered = True
            self.pending.add(event.session_id)
            self.flush()
        elif isinstance(event, ev.SessionError):
            if event.kind == "NotFound" or event.kind in PERMANENT_ERRORS:
                self.answered = True
            if event.kind in PERMANENT_ERRORS:
                self.given_up.add(event.session_id)
            self.write.error(self.view(event.session_id), event.kind, event.message)
        elif isinstance(event, ev.SessionRecovered):
            self.write.simple("recovered", self.view(event.session_id))
        elif isinstance(event, ev.ChildrenFound):
            self.write.children(self.view(event.session_id), event.child_ids, event.more)
        elif isinstance(event, ev.Stale):
            self.write.stale(self.view(event.session_id), event.age)
        elif isinstance(event, ev.ConnectionChanged):
            state = event.state
            if state is ev.Connection.AUTH_ERROR:
                err(f"Authentication failed: {event.detail or 'the API key was refused'} "
                    "(check --api-key, H_API_KEY / HAI_API_KEY or the profile's api_key)")
                return EXIT_ERROR
            if state is ev.Connection.OFFLINE and not self.answered:
                err(f"Server unreachable: {event.detail or 'no answer'}")
                return EXIT_ERROR
            if state in (ev.Connection.OFFLINE, ev.Connection.STALE):
                # One line on entering the state: the engine re-announces it as its detail
                # changes ("no good answer for 31s", "32s"...), once a second for an hour
                # under a long Retry-After.
                if self.trouble_shown is not state:
                    self.trouble_shown = state
                    self.write.connection(state.value, event.detail)
            elif state is ev.Connection.LIVE and self.trouble_shown is not None:
                self.trouble_shown = None
                self.write.connection(state.value, None)
        return None

    def view(self, sid: str) -> SessionView:
        return self.engine.view(sid) or SessionView(id=sid)

    def _mark_shown(self, view: SessionView) -> None:
        self.shown[view.id] = (view.steps, sum(usage_totals(view.usage)))
        self.last_progress[view.id] = time.monotonic()
        self.pending.discard(view.id)

    def flush(self, *, force: bool = False) -> None:
        """Print held-back progress whose throttle window has passed (all of it if `force`)."""
        now = time.monotonic()
        for sid in [s for s in self.ids if s in self.pending]:
            if not force and now - self.last_progress.get(sid, -1e9) < self.throttle:
                continue
            view = self.view(sid)
            self.pending.discard(sid)
            if self.shown.get(sid) == (view.steps, sum(usage_totals(view.usage))):
                continue  # nothing new since the last line (a status line showed it)
            self.write.progress(view)
            self._mark_shown(view)

    def next_flush(self) -> float:
        """Seconds until held-back progress is due, at most CHECK_EVERY: a terminal session's
        final fetch may change nothing and so emit no event, yet it ends the watch."""
        if not self.pending:
            return CHECK_EVERY
        now = time.monotonic()
        due = min(self.last_progress.get(s, -1e9) + self.throttle for s in self.pending)
        return min(max(due - now, 0.0), CHECK_EVERY)

    # -- the end ----------------------------------------------------------------------

    def outcome(self, sid: str) -> str | None:
        """How a settled session ended (a status, `not_found` or `error`); None while unsettled."""
        view = self.engine.view(sid)
        if view is None:
            return None
        if view.not_found:
            return "not_found"
        if sid in self.given_up:
            return "error"
        st = view.status
        if st is None:
            return None
        if st.terminal:
            return None if view.polling else st.status  # wait for the final counters
        return "idle" if st.status == IDLE else None

    def outcomes(self) -> dict[str, str]:
        return {sid: self.outcome(sid) or "unknown" for sid in self.ids}

    def finished(self) -> int | None:
        outcomes = [self.outcome(s) for s in self.ids]
        settled = [o for o in outcomes if o is not None]
        if len(settled) < len(outcomes):
            return None
        return exit_code_for(settled, exit_status=self.exit_status)
