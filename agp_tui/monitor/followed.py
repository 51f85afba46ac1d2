"""Followed queries: the engine's part that runs a `GroupWatch` per followed filter.

Each followed query gets its watch loop (list pages, in the engine's request budget at
background priority) and a detail loop of reads (`GroupWatch.read_details`: `/status`, or
`/changes` with the cost for a member that ended): the members on screen (the group
screen's visible rows, round-robin) at up to `group_focus_rps` a second, else members that
ended and were not read yet (their figures are final, so each is read once) at
`group_detail_rps`. Subscribers hear `GroupChanged` with the status changes of a tick.

A query followed with `persist` is kept in the watchlist file, and followed again when the
engine next starts; unfollowing it forgets it there too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING

from agp_tui.api.errors import AgpError
from agp_tui.api.query import SessionQuery
from agp_tui.api.status import is_terminal
from agp_tui.monitor import budget as prio
from agp_tui.monitor.events import GroupChanged
from agp_tui.monitor.groups import Change, GroupWatch

if TYPE_CHECKING:
    from agp_tui.monitor.core import Core
    from agp_tui.monitor.watchlist import Watchlist

log = logging.getLogger(__name__)


class Followed:
    def __init__(self, core: Core, watchlist: Watchlist | None = None) -> None:
        self.core = core
        self.watchlist = watchlist
        self._restored = False
        self.watches: dict[str, GroupWatch] = {}
        self._tasks: dict[str, list[asyncio.Task[None]]] = {}
        self._focus: dict[str, list[str]] = {}  # query key -> member ids on screen

    def follow(self, query: SessionQuery, *, persist: bool = False) -> GroupWatch:
        """`persist`: kept in the watchlist file (WatchlistError if it cannot be written)."""
        key = str(query)
        kept = persist and self.watchlist is not None
        if kept:
            assert self.watchlist is not None
            self.watchlist.add_follow(query)
        if key in self.watches:
            self.watches[key].kept |= kept
            return self.watches[key]
        settings = self.core.settings

        def changed(changes: list[Change]) -> None:
            self.core.emit(GroupChanged(key, tuple(changes)))

        watch = GroupWatch(self.core.client, query, slot=self._slot, on_change=changed,
                           interval=settings.group_interval, max_members=settings.group_max_members)
        watch.kept = kept
        self.watches[key] = watch
        if self.core.started:
            self.start(key)
        return watch

    def start(self, key: str | None = None) -> None:
        if key is None and not self._restored and self.watchlist is not None:
            self._restored = True
            now = self.core.wall()
            for text in self.watchlist.follows():  # read by Engine.start's load()
                self.follow(SessionQuery.parse(text, now)).kept = True  # canonical: parsed when read
        for k in [key] if key is not None else list(self.watches):
            if k not in self._tasks:
                watch = self.watches[k]
                self._tasks[k] = [self.core.spawn(watch.run()), self.core.spawn(self._details(watch))]

    def stopped(self) -> None:
        """The engine stopped (and cancelled the tasks): `start` runs the watches again."""
        self._tasks.clear()

    def unfollow(self, key: str) -> bool:
        """Stop following, then forget a kept filter (WatchlistError if that cannot be
        written: stopped all the same)."""
        watch = self.watches.pop(key, None)
        for task in self._tasks.pop(key, []):
            task.cancel()
        self._focus.pop(key, None)
        if self.watchlist is not None:
            self.watchlist.remove_follow(key)
        return watch is not None

    def set_focus(self, key: str, ids: Iterable[str]) -> None:
        if key in self.watches:
            self._focus[key] = list(ids)

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        async with self.core.budget.slot(prio.BACKGROUND, purpose="group"):
            yield

    async def _details(self, watch: GroupWatch) -> None:
        """Detail reads: the rows on screen at `group_focus_rps`, else members that ended at
        `group_detail_rps` (a whole group read in the background, slowly)."""
        settings = self.core.settings
        turn = 0
        focus: list[str] = []
        while True:
            await asyncio.sleep(1.0 / (settings.group_focus_rps if focus else settings.group_detail_rps))
            focus = [sid for sid in self._focus.get(watch.key, ())
                     if (m := watch.members.get(sid)) is not None and not m.final_read]
            sid: str | None = None
            if focus:
                sid, turn = focus[turn % len(focus)], turn + 1
            else:
                sid = next((m.id for m in watch.unread_finished()), None)
            if sid is None:
                continue
            try:
                await watch.read_details([sid])
                self.core.emit(GroupChanged(watch.key, (), read=(sid,)))
            except AgpError as exc:
                log.debug("group %s: reading %s: %s", watch.key, sid, exc)
                member = watch.members.get(sid)
                if member is not None and is_terminal(member.status):
                    member.final_read = True  # gone or refused: do not ask forever
