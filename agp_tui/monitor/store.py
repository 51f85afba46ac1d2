"""The sessions the engine knows: their records, the watchlist order, and read-only views.

Only the engine's parts mutate records, on the engine's loop; everything a renderer reads
goes through `view`, `history`, `children_of` and `rollup`, which copy nothing large.
"""

from __future__ import annotations

from dataclasses import replace

from agp_tui.api.models import SessionStatus
from agp_tui.monitor.history import TokenHistory
from agp_tui.monitor.rollup import rollup
from agp_tui.monitor.settings import EngineSettings
from agp_tui.monitor.tracked import Tracked
from agp_tui.monitor.view import Rollup, SessionView


class SessionStore:
    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings
        self.tracked: dict[str, Tracked] = {}
        self.order: list[str] = []  # watched ids in watchlist order

    def get(self, session_id: str) -> Tracked | None:
        return self.tracked.get(session_id)

    def __contains__(self, session_id: object) -> bool:
        return session_id in self.tracked

    def track(self, sid: str, *, watched: bool, parent: str | None = None) -> Tracked:
        """The record of `sid`, created if new; `watched` puts it on the watchlist order."""
        t = self.tracked.get(sid)
        if t is None:
            hist = TokenHistory(self.settings.history_buckets, self.settings.bucket_seconds)
            t = self.tracked[sid] = Tracked(sid, hist, watched=watched)
        if parent and not t.parent_id:
            t.parent_id = parent
        if watched and not t.watched:
            t.watched = True
        if watched and sid not in self.order:
            self.order.append(sid)
        return t

    def unwatch(self, sid: str) -> Tracked | None:
        """Off the watchlist; the record stays while a tree still uses it (see Engine)."""
        if sid in self.order:
            self.order.remove(sid)
        t = self.tracked.get(sid)
        if t is not None:
            t.watched = False
        return t

    def drop(self, sid: str) -> None:
        self.tracked.pop(sid, None)

    def stale_count(self) -> int:
        """Watched sessions marked stale (the header's "N STALE")."""
        return sum(1 for t in self.tracked.values() if t.stale and t.watched)

    # -- reading -----------------------------------------------------------------------

    def view(self, session_id: str, *, auth_error: str | None = None) -> SessionView | None:
        """A snapshot of one session; `auth_error`: the key is refused right now (why)."""
        t = self.tracked.get(session_id)
        if t is None:
            return None
        view = t.view()
        if auth_error is not None and view.status is None and view.error_kind is None:
            # Polling waits for a working key in one place, so no row ever gets its own
            # error: say on each row never loaded why it is empty, not `loading` forever.
            view = replace(view, error_kind="AuthError", error_message=auth_error)
        return view

    def history(self, session_id: str) -> TokenHistory | None:
        t = self.tracked.get(session_id)
        return t.history if t else None

    def children_of(self, session_id: str) -> tuple[str, ...]:
        """The subagents tracked under a session: its first `max_children` (see more_children)."""
        t = self.tracked.get(session_id)
        return t.status.subagent_session_ids[: self.settings.max_children] if t and t.status else ()

    def more_children(self, session_id: str) -> int:
        """Subagents the server names beyond `max_children`: counted, never tracked."""
        t = self.tracked.get(session_id)
        count = len(t.status.subagent_session_ids) if t and t.status else 0
        return max(count - self.settings.max_children, 0)

    def rollup(self, root_id: str) -> Rollup:
        return rollup(root_id, self._status_of, self._cost_of)

    def _cost_of(self, session_id: str) -> float | None:
        t = self.tracked.get(session_id)
        return t.cost if t else None

    def _status_of(self, session_id: str) -> SessionStatus | None:
        t = self.tracked.get(session_id)
        return t.status if t else None
