"""The pure scheduler: priority, next delay, expected freshness and long-poll choice, from a
record, the focus set and a clock that only moves when a test moves it (no event loop)."""

from __future__ import annotations

import random

import pytest

from agp_tui.api.models import SessionStatus
from agp_tui.monitor import budget as prio
from agp_tui.monitor.cadence import Cadence
from agp_tui.monitor.history import TokenHistory
from agp_tui.monitor.scheduler import Scheduler
from agp_tui.monitor.settings import EngineSettings
from agp_tui.monitor.tracked import Tracked

CADENCE = Cadence(jitter=0.0)


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(**kw: object) -> tuple[Scheduler, ManualClock]:
    clock = ManualClock()
    settings = EngineSettings(**{"cadence": CADENCE, **kw})  # type: ignore[arg-type]
    return Scheduler(settings, clock, random.Random(1)), clock


def record(sid: str = "a", status: str | None = "running", *, watched: bool = True,
           info: bool = True) -> Tracked:
    t = Tracked(sid, TokenHistory(6, 10.0), watched=watched)
    if status is not None:
        t.status = SessionStatus(status=status)
    t.info_loaded = info
    return t


def test_priority_follows_what_is_on_screen() -> None:
    sched, _ = make()
    selected, shown, tree, off = record("sel"), record("shown"), record("tree"), record("off")
    sched.set_focus(["shown"], "sel")
    sched.tree_active = {"tree"}
    assert [sched.priority(t) for t in (selected, shown, tree, off)] == [
        prio.URGENT, prio.FOCUS, prio.FOCUS, prio.NORMAL]
    sched.sweep_active = True  # sweeps watch the off-screen one: its polls can wait
    assert sched.priority(off) == prio.BACKGROUND
    off.sweepable = False
    assert sched.priority(off) == prio.NORMAL
    off.urgent = True
    assert sched.priority(off) == prio.URGENT


def test_set_focus_returns_only_the_rows_that_came_on_screen() -> None:
    sched, _ = make()
    assert sched.set_focus(["a", "b"], "c") == {"a", "b", "c"}
    assert sched.set_focus(["b", "d"], None) == {"d"}
    assert sched.focus == {"b", "d"} and sched.selected is None


def test_next_delay_by_state() -> None:
    sched, clock = make()
    t = record(status="pending")
    assert sched.next_delay(t) == 2.0
    t.status, t.running_since = SessionStatus(status="running"), clock.now
    assert sched.next_delay(t) == 3.0
    clock.now += 900.0  # half way up the slow ramp after ten minutes of running
    assert sched.next_delay(t) == pytest.approx(9.0)
    t.status = SessionStatus(status="paused")
    assert sched.next_delay(t) == 15.0
    sched.sweep_active = True  # off screen under sweeps: background cadence
    assert sched.next_delay(t) == 60.0


def test_a_finished_session_gets_one_final_fetch_then_none() -> None:
    sched, _ = make()
    t = record(status="completed")
    t.final_left = 1
    assert sched.next_delay(t) == 2.0
    t.final_left = 0
    assert sched.next_delay(t) is None
    gone = record()
    gone.not_found = True
    assert sched.next_delay(gone) is None


def test_failures_back_off_unless_other_answers_are_coming_in() -> None:
    sched, clock = make()
    t = record()
    t.failures = 4
    assert sched.next_delay(t) == 16.0  # 2, 4, 8, 16 s: the server seems down
    sched.note_success()  # ...but something else was just answered: passing trouble
    assert sched.next_delay(t) == 3.0  # no longer than its usual interval
    clock.now += 2.0
    assert sched.next_delay(t) == 16.0
    t.retry_after = 42.0
    sched.note_success()
    assert sched.next_delay(t) == 42.0  # a Retry-After is always honoured


def test_expected_interval_of_a_long_polled_or_background_session() -> None:
    sched, _ = make(long_poll_wait=20)
    t = record()
    assert sched.expected(t) == 3.0
    sched.long_polling.add(t.id)
    assert sched.expected(t) == 20.0  # a held request answers once per wait
    sched.long_polling.clear()
    sched.sweep_active = True
    assert sched.expected(t) == 60.0


def test_background_polls_of_many_sessions_fit_three_quarters_of_the_budget() -> None:
    sched, _ = make(max_rps=20.0)
    t = record()
    sched.sweep_active = True
    sched.background_count = 900  # 900 / 60 s = 15 requests/s: exactly the share
    assert sched.next_delay(t) == 60.0 and sched.expected(t) == 60.0
    sched.background_count = 10_000  # 10,000 every 60 s would be 167/s: 667 s apiece
    assert sched.next_delay(t) == 60.0  # ...once its counters were read a first time
    t.last_ok_at = 1000.0
    assert sched.next_delay(t) == pytest.approx(10_000 / 15)
    assert sched.expected(t) == pytest.approx(10_000 / 15)  # and not stale before 3 x that
    sched.set_focus(["a"], None)
    assert sched.next_delay(t) == 3.0  # on screen: its own cadence, whatever the number


def test_long_polls_only_for_what_is_on_screen_up_to_the_cap() -> None:
    sched, _ = make(long_poll_max=2)
    a, b, c = record("a"), record("b"), record("c")
    assert not sched.wants_long_poll(a, followed=False)  # off screen: /status polls
    sched.set_focus(["a", "b", "c"], None)
    assert all(sched.wants_long_poll(t, followed=False) for t in (a, b, c))
    sched.long_polling.update({"a", "b"})
    assert sched.wants_long_poll(a, followed=False)  # already long-polling: keeps its feed
    assert not sched.wants_long_poll(c, followed=False)  # over the cap
    assert sched.wants_long_poll(c, followed=True)  # a trajectory on screen always gets one


@pytest.mark.parametrize("change", ["terminal", "failing", "refused", "no_info", "no_status"])
def test_no_long_poll_for_a_session_that_cannot_use_one(change: str) -> None:
    sched, _ = make()
    t = record(status=None if change == "no_status" else "running", info=change != "no_info")
    if change == "terminal":
        t.status = SessionStatus(status="completed")
    elif change == "failing":
        t.failures = 1
    elif change == "refused":
        t.long_poll_failed = True
    assert not sched.wants_long_poll(t, followed=True)


def test_an_early_empty_answer_pauses_long_polls_until_its_wait_is_over() -> None:
    sched, clock = make()
    t = record()
    t.long_poll_resume_at = clock.now + 20.0
    assert not sched.wants_long_poll(t, followed=True)
    clock.now += 20.0
    assert sched.wants_long_poll(t, followed=True)
    t.long_poll_gap_until = clock.now + 1.5
    assert sched.long_poll_pause(t) == 1.5


def test_a_long_polled_session_still_polls_status_now_and_then() -> None:
    sched, clock = make(long_poll_status_every=30.0)
    t = record()
    t.status_polled_at = clock.now
    assert not sched.status_poll_due(t)
    clock.now += 30.0
    assert sched.status_poll_due(t)


def test_sweeps_come_as_often_as_the_quickest_candidate_would_poll() -> None:
    sched, clock = make(sweep_interval=3.0)
    assert sched.sweep_every([]) == 3.0
    long_run = record("a")
    long_run.running_since = clock.now - 1200.0
    paused = record("b", "paused")
    assert sched.sweep_every([long_run, paused]) == 15.0
    fresh = record("c")
    fresh.running_since = clock.now
    assert sched.sweep_every([long_run, paused, fresh]) == 3.0
    assert 2.7 <= sched.sweep_pause(3.0) <= 3.3


def test_a_row_shown_again_refreshes_only_when_its_data_is_older_than_its_interval() -> None:
    sched, _ = make()
    t = record()
    assert sched.stale_on_screen(t, 100.0)  # never answered
    t.last_ok_at = 98.0
    assert not sched.stale_on_screen(t, 100.0)
    assert sched.stale_on_screen(t, 101.5)
