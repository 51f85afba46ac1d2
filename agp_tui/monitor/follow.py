"""Auto-follow: put new sessions that match config rules on the watchlist, without a keypress.

Every `interval` seconds each rule lists sessions through `GET /sessions` with its filters
(agent, group_id, status) and a `created_after` bound, one or a few pages at most, and hands
the ids it has not seen before to `add` (the engine's). What a rule considers:

- a rule without `status` follows *new* sessions: `created_after` is a cursor that moves to
  the newest creation time seen (oldest first, so a burst larger than a page is caught up
  over the next scans, not skipped);
- a rule with `status` (e.g. every running session) looks at every session created since
  auto-follow started, newest first, because a session's status changes after creation:
  one that is pending at one scan and running at the next is still found.

An id is offered to `add` once: a session the user removed is not put back. Failures are
recorded (`last_error`) and retried at the next interval; they never stop the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from agp_tui.api.errors import AgpError
from agp_tui.api.models import SessionSummary

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 30.0  # seconds between scans
DEFAULT_LIMIT = 100  # sessions read per rule per scan (one page of the API's largest size)
OVERLAP = 5.0  # seconds each cursor re-reads, for clock skew and same-instant creations


class FollowRule(Protocol):
    """What a rule says; every field given must match (the config's rules satisfy this)."""

    @property
    def agent(self) -> str | None: ...

    @property
    def group_id(self) -> str | None: ...

    @property
    def status(self) -> tuple[str, ...]: ...


class SessionLister(Protocol):
    """The part of `AgpClient` auto-follow uses."""

    def iter_sessions(
        self, *, limit: int | None = None, size: int = ..., **filters: Any
    ) -> AsyncIterator[SessionSummary]: ...


@dataclass(frozen=True, slots=True)
class Rule:
    """A plain rule, for callers that do not come through the config file."""

    agent: str | None = None
    group_id: str | None = None
    status: tuple[str, ...] = ()


def describe_rule(rule: FollowRule) -> str:
    parts = []
    if rule.agent:
        parts.append(f"agent {rule.agent}")
    if rule.group_id:
        parts.append(f"group {rule.group_id}")
    if rule.status:
        parts.append("status " + "/".join(rule.status))
    return ", ".join(parts) or "every session"


def matches(rule: FollowRule, summary: SessionSummary) -> bool:
    """The checks a list item can be held to locally (summaries carry no group_id)."""
    if rule.agent is not None and summary.agent != rule.agent:
        return False
    return not rule.status or summary.status in rule.status


class AutoFollow:
    def __init__(
        self,
        client: SessionLister,
        add: Callable[[list[str]], list[str]],
        rules: Sequence[FollowRule],
        interval: float = DEFAULT_INTERVAL,
        *,
        limit: int = DEFAULT_LIMIT,
        wall: Callable[[], float] = time.time,
        on_added: Callable[[list[str]], None] | None = None,
        on_error: Callable[[AgpError], None] | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("auto-follow interval must be > 0")
        self._client = client
        self._add = add
        self.rules = tuple(rules)
        self.interval = interval
        self.limit = max(1, limit)
        self._wall = wall
        self._on_added = on_added
        self._on_error = on_error
        self._since: float | None = None  # wall time auto-follow started, minus the overlap
        self._cursors: list[float] = []  # per rule: newest creation time seen (status-less rules)
        self._offered: dict[str, float] = {}  # id -> creation time, for ids handed to `add`
        self._task: asyncio.Task[None] | None = None
        self.scans = 0
        self.last_error: AgpError | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def _begin(self) -> None:
        if self._since is None:
            self._since = self._wall() - OVERLAP
            self._cursors = [self._since] * len(self.rules)

    def start(self) -> None:
        """Scan now, then every `interval` seconds, until `stop()`."""
        if self.running or not self.rules:
            return
        self._begin()
        self._task = asyncio.create_task(self._loop(), name="auto-follow")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            try:
                added = await self.scan_once()
                if added and self._on_added is not None:
                    self._on_added(added)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug here must not end following for the session
                log.exception("auto-follow scan failed")
            await asyncio.sleep(self.interval)

    async def scan_once(self) -> list[str]:
        """One pass over every rule; returns the ids `add` reported as newly watched."""
        self._begin()
        self.scans += 1
        found: dict[str, float] = {}
        for index, rule in enumerate(self.rules):
            try:
                found.update(await self._scan_rule(index, rule))
            except AgpError as exc:
                self.last_error = exc
                if self._on_error is not None:
                    self._on_error(exc)
                continue
            self.last_error = None
        fresh = [sid for sid in found if sid not in self._offered]
        for sid in fresh:
            self._offered[sid] = found[sid]
        self._prune()
        return self._add(fresh) if fresh else []

    async def _scan_rule(self, index: int, rule: FollowRule) -> dict[str, float]:
        assert self._since is not None
        follows_status = bool(rule.status)
        after = self._since if follows_status else self._cursors[index]
        filters: dict[str, Any] = {
            "created_after": datetime.fromtimestamp(after, UTC),
            "sort": "-created_at" if follows_status else "created_at",
        }
        if rule.agent is not None:
            filters["agent"] = (rule.agent,)
        if rule.group_id is not None:
            filters["group_id"] = rule.group_id
        if rule.status:
            filters["status"] = tuple(rule.status)
        out: dict[str, float] = {}
        newest = self._cursors[index]
        async for item in self._client.iter_sessions(limit=self.limit, size=self.limit, **filters):
            created = item.created_at.timestamp() if item.created_at is not None else self._wall()
            newest = max(newest, created)
            if matches(rule, item):
                out[item.id] = created
        if not follows_status:
            # Re-read a few seconds each time: creations in the same instant, clock skew.
            self._cursors[index] = max(self._cursors[index], newest - OVERLAP)
        return out

    def _prune(self) -> None:
        """Forget offered ids no scan can list again (older than every lower bound)."""
        if self._since is None or any(r.status for r in self.rules):
            return  # status rules re-read everything since the start: keep them all
        floor = min(self._cursors, default=self._since) - OVERLAP
        for sid in [s for s, created in self._offered.items() if created < floor]:
            del self._offered[sid]
