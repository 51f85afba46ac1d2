"""When each session is polled, and how urgently: pure decisions over a record and a clock.

No asyncio here: every answer is computed from a `Tracked` record, what is on screen (the
focus set, open trees), a few facts about the link, and one injected clock (the event
loop's time in the engine, a plain float in unit tests). The poll tasks ask; this decides.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from agp_tui.monitor import budget as prio
from agp_tui.monitor import pacing
from agp_tui.monitor.clock import Clock
from agp_tui.monitor.settings import EngineSettings
from agp_tui.monitor.tracked import Tracked

# Background polls of many sessions together take at most this share of `max_rps`: past
# that their cadence stretches (10,000 sessions: 667 s, not 60), evenly and on purpose,
# instead of by queueing for the budget; freshness (`expected`) knows it.
BACKGROUND_SHARE = 0.75


class Scheduler:
    def __init__(self, settings: EngineSettings, clock: Clock, rng: random.Random) -> None:
        self.settings = settings
        self.clock = clock  # monotonic seconds: loop time in the engine (virtual in tests)
        self.rng = rng
        self.focus: set[str] = set()  # on screen, plus the selected row
        self.selected: str | None = None
        self.tree_active: set[str] = set()  # every session of an open (or followed) tree
        self.long_polling: set[str] = set()  # sessions with a `/changes` request held now
        self.catching_up: set[str] = set()  # a list page saw these change: poll them next
        self.background_count = 0  # sessions the last sweep watched off screen
        self.sweep_active = False  # list sweeps watch the status of sweepable sessions
        self.last_success_at = float("-inf")  # clock time of the last good answer (any)

    # -- who matters -----------------------------------------------------------------

    def is_active(self, t: Tracked) -> bool:
        """Worth polling at all: watched, or part of a tree someone looks at."""
        return t.watched or t.id in self.tree_active

    def on_screen(self, t: Tracked) -> bool:
        return t.id in self.focus or t.id in self.tree_active

    def is_background(self, t: Tracked) -> bool:
        """Off screen and watched by sweeps: its counters can wait (Cadence.background_factor)."""
        return self.sweep_active and t.sweepable and not self.on_screen(t)

    def priority(self, t: Tracked) -> int:
        if t.urgent or t.id == self.selected:
            return prio.URGENT
        if self.on_screen(t):
            return prio.FOCUS
        if t.id in self.catching_up:
            return prio.NORMAL
        return prio.BACKGROUND if self.is_background(t) else prio.NORMAL

    def set_focus(self, visible: Iterable[str], selected: str | None) -> set[str]:
        """Take the new focus set; returns the ids that just came on screen."""
        new = set(visible)
        if selected:
            new.add(selected)
        entering = new - self.focus
        self.focus, self.selected = new, selected
        return entering

    def stale_on_screen(self, t: Tracked, wall_now: float) -> bool:
        """A row just shown whose data is older than its own interval: refresh it now."""
        due = self.settings.cadence.base_interval(t.status.status if t.status else None, 0)
        return t.last_ok_at is None or wall_now - t.last_ok_at > due

    # -- how often -------------------------------------------------------------------

    def running_for(self, t: Tracked) -> float:
        return self.clock() - t.running_since if t.running_since is not None else 0.0

    def note_success(self) -> None:
        self.last_success_at = self.clock()

    def next_delay(self, t: Tracked) -> float | None:
        """Seconds until `t`'s next `/status` poll; None: never again (unless woken)."""
        if t.not_found:
            return None
        cadence = self.settings.cadence
        status = t.status.status if t.status else None
        running_for = self.running_for(t)
        if t.failures:
            delay = cadence.error_delay(t.failures, t.retry_after, self.rng)
            if t.retry_after is None and self.clock() - self.last_success_at < cadence.error_base:
                # Other requests are being answered right now: this session's trouble is
                # passing (a dropped connection, one bad gateway), not an outage, and backing
                # off past its usual interval would only delay its recovery. A Retry-After,
                # or a server failing everything, still gets the full backoff.
                delay = min(delay, cadence.base_interval(status, running_for))
            return delay
        if t.status is not None and t.status.terminal:
            return cadence.final_fetch if t.final_left else None
        background = self.is_background(t)
        interval = cadence.interval(status, running_for, background=background, rng=self.rng)
        # Counters never read (a status from a list page only) are read at the first
        # chance the budget gives; after that, at the pace it affords.
        floor = self.background_floor() if background and t.last_ok_at is not None else 0.0
        if interval is not None and floor > interval:
            interval = floor * (1.0 + cadence.jitter * (2.0 * self.rng.random() - 1.0))
        return interval

    def background_floor(self) -> float:
        """The shortest background interval the request budget affords (see BACKGROUND_SHARE)."""
        return self.background_count / (self.settings.max_rps * BACKGROUND_SHARE)

    def expected(self, t: Tracked) -> float:
        """Seconds between good answers this session should see, when all goes well."""
        cadence = self.settings.cadence
        status = t.status.status if t.status else None
        base = cadence.base_interval(status, self.running_for(t))
        if t.id in self.long_polling:
            base = max(base, float(self.settings.long_poll_wait))
        elif self.is_background(t):
            base = min(base * cadence.background_factor, max(cadence.background_max, base))
            base = max(base, self.background_floor())
        return base

    def sweep_every(self, candidates: Iterable[Tracked]) -> float:
        """A sweep stands in for its candidates' own polls, so it need not come more often
        than the quickest of them would: every 3 s while one has run under ten minutes,
        more slowly once all are long runs or waiting on someone."""
        quickest = min(
            (self.settings.cadence.base_interval(t.status.status if t.status else None,
                                                 self.running_for(t)) for t in candidates),
            default=self.settings.sweep_interval,
        )
        return max(self.settings.sweep_interval, quickest)

    def sweep_pause(self, every: float) -> float:
        """The wait before the next sweep: `every`, jittered ±10 %."""
        return every * (0.9 + 0.2 * self.rng.random())

    # -- long-polls ------------------------------------------------------------------

    def wants_long_poll(self, t: Tracked, *, followed: bool) -> bool:
        """Follow `t` by `/changes` long-polls rather than `/status` polls (`followed`: its
        trajectory is on screen)."""
        s = self.settings
        if (
            not s.long_poll or t.long_poll_failed or t.failures or t.not_found or not t.info_loaded
            or t.status is None or t.status.terminal
            or not (followed or self.on_screen(t))
            or not pacing.may_long_poll(t, self.clock())
        ):
            return False
        # Followed sessions (a handful: what a person reads) always get their live feed.
        return followed or t.id in self.long_polling or len(self.long_polling) < s.long_poll_max

    def long_poll_pause(self, t: Tracked) -> float:
        """Seconds before `t`'s next long-poll may start (pacing.py): 0 means now."""
        return pacing.pause_before(t, self.clock())

    def status_poll_due(self, t: Tracked) -> bool:
        """A long-polled session still needs a `/status` now and then: only it names children."""
        return self.clock() - t.status_polled_at >= self.settings.long_poll_status_every
