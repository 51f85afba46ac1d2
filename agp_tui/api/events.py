"""What a trajectory event says, read tolerantly from its envelope (agp-api.md §5.6).

The envelope is `{type, data, timestamp}`; an `AgentEvent`'s step kind sits at `data.kind`
(the spec) *or* `data.event.kind` (the synced docs), so both are read. Every field may be
missing or of another type: a reader never raises, an unknown type is kept as `OTHER`
with its type name, and the raw `data` stays on the `Event` for `--json` output.

Strings returned here are the server's, uncleaned: renderers sanitise them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from agp_tui.api.models import Event


class EventKind(Enum):
    THOUGHT = "thought"  # a policy step: what the agent decided (and the tools it asked for)
    TOOL = "tool"  # a tool's result
    OBSERVATION = "observation"  # what it saw: a web page, text
    ANSWER = "answer"
    ERROR = "error"
    FLOW = "flow"  # pause, resume, force answer
    STATUS = "status"  # started, idle, awaiting tools, finished
    METRICS = "metrics"
    MESSAGE = "message"  # a user (or parent) message
    OTHER = "other"  # an event type this client does not know


@dataclass(frozen=True, slots=True)
class ToolCall:
    name: str
    args: Mapping[str, Any]
    id: str | None = None

    def summary(self, width: int = 60) -> str:
        """`navigate(url=https://news.ycombinator.com)`, cut to about `width` characters."""
        parts = []
        for key, value in self.args.items():
            text = value if isinstance(value, str) else _json(value)
            parts.append(f"{key}={text}")
        inner = ", ".join(parts)
        if len(inner) > width:
            inner = inner[: max(width - 1, 0)] + "…"
        return f"{self.name}({inner})"


@dataclass(frozen=True, slots=True)
class EventInfo:
    """One event read for people: its kind, a one-line title and the full text."""

    kind: EventKind
    title: str  # one line; may be long (renderers cut it)
    body: str = ""  # everything: reasoning, tool arguments as JSON, page text, the answer
    tools: tuple[ToolCall, ...] = ()
    url: str | None = None
    outcome: str | None = None

    @property
    def is_error(self) -> bool:
        return self.kind is EventKind.ERROR


def step_kind(event: Event) -> str | None:
    """An `AgentEvent`'s inner kind, from `data.kind` or `data.event.kind`."""
    return event.kind


def _step(event: Event) -> Mapping[str, Any]:
    """The inner step of an `AgentEvent`: `data` itself, or `data.event` (docs' shape)."""
    if isinstance(event.data.get("kind"), str):
        return event.data
    inner = event.data.get("event")
    return inner if isinstance(inner, Mapping) else event.data


def _str(d: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = d.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _json(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def _pretty(value: object) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def first_line(text: str | None) -> str:
    """The first non-blank line of `text` ("" for none)."""
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def _tools(raw: object) -> tuple[ToolCall, ...]:
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        return ()
    out = []
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        args = item.get("args")
        out.append(ToolCall(name=_str(item, "tool_name", "name") or "?",
                            args=args if isinstance(args, Mapping) else {},
                            id=_str(item, "id")))
    return tuple(out)


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return urlsplit(url).hostname or None
    except ValueError:
        return None


def read_event(event: Event) -> EventInfo:
    """What `event` says; never raises, whatever the server sent."""
    try:
        return _read(event)
    except Exception:  # a shape nobody foresaw: still one line, never a crash
        return EventInfo(EventKind.OTHER, event.type, _pretty(dict(event.data)))


def _read(event: Event) -> EventInfo:
    d = event.data
    match event.type:
        case "AgentEvent":
            return _agent_step(_step(event))
        case "AgentErrorEvent":
            error = _str(d, "error") or "the run failed"
            return EventInfo(EventKind.ERROR, error, "\n\n".join(x for x in (error, _str(d, "trace")) if x))
        case "ActiveStateChangeEvent":
            state = _str(d, "state") or "?"
            tools = _tools(d.get("pending_tool_calls"))
            title = f"{state}: waiting for {', '.join(t.name for t in tools)}" if tools else state
            return EventInfo(EventKind.STATUS, title, _pretty(dict(d)), tools=tools)
        case "AgentRunStatusChangeEvent":
            return EventInfo(EventKind.FLOW, _str(d, "status") or "?")
        case "AgentCompletionEvent":
            return EventInfo(EventKind.STATUS, f"run ended: {_str(d, 'reason') or '?'}")
        case "AgentStartedEvent":
            return EventInfo(EventKind.STATUS, "agent started")
        case "RequestStartEvent":
            return EventInfo(EventKind.STATUS, "request received")
        case "RequestStartDispatchedEvent":
            return EventInfo(EventKind.STATUS, f"dispatched ({_str(d, 'status') or '?'})")
        case "MetricsUpdateEvent":
            return _metrics(d.get("metrics"))
        case "LiveViewUrlEvent":
            url = _str(d, "live_view_url", "url")
            return EventInfo(EventKind.STATUS, "live view available", url or "", url=url)
        case "UserMessageEvent" | "ChatMessageEvent":
            text = _str(d, "message", "content") or _message_text(d.get("content"))
            return EventInfo(EventKind.MESSAGE, first_line(text) or "(message)", text or "")
    return EventInfo(EventKind.OTHER, event.type, _pretty(dict(d)) if d else "")


def _agent_step(s: Mapping[str, Any]) -> EventInfo:
    kind = _str(s, "kind")
    match kind:
        case "policy_event":
            content = _str(s, "content", "message")
            reasoning = _str(s, "reasoning_content")
            tools = _tools(s.get("tool_reqs"))
            title = first_line(content) or first_line(reasoning)
            if tools:
                calls = " ".join(t.summary() for t in tools)
                title = f"{title} → {calls}" if title else calls
            body = "\n\n".join(x for x in (
                content, f"reasoning:\n{reasoning}" if reasoning else None,
                *(f"{t.name} {_pretty(dict(t.args))}" for t in tools),
                _validation(s.get("validation_errors")),
            ) if x)
            return EventInfo(EventKind.THOUGHT, title or "(thinking)", body, tools=tools)
        case "tool_result":
            tools = _tools(s.get("tool_req"))
            name = tools[0].name if tools else "tool"
            result = s.get("result")
            return EventInfo(EventKind.TOOL, f"{name} returned {first_line(_json(result))}",
                             _pretty(result), tools=tools)
        case "answer_event":
            answer = s.get("answer")
            text = answer if isinstance(answer, str) else _pretty(answer)
            outcome = _str(s, "outcome")
            title = f"answer ({outcome}): {first_line(text)}" if outcome else f"answer: {first_line(text)}"
            return EventInfo(EventKind.ANSWER, title, text, outcome=outcome)
        case "error_event":
            error = _str(s, "error") or "error"
            origin = _str(s, "origin")
            tools = _tools(s.get("tool_req"))
            title = f"{origin}: {first_line(error)}" if origin else first_line(error)
            return EventInfo(EventKind.ERROR, title, error, tools=tools)
        case "message_event":
            text = _message_text(s.get("content"))
            caller = _str(s, "caller_id") or "user"
            return EventInfo(EventKind.MESSAGE, f"{caller}: {first_line(text)}", text)
        case "observation_event":
            return _observation(s)
        case "flow_event":
            flow = _str(s, "flow") or "?"
            origin = _str(s, "origin")
            return EventInfo(EventKind.FLOW, f"{flow} (by {origin})" if origin else flow)
    return EventInfo(EventKind.OTHER, f"AgentEvent {kind or '?'}", _pretty(dict(s)))


def _observation(s: Mapping[str, Any]) -> EventInfo:
    meta = s.get("metadata")
    seen = s.get("observation")
    fields: dict[str, Any] = {}
    for source in (meta, seen):
        if isinstance(source, Mapping):
            fields.update(source)
    url = _str(fields, "url") or _str(s, "url")
    title = _str(fields, "title") or _str(s, "title")
    text = _str(s, "text") or _str(fields, "text") or ""
    host = host_of(url)
    if title and host:
        line = f"{title} — {host}"
    else:
        line = title or host or first_line(text) or (_str(s, "type") or "observation")
    body = "\n\n".join(x for x in (url, title, text) if x)
    return EventInfo(EventKind.OBSERVATION, line, body, url=url)


def _metrics(raw: object) -> EventInfo:
    if not isinstance(raw, Mapping):
        return EventInfo(EventKind.METRICS, "metrics")
    steps = raw.get("steps")
    cost = raw.get("total_cost")
    parts = [f"step {steps}" if isinstance(steps, int) else None,
             f"${cost:.4f}" if isinstance(cost, int | float) and not isinstance(cost, bool) else None]
    return EventInfo(EventKind.METRICS, ", ".join(p for p in parts if p) or "metrics", _pretty(dict(raw)))


def _message_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(c if isinstance(c, str) else "[image]" for c in content)
    return ""


def _validation(raw: object) -> str | None:
    if isinstance(raw, list) and raw:
        return "validation errors:\n" + "\n".join(str(x) for x in raw)
    return None
