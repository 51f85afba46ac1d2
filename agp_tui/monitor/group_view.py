"""A followed group as rows and one aggregate line: what the dashboard shows of a `GroupWatch`.

`GroupRows` has the three reads a session table makes of the engine (`watched_ids`,
`view`, `history`), so the group screen is the main table itself over the members: the
same columns, sorting and filters. A member's status is true (list pages); its steps and
tokens only once read (`figures_known`); totals say how many were read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agp_tui.api.models import SessionStatus, UserMessage
from agp_tui.monitor.groups import GroupWatch, Member
from agp_tui.monitor.history import TokenHistory
from agp_tui.monitor.view import SessionView


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def member_view(m: Member) -> SessionView:
    known = m.steps is not None
    status = SessionStatus(m.status, steps=m.steps or 0, usage_per_model=m.usage)
    return SessionView(
        id=m.id, watched=False, status=status, agent=m.agent,
        first_message=UserMessage(message=m.message) if m.message else None,
        created_at=_time(m.created), finished_at=_time(m.finished), polling=False,
        figures_known=known, cost=m.cost,
    )


class GroupRows:
    """The members of one followed query, newest first, as a session table reads them."""

    def __init__(self, watch: GroupWatch) -> None:
        self.watch = watch
        self._order: list[str] = []
        self._count = -1
        # Views by member, rebuilt only when what they show changed: a table of 10,000
        # members asks for every view on each full pass.
        self._views: dict[str, tuple[tuple[object, ...], SessionView]] = {}

    def watched_ids(self) -> list[str]:
        members = self.watch.members
        if len(members) != self._count:  # members are only ever added: the count says it all
            self._order = list(reversed(members))  # found oldest first (list pages by creation)
            self._count = len(members)
        return self._order

    def view(self, session_id: str) -> SessionView | None:
        m = self.watch.members.get(session_id)
        if m is None:
            return None
        stamp = (m.status, m.steps, m.finished, m.cost, m.usage)  # usage: same object unless re-read
        cached = self._views.get(session_id)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        view = member_view(m)
        self._views[session_id] = (stamp, view)
        return view

    def history(self, session_id: str) -> TokenHistory | None:
        return None


THROUGHPUT_MINUTES = 15  # the group's sparkline: members ended in each of the last minutes


@dataclass(frozen=True, slots=True)
class Aggregate:
    """One line's worth of a group: counts by status, what the members read add up to, and
    how many members ended in each recent minute."""

    key: str
    members: int
    counts: tuple[tuple[str, int], ...]  # by count, largest first
    read: int  # members whose steps and tokens are known
    steps: int
    tokens: int
    per_model: tuple[tuple[str, int], ...]  # tokens by model, largest first
    bootstrapped: bool
    truncated: bool
    error: str | None
    cost: float = 0.0  # USD over the `priced` members
    priced: int = 0
    unpriced: int = 0  # read, but the API has no price for one of their models
    ended_per_minute: tuple[int, ...] = ()  # oldest first, the current minute last

    @property
    def estimate(self) -> bool:
        """Steps and tokens cover only some members: a lower bound, shown with `≥`."""
        return self.read < self.members


def aggregate(watch: GroupWatch, now: float) -> Aggregate:
    """The group's line at wall-clock `now` (epoch seconds: the throughput's last minute)."""
    totals = watch.totals()
    return Aggregate(
        key=watch.key, members=len(watch.members),
        counts=tuple(sorted(watch.counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        read=totals.read, steps=totals.steps, tokens=sum(totals.tokens.values()),
        per_model=tuple(totals.tokens.most_common()), bootstrapped=watch.bootstrapped,
        truncated=watch.truncated, error=watch.error, cost=totals.cost, priced=totals.priced,
        unpriced=totals.unpriced, ended_per_minute=watch.throughput(now, THROUGHPUT_MINUTES),
    )
