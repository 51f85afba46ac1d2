"""Read-only views of what the engine knows, handed to renderers.

A `SessionView` is a cheap frozen snapshot built on request; token history is reached
through `Engine.history(id)` so that views do not copy ring buffers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from agp_tui.api.models import ModelUsage, SessionStatus, UserMessage


@dataclass(frozen=True, slots=True)
class SessionView:
    id: str
    label: str | None = None
    pinned: bool = False
    watched: bool = True  # False for subagent children polled only for a tree
    parent_id: str | None = None
    status: SessionStatus | None = None  # None until the first good poll
    agent: str | None = None
    first_message: UserMessage | None = None
    agent_view_url: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    added_at: float = 0.0  # wall clock, when put on the watchlist
    last_ok_at: float | None = None  # wall clock of the last good poll
    last_change_at: float | None = None  # wall clock of the last status/usage change
    error_kind: str | None = None  # AgpError class name of the last failed poll, if failing
    error_message: str | None = None
    not_found: bool = False
    stale: bool = False
    polling: bool = True  # False once terminal and final-fetched, or not found
    # USD as the API's `/changes` metrics report it; fetched only for sessions on screen,
    # selected or in an open tree. None: not fetched yet, or a model is unpriced.
    cost: float | None = None
    cost_at: float | None = None  # wall clock of the metrics behind `cost`
    answer: object = None  # the latest final answer (a string, or an object with answer_format)
    # False for a followed group's member known only from list pages: its status is true,
    # its steps and tokens are not read yet (shown as `·`, never as 0).
    figures_known: bool = True

    @property
    def status_text(self) -> str:
        return self.status.status if self.status else "unknown"

    @property
    def steps(self) -> int:
        return self.status.steps if self.status else 0

    @property
    def usage(self) -> tuple[ModelUsage, ...]:
        return self.status.usage_per_model if self.status else ()

    @property
    def child_ids(self) -> tuple[str, ...]:
        return self.status.subagent_session_ids if self.status else ()


@dataclass(frozen=True, slots=True)
class Rollup:
    """Totals over a whole subagent tree, each session counted once (cycle-safe)."""

    sessions: int = 0
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    per_model: tuple[ModelUsage, ...] = ()
    statuses: dict[str, int] = field(default_factory=dict)
    unknown: int = 0  # ids in the tree whose status is not known yet
    cost: float = 0.0  # sum of the known costs in the tree
    cost_sessions: int = 0  # how many sessions `cost` covers (the rest are not known)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.reasoning_tokens
