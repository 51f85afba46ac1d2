"""Frozen, typed views of the AGP v2 JSON payloads.

Reading is tolerant on purpose (agp-api.md, "client robustness checklist"): unknown
fields are ignored, optional fields may be missing, unknown status strings are kept.
A payload of the wrong *shape* (not an object, a required field missing or mistyped)
raises `BadResponse`, so callers never see a KeyError or TypeError from here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from agp_tui.api.errors import BadResponse
from agp_tui.api.status import is_settled, is_terminal, is_waiting_on_user

JsonObj = Mapping[str, Any]
T = TypeVar("T")

# Counters (steps, tokens, quota slots) are read into [0, MAX_COUNT]: 2**53 - 1 is the
# largest integer a float holds exactly, so rates, sums and formatting never overflow
# (a 10**400 from a broken server would raise OverflowError in float()); a negative
# count is as meaningless as a missing one and reads as 0.
MAX_COUNT = 2**53 - 1
# Times outside these years are a broken server's, and converting them to another zone
# (UTC here, local time in the views) could leave datetime's range and raise OverflowError.
_MIN_YEAR, _MAX_YEAR = 1970, 9000


def _shown(value: object) -> str:
    """A short description of a wrong value for an error message.

    Never `repr()` of the whole value: a 100 KB string or a deeply nested list would be
    copied (or recurse) just to be cut, and an int past 4300 digits makes repr() raise.
    """
    if isinstance(value, str):
        return repr(value[:40])
    if value is None or isinstance(value, bool | float):
        return repr(value)
    if isinstance(value, int):
        return "a huge int" if abs(value) > MAX_COUNT else repr(value)
    return f"a {type(value).__name__}"


def _obj(value: object, what: str) -> JsonObj:
    if not isinstance(value, Mapping):
        raise BadResponse(f"expected a JSON object for {what}, got {type(value).__name__}")
    return value


def _req_str(d: JsonObj, key: str, what: str) -> str:
    value = d.get(key)
    if not isinstance(value, str):
        raise BadResponse(f"{what}.{key}: expected a string, got {_shown(value)}")
    return value


def _opt_str(d: JsonObj, key: str) -> str | None:
    value = d.get(key)
    return value if isinstance(value, str) else None


def _int(d: JsonObj, key: str, default: int = 0) -> int:
    value = d.get(key)
    # bool is an int subclass; a true/false count is a malformed payload, read as default.
    if isinstance(value, int) and not isinstance(value, bool):
        return min(max(value, 0), MAX_COUNT)
    if isinstance(value, float) and value.is_integer():  # False for NaN and infinities
        return int(min(max(value, 0.0), float(MAX_COUNT)))
    return default


def _opt_int(d: JsonObj, key: str) -> int | None:
    return _int(d, key) if key in d and d[key] is not None else None


def _opt_float(d: JsonObj, key: str) -> float | None:
    """An amount (a cost): finite and not negative, else unknown.

    Python's json reads `NaN` and `Infinity`, and float() of a huge int overflows;
    neither is an amount anyone can show or sum.
    """
    value = d.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value) if 0 <= value <= MAX_COUNT else None
    if isinstance(value, float) and math.isfinite(value) and value >= 0:
        return value
    return None


def _list(d: JsonObj, key: str) -> Sequence[Any]:
    value = d.get(key)
    return value if isinstance(value, list) else ()


def _token_fields(d: JsonObj) -> dict[str, Any]:
    """The per-model counters that usage rows and cost rows both carry (missing reads 0)."""
    return {
        "name": _opt_str(d, "name") or "?",
        "input_tokens": _int(d, "input_tokens"),
        "output_tokens": _int(d, "output_tokens"),
        "reasoning_tokens": _int(d, "reasoning_tokens"),
    }


def parse_time(value: object) -> datetime | None:
    """ISO 8601 with `Z` or an offset, as an aware UTC datetime; anything unreadable is absent.

    A time without an offset is read as UTC (the API's zone) so `.timestamp()` does not
    depend on the viewer's zone; years outside 1970..9000 are treated as absent.
    """
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return dt if _MIN_YEAR <= dt.year <= _MAX_YEAR else None


@dataclass(frozen=True, slots=True)
class ModelUsage:
    """Cumulative token counters of one model within one session."""

    name: str
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    # Not in the v2 schema today; kept when a server sends it so it is never summed twice.
    cached_tokens: int | None = None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.reasoning_tokens

    @classmethod
    def from_json(cls, raw: object) -> ModelUsage:
        d = _obj(raw, "usage_per_model[]")
        return cls(**_token_fields(d), cached_tokens=_opt_int(d, "cached_tokens"))


@dataclass(frozen=True, slots=True)
class SessionStatus:
    """Body of `GET /sessions/{id}/status`, and `Session.status`."""

    status: str
    error: str | None = None
    error_code: str | None = None
    outcome: str | None = None
    steps: int = 0
    usage_per_model: tuple[ModelUsage, ...] = ()
    subagent_session_ids: tuple[str, ...] = ()

    @property
    def terminal(self) -> bool:
        return is_terminal(self.status)

    @property
    def settled(self) -> bool:
        return is_settled(self.status)

    @property
    def waiting_on_user(self) -> bool:
        return is_waiting_on_user(self.status)

    @classmethod
    def from_json(cls, raw: object) -> SessionStatus:
        d = _obj(raw, "SessionStatus")
        return cls(
            status=_req_str(d, "status", "SessionStatus"),
            error=_opt_str(d, "error"),
            error_code=_opt_str(d, "error_code"),
            outcome=_opt_str(d, "outcome"),
            steps=_int(d, "steps"),
            usage_per_model=tuple(ModelUsage.from_json(u) for u in _list(d, "usage_per_model")),
            subagent_session_ids=tuple(
                s for s in _list(d, "subagent_session_ids") if isinstance(s, str)
            ),
        )


@dataclass(frozen=True, slots=True)
class UserMessage:
    message: str
    caller_id: str = "user"
    images: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, raw: object) -> UserMessage | None:
        if isinstance(raw, str):
            return cls(message=raw)
        if not isinstance(raw, Mapping) or not isinstance(raw.get("message"), str):
            return None
        return cls(
            message=raw["message"],
            caller_id=_opt_str(raw, "caller_id") or "user",
            images=tuple(i for i in _list(raw, "images") if isinstance(i, str)),
        )


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """An item of `GET /sessions`; its `status` is a plain string, unlike `Session`."""

    id: str
    status: str
    created_at: datetime | None
    agent: str | None = None
    agent_view_url: str | None = None
    first_message: UserMessage | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @classmethod
    def from_json(cls, raw: object) -> SessionSummary:
        d = _obj(raw, "SessionSummary")
        status = d.get("status")
        if isinstance(status, Mapping):  # tolerate a server that nests it like Session
            status = status.get("status")
        if not isinstance(status, str):
            raise BadResponse(f"SessionSummary.status: expected a string, got {_shown(status)}")
        return cls(
            id=_req_str(d, "id", "SessionSummary"),
            status=status,
            created_at=parse_time(d.get("created_at")),
            agent=_opt_str(d, "agent"),
            agent_view_url=_opt_str(d, "agent_view_url"),
            first_message=UserMessage.from_json(d.get("first_message")),
            started_at=parse_time(d.get("started_at")),
            finished_at=parse_time(d.get("finished_at")),
        )


def _agent_name(agent: object) -> str | None:
    """`request.agent` is a catalog name, or the inline/resolved Agent object."""
    if isinstance(agent, str):
        return agent
    if isinstance(agent, Mapping):
        return _opt_str(agent, "name")
    return None


def _first_message(messages: object) -> UserMessage | None:
    if isinstance(messages, list):
        return UserMessage.from_json(messages[0]) if messages else None
    return UserMessage.from_json(messages)


@dataclass(frozen=True, slots=True)
class Session:
    """`GET /sessions/{id}`: the request echo plus a nested `SessionStatus`."""

    id: str
    status: SessionStatus
    created_at: datetime | None
    agent: str | None = None
    first_message: UserMessage | None = None
    parent_session_id: str | None = None
    group_id: str | None = None
    agent_view_url: str | None = None
    latest_answer: object = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @classmethod
    def from_json(cls, raw: object) -> Session:
        d = _obj(raw, "Session")
        request = d.get("request")
        req: JsonObj = request if isinstance(request, Mapping) else {}
        status_raw = d.get("status")
        # Some servers (and old docs) send the status as a bare string; keep it readable.
        status = (
            SessionStatus(status=status_raw)
            if isinstance(status_raw, str)
            else SessionStatus.from_json(status_raw)
        )
        return cls(
            id=_req_str(d, "id", "Session"),
            status=status,
            created_at=parse_time(d.get("created_at")),
            agent=_agent_name(req.get("agent")),
            first_message=_first_message(req.get("messages")),
            parent_session_id=_opt_str(req, "parent_session_id"),
            group_id=_opt_str(req, "group_id"),
            agent_view_url=_opt_str(d, "agent_view_url"),
            latest_answer=d.get("latest_answer"),
            started_at=parse_time(d.get("started_at")),
            finished_at=parse_time(d.get("finished_at")),
        )


@dataclass(frozen=True, slots=True)
class ModelCost:
    name: str
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    total_cost: float | None = None

    @classmethod
    def from_json(cls, raw: object) -> ModelCost:
        d = _obj(raw, "cost_per_model[]")
        return cls(**_token_fields(d), total_cost=_opt_float(d, "total_cost"))


@dataclass(frozen=True, slots=True)
class Metrics:
    """Usage and cost as `/changes` rolls them up; `total_cost` is None if a model is unpriced."""

    steps: int = 0
    cost_per_model: tuple[ModelCost, ...] = ()
    input_cost: float | None = None
    output_cost: float | None = None
    reasoning_cost: float | None = None
    total_cost: float | None = None

    @classmethod
    def from_json(cls, raw: object) -> Metrics:
        if raw is None:
            return cls()
        d = _obj(raw, "metrics")
        return cls(
            steps=_int(d, "steps"),
            cost_per_model=tuple(ModelCost.from_json(c) for c in _list(d, "cost_per_model")),
            input_cost=_opt_float(d, "input_cost"),
            output_cost=_opt_float(d, "output_cost"),
            reasoning_cost=_opt_float(d, "reasoning_cost"),
            total_cost=_opt_float(d, "total_cost"),
        )


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    data: Mapping[str, Any]
    timestamp: datetime | None
    # The server's own spelling, kept so `events --json` passes the envelope on unchanged.
    timestamp_text: str | None = None

    @property
    def kind(self) -> str | None:
        """Inner kind of an `AgentEvent`; the docs put it at `data.kind` or `data.event.kind`."""
        kind = self.data.get("kind")
        if isinstance(kind, str):
            return kind
        inner = self.data.get("event")
        return _opt_str(inner, "kind") if isinstance(inner, Mapping) else None

    @classmethod
    def from_json(cls, raw: object) -> Event:
        d = _obj(raw, "event")
        data = d.get("data")
        return cls(
            type=_opt_str(d, "type") or "?",
            data=data if isinstance(data, Mapping) else {},
            timestamp=parse_time(d.get("timestamp")),
            timestamp_text=_opt_str(d, "timestamp"),
        )


@dataclass(frozen=True, slots=True)
class Changes:
    """A 200 answer of `/changes`; `next_index` is the cursor for the next call."""

    status: str
    from_index: int
    new_events: tuple[Event, ...] = ()
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    error_code: str | None = None
    answer: object = None
    outcome: str | None = None
    metrics: Metrics = field(default_factory=Metrics)

    @property
    def next_index(self) -> int:
        return self.from_index + len(self.new_events)

    @classmethod
    def from_json(cls, raw: object, from_index: int) -> Changes:
        d = _obj(raw, "SessionChanges")
        return cls(
            status=_req_str(d, "status", "SessionChanges"),
            from_index=from_index,
            new_events=tuple(Event.from_json(e) for e in _list(d, "new_events")),
            started_at=parse_time(d.get("started_at")),
            finished_at=parse_time(d.get("finished_at")),
            error=_opt_str(d, "error"),
            error_code=_opt_str(d, "error_code"),
            answer=d.get("answer"),
            outcome=_opt_str(d, "outcome"),
            metrics=Metrics.from_json(d.get("metrics")),
        )


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; more pages exist while `page * size < total`."""

    items: tuple[T, ...]
    page: int
    total: int
    size: int

    @property
    def has_more(self) -> bool:
        return self.page * self.size < self.total


@dataclass(frozen=True, slots=True)
class Quota:
    """`GET /sessions/quota`: concurrent-session slots."""

    scope: str
    limit: int
    active: int
    available: int

    @classmethod
    def from_json(cls, raw: object) -> Quota:
        d = _obj(raw, "QuotaStatus")
        limit, active = _int(d, "limit"), _int(d, "active")
        return cls(
            scope=_opt_str(d, "scope") or "user",
            limit=limit,
            active=active,
            available=_int(d, "available", max(limit - active, 0)),
        )
