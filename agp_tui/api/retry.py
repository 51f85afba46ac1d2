"""When to try an idempotent GET again, and how long to wait first."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# A longer Retry-After is a misconfigured proxy, not advice: waiting it out would look like
# a dashboard that stopped (and `inf` would stop it for good).
MAX_RETRY_AFTER_S = 3600.0


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds: either a number of seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):  # "nan", "inf": not a delay
            return None
        return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max((when - (now or datetime.now(UTC))).total_seconds(), 0.0), MAX_RETRY_AFTER_S)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped in attempts, per-wait and total time."""

    enabled: bool = True
    attempts: int = 3  # total tries, the first included
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_total: float = 20.0

    @classmethod
    def off(cls) -> RetryPolicy:
        """One try only: for tests, and for the engine, which schedules its own backoff."""
        return cls(enabled=False, attempts=1)

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random | None = None) -> float:
        """Seconds to wait before try number `attempt + 1` (attempt counts from 0)."""
        if retry_after is not None:
            # Honoured as sent: if it exceeds the time budget the caller gives up instead.
            return retry_after
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return (rng or random).uniform(ceiling / 2, ceiling)
