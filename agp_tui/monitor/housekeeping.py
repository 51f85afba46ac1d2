"""The engine's one periodic task: quota, watchlist sync and stale checks, each when due.

It sleeps until the earliest of them is due, so an idle engine (everything finished) costs
no CPU, which matters on shared boxes; a session starting to fail wakes it early.
"""

from __future__ import annotations

import logging

from agp_tui.monitor.core import Core, wait_or_timeout
from agp_tui.monitor.events import WatchlistChanged
from agp_tui.monitor.watchlist import Watchlist

log = logging.getLogger(__name__)

# A timer fires up to the loop's clock resolution early: a job due within this is due now,
# or the task would wake, find nothing due, and ask for a timer that fires at once, forever
# on a loop whose clock only moves when nothing is ready (a fast-forwarding test loop).
EARLY = 1e-3


class Housekeeping:
    def __init__(self, core: Core, watchlist: Watchlist | None) -> None:
        self.core = core
        self.watchlist = watchlist

    async def run(self) -> None:
        core, link = self.core, self.core.link
        s = core.settings
        next_quota = next_sync = next_fresh = 0.0
        while True:
            now = core.clock() + EARLY
            if now >= next_quota and link.auth_ok.is_set():
                next_quota = now + s.quota_interval
                core.spawn(link.refresh_quota())
            if self.watchlist is not None and now >= next_sync:
                next_sync = now + s.watchlist_sync_interval
                self.sync_watchlist()
            troubled = bool(link.failing) or link.failing_since is not None
            polling = False
            if troubled or now >= next_fresh:
                next_fresh = now + s.stale_check_interval
                polling = link.check_stale()
            wake_at = next_quota if link.auth_ok.is_set() else now + s.quota_interval
            if self.watchlist is not None:
                wake_at = min(wake_at, next_sync)
            if troubled:
                wake_at = min(wake_at, now + s.housekeeping_interval)
            elif polling:  # nothing polls (all settled): no freshness to watch, no wake-ups
                wake_at = min(wake_at, next_fresh)
            link.trouble.clear()
            await wait_or_timeout(link.trouble, max(wake_at - core.clock(), 0.0))

    def sync_watchlist(self) -> None:
        """Another instance edited the watchlist file: follow its additions, removals, labels
        and pins. The poll is one `stat` of the file; it is read only when that changed."""
        assert self.watchlist is not None
        core, store = self.core, self.core.store
        try:
            changed = self.watchlist.reload_if_changed()
        except Exception as exc:  # a bad file on disk must not stop the polling
            log.warning("watchlist reload failed: %s", exc)
            return
        if not changed:
            return
        entries = self.watchlist.entries()
        position = {e.id: i for i, e in enumerate(entries)}
        watched = set(store.order)
        added = [e.id for e in entries if e.id not in watched]
        removed = [sid for sid in store.order if sid not in position]
        relabelled: list[str] = []
        for sid in removed:
            core.poller.unwatch(sid)
        for entry in entries:
            t = store.get(entry.id)
            if t is None or entry.id not in watched:
                t = store.track(entry.id, watched=True)
                t.added_at = entry.added_at or core.wall()
                core.poller.ensure_task(t)
            elif (t.label, t.pinned) != (entry.label, entry.pinned):
                relabelled.append(entry.id)
            t.label, t.pinned = entry.label, entry.pinned
        store.order.sort(key=position.__getitem__)
        if added or removed or relabelled:
            core.emit(WatchlistChanged(tuple(added), tuple(removed), tuple(relabelled)))
