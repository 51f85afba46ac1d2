"""Typed change events the engine publishes; the dashboard and headless commands subscribe.

Events are small and say *what* changed; the current state of a session is read from
the engine (`Engine.view(id)`) when it is rendered, so a burst of events never makes a
burst of copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Connection(Enum):
    """The engine's overall link to the API, as the header shows it."""

    CONNECTING = "connecting"
    LIVE = "live"
    STALE = "stale"  # polls failing for a while; last good data still shown
    OFFLINE = "offline"  # the server cannot be reached at all
    AUTH_ERROR = "auth_error"  # one 401/403 paused all polling


@dataclass(frozen=True, slots=True)
class StatusChanged:
    session_id: str
    old: str | None  # None on the first status seen
    new: str
    at: float  # wall-clock time the change was observed


@dataclass(frozen=True, slots=True)
class UsageChanged:
    """Steps or token counters moved (history has a new observation)."""

    session_id: str
    steps: int
    total_tokens: int


@dataclass(frozen=True, slots=True)
class ChildrenFound:
    session_id: str
    child_ids: tuple[str, ...]  # only the ids not seen before (of the first max_children)
    more: int = 0  # subagents named beyond max_children: counted, not tracked


@dataclass(frozen=True, slots=True)
class SessionError:
    """A poll of one session failed; `kind` is the AgpError class name, e.g. NotFound."""

    session_id: str
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class SessionRecovered:
    session_id: str


@dataclass(frozen=True, slots=True)
class Stale:
    """No good poll of this session for `age` seconds although one was due."""

    session_id: str
    age: float


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    state: Connection
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class WatchlistChanged:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()  # still watched, but the label or pin changed (another process)


@dataclass(frozen=True, slots=True)
class InfoLoaded:
    """Agent name, first message, timestamps or URL of a session became known."""

    session_id: str


@dataclass(frozen=True, slots=True)
class GroupChanged:
    """A followed query's members changed: (session id, old status or None, new status)."""

    key: str
    changes: tuple[tuple[str, str | None, str], ...]
    read: tuple[str, ...] = ()  # members whose steps and tokens were just read (/status)


@dataclass(frozen=True, slots=True)
class QuotaUpdated:
    """`GET /sessions/quota` answered; read the figures from `Engine.quota`."""


@dataclass(frozen=True, slots=True)
class EventsArrived:
    """New trajectory events of a followed session: read them from `Engine.trajectory(id)`."""

    session_id: str
    count: int


EngineEvent = (
    StatusChanged | UsageChanged | ChildrenFound | SessionError | SessionRecovered | Stale
    | ConnectionChanged | WatchlistChanged | InfoLoaded | QuotaUpdated | EventsArrived | GroupChanged
)
