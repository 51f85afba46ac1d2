"""Session status vocabulary and the three questions every view asks of a status.

Statuses stay plain strings everywhere: the server may add values we do not know yet,
and an unknown status must be shown as such, never crash the reader.
"""

from __future__ import annotations

from typing import Final

QUEUED: Final = "queued"
PENDING: Final = "pending"
RUNNING: Final = "running"
PAUSED: Final = "paused"
IDLE: Final = "idle"
AWAITING_TOOL_RESULTS: Final = "awaiting_tool_results"
COMPLETED: Final = "completed"
FAILED: Final = "failed"
TIMED_OUT: Final = "timed_out"
INTERRUPTED: Final = "interrupted"

KNOWN: Final = frozenset(
    {QUEUED, PENDING, RUNNING, PAUSED, IDLE, AWAITING_TOOL_RESULTS,
     COMPLETED, FAILED, TIMED_OUT, INTERRUPTED}
)
TERMINAL: Final = frozenset({COMPLETED, FAILED, TIMED_OUT, INTERRUPTED})
# The official SDK stops a one-shot wait on idle too: nobody will send the next message.
SETTLED: Final = TERMINAL | {IDLE}
WAITING_ON_USER: Final = frozenset({IDLE, AWAITING_TOOL_RESULTS})


def is_known(status: str) -> bool:
    return status in KNOWN


def is_terminal(status: str) -> bool:
    return status in TERMINAL


def is_settled(status: str) -> bool:
    return status in SETTLED


def is_waiting_on_user(status: str) -> bool:
    return status in WAITING_ON_USER
