"""A session query: the filters of `GET /sessions` as one value that can be followed.

A followed filter is a watch target like a session id. It is written as words:

    group:nightly agent:h/web-surfer status:running,idle parent:ID since:2h

- `group:G` one exact group_id; `parent:ID` the subagents of one session;
- `agent:A` and `status:S` repeat (or take comma-separated values) and match any value;
- `since:AGE|DATE` sessions created after an age (`90s`, `15m`, `1h`, `2d`, `1w`, counted
  back from when the query is read) or an ISO date/time (without an offset: local time).

Pure functions (no I/O): the dashboard, the config and the headless commands parse the
same text the same way, and `str()` gives it back in one canonical form.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agp_tui.api.ids import InvalidSessionId, normalize_session_id
from agp_tui.api.status import KNOWN

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SPLIT = re.compile(r"[\s,]+")
KEYS = ("group", "agent", "status", "parent", "since")
_MAX_TEXT = 1000  # a query longer than this is not something a person typed


class QueryError(ValueError):
    """A filter cannot be used; the message says which and why."""


def words(text: str) -> list[str]:
    return [w for w in _SPLIT.split(text.strip()) if w]


def parse_statuses(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for word in words(text.lower()):
        if word not in KNOWN:
            close = difflib.get_close_matches(word, sorted(KNOWN), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else f"; one of {', '.join(sorted(KNOWN))}"
            raise QueryError(f"status: unknown status {word!r}{hint}")
        if word not in out:
            out.append(word)
    return tuple(out)


def parse_since(text: str, now: float) -> datetime | None:
    """`created_after` from an age or an ISO date/time; None when empty."""
    text = text.strip()
    if not text:
        return None
    match = _AGE.match(text)
    if match:
        seconds = float(match[1]) * _UNITS[match[2].lower()]
        return datetime.fromtimestamp(now, UTC) - timedelta(seconds=seconds)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(f"since: {text[:40]!r} is neither an age (1h, 2d) nor an ISO date/time") from None
    if when.tzinfo is None:
        when = when.astimezone()  # a time without an offset is the user's local time
    return when.astimezone(UTC)


def check_name(key: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise QueryError(f"{key}: give a value, e.g. {key}:nightly")
    if any(not ch.isprintable() for ch in value):
        raise QueryError(f"{key}: control characters are not allowed")
    return value


@dataclass(frozen=True, slots=True)
class SessionQuery:
    """Filters that every session of a followed slice matches; all given must match."""

    group_id: str | None = None
    agents: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    parent_id: str | None = None
    created_after: datetime | None = None

    @classmethod
    def parse(cls, text: str, now: float) -> SessionQuery:
        """`group:G agent:A status:S parent:ID since:2h` (any order, at least one)."""
        if len(text) > _MAX_TEXT:
            raise QueryError(f"a filter is at most {_MAX_TEXT} characters")
        fields: dict[str, list[str]] = {}
        for word in text.split():
            key, sep, value = word.partition(":")
            key = key.lower()
            if not sep or key not in KEYS:
                close = difflib.get_close_matches(key, KEYS, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]}:?" if close else "use " + ", ".join(f"{k}:" for k in KEYS)
                raise QueryError(f"{word[:40]!r} is not a filter; {hint}")
            fields.setdefault(key, []).append(value)
        if not fields:
            raise QueryError("an empty filter follows nothing; give group:, agent:, status:, "
                             "parent: or since:")
        for key in ("group", "parent", "since"):
            if len(fields.get(key, ())) > 1:
                raise QueryError(f"{key}: give it once")
        parent = None
        if "parent" in fields:
            try:
                parent = normalize_session_id(fields["parent"][0])
            except InvalidSessionId as exc:
                raise QueryError(f"parent: {exc.message}") from None
        agents = [check_name("agent", a) for value in fields.get("agent", ()) for a in value.split(",") if a]
        if "agent" in fields and not agents:
            raise QueryError("agent: give a value, e.g. agent:h/web-surfer")
        statuses = parse_statuses(" ".join(fields.get("status", ())))
        if "status" in fields and not statuses:
            raise QueryError("status: give a value, e.g. status:running")
        return cls(
            group_id=check_name("group", fields["group"][0]) if "group" in fields else None,
            agents=tuple(dict.fromkeys(agents)),
            statuses=statuses,
            parent_id=parent,
            created_after=parse_since(fields["since"][0], now) if "since" in fields else None,
        )

    @property
    def empty(self) -> bool:
        return not (self.group_id or self.agents or self.statuses or self.parent_id
                    or self.created_after is not None)

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for `AgpClient.list_sessions` / `iter_sessions`."""
        out: dict[str, Any] = {}
        if self.statuses:
            out["status"] = self.statuses
        if self.agents:
            out["agent"] = self.agents
        if self.group_id:
            out["group_id"] = self.group_id
        if self.parent_id:
            out["parent_session_id"] = self.parent_id
        if self.created_after is not None:
            out["created_after"] = self.created_after
        return out

    def __str__(self) -> str:
        """The canonical text form, which `parse` reads back to an equal query."""
        parts = []
        if self.group_id:
            parts.append(f"group:{self.group_id}")
        if self.agents:
            parts.append("agent:" + ",".join(self.agents))
        if self.statuses:
            parts.append("status:" + ",".join(self.statuses))
        if self.parent_id:
            parts.append(f"parent:{self.parent_id}")
        if self.created_after is not None:
            parts.append(f"since:{self.created_after:%Y-%m-%dT%H:%M:%SZ}")
        return " ".join(parts)

    def describe(self) -> str:
        """Words for a person: `group nightly; agent h/web-surfer; status running/idle`."""
        parts = []
        if self.group_id:
            parts.append(f"group {self.group_id}")
        if self.agents:
            parts.append("agent " + ", ".join(self.agents))
        if self.statuses:
            parts.append("status " + "/".join(self.statuses))
        if self.parent_id:
            parts.append(f"subagents of {self.parent_id[:8]}")
        if self.created_after is not None:
            parts.append(f"created after {self.created_after:%Y-%m-%d %H:%M:%S} UTC")
        return "; ".join(parts) or "all sessions"
