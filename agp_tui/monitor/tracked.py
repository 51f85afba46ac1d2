"""The engine's private, mutable record of one session it polls."""

from __future__ import annotations

import asyncio
from datetime import datetime

from agp_tui.api.models import Session, SessionStatus, SessionSummary, UserMessage
from agp_tui.monitor.history import TokenHistory
from agp_tui.monitor.view import SessionView


class Tracked:
    """Everything known about one session; only the engine mutates it, on its own loop."""

    __slots__ = (
        "added_at", "agent", "agent_view_url", "answer", "children_listed", "cost", "cost_at", "created_at",
        "cursor", "error_kind", "error_message", "failures", "final_left", "finished_at",
        "first_message", "history", "id", "info_loaded", "label", "last_change_at", "last_ok_at",
        "long_poll_early", "long_poll_failed", "long_poll_gap_until", "long_poll_garbled",
        "long_poll_resume_at",
        "not_found", "parent_id", "pinned", "retry_after", "running_since", "stale", "started_at",
        "status", "status_polled_at", "sweep_missed", "sweepable", "task", "urgent", "wake", "watched",
    )

    def __init__(self, session_id: str, history: TokenHistory, *, watched: bool) -> None:
        self.id = session_id
        self.watched = watched
        self.label: str | None = None
        self.pinned = False
        self.added_at = 0.0
        self.parent_id: str | None = None
        self.status: SessionStatus | None = None
        self.agent: str | None = None
        self.first_message: UserMessage | None = None
        self.agent_view_url: str | None = None
        self.created_at: datetime | None = None
        self.started_at: datetime | None = None
        self.finished_at: datetime | None = None
        self.info_loaded = False
        self.children_listed: frozenset[str] = frozenset()  # child ids whose labels we fetched
        self.history = history
        self.last_ok_at: float | None = None
        self.last_change_at: float | None = None
        self.running_since: float | None = None  # loop time the status became running
        self.error_kind: str | None = None
        self.error_message: str | None = None
        self.failures = 0
        self.retry_after: float | None = None
        self.not_found = False
        self.stale = False
        self.final_left = 0  # polls still owed after the first terminal status
        self.sweepable = True  # False once list sweeps keep missing it (another owner, say)
        self.sweep_missed = 0
        self.urgent = False  # next poll jumps the queue (refresh-now, sweep saw a change)
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        # Long-poll (`/changes`) state, used while the session is on screen.
        self.cursor: int | None = None  # events seen; None until counted
        self.status_polled_at = 0.0  # loop time of the last /status or Session fetch
        self.cost: float | None = None
        self.cost_at: float | None = None
        self.long_poll_failed = False  # /changes or /events refused: /status polls only
        self.long_poll_garbled = 0  # garbled /changes or /events answers in a row
        # The latest final answer: `Session.latest_answer`, or a `/changes` page's `answer`.
        self.answer: object = None
        self.long_poll_early = 0  # empty answers in a row that came before the wait (pacing.py)
        self.long_poll_resume_at = 0.0  # loop time before which /status polls stand in
        self.long_poll_gap_until = 0.0  # loop time before which the next long-poll waits

    @property
    def polling(self) -> bool:
        if self.not_found:
            return False
        return not (self.status is not None and self.status.terminal and self.final_left == 0)

    def apply_info(self, s: Session | SessionSummary) -> None:
        """Labels and timestamps, which the full Session and a list summary both carry."""
        self.agent = s.agent
        self.first_message = s.first_message
        self.agent_view_url = s.agent_view_url
        self.created_at = s.created_at
        self.started_at = s.started_at
        self.finished_at = s.finished_at
        if isinstance(s, Session) and s.parent_session_id and not self.parent_id:
            self.parent_id = s.parent_session_id
        if isinstance(s, Session) and s.latest_answer is not None:
            self.answer = s.latest_answer
        self.info_loaded = True

    def view(self) -> SessionView:
        return SessionView(
            id=self.id, label=self.label, pinned=self.pinned, watched=self.watched,
            parent_id=self.parent_id, status=self.status, agent=self.agent,
            first_message=self.first_message, agent_view_url=self.agent_view_url,
            created_at=self.created_at, started_at=self.started_at, finished_at=self.finished_at,
            added_at=self.added_at, last_ok_at=self.last_ok_at, last_change_at=self.last_change_at,
            error_kind=self.error_kind, error_message=self.error_message,
            not_found=self.not_found, stale=self.stale, polling=self.polling,
            cost=self.cost, cost_at=self.cost_at, answer=self.answer,
        )
