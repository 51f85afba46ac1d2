"""The timeline vocabulary: one small frozen record per scheduled change.

A session's script is a time-ordered list of these. The session applies them lazily when
someone asks about it, and steering actions (pause, cancel, message...) edit the list's
future. Keeping them as plain data (not closures) is what allows shifting a suspended
future in time on resume, and makes scripts easy to inspect in tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class Dispatch:
    """Queued session gets a slot (or a fresh one is handed to a runner)."""

    t: float


@dataclass(frozen=True, slots=True)
class Start:
    t: float


@dataclass(frozen=True, slots=True)
class Step:
    t: float
    usage: tuple[Any, ...]  # flat: (model, input, output, reasoning) per model called
    note: int  # index into the catalog's note table for this session's role
    tool: int
    reasoning: bool


@dataclass(frozen=True, slots=True)
class Spawn:
    t: float
    child: ChildSpec


@dataclass(frozen=True, slots=True)
class RunStatus:
    """Pause/resume, by the user (`origin="user"`) or a scripted episode."""

    t: float
    status: Literal["paused", "running"]
    origin: str


@dataclass(frozen=True, slots=True)
class Active:
    """Active-state flips that drive `idle` and `awaiting_tool_results`."""

    t: float
    state: Literal["running", "idle", "awaiting_tool_results"]
    calls: tuple[tuple[str, str], ...] = ()  # (tool_name, call id) pending client tools


@dataclass(frozen=True, slots=True)
class Message:
    t: float
    text: str
    caller_id: str = "user"


@dataclass(frozen=True, slots=True)
class Flow:
    t: float
    flow: str
    origin: str


@dataclass(frozen=True, slots=True)
class Answer:
    t: float
    answer: Any  # str, or a dict for structured-answer agents
    outcome: str


@dataclass(frozen=True, slots=True)
class Finish:
    t: float
    status: Literal["completed", "failed", "timed_out", "interrupted"]
    error: str | None = None
    error_code: str | None = None


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """Everything a parent decides about a child; the child scripts itself from `seed`."""

    seed: int
    agent: str
    task: str
    budget_s: float  # the child plans to be done within this much world time
    depth: int


Tick = Dispatch | Start | Step | Spawn | RunStatus | Active | Message | Flow | Answer | Finish
