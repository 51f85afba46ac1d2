"""SimSession: one session's script, its materialised state, and its JSON views.

State is materialised lazily, in two layers, so the answer for a given world time never
depends on how often (or whether) it was asked before:

- the *head* (status, its log, start and finish times, error, outcome, latest answer,
  children) follows the clock: `catch_up(now)` applies the head of every tick up to `now`.
  It is what `GET /sessions` lists and filters on, and what spawns subagents, so the world
  keeps every head current; it costs a type test for most ticks (steps have no head).
- the *detail* (events, steps, usage, answers) is written from the same ticks only when
  someone reads it (`events`, `steps`, `usage`, `answers` are properties that bring it up
  to the head). A 10,000-session world's past is a million events nobody may ever read.

`advance(now)` does both, for the one session a `/status`, `/changes` or steering action
is about.
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
        self.cursor = 0  # script[:cursor] has its head applied
        self._detailed = 0  # script[:_detailed] has its detail written too (<= cursor)
        # Told of every status change (the world keeps sessions indexed by status with it).
        self.on_status: Callable[[SimSession, str], None] | None = None
        self.wake = math.inf  # when the world's timeline expects this session next
        self._status = status
        # (world time, status) of every scripted transition: ground truth for benchmarks.
        self.status_log: list[tuple[float, str]] = [(created_at, status)]
        self._steps = 0
        # Flat [name, input, output, reasoning, name, ...] in first-use order: a metrics
        # snapshot per step is then one tuple() call, which matters for 100k+ steps.
        self._usage: list[Any] = []
        self.error: str | None = None
        self.error_code: str | None = None
        self.outcome: str | None = None
        self.latest_answer: Any = None  # the head's copy of the last answer
        self._answers: list[tuple[int, Any]] = []  # (event index of answer_event, answer)
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.children: list[str] = []
        self.shared = False
        # Messages are echoed as message_event once the agent runs (buffered while pending).
        self.inbox: list[str] = [m["message"] for m in messages]
        self._events: list[Event] = [Event(created_at, "RequestStartEvent", EMPTY)]
        self.suspended: list[Tick] | None = None  # the future a user pause put on hold
        self.paused_at = 0.0
        self.paused_from = "running"  # what a resume returns to
        self._status_json: bytes | None = None
        # A list page's item, encoded: what it shows changes only with these (lists of 100
        # at hundreds of pages a second spent most of their time formatting times).
        self._summary_key: tuple[str, float | None, float | None, float] | None = None
        self._summary_json = b""

    @property
    def status(self) -> str:
        return self._status

    @status.setter
    def status(self, value: str) -> None:
        old, self._status = self._status, value
        if old != value and self.on_status is not None:
            self.on_status(self, old)

    # The detail, written on first read.
    @property
    def events(self) -> list[Event]:
        if self._detailed < self.cursor:
            self._write_detail()
        return self._events

    @property
    def steps(self) -> int:
        if self._detailed < self.cursor:
            self._write_detail()
        return self._steps

    @steps.setter
    def steps(self, value: int) -> None:
        """A test's pinned state (sim/pinned.py): the detail so far is written first."""
        if self._detailed < self.cursor:
            self._write_detail()
        self._steps = value

    @property
    def usage(self) -> list[Any]:
        if self._detailed < self.cursor:
            self._write_detail()
        return self._usage

    @usage.setter
    def usage(self, value: list[Any]) -> None:
        if self._detailed < self.cursor:
            self._write_detail()
        self._usage = value

    @property
    def answers(self) -> list[tuple[int, Any]]:
        if self._detailed < self.cursor:
            self._write_detail()
        return self._answers

    # -- time -------------------------------------------------------------------------------
    @property
    def terminal(self) -> bool:
        return self._status in TERMINAL

    def next_t(self) -> float:
        return self.script[self.cursor].t if self.cursor < len(self.script) else math.inf

    def catch_up(self, now: float, spawn: Spawner) -> None:
        """Apply the head of every tick up to `now` (what lists and the timeline need)."""
        script = self.script
        n = len(script)
        i = self.cursor
        while i < n:
            tick = script[i]
            if tick.t > now:
                break
            i += 1
            self.cursor = i
            if type(tick) is not Step:  # steps have no head: most ticks stop here
                self._head(tick, spawn)

    def advance(self, now: float, spawn: Spawner) -> None:
        """Bring head and detail up to `now`: the one session a read or an action is about."""
        script = self.script
        if self.cursor < len(script) and script[self.cursor].t <= now:
            self.catch_up(now, spawn)
        if self._detailed < self.cursor:
            self._write_detail()

    def _write_detail(self) -> None:
        script = self.script
        for i in range(self._detailed, self.cursor):
            self._detail(script[i])
        self._detailed = self.cursor
        if self.cursor > 64 or self.cursor == len(script):
            del script[: self.cursor]  # applied ticks live on as events; free them
            self.cursor = self._detailed = 0

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
        """Apply one tick now, head and detail (steering's immediate effects)."""
        if self._detailed < self.cursor:
            self._write_detail()
        self._head(tick, spawn)
        self._detail(tick)

    def _head(self, tick: Tick, spawn: Spawner) -> None:
        before = self._status
        self._status_json = None
        t = tick.t
        match tick:
            case Dispatch():
                if before == "queued":
                    self.status = "pending"
            case Start():
                self.status = "running"
                if self.started_at is None:
                    self.started_at = t
            case Spawn():
                self.children.append(spawn(self, tick.child, t))
            case RunStatus():
                self.status = tick.status
            case Active():
                self.status = tick.state
            case Answer():
                self.outcome = tick.outcome
                self.latest_answer = tick.answer
            case Finish():
                self.error, self.error_code = tick.error, tick.error_code
                self.finished_at = t  # before the status: the world indexes it on the move
                self.suspended = None
                self.status = tick.status
        if self._status != before:
            self.status_log.append((t, self._status))

    def _detail(self, tick: Tick) -> None:
        self._status_json = None
        t = tick.t
        emit = self._events.append
        match tick:
            case Step():
                self._step(tick)
            case Dispatch():
                emit(Event(t, "RequestStartDispatchedEvent", {"status": "dispatched"}))
            case Start():
                emit(Event(t, "AgentStartedEvent", EMPTY))
                emit(Event(t, "ActiveStateChangeEvent", {"state": "running", "pending_tool_calls": None}))
                for text in self.inbox:
                    self._detail(Message(t, text))
                self.inbox.clear()
            case RunStatus():
                emit(Event(t, "AgentRunStatusChangeEvent", {"status": tick.status}))
                flow = "pause" if tick.status == "paused" else "resume"
                emit(Event(t, "AgentEvent", _flow(flow, tick.origin)))
            case Active():
                calls = [{"tool_name": n, "args": {}, "id": i} for n, i in tick.calls] or None
                emit(Event(t, "ActiveStateChangeEvent", {"state": tick.state, "pending_tool_calls": calls}))
            case Message():
                data = {"kind": "message_event", "caller_id": tick.caller_id, "content": [tick.text]}
                emit(Event(t, "AgentEvent", data))
            case Flow():
                emit(Event(t, "AgentEvent", _flow(tick.flow, tick.origin)))
            case Answer():
                answer = {"kind": "answer_event", "answer": tick.answer, "outcome": tick.outcome}
                emit(Event(t, "AgentEvent", answer))
                self._answers.append((len(self._events) - 1, tick.answer))
            case Finish():
                if tick.status == "failed":
                    # The step that failed, then the run's failure (the reference's order).
                    emit(Event(t, "AgentEvent", {"kind": "error_event", "error": tick.error or "",
                                                 "origin": tick.error_code or "agent", "tool_req": None}))
                    emit(Event(t, "AgentErrorEvent", {"error": tick.error or "", "trace": "", "info": None}))
                else:
                    emit(Event(t, "AgentCompletionEvent", {"reason": COMPLETION_REASON[tick.status]}))

    def _step(self, tick: Step) -> None:
        self._steps += 1
        usage = self._usage
        spent = tick.usage
        for k in range(0, len(spent), 4):
            name = spent[k]
            try:
                i = usage.index(name)
            except ValueError:
                i = len(usage)
                usage.extend((name, 0, 0, 0))
            usage[i + 1] += spent[k + 1]
            usage[i + 2] += spent[k + 2]
            usage[i + 3] += spent[k + 3]
        manager = self.profile.agent.role == "manager"
        emit, t, n = self._events.append, tick.t, self._steps
        emit(Event(t, "AgentEvent", PolicyRef(n, tick.note, tick.tool, tick.reasoning, manager)))
        if not manager:  # a web agent looks at the page its step led to
            emit(Event(t, "AgentEvent", ObservationRef(n, tick.note)))
        emit(Event(t, "MetricsUpdateEvent", MetricsRef(n, tuple(usage))))

    # -- views -------------------------------------------------------------------------------
    def usage_rows(self) -> list[UsageRow]:
        return usage_rows(self.usage)

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
        if self._detailed < self.cursor:
            self._write_detail()  # steps the head passed (a sync) are not in the cache yet
        if self._status_json is None:
            self._status_json = json.dumps(self.status_dict()).encode()
        return self._status_json

    def summary_json(self, epoch: float) -> bytes:
        key = (self._status, self.started_at, self.finished_at, epoch)
        if key != self._summary_key:
            self._summary_json = json.dumps(self.summary(epoch)).encode()
            self._summary_key = key
        return self._summary_json

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
