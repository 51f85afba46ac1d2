"""List-page detection of many watched ids (listfeed.py, the sweeper's feed), in virtual time.

Two hundred watched sessions are more than two pages of creation windows, so the sweeper
follows them GroupWatch's way: per tick one page of the org's recent finishes and one of
its small non-running sets; a change found there is applied at once and the session's own
poll is pulled forward, while the rest poll at their slow background cadence.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator

import loop_wait
import pytest
from loop_wait import now

from agp_tui.api.backend import RawResponse
from agp_tui.monitor import budget as prio
from agp_tui.monitor.cadence import Cadence
from agp_tui.monitor.engine import Engine, EngineSettings
from agp_tui.monitor.events import EngineEvent, StatusChanged
from agp_tui.monitor.listfeed import left_small_sets
from agp_tui.monitor.sweeper import FEED_BACKOFF, Sweeper
from agp_tui.sim.fake_backend import Call, FakeBackend, canned

pytestmark = pytest.mark.looptime
EPOCH = 1_800_000_000.0
# Own polls: every 3 s in full, every 60 s in the background; sweeps every 3 s (±10 %).
SLOW = Cadence(pending=3.0, running=3.0, waiting=15.0, final_fetch=2.0, jitter=0.0,
               background_factor=20.0, background_max=60.0)


until = functools.partial(loop_wait.until, timeout=10.0)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBackend]:
    yield FakeBackend()


async def run_engine(fake: FakeBackend, ids: list[str], **kw: object) -> tuple[Engine, list[EngineEvent]]:
    settings = EngineSettings(**{"cadence": SLOW, "max_rps": 1000.0, "sweep": True,  # type: ignore[arg-type]
                                 "sweep_interval": 3.0, "long_poll": False,
                                 "quota_interval": 3600.0, "seed": 1, **kw})
    engine = Engine(fake.client(), None, settings, wall=lambda: EPOCH + now())
    engine.count_requests()  # engine.requests: by purpose
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    await engine.start(ids)
    return engine, events


def sweeper(engine: Engine) -> Sweeper:
    return engine._core.sweeper


def changed(events: list[EngineEvent], sid: str, new: str) -> bool:
    return any(isinstance(e, StatusChanged) and e.session_id == sid and e.new == new for e in events)


def running(fake: FakeBackend, n: int) -> list[str]:
    """`n` running sessions created a second apart, the newest 101 s ago."""
    return [fake.pin(created=-100 - n + i).id for i in range(n)]


async def test_feed_finds_finishes_and_small_set_moves_from_two_pages_a_tick(fake: FakeBackend) -> None:
    ids = running(fake, 200)
    paused = fake.pin(status="paused", created=-50).id
    engine, events = await run_engine(fake, [*ids, paused])
    sw = sweeper(engine)
    try:
        await until(lambda: sw.feed.ticks == 1)
        assert fake.calls["list"] == 3 + 2  # the bootstrap's 3 pages (201 sessions), one tick's 2
        assert engine.requests["feed"] == 2 and engine.requests["sweep"] == 0
        assert sum(fake.per_session.values()) == 0  # every status came from list pages
        fake.set(ids[0], status="completed", steps=5)
        fake.set(ids[1], status="idle")
        fake.set(paused, status="running")
        t0 = now()
        await until(lambda: sw.feed.ticks == 2)
        took = now() - t0
        assert took <= 3.3  # the next tick, 3 s ± 10 % after the last one
        assert changed(events, ids[0], "completed") and changed(events, ids[1], "idle")
        assert changed(events, paused, "running")  # left the small sets unfinished: running
        assert engine.requests["feed"] == 4
        # A session whose counters stopped gets one poll of its own, pulled forward (ahead
        # of the background ones): the finished one's final counters, the idle one's. The
        # one that went back to running has nothing new yet: its background poll will do.
        await asyncio.sleep(0.5)
        assert {sid: n for sid, n in fake.per_session.items() if n} == {ids[0]: 1, ids[1]: 1}
        assert fake.calls["session"] == 1  # the finished one: its full Session (answer, times)
        assert engine.view(ids[0]).steps == 5  # type: ignore[union-attr]
        assert engine.requests["poll:normal"] == 2
        # A finished session is done: no more polls of it, ever.
        await until(lambda: sw.feed.ticks == 5)
        assert fake.per_session[ids[0]] == 1
        # Every fifth tick one window of candidates is checked the old way (a page).
        assert engine.requests["sweep"] == 1
        assert engine.requests["feed"] == 10
        assert not [e for e in events if isinstance(e, StatusChanged) and e.old is not None
                    and e.session_id not in (ids[0], ids[1], paused)]
    finally:
        await engine.aclose()


async def test_few_watched_sessions_keep_the_creation_windows(fake: FakeBackend) -> None:
    ids = running(fake, 160)  # two windows of 80: as cheap as a feed tick
    engine, events = await run_engine(fake, ids)
    try:
        await until(lambda: engine.requests["sweep"] >= 4)
        fake.set(ids[7], status="failed")
        await until(lambda: changed(events, ids[7], "failed"))
        assert engine.requests["feed"] == 0
    finally:
        await engine.aclose()


async def test_a_server_ignoring_finished_after_is_swept_by_windows(fake: FakeBackend) -> None:
    ids = running(fake, 200)

    def ignore_finished_after(call: Call) -> RawResponse | None:
        if call.param("finished_after") is None:
            return None  # the World answers
        # An older server drops the unknown filter: page 1 of everything, unfinished first.
        item = {"id": ids[0], "status": "running", "created_at": "2026-06-11T08:55:00Z",
                "finished_at": None}
        return canned(200, {"items": [item], "page": 1, "total": 201})

    fake.fail(ignore_finished_after, kind="list")
    engine, events = await run_engine(fake, ids)
    sw = sweeper(engine)
    try:
        await until(lambda: engine.requests["sweep"] >= 3)
        assert not sw.feed.supported
        assert engine.requests["feed"] == 1  # its first page told, and it is never asked again
        assert engine.requests["sweep"] == 3  # the same sweep, by windows: 200 in 3 pages
        fake.set(ids[3], status="completed")
        await until(lambda: changed(events, ids[3], "completed"))  # missing from a window
        assert engine.requests["feed"] == 1
    finally:
        await engine.aclose()


async def test_an_org_busier_than_the_watchlist_goes_back_to_windows(fake: FakeBackend) -> None:
    ids = running(fake, 170)  # windows: 3 pages a sweep, so a feed tick may read 4
    for _ in range(500):  # the org's other sessions, finished a moment ago
        fake.pin(status="completed", created=-30, finished=-1)
    engine, events = await run_engine(fake, ids)
    sw = sweeper(engine)
    try:
        await until(lambda: engine.requests["sweep"] >= 3)
        # The finishes took more than 4 pages: the tick stopped there, nothing concluded
        # from it, and the same sweep went by windows.
        assert engine.requests["feed"] == 4 and engine.requests["sweep"] == 3
        assert sw.feed.cursor is None and sw.feed_backoff == FEED_BACKOFF
        fake.set(ids[9], status="timed_out")
        await until(lambda: changed(events, ids[9], "timed_out"))
        await until(lambda: engine.requests["sweep"] >= 12)
        assert engine.requests["feed"] == 4  # windows until the backoff runs out
        assert sw.feed_backoff == FEED_BACKOFF - 3
        # Then the feed tries again from a fresh server time (a one-item page), finds the
        # org as busy (the same 500 finishes), and backs off again.
        await until(lambda: engine.requests["feed"] > 4, timeout=120.0)
        await until(lambda: sw.feed_backoff == FEED_BACKOFF)
        assert engine.requests["feed"] == 4 + 1 + 4
        assert engine.requests["sweep"] == 3 * (1 + FEED_BACKOFF + 1)
    finally:
        await engine.aclose()


async def test_without_a_bootstrap_the_cursor_starts_at_the_orgs_newest_session(fake: FakeBackend) -> None:
    ids = running(fake, 200)
    engine, events = await run_engine(fake, ids, bootstrap_min_sessions=1_000)
    sw = sweeper(engine)
    try:
        await until(lambda: sw.feed.ticks == 1)
        assert fake.calls["session"] == 200  # no bootstrap: each session's first poll
        # One one-item page for a server time (the newest creation), then the tick's two.
        assert engine.requests["feed"] == 3
        first = next(c for c in fake.requests if c.kind == "list")
        assert first.param("size") == "1" and first.param("sort") == "-created_at"
        # The polls made before the first tick were at full cadence; two ticks later all
        # are at the background one (60 s), and the change can only come from the feed.
        await until(lambda: sw.feed.ticks == 3)
        polls, requests = fake.per_session[ids[100]], dict(engine.requests)
        fake.set(ids[100], status="completed")
        await until(lambda: changed(events, ids[100], "completed"), timeout=3.3)
        assert sw.feed.ticks == 4  # found by the next tick, which pulled its poll forward:
        assert fake.per_session[ids[100]] == polls + 1
        assert engine.requests["poll:normal"] == requests["poll:normal"] + 1
        assert engine.requests["poll:background"] == requests["poll:background"]
        assert engine.requests["feed"] == 3 + 3 * 2
    finally:
        await engine.aclose()


def test_only_ids_lists_have_shown_can_be_inferred_running() -> None:
    known = {"a": "idle", "b": "paused", "c": "pending", "d": "running", "e": None, "f": "idle"}
    listed = {"a": "idle", "c": "failed"}
    # b left the small sets unfinished: running. f was never listed: someone else's
    # session, say, which the sets never hold; its own polls tell.
    assert left_small_sets(known, listed, {"a", "b", "c", "d", "e"}) == ["b"]


async def test_a_session_caught_up_is_polled_ahead_of_the_background(fake: FakeBackend) -> None:
    ids = running(fake, 3)
    engine, _ = await run_engine(fake, ids)
    core = engine._core
    try:
        await until(lambda: all(fake.per_session[i] >= 1 for i in ids))
        core.sched.sweep_active = True
        t = core.store.tracked[ids[0]]
        assert core.sched.priority(t) == prio.BACKGROUND
        core.sched.catching_up.add(t.id)
        assert core.sched.priority(t) == prio.NORMAL
        before = fake.per_session[t.id]
        core.poller.catch_up(t)
        await until(lambda: fake.per_session[t.id] == before + 1)
        assert t.id not in core.sched.catching_up  # once polled, back to its own priority
    finally:
        await engine.aclose()
