"""Subagent trees: which sessions below an open tree (or every watched root, when children
are followed) are polled, and their labels from the list endpoint.

Children are tracked when their parent's status names them (up to `max_children`, at most
`max_tree_depth` levels down), polled only while a tree that reaches them is open, and
forgotten with what hangs below them once their parent stops naming them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from agp_tui.api.errors import AgpError
from agp_tui.api.models import SessionSummary
from agp_tui.monitor import budget as prio
from agp_tui.monitor.core import Core
from agp_tui.monitor.events import ChildrenFound, InfoLoaded
from agp_tui.monitor.rollup import walk_tree
from agp_tui.monitor.tracked import Tracked

log = logging.getLogger(__name__)


class Trees:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.roots: dict[str, int] = {}  # open tree roots, reference-counted
        self.listings: dict[str, asyncio.Task[None]] = {}  # parent id → its children's listing
        self.follow_children = core.settings.follow_children

    def open(self, root_id: str) -> None:
        self.roots[root_id] = self.roots.get(root_id, 0) + 1
        # A root not on the watchlist (a followed group's member) is polled while its tree is open.
        self.core.store.track(root_id, watched=False)
        self.update_active()
        t = self.core.store.get(root_id)
        if t is not None and t.status and t.status.subagent_session_ids:
            self._start_listing(t)

    def close(self, root_id: str) -> None:
        count = self.roots.get(root_id, 0) - 1
        if count > 0:
            self.roots[root_id] = count
        else:
            self.roots.pop(root_id, None)
        self.update_active()
        t = self.core.store.get(root_id)
        if count <= 0 and t is not None and not t.watched and t.parent_id is None:
            self.core.poller.unwatch(root_id)  # forgotten unless another tree still reaches it

    def set_follow_children(self, on: bool) -> None:
        self.follow_children = on
        self.update_active()

    def update_active(self) -> None:
        """Recompute every session an open tree reaches; start their polls, stop listings."""
        core = self.core
        roots = set(self.roots)
        if self.follow_children:
            roots.update(core.store.order)
        active: set[str] = set()
        for root in roots:
            active.update(walk_tree(root, core.store.children_of, max_depth=core.settings.max_tree_depth))
        core.sched.tree_active = active
        for parent_id, task in list(self.listings.items()):
            if parent_id not in active:
                # Its tree closed: nobody will read these labels, stop paging for them.
                task.cancel()
                del self.listings[parent_id]
                parent = core.store.get(parent_id)
                if parent is not None:
                    parent.children_listed = frozenset()
        for sid in active:
            t = core.store.get(sid)
            if t is not None:
                core.poller.ensure_task(t)
            # Children not tracked yet are created when their parent's status names them.

    def on_children(self, parent: Tracked, before: tuple[str, ...], child_ids: tuple[str, ...]) -> None:
        """A parent's (capped) subagent list changed from `before` to `child_ids`."""
        store = self.core.store
        new = tuple(c for c in child_ids if (k := store.get(c)) is None or k.parent_id is None)
        for cid in child_ids:
            store.track(cid, watched=False, parent=parent.id)
        self.update_active()
        gone = set(before) - set(child_ids)
        if gone:
            self._forget_subtrees(parent.id, gone)
        more = store.more_children(parent.id)
        if new or (more and not before):
            self.core.emit(ChildrenFound(parent.id, new, more=more))
        if parent.id in self.core.sched.tree_active and set(child_ids) - parent.children_listed:
            self._start_listing(parent)

    def _forget_subtrees(self, parent_id: str, gone: set[str]) -> None:
        """Stop tracking subagents their parent no longer lists, and what hangs below them.

        Kept: watched sessions, and whatever an open tree still reaches another way.
        """
        core, store = self.core, self.core.store
        todo = [c for c in gone if (t := store.get(c)) is not None and t.parent_id == parent_id]
        while todo:
            sid = todo.pop()
            t = store.get(sid)
            if t is None or t.watched or sid in core.sched.tree_active:
                continue
            todo.extend(c for c in store.children_of(sid)
                        if (k := store.get(c)) is not None and k.parent_id == sid)
            if t.task:
                t.task.cancel()
            listing = self.listings.pop(sid, None)
            if listing is not None:
                listing.cancel()
            store.drop(sid)
            core.link.failing.discard(sid)
            core.sched.long_polling.discard(sid)
            core.sched.focus.discard(sid)

    def _start_listing(self, parent: Tracked) -> None:
        """List `parent`'s children for their labels, once at a time per parent."""
        running = self.listings.get(parent.id)
        if running is not None and not running.done():
            return
        task = self.core.spawn(self._list_children(parent))
        self.listings[parent.id] = task
        task.add_done_callback(
            lambda done: self.listings.pop(parent.id, None)
            if self.listings.get(parent.id) is done else None)

    @contextlib.asynccontextmanager
    async def _page_slot(self) -> AsyncIterator[None]:
        """Each page of a listing waits its turn in the request budget, like any request."""
        async with self.core.budget.slot(prio.FOCUS, purpose="children"):
            yield

    async def _list_children(self, parent: Tracked) -> None:
        """Agent names for children come from the list endpoint, through the client's pager.

        The pager trusts no server `total`: a page with nothing new ends the listing, and so
        does the client's page cap (`max_pages`). Only children the parent names (up to
        `max_children`) are tracked from it; closing the tree cancels the listing.
        """
        core = self.core
        wanted = frozenset(core.store.children_of(parent.id))
        if not wanted or wanted <= parent.children_listed:
            return
        parent.children_listed = wanted
        items: list[SessionSummary] = []
        seen: set[str] = set()
        try:
            pager = core.client.iter_sessions(parent_session_id=parent.id, size=100,
                                              page_slot=self._page_slot)
            async with contextlib.aclosing(pager):
                async for summary in pager:
                    seen.add(summary.id)
                    if summary.id in wanted:
                        items.append(summary)
                    if wanted <= seen:
                        break
        except AgpError as exc:
            parent.children_listed = frozenset()  # try again on the next change
            log.debug("listing children of %s failed: %s", parent.id, exc)
            return
        for summary in items:
            child = core.store.track(summary.id, watched=False, parent=parent.id)
            child.apply_info(summary)
            core.emit(InfoLoaded(child.id))
