"""Auto-follow rules: `[[profiles.NAME.follow]]` tables, validated into `FollowRule`s.

    [[profiles.work.follow]]
    agent = "h/web-surfer"      # and/or
    group_id = "nightly"        # and/or
    status = ["running"]        # every field given must match

    [[profiles.work.follow]]
    filter = "group:nightly"    # a followed filter: one live target (an aggregate row),
                                # not ids added one by one (agp_tui/api/query.py's words)

The monitor's `AutoFollow` reads the first kind (structurally: it does not import the
config); the dashboard follows the second through `Engine.follow_query`.
"""

from __future__ import annotations

import difflib
import json
import time
from dataclasses import dataclass

from agp_tui.api.query import QueryError, SessionQuery
from agp_tui.api.status import KNOWN

RULE_KEYS = ("agent", "group_id", "status", "filter")
FOLLOW_EXPECTS = "a list of [[follow]] tables, each with agent, group_id and/or status, or a filter"
MIN_INTERVAL = 5.0  # seconds: auto-follow lists sessions; more often than this is waste


@dataclass(frozen=True)
class FollowRule:
    agent: str | None = None
    group_id: str | None = None
    status: tuple[str, ...] = ()
    filter: str | None = None  # a followed filter (SessionQuery text): one live group target

    def query(self, now: float | None = None) -> SessionQuery | None:
        """The followed filter, with ages (`since:2h`) counted back from `now`."""
        if self.filter is None:
            return None
        return SessionQuery.parse(self.filter, time.time() if now is None else now)

    def __str__(self) -> str:
        """TOML inline-table form, as `agp-tui config` prints it."""
        if self.filter is not None:
            return "{filter = " + json.dumps(self.filter, ensure_ascii=False) + "}"
        parts = []
        if self.agent is not None:
            parts.append(f"agent = {json.dumps(self.agent, ensure_ascii=False)}")
        if self.group_id is not None:
            parts.append(f"group_id = {json.dumps(self.group_id, ensure_ascii=False)}")
        if self.status:
            parts.append("status = [" + ", ".join(json.dumps(s) for s in self.status) + "]")
        return "{" + ", ".join(parts) + "}"


def _name(value: object, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key} must be a non-empty string")
    text = value.strip()
    if any(not ch.isprintable() for ch in text):
        raise ValueError(f"{key} must not hold control characters")
    return text


def _statuses(value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ValueError('status must be a status or a list of them, e.g. ["running"]')
    out: list[str] = []
    for item in items:
        if not isinstance(item, str) or item not in KNOWN:
            close = difflib.get_close_matches(str(item), sorted(KNOWN), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(KNOWN))}"
            raise ValueError(f"unknown status {item!r}{hint}")
        if item not in out:
            out.append(item)
    return tuple(out)


def parse_rule(table: object, number: int) -> FollowRule:
    """One rule table; `number` (1-based) names it in errors."""
    where = f"rule {number}"
    if not isinstance(table, dict):
        raise ValueError(f"{where} is not a table")
    for key in table:
        if key not in RULE_KEYS:
            close = difflib.get_close_matches(key, RULE_KEYS, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}?" if close else "valid keys: " + ", ".join(RULE_KEYS)
            raise ValueError(f"{where}: unknown key {key!r}; {hint}")
    if not table:
        raise ValueError(f"{where} is empty: give agent, group_id and/or status, or a filter")
    if "filter" in table:
        if len(table) > 1:
            raise ValueError(f"{where}: a filter stands alone (write agent:, group:, status: in it)")
        text = table["filter"]
        if not isinstance(text, str):
            raise ValueError(f'{where}: filter must be a string, e.g. "group:nightly status:running"')
        try:
            SessionQuery.parse(text, time.time())
        except QueryError as exc:
            raise ValueError(f"{where}: filter: {exc}") from None
        return FollowRule(filter=text.strip())
    try:
        return FollowRule(
            agent=_name(table["agent"], "agent") if "agent" in table else None,
            group_id=_name(table["group_id"], "group_id") if "group_id" in table else None,
            status=_statuses(table["status"]) if "status" in table else (),
        )
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def parse_rules(value: object) -> tuple[FollowRule, ...]:
    """The `follow` key: a TOML array of tables (or `[]`); duplicates are dropped."""
    if isinstance(value, tuple) and all(isinstance(r, FollowRule) for r in value):
        return value  # already parsed (the declared default passes its own check)
    if not isinstance(value, list):
        raise ValueError("not a list of tables")
    rules: list[FollowRule] = []
    for number, table in enumerate(value, 1):
        rule = parse_rule(table, number)
        if rule not in rules:
            rules.append(rule)
    return tuple(rules)
