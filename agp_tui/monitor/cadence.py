"""How often to poll a session, by what it is doing (agp-api.md §9)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from agp_tui.api.status import (
    AWAITING_TOOL_RESULTS,
    IDLE,
    PAUSED,
    PENDING,
    QUEUED,
    RUNNING,
    is_terminal,
)


@dataclass(frozen=True, slots=True)
class Cadence:
    """Poll intervals in seconds. Every field is a config key under `[profiles.X.poll]`."""

    pending: float = 2.0
    running: float = 3.0
    running_slow: float = 15.0  # reached gradually once running longer than `slow_after`
    slow_after: float = 600.0
    waiting: float = 15.0  # paused / idle / awaiting_tool_results / queued / unknown
    final_fetch: float = 2.0  # after a terminal status: one more fetch, then stop
    jitter: float = 0.1  # ± fraction, so a thousand tasks never align
    # Off-screen sessions whose status a list sweep already watches need their counters
    # less often: history spreads a long gap evenly, so their sparklines stay right.
    background_factor: float = 20.0
    background_max: float = 60.0
    error_base: float = 2.0
    error_max: float = 60.0

    def base_interval(self, status: str | None, running_for: float) -> float:
        """The nominal interval for a non-terminal status."""
        if status is None or status == PENDING:
            return self.pending
        if status == RUNNING:
            if running_for <= self.slow_after:
                return self.running
            # Back off linearly from `running` to `running_slow` over another `slow_after`.
            ramp = min((running_for - self.slow_after) / self.slow_after, 1.0)
            return self.running + ramp * (self.running_slow - self.running)
        if status in (PAUSED, IDLE, AWAITING_TOOL_RESULTS, QUEUED):
            return self.waiting
        return self.waiting  # unknown statuses: watch, but gently

    def interval(
        self,
        status: str | None,
        running_for: float,
        *,
        background: bool = False,
        rng: random.Random | None = None,
    ) -> float | None:
        """Seconds until the next poll with jitter; None for a terminal status (stop)."""
        if status is not None and is_terminal(status):
            return None
        base = self.base_interval(status, running_for)
        if background:
            base = min(base * self.background_factor, max(self.background_max, base))
        return self._jittered(base, rng)

    def error_delay(
        self, failures: int, retry_after: float | None, rng: random.Random | None = None
    ) -> float:
        """Backoff after `failures` consecutive failed polls, honouring `Retry-After`."""
        if retry_after is not None:
            return max(retry_after, self.pending)
        return self._jittered(min(self.error_base * 2 ** max(failures - 1, 0), self.error_max), rng)

    def _jittered(self, base: float, rng: random.Random | None) -> float:
        if self.jitter <= 0:
            return base
        r = rng.random() if rng is not None else random.random()
        return base * (1.0 + self.jitter * (2.0 * r - 1.0))
