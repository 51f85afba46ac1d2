"""The discovery screen's query: filters typed by the user, parsed into `GET /sessions` params.

Pure functions (no textual), so the parsing rules are unit-tested on their own:
- status: one or more statuses, separated by spaces or commas (`running idle`);
- agent: one or more catalog names (`h/web-surfer-flash, acme/shopper`);
- group_id: one exact group;
- since: `created_after`, as an age (`90s`, `15m`, `1h`, `2d`, `1w`) or an ISO date/time
  (`2026-06-11`, `2026-06-11T09:00`, with `Z` or an offset; without one it is local time).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agp_tui.api.status import KNOWN

PAGE_SIZE = 50
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SPLIT = re.compile(r"[\s,]+")


class QueryError(ValueError):
    """A filter the user typed cannot be used; the message says which and why."""


def _words(text: str) -> list[str]:
    return [w for w in _SPLIT.split(text.strip()) if w]


def parse_statuses(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for word in _words(text.lower()):
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


@dataclass(frozen=True, slots=True)
class DiscoverQuery:
    statuses: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    group_id: str | None = None
    created_after: datetime | None = None
    page: int = 1

    @classmethod
    def parse(cls, status: str, agent: str, group: str, since: str, now: float) -> DiscoverQuery:
        return cls(
            statuses=parse_statuses(status),
            agents=tuple(dict.fromkeys(_words(agent))),
            group_id=group.strip() or None,
            created_after=parse_since(since, now),
        )

    def params(self) -> dict[str, Any]:
        """Keyword arguments for `AgpClient.list_sessions`."""
        out: dict[str, Any] = {"page": self.page, "size": PAGE_SIZE}
        if self.statuses:
            out["status"] = self.statuses
        if self.agents:
            out["agent"] = self.agents
        if self.group_id:
            out["group_id"] = self.group_id
        if self.created_after is not None:
            out["created_after"] = self.created_after
        return out

    def describe(self) -> str:
        parts = []
        if self.statuses:
            parts.append("status " + "/".join(self.statuses))
        if self.agents:
            parts.append("agent " + ", ".join(self.agents))
        if self.group_id:
            parts.append(f"group {self.group_id}")
        if self.created_after is not None:
            parts.append(f"created after {self.created_after:%Y-%m-%d %H:%M:%S} UTC")
        return "; ".join(parts) or "all sessions"


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    return max(1, -(-total // size))
