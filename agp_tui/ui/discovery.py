"""The discovery screen's query: filters typed by the user, parsed into `GET /sessions` params.

Pure functions (no textual), so the parsing rules are unit-tested on their own:
- status: one or more statuses, separated by spaces or commas (`running idle`);
- agent: one or more catalog names (`h/web-surfer-flash, acme/shopper`);
- group_id: one exact group;
- since: `created_after`, as an age (`90s`, `15m`, `1h`, `2d`, `1w`) or an ISO date/time
  (`2026-06-11`, `2026-06-11T09:00`, with `Z` or an offset; without one it is local time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agp_tui.api.query import QueryError, parse_since, parse_statuses, words

__all__ = ["PAGE_SIZE", "DiscoverQuery", "QueryError", "page_count", "parse_since", "parse_statuses"]

PAGE_SIZE = 50


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
            agents=tuple(dict.fromkeys(words(agent))),
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
