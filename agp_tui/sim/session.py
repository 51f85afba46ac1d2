"""SimSession: one session's script, its materialised state, and its JSON views.

State is materialised lazily: `advance(now)` applies every scripted tick up to `now` and
nothing else, so a session nobody asks about costs nothing, and the answer for a given
world time does not depend on how often (or whether) it was asked before.
"""

from __future__ import annotations

import json
import math
import random
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from agp_tui.sim.catalog import TERMINAL
from agp_tui.sim.clock import iso
from agp_tui.sim.events import (
    EMPTY,
    Event,
    MetricsRef,
    ObservationRef,
    PolicyRef,
    UsageRow,
    metrics,
    render,
    usage_rows,
)
from agp_tui.sim.script import Profile
from agp_tui.sim.ticks import (
    Active,
    Answer,
    ChildSpec,
    Dispatch,
    Finish,
    Flow,
    Message,
    RunStatus,
    Spawn,
    Start,
    Step,
    Tick,
)

AGENT_VIEW = "https://platform.eu.hcompany.ai/agent-view/{id}"
COMPLETION_REASON = {"completed": "finished", "timed_out": "timed_out", "interrupted": "stopped"}
Spawner = Callable[["SimSession", ChildSpec, float], str]


def _flow(flow: str, origin: str) -> dict[str, Any]:
    return {"kind": "flow_event", "flow": flow, "origin": origin}


class SimSession:
    def __init__(
        self,
        *,
        id: str,
        seq: int,
        created_at: float,
        profile: Profile,
        rng: random.Random,
        request: dict[str, Any],
        status: str,
        script: list[Tick],
    ) -> None:
        self.id = id
        self.seq = seq  # creation order: a stable tie-break for equal created_at
        self.created_at = created_at
        self.profile = profile
        self.rng = rng  # the session's own stream: steering draws from it, nobody else
        self.request = request
        self.parent_id: str | None = request.get("parent_session_id")
        self.group_id: str | None = request.get("group_id")
        agent = request["agent"]
        self.agent: str | None = agent if isinstance(agent, str) else agent.get("name")
        messages = request.get("messages") or []
        self.first_message: dict[str, Any] | None = messages[0] if messages else None
        self.agent_view_url = AGENT_VIEW.format(id=id)
        self.script = script
        self.cursor = 0
        self.status = status
        # (world time, status) of every scripted transition: ground truth for benchmarks.
        self.status_log: list[tuple[float, str]] = [(created_at, status)]
        self.steps = 0
        # Flat [name, input, output, reasoning, name, ...] in first-use order: a metrics
        # snapshot per step is then one tuple() call, which matters for 100k+ steps.
        self.usage: list[Any] = []
        self.error: str | None = None
        self.error_code: str | None = None
        self.outcome: str | None = None
        self.answers: list[tuple[int, Any]] = []  # (event index of answer_event, answer)
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.children: list[str] = []
        self.shared = False
        # Messages are echoed as message_event once the agent runs (buffered while pending).
        self.inbox: list[str] = [m["message"] for m in messages]
        self.events: list[Event] = [Event(created_at, "RequestStartEvent", EMPTY)]
        self.suspended: list[Tick] | None = None  # the future a user pause put on hold
        self.paused_at = 0.0
        self.paused_from = "running"  # what a resume returns to
        self._status_json: bytes | None = None

    # -- time -------------------------------------------------------------------------------
    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def next_t(self) -> float:
        return self.script[self.cursor].t if self.cursor < len(self.script) else math.inf

    def advance(self, now: float, spawn: Spawner) -> None:
        script = self.script
        if self.cursor >= len(script) or script[self.cursor].t > now:
            return  # the hot path: nothing due
        while self.cursor < len(script) and script[self.cursor].t <= now:
            tick = script[self.cursor]
            self.cursor += 1
            self.apply(tick, spawn)
        if self.cursor > 64 or self.cursor == len(script):
            del script[: self.cursor]  # applied ticks live on as events; free them
            self.cursor = 0

    def future(self) -> list[Tick]:
        return self.script[self.cursor :]

    def replace_future(self, ticks: list[Tick]) -> None:
        del self.script[self.cursor :]
        self.script.extend(ticks)

    def touch(self) -> None:
        self._status_json = None

    # -- applying ticks ------------------------------------------------------------------
    def emit(self, t: float, type_: str, data: object) -> None:
        self.events.append(Event(t, type_, data))

    def apply(self, tick: Tick, spawn: Spawner) -> None:
        before = self.status
        self._apply(tick, spawn)
        if self.status != before:
            self.status_log.append((tick.t, self.status))

    def _apply(self, tick: Tick, spawn: Spawner) -> None:
        self._status_json = None
        t = tick.t
        match tick:
            case Dispatch():
                if self.status == "queued":
                    self.status = "pending"
                self.emit(t, "RequestStartDispatchedEvent", {"status": "dispatched"})
            case Start():
                self.status = "running"
                if self.started_at is None:
                    self.started_at = t
                self.emit(t, "AgentStartedEvent", EMPTY)
                self.emit(t, "ActiveStateChangeEvent", {"state": "running", "pending_tool_calls": None})
                for text in self.inbox:
                    self.apply(Message(t, text), spawn)
                self.inbox.clear()
            case Step():
                self._step(tick)
            case Spawn():
                self.children.append(spawn(self, tick.child, t))
            case RunStatus():
                self.status = tick.status
                self.emit(t, "AgentRunStatusChangeEvent", {"status": tick.status})
                flow = "pause" if tick.status == "paused" else "resume"
                self.emit(t, "AgentEvent", _flow(flow, tick.origin))
            case Active():
                self.status = tick.state
                calls = [{"tool_name": n, "args": {}, "id": i} for n, i in tick.calls] or None
                self.emit(t, "ActiveStateChangeEvent", {"state": tick.state, "pending_tool_calls": calls})
            case Message():
                data = {"kind": "message_event", "caller_id": tick.caller_id, "content": [tick.text]}
                self.emit(t, "AgentEvent", data)
            case Flow():
                self.emit(t, "AgentEvent", _flow(tick.flow, tick.origin))
            case Answer():
                answer = {"kind": "answer_event", "answer": tick.answer, "outcome": tick.outcome}
                self.emit(t, "AgentEvent", answer)
                self.answers.append((len(self.events) - 1, tick.answer))
                self.outcome = tick.outcome
            case Finish():
                self._finish(tick)

    def _step(self, tick: Step) -> None:
        self.steps += 1
        usage = self.usage
        for name, (tin, tout, treason) in tick.usage:
            try:
                i = usage.index(name)
            except ValueError:
                i = len(usage)
                usage.extend((name, 0, 0, 0))
            usage[i + 1] += tin
            usage[i + 2] += tout
            usage[i + 3] += treason
        manager = self.profile.agent.role == "manager"
        self.emit(tick.t, "AgentEvent", PolicyRef(self.steps, tick.note, tick.tool, tick.reasoning, manager))
        if not manager:  # a web agent looks at the page its step led to
            self.emit(tick.t, "AgentEvent", ObservationRef(self.steps, tick.note))
        self.emit(tick.t, "MetricsUpdateEvent", MetricsRef(self.steps, tuple(usage)))

    def _finish(self, tick: Finish) -> None:
        self.status = tick.status
        self.error, self.error_code = tick.error, tick.error_code
        self.finished_at = tick.t
        self.suspended = None
        if tick.status == "failed":
            # The step that failed, then the run's failure (the reference's order).
            self.emit(tick.t, "AgentEvent", {"kind": "error_event", "error": tick.error or "",
                                             "origin": tick.error_code or "agent", "tool_req": None})
            self.emit(tick.t, "AgentErrorEvent", {"error": tick.error or "", "trace": "", "info": None})
        else:
            self.emit(tick.t, "AgentCompletionEvent", {"reason": COMPLETION_REASON[tick.status]})

    # -- views -------------------------------------------------------------------------------
    def usage_rows(self) -> list[UsageRow]:
        return usage_rows(self.usage)

    @property
    def latest_answer(self) -> Any:
        return self.answers[-1][1] if self.answers else None

    def status_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "error": self.error,
            "error_code": self.error_code,
            "outcome": self.outcome,
            "steps": self.steps,
            "usage_per_model": [
                {"name": n, "input_tokens": i, "output_tokens": o, "reasoning_tokens": r}
                for n, i, o, r in self.usage_rows()
            ],
            "subagent_session_ids": list(self.children),
        }

    def status_json(self) -> bytes:
        """`/status` body, cached until the state changes: the poll hot path is a dict hit."""
        if self._status_json is None:
            self._status_json = json.dumps(self.status_dict()).encode()
        return self._status_json

    def summary(self, epoch: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "agent": self.agent,
            "status": self.status,
            "agent_view_url": self.agent_view_url,
            "first_message": self.first_message,
            "created_at": iso(epoch + self.created_at),
            "started_at": _iso_or_none(epoch, self.started_at),
            "finished_at": _iso_or_none(epoch, self.finished_at),
            "anonymized_at": None,
        }

    def full(self, epoch: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "request": self.request,
            "status": self.status_dict(),
            "agent_view_url": self.agent_view_url,
            "latest_answer": self.latest_answer,
            "created_at": iso(epoch + self.created_at),
            "started_at": _iso_or_none(epoch, self.started_at),
            "finished_at": _iso_or_none(epoch, self.finished_at),
        }

    def changes(self, start: int, limit: int | None, include_events: bool, epoch: float) -> dict[str, Any]:
        end = len(self.events) if limit is None else min(len(self.events), start + limit)
        # The answer rides the page that delivers its answer_event (documented behaviour).
        i = bisect_left(self.answers, end, key=lambda a: a[0])
        answer = self.answers[i - 1][1] if i else None
        new = [render(e, epoch) for e in self.events[start:end]] if include_events else []
        return {
            "status": self.status,
            "started_at": _iso_or_none(epoch, self.started_at),
            "finished_at": _iso_or_none(epoch, self.finished_at),
            "error": self.error,
            "error_code": self.error_code,
            "answer": answer,
            "outcome": self.outcome,
            "metrics": metrics(self.steps, self.usage_rows()),
            "new_events": new,
        }

    def matches(self, needle: str) -> bool:
        """`?search=`: case-insensitive on the first message or the answer."""
        if self.first_message and needle in self.first_message["message"].lower():
            return True
        answer = self.latest_answer
        if answer is None:
            return False
        text = answer if isinstance(answer, str) else json.dumps(answer)
        return needle in text.lower()


def _iso_or_none(epoch: float, t: float | None) -> str | None:
    return None if t is None else iso(epoch + t)
