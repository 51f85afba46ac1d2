"""Virtual time for the simulated world.

World time is measured in seconds *relative to the world's start* (negative for history
created before the simulator started). Keeping offsets instead of wall-clock epochs is
what makes a world reproducible: the same seed and the same actions at the same offsets
give the same answers, whatever day the simulator runs. Epochs only appear when a
timestamp is rendered.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """What the world needs from time."""

    def now(self) -> float:
        """Current world offset in seconds since the world started."""
        ...

    def real_delay(self, world_seconds: float) -> float:
        """Real seconds until `world_seconds` of world time will have passed.

        `math.inf` means time never moves on its own (a manual clock): waiters must be
        woken explicitly.
        """
        ...


class RealClock:
    """World time runs `speed` times faster than the real monotonic clock."""

    def __init__(self, speed: float = 1.0, real: Callable[[], float] = time.monotonic) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.speed = speed
        self._real = real
        self._origin = real()
        self._frozen_at: float | None = None  # real time the clock was stopped at

    def now(self) -> float:
        real = self._real() if self._frozen_at is None else self._frozen_at
        return (real - self._origin) * self.speed

    @property
    def origin(self) -> float:
        """The real (monotonic) time of world time 0 (moved later by each freeze's length)."""
        return self._origin

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self) -> None:
        """Stop world time (a soak compares a client against a world that holds still)."""
        if self._frozen_at is None:
            self._frozen_at = self._real()

    def thaw(self) -> None:
        """Let time run again from where it stopped: the frozen span never happened."""
        if self._frozen_at is not None:
            self._origin += self._real() - self._frozen_at
            self._frozen_at = None

    def real_delay(self, world_seconds: float) -> float:
        if self._frozen_at is not None:
            return math.inf  # nothing is due until the clock runs again
        return max(0.0, world_seconds) / self.speed


class ManualClock:
    """Time moves only when told to: tests use it so nothing depends on wall-clock timing."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def real_delay(self, world_seconds: float) -> float:
        return math.inf

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += seconds


def iso(epoch: float) -> str:
    """RFC 3339 UTC with millisecond precision and a `Z`, the form the API documents."""
    moment = datetime.fromtimestamp(round(epoch, 3), UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> float | None:
    """Epoch seconds for an ISO 8601 string; naive values are taken as UTC (FastAPI does)."""
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        # An unencoded "+00:00" offset arrives as " 00:00" after query decoding.
        try:
            moment = datetime.fromisoformat(text[:-6] + "+" + text[-5:] if len(text) > 6 else text)
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
