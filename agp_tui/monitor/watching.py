"""The watched sessions and the watchlist file behind them (when there is one).

Adding and removing go through the file first, so a dashboard and a scripted `agp-tui add`
on the same file never undo each other; what the file answers is what gets tracked. Another
instance's edits are followed by `sync`, which the housekeeping task calls when due.
Without a file (`agp-tui status ID...`, benchmarks) the watched set lives in memory only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from agp_tui.api.ids import normalize_session_id
from agp_tui.monitor.core import Core
from agp_tui.monitor.events import WatchlistChanged
from agp_tui.monitor.watchlist import Watchlist

log = logging.getLogger(__name__)


class Watching:
    def __init__(self, core: Core, watchlist: Watchlist | None) -> None:
        self.core = core
        self.watchlist = watchlist

    def load(self, ids: Iterable[str] = ()) -> None:
        """At start: the file's entries, then `ids` (watched in memory only)."""
        store, wall = self.core.store, self.core.wall
        if self.watchlist is not None:
            for entry in self.watchlist.load():
                t = store.track(entry.id, watched=True)
                t.label, t.pinned, t.added_at = entry.label, entry.pinned, entry.added_at
        for sid in ids:
            store.track(normalize_session_id(sid), watched=True).added_at = wall()

    def add(self, ids: Iterable[str], *, label: str | None = None) -> list[str]:
        """Watch these ids (persisted when there is a watchlist); returns the new ones."""
        core = self.core
        wanted = [normalize_session_id(s) for s in ids]
        if self.watchlist is not None:
            added = self.watchlist.add(wanted, label=label)
        else:
            added = list(dict.fromkeys(s for s in wanted if s not in core.store.order))
        for sid in added:
            t = core.store.track(sid, watched=True)
            t.label, t.added_at = label, core.wall()
            t.urgent = True  # the user just asked for it: its first poll goes first
            core.poller.ensure_task(t)
        if added:
            core.emit(WatchlistChanged(added=tuple(added)))
        return added

    def remove(self, ids: Iterable[str]) -> list[str]:
        core = self.core
        wanted = [normalize_session_id(s) for s in ids]
        if self.watchlist is not None:
            removed = self.watchlist.remove(wanted)
        else:
            removed = [s for s in wanted if s in core.store.order]
        for sid in removed:
            core.poller.unwatch(sid)
        if removed:
            core.emit(WatchlistChanged(removed=tuple(removed)))
        return removed

    def sync(self) -> None:
        """Another instance edited the watchlist file: follow its additions, removals, labels
        and pins. The poll is one `stat` of the file; it is read only when that changed."""
        if self.watchlist is None:
            return
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
