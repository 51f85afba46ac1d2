"""The engine's one periodic task: quota, watchlist sync (watching.py) and stale checks,
each when due.

It sleeps until the earliest of them is due, so an idle engine (everything finished) costs
no CPU, which matters on shared boxes; a session starting to fail wakes it early.
"""

from __future__ import annotations

from agp_tui.monitor.core import Core, wait_or_timeout
from agp_tui.monitor.watching import Watching

# A timer fires up to the loop's clock resolution early: a job due within this is due now,
# or the task would wake, find nothing due, and ask for a timer that fires at once, forever
# on a loop whose clock only moves when nothing is ready (a fast-forwarding test loop).
EARLY = 1e-3


class Housekeeping:
    def __init__(self, core: Core, watching: Watching) -> None:
        self.core = core
        self.watching = watching

    async def run(self) -> None:
        core, link = self.core, self.core.link
        s = core.settings
        next_quota = next_sync = next_fresh = 0.0
        while True:
            now = core.clock() + EARLY
            if now >= next_quota and link.auth_ok.is_set():
                next_quota = now + s.quota_interval
                core.spawn(link.refresh_quota())
            has_file = self.watching.watchlist is not None
            if has_file and now >= next_sync:
                next_sync = now + s.watchlist_sync_interval
                self.watching.sync()
            troubled = bool(link.failing) or link.failing_since is not None
            polling = False
            if troubled or now >= next_fresh:
                next_fresh = now + s.stale_check_interval
                polling = link.check_stale()
            wake_at = next_quota if link.auth_ok.is_set() else now + s.quota_interval
            if has_file:
                wake_at = min(wake_at, next_sync)
            if troubled:
                wake_at = min(wake_at, now + s.housekeeping_interval)
            elif polling:  # nothing polls (all settled): no freshness to watch, no wake-ups
                wake_at = min(wake_at, next_fresh)
            link.trouble.clear()
            await wait_or_timeout(link.trouble, max(wake_at - core.clock(), 0.0))
