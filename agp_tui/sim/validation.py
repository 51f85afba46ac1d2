"""Request parsing that fails the way the real (FastAPI + pydantic v2) server fails.

Errors are collected, not raised one at a time, because FastAPI reports every bad field
in one 422 `{"detail": [{"type", "loc", "msg", "input", ["ctx"]}, ...]}`.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Any

from multidict import MultiMapping

from agp_tui.sim.clock import parse_iso

JSON = dict[str, Any]
INT_MSG = "Input should be a valid integer, unable to parse string as an integer"
REQUEST_FIELDS = frozenset(
    {
        "agent",
        "messages",
        "max_steps",
        "max_time_s",
        "idle_timeout_s",
        "timezone",
        "delete_after_min",
        "delete_screenshot_after_min",
        "queue",
        "group_id",
        "parent_session_id",
        "overrides",
    }
)
MESSAGE_FIELDS = frozenset({"type", "message", "images", "files", "skills", "caller_id"})
TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


class Invalid(Exception):
    """A 422 in FastAPI's list shape."""

    def __init__(self, errors: list[JSON]) -> None:
        super().__init__(errors)
        self.errors = errors


def err(type_: str, loc: list[str | int], msg: str, input_: Any, ctx: JSON | None = None) -> JSON:
    e: JSON = {"type": type_, "loc": loc, "msg": msg, "input": input_}
    if ctx is not None:
        e["ctx"] = ctx
    return e


def parse_session_id(raw: str) -> str:
    """Canonical lowercase UUID, as FastAPI's `uuid` path type accepts it."""
    try:
        return str(uuid.UUID(raw))
    except ValueError as e:
        raise Invalid(
            [
                err(
                    "uuid_parsing",
                    ["path", "id"],
                    f"Input should be a valid UUID, {e}",
                    raw,
                    {"error": str(e)},
                )
            ]
        ) from None


class QueryReader:
    """Typed access to query parameters, collecting errors with their `loc`."""

    def __init__(self, query: MultiMapping[str]) -> None:
        self.query = query
        self.errors: list[JSON] = []

    def done(self) -> None:
        if self.errors:
            raise Invalid(self.errors)

    def str_(self, name: str) -> str | None:
        return self.query.get(name)

    def int_(
        self, name: str, default: int | None, *, ge: int | None = None, le: int | None = None
    ) -> int | None:
        raw = self.query.get(name)
        if raw is None:
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            self.errors.append(err("int_parsing", ["query", name], INT_MSG, raw))
            return default
        if ge is not None and value < ge:
            self.errors.append(
                err(
                    "greater_than_equal",
                    ["query", name],
                    f"Input should be greater than or equal to {ge}",
                    raw,
                    {"ge": ge},
                )
            )
        elif le is not None and value > le:
            self.errors.append(
                err(
                    "less_than_equal",
                    ["query", name],
                    f"Input should be less than or equal to {le}",
                    raw,
                    {"le": le},
                )
            )
        return value

    def bool_(self, name: str, default: bool) -> bool:
        raw = self.query.get(name)
        if raw is None:
            return default
        if raw.strip().lower() in TRUE:
            return True
        if raw.strip().lower() in FALSE:
            return False
        self.errors.append(
            err(
                "bool_parsing",
                ["query", name],
                "Input should be a valid boolean, unable to interpret input",
                raw,
            )
        )
        return default

    def enums(self, name: str, allowed: tuple[str, ...]) -> list[str]:
        values = self.query.getall(name, [])
        expected = ", ".join(f"'{a}'" for a in allowed[:-1]) + f" or '{allowed[-1]}'"
        for i, v in enumerate(values):
            if v not in allowed:
                self.errors.append(
                    err("enum", ["query", name, i], f"Input should be {expected}", v, {"expected": expected})
                )
        return [v for v in values if v in allowed]

    def datetime_(self, name: str) -> float | None:
        raw = self.query.get(name)
        if raw is None:
            return None
        value = parse_iso(raw)
        if value is None:
            self.errors.append(
                err(
                    "datetime_from_date_parsing",
                    ["query", name],
                    "Input should be a valid datetime or date",
                    raw,
                )
            )
        return value


def _int_field(body: Mapping[str, Any], name: str, errors: list[JSON], *, gt: int) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        errors.append(err("int_type", ["body", name], "Input should be a valid integer", value))
    elif value <= gt:
        errors.append(
            err("greater_than", ["body", name], f"Input should be greater than {gt}", value, {"gt": gt})
        )


def _str_field(body: Mapping[str, Any], name: str, errors: list[JSON]) -> None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        errors.append(err("string_type", ["body", name], "Input should be a valid string", value))


def user_message(raw: Any, loc: list[str | int], errors: list[JSON]) -> JSON | None:
    """A normalised UserMessageEvent, or None (with errors recorded)."""
    if not isinstance(raw, dict):
        errors.append(
            err("model_type", loc, "Input should be a valid dictionary or instance of UserMessageEvent", raw)
        )
        return None
    extra = [k for k in raw if k not in MESSAGE_FIELDS]
    for k in extra:
        errors.append(err("extra_forbidden", [*loc, k], "Extra inputs are not permitted", raw[k]))
    if raw.get("type", "user_message") != "user_message":
        errors.append(
            err(
                "literal_error",
                [*loc, "type"],
                "Input should be 'user_message'",
                raw.get("type"),
                {"expected": "'user_message'"},
            )
        )
    message = raw.get("message")
    if "message" not in raw:
        errors.append(err("missing", [*loc, "message"], "Field required", raw))
    elif not isinstance(message, str):
        errors.append(err("string_type", [*loc, "message"], "Input should be a valid string", message))
    images = raw.get("images") or []
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        errors.append(err("list_type", [*loc, "images"], "Input should be a valid list", images))
    if extra or not isinstance(message, str):
        return None
    out: JSON = {
        "type": "user_message",
        "message": message,
        "images": images,
        "caller_id": raw.get("caller_id") or "user",
    }
    out.update({k: raw[k] for k in ("files", "skills") if raw.get(k) is not None})
    return out


def session_request(body: Any) -> tuple[JSON, bool]:
    """Validate a `POST /sessions` body; returns (request echo, queue flag)."""
    if not isinstance(body, dict):
        raise Invalid(
            [
                err(
                    "model_attributes_type",
                    ["body"],
                    "Input should be a valid dictionary or object to extract fields from",
                    body,
                )
            ]
        )
    errors: list[JSON] = []
    for key in body:
        if key not in REQUEST_FIELDS:
            errors.append(err("extra_forbidden", ["body", key], "Extra inputs are not permitted", body[key]))
    agent = body.get("agent")
    if "agent" not in body:
        errors.append(err("missing", ["body", "agent"], "Field required", body))
    elif not (isinstance(agent, dict) or (isinstance(agent, str) and agent.strip())):
        errors.append(err("string_type", ["body", "agent"], "Input should be a valid string", agent))
    raw_messages = body.get("messages")
    messages: list[JSON] = []
    if isinstance(raw_messages, str):
        messages = [{"type": "user_message", "message": raw_messages, "images": [], "caller_id": "user"}]
    elif isinstance(raw_messages, dict):
        one = user_message(raw_messages, ["body", "messages"], errors)
        messages = [one] if one else []
    elif isinstance(raw_messages, list):
        for i, m in enumerate(raw_messages):
            one = user_message(m, ["body", "messages", i], errors)
            if one:
                messages.append(one)
    elif raw_messages is not None:
        errors.append(
            err("string_type", ["body", "messages"], "Input should be a valid string", raw_messages)
        )
    _int_field(body, "max_steps", errors, gt=0)
    _int_field(body, "idle_timeout_s", errors, gt=0)
    _int_field(body, "delete_after_min", errors, gt=-1)
    _int_field(body, "delete_screenshot_after_min", errors, gt=-1)
    max_time = body.get("max_time_s")
    if max_time is not None and (
        isinstance(max_time, bool)
        or not isinstance(max_time, int | float)
        or not math.isfinite(max_time)
        or max_time <= 0
    ):
        errors.append(
            err("greater_than", ["body", "max_time_s"], "Input should be greater than 0", max_time, {"gt": 0})
        )
    for name in ("group_id", "parent_session_id", "timezone"):
        _str_field(body, name, errors)
    queue = body.get("queue", True)
    if not isinstance(queue, bool):
        errors.append(err("bool_type", ["body", "queue"], "Input should be a valid boolean", queue))
    overrides = body.get("overrides") or {}
    if not isinstance(overrides, dict):
        errors.append(
            err("dict_type", ["body", "overrides"], "Input should be a valid dictionary", overrides)
        )
    else:
        for path in overrides:
            if not path.startswith("agent."):
                errors.append(
                    err(
                        "value_error", ["body", "overrides", path], "Value error, unknown override path", path
                    )
                )
    if errors:
        raise Invalid(errors)
    echo: JSON = {
        "agent": agent,
        "messages": messages,
        "max_steps": body.get("max_steps"),
        "max_time_s": body.get("max_time_s"),
        "idle_timeout_s": body.get("idle_timeout_s"),
        "group_id": body.get("group_id"),
        "parent_session_id": body.get("parent_session_id"),
        "overrides": overrides,
    }
    for name in ("timezone", "delete_after_min", "delete_screenshot_after_min"):
        if body.get(name) is not None:
            echo[name] = body[name]
    return echo, bool(queue)


def message_texts(body: Any) -> list[str] | None:
    """Texts of a `POST /messages` body (single or batch), or None when malformed (-> 400)."""
    if not isinstance(body, dict):
        return None
    errors: list[JSON] = []
    if body.get("type") == "batch":
        items = body.get("messages")
        if set(body) - {"type", "messages"} or not isinstance(items, list) or not items:
            return None
        parsed = [user_message(m, ["body", "messages", i], errors) for i, m in enumerate(items)]
    else:
        parsed = [user_message(body, ["body"], errors)]
    if errors or any(p is None for p in parsed):
        return None
    return [p["message"] for p in parsed if p is not None]
