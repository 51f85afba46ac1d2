"""Engine events become one typed message; the app coalesces them into render batches.

The engine listener only posts `EngineChanged`; its handler only marks what is dirty.
A timer (about four times a second) takes the accumulated `Batch` and re-renders just
those rows, so the data rate (events) is decoupled from the render rate (frames).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message

from agp_tui.monitor.events import (
    ChildrenFound,
    ConnectionChanged,
    EngineEvent,
    EventsArrived,
    GroupChanged,
    InfoLoaded,
    QuotaUpdated,
    SessionError,
    SessionRecovered,
    Stale,
    StatusChanged,
    UsageChanged,
    WatchlistChanged,
)


class EngineChanged(Message, bubble=False):
    """Something the engine knows changed; handlers read the new state from the engine."""

    def __init__(self, event: EngineEvent) -> None:
        super().__init__()
        self.event = event


@dataclass
class Batch:
    """What changed since the last frame."""

    sessions: set[str] = field(default_factory=set)  # rows whose cells may differ
    children: set[str] = field(default_factory=set)  # parents whose child list grew
    membership: bool = False  # the watchlist gained or lost ids
    header: bool = False  # connection or quota
    clock: bool = False  # a second passed: ages, sparklines, "stale for Ns"
    events: set[str] = field(default_factory=set)  # followed sessions with new trajectory events
    groups: set[str] = field(default_factory=set)  # followed queries whose members changed

    def __bool__(self) -> bool:
        return bool(self.sessions or self.children or self.membership or self.header or self.clock
                    or self.events or self.groups)

    def touches(self, session_id: str | None) -> bool:
        """Whether `session_id`'s data or events changed (its detail pane needs a redraw)."""
        return session_id is not None and (session_id in self.sessions or session_id in self.events)

    def note(self, event: EngineEvent) -> None:
        match event:
            case StatusChanged() | UsageChanged() | SessionError() | SessionRecovered() | Stale() \
                    | InfoLoaded():
                self.sessions.add(event.session_id)
            case EventsArrived():
                self.events.add(event.session_id)
            case ChildrenFound():
                self.sessions.add(event.session_id)
                self.children.add(event.session_id)
            case WatchlistChanged():
                self.membership = True
                self.header = True
                self.sessions.update(event.added)
            case ConnectionChanged():
                # Every row: those never loaded show the refused key (Engine.view), and
                # connection changes are rare.
                self.header = self.membership = True
            case QuotaUpdated():
                self.header = True
            case GroupChanged():
                self.groups.add(event.key)
                self.sessions.update(sid for sid, _old, _new in event.changes)
                self.sessions.update(event.read)

    def take(self) -> Batch:
        """This batch's contents, leaving it empty for the next frame."""
        out = Batch(set(self.sessions), set(self.children), self.membership, self.header, self.clock,
                    set(self.events), set(self.groups))
        self.sessions.clear()
        self.children.clear()
        self.events.clear()
        self.groups.clear()
        self.membership = self.header = self.clock = False
        return out
