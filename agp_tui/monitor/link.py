"""The engine's link to the API as a whole: live, stale, offline or refused key.

One 401 pauses every poll in a single auth state (never N row errors) while one probe at
a time checks the key; transport failures in a row make the link offline; a link whose
good answers stopped for `stale_after` is stale, and so is any session whose data is older
than its polling allows (`check_stale`, run by the housekeeping task).
"""

from __future__ import annotations

import asyncio

from agp_tui.api.errors import AgpError, AuthError, NotFound, Unreachable
from agp_tui.api.models import Quota
from agp_tui.monitor import budget as prio
from agp_tui.monitor.core import Core
from agp_tui.monitor.events import Connection, ConnectionChanged, QuotaUpdated, Stale


class Link:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.connection = Connection.CONNECTING
        self.detail: str | None = None
        self.quota: Quota | None = None
        self.auth_ok = asyncio.Event()  # cleared while the key is refused: polls wait on it
        self.auth_ok.set()
        self.auth_probe: asyncio.Task[None] | None = None
        self.failing: set[str] = set()  # sessions whose last poll failed (not 404)
        self.failing_since: float | None = None  # wall time the current trouble began
        self.last_success: float | None = None  # wall time of the last good answer
        self.transport_failures = 0
        self.stale_count = 0  # watched sessions marked stale (the header's "N STALE")
        self.trouble = asyncio.Event()  # set when a session starts failing: check staleness

    @property
    def auth_error(self) -> str | None:
        """Why the key is refused, while it is; None otherwise."""
        if self.connection is not Connection.AUTH_ERROR:
            return None
        return self.detail or "the API key was refused"

    def set_connection(self, state: Connection, detail: str | None = None) -> None:
        if (state, detail) != (self.connection, self.detail):
            self.connection, self.detail = state, detail
            self.core.emit(ConnectionChanged(state, detail))

    def note_success(self, now: float) -> None:
        self.last_success = now
        self.core.sched.note_success()
        self.transport_failures = 0
        self.failing_since = None
        if self.connection is not Connection.LIVE and self.auth_ok.is_set():
            outage = self.connection in (Connection.OFFLINE, Connection.STALE)
            self.set_connection(Connection.LIVE)
            if outage and self.failing:
                # The server is back: sessions still backing off from the outage (up to a
                # minute) poll now instead, paced by the request budget like any other poll.
                self.core.poller.refresh(list(self.failing))

    def note_failure(self, exc: AgpError) -> None:
        if isinstance(exc, NotFound):
            return  # the server answered: the link is fine
        if self.failing_since is None:
            self.failing_since = self.core.wall()
        if isinstance(exc, Unreachable):
            self.transport_failures += 1
            if self.transport_failures >= self.core.settings.offline_after:
                self.set_connection(Connection.OFFLINE, exc.message)

    def note_session_failing(self, session_id: str) -> None:
        if session_id not in self.failing:
            self.failing.add(session_id)
            self.trouble.set()  # stale checks run while anything fails

    def enter_auth_error(self, exc: AgpError) -> None:
        if self.auth_ok.is_set():
            self.auth_ok.clear()
            self.set_connection(Connection.AUTH_ERROR, exc.message)
            self.auth_probe = asyncio.create_task(self._probe_auth())

    def probe_now(self) -> None:
        """Refresh-now while the key is refused: check it again right away."""
        if not self.auth_ok.is_set() and self.auth_probe is not None:
            self.auth_probe.cancel()
            self.auth_probe = asyncio.create_task(self._probe_auth(delay=0.0))

    async def _probe_auth(self, delay: float | None = None) -> None:
        """While the key is refused, one request at a time checks whether it works again."""
        core = self.core
        wait = core.settings.auth_probe_interval if delay is None else delay
        while not self.auth_ok.is_set():
            await asyncio.sleep(wait)
            wait = core.settings.auth_probe_interval
            try:
                async with core.budget.slot(prio.URGENT, purpose="auth-probe"):
                    self.quota = await core.client.get_quota()
            except AgpError:  # refused again, or no answer: probe on
                continue
            self.auth_ok.set()
            self.set_connection(Connection.LIVE)
            core.emit(QuotaUpdated())

    async def refresh_quota(self) -> None:
        core = self.core
        try:
            async with core.budget.slot(prio.BACKGROUND, purpose="quota"):
                quota = await core.client.get_quota()
        except AgpError as exc:
            if isinstance(exc, AuthError) and exc.status == 401:
                self.enter_auth_error(exc)
            return
        self.note_success(core.wall())
        if quota != self.quota:
            self.quota = quota
            core.emit(QuotaUpdated())

    def check_stale(self) -> bool:
        """Mark sessions whose data is older than their polling allows; True if any polls.

        A failing session is stale `stale_after` seconds after its last good answer; one
        whose polls succeed is stale once its last good answer is `overdue_factor` of its
        own intervals old (never sooner than `stale_after`). Settled sessions are final
        data, never stale. The header counts the stale watched rows (`stale_count`).
        """
        core, sched = self.core, self.core.sched
        now = core.wall()
        s = core.settings
        polling = False
        for t in core.store.tracked.values():
            if not t.polling or not sched.is_active(t):
                continue  # cheapest tests first: this runs over every session
            polling = True
            if t.stale or t.not_found:
                continue
            since = t.last_ok_at if t.last_ok_at is not None else t.added_at
            if not since:
                continue
            allowed = s.stale_after
            if not t.failures:
                allowed = max(allowed, s.overdue_factor * sched.expected(t))
            if now - since >= allowed:
                t.stale = True
                core.emit(Stale(t.id, now - since))
        self.stale_count = core.store.stale_count()
        since_ok = self.last_success if self.last_success is not None else self.failing_since
        if (
            self.auth_ok.is_set() and self.failing_since is not None and since_ok is not None
            and self.connection is not Connection.OFFLINE and now - since_ok >= s.stale_after
        ):
            self.set_connection(Connection.STALE, f"no good answer for {now - since_ok:.0f}s")
        return polling
