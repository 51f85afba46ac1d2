"""What a good answer about a session does to its record: status, counters, history, and
the events subscribers get. `/status`, a `/changes` page and a sweep's listing all land here."""

from __future__ import annotations

import math

from agp_tui.api.models import Changes, ModelUsage, SessionStatus
from agp_tui.api.status import PENDING, QUEUED, RUNNING
from agp_tui.monitor.core import Core
from agp_tui.monitor.events import SessionRecovered, StatusChanged, UsageChanged
from agp_tui.monitor.tracked import Tracked


class Answers:
    def __init__(self, core: Core) -> None:
        self.core = core

    def apply_status(self, t: Tracked, st: SessionStatus) -> None:
        """A status the server just gave for `t` (a poll, or a `/changes` page)."""
        core = self.core
        now = core.wall()
        core.link.note_success(now)
        old = t.status
        core.link.failing.discard(t.id)
        self.confirmed(t, now)
        self.set_status(t, st, now)
        if old is not None and old.status == st.status and st.terminal and t.final_left:
            t.final_left -= 1
        if st.terminal and t.finished_at is None and not t.info_loaded:
            # Just found finished: the Session fetched next carries `finished_at`, and the
            # growth this poll saw is placed before it then, not at our later `now`.
            moved = False
        else:
            moved = t.history.observe(self._usage_time(t, st, now), st.usage_per_model,
                                      grew_since=self._grew_since(t, st))
        if moved or (old is not None and old.steps != st.steps):
            t.last_change_at = now
            total = sum(u.total_tokens for u in st.usage_per_model)
            core.emit(UsageChanged(t.id, st.steps, total))
        before = old.subagent_session_ids if old is not None else ()
        if before != st.subagent_session_ids:  # emptied too: vanished children are forgotten
            cap = core.settings.max_children
            core.trees.on_children(t, before[:cap], st.subagent_session_ids[:cap])
        core.long_poller.maybe_fetch_cost(t)

    def apply_changes(self, t: Tracked, ch: Changes) -> None:
        """A `/changes` answer as a status: counters from its metrics, children kept."""
        old = t.status
        old_usage = {u.name: u for u in old.usage_per_model} if old else {}
        usage: list[ModelUsage] = []
        for c in ch.metrics.cost_per_model:
            u = ModelUsage(c.name, c.input_tokens, c.output_tokens, c.reasoning_tokens)
            prev = old_usage.pop(c.name, None)
            # Docs examples omit per-model token fields at times: never let a missing
            # field read as counters going down.
            usage.append(prev if prev is not None and u.total_tokens < prev.total_tokens else u)
        usage.extend(old_usage.values())
        st = SessionStatus(
            status=ch.status, error=ch.error, error_code=ch.error_code, outcome=ch.outcome,
            steps=max(ch.metrics.steps, old.steps if old else 0), usage_per_model=tuple(usage),
            subagent_session_ids=old.subagent_session_ids if old else (),
        )
        t.cost, t.cost_at = ch.metrics.total_cost, self.core.wall()
        # /changes carries the times too: a finish seen here places the last growth before it.
        t.started_at = ch.started_at or t.started_at
        t.finished_at = ch.finished_at or t.finished_at
        self.apply_status(t, st)

    def confirmed(self, t: Tracked, now: float) -> None:
        """A good answer about `t`: it is fresh, and whatever was wrong with it is over."""
        if t.failures or t.not_found or t.stale:
            if t.stale and t.watched:
                # One fewer (the stale check recounts them all): a recount here was a pass
                # over every record per recovery, most of the CPU at 10,000 sessions.
                self.core.link.stale_count = max(self.core.link.stale_count - 1, 0)
            t.failures, t.retry_after, t.not_found, t.stale = 0, None, False, False
            t.error_kind = t.error_message = None
            self.core.emit(SessionRecovered(t.id))
        t.last_ok_at = now

    def set_status(self, t: Tracked, st: SessionStatus, now: float) -> None:
        """Take a new status object; on a change of status, emit it and adjust the schedule."""
        core = self.core
        old = t.status
        t.status = st
        if old is not None and old.status == st.status:
            return
        if not st.terminal:
            core.sweeper.wanted.set()
        if st.status == RUNNING:
            t.running_since = core.clock()
        if st.terminal:
            # One more fetch shortly after the first terminal sight catches final usage.
            t.final_left = 1 if old is not None and not old.terminal else 0
        if st.terminal and old is not None and t.id in core.follower:
            core.spawn(core.follower.drain(t))  # the last events and the answer
        if old is not None and (st.terminal or old.status in (PENDING, QUEUED)):
            # started_at / finished_at only come with the full Session: fetch it next.
            t.info_loaded = False
        t.last_change_at = now
        core.emit(StatusChanged(t.id, old.status if old else None, st.status, now))

    @staticmethod
    def _grew_since(t: Tracked, st: SessionStatus) -> float | None:
        """Where a session's first-seen counters are spread from (as an estimate), if at all.

        A session first seen running used its tokens since it started: spreading them over
        that span draws its likely pace, marked as an estimate. One first seen after it
        settled did all its work before we looked: a flat baseline, no invented activity.
        """
        if t.history.last_observed_at is not None or st.terminal or t.started_at is None:
            return None
        return t.started_at.timestamp()

    @staticmethod
    def _usage_time(t: Tracked, st: SessionStatus, now: float) -> float:
        """When the counters of `st` stopped growing: `now`, or a settled session's finish.

        Growth seen on the poll that found a session finished happened before `finished_at`,
        never after it. Clamped to [last observation, now] so a skewed server clock can
        neither reorder observations nor place work in our future.
        """
        if not st.terminal or t.finished_at is None:
            return now
        last = t.history.last_observed_at
        return min(now, max(t.finished_at.timestamp(), last if last is not None else -math.inf))
