"""Following a session's trajectory against the simulator over loopback (issue 14).

The world's clock is manual: events appear exactly when the test advances it. Checks:
the latest events on follow, live ones from the long-poll with no gap and no duplicate
(also through a flaky server), the drain after the session settles (its answer), older
pages on demand, and that only followed sessions hold events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from loop_wait import until

from agp_tui.api import AgpClient, RetryPolicy
from agp_tui.api.events import EventKind, read_event
from agp_tui.monitor.cadence import Cadence
from agp_tui.monitor.engine import Engine, EngineSettings
from agp_tui.monitor.events import EngineEvent, EventsArrived
from agp_tui.monitor.trajectory import EventBuffer
from agp_tui.sim import DEMO_API_KEY, Chaos, ManualClock, SimServer, World
from agp_tui.sim.session import SimSession

# A fast-forwarding loop (looptime): sleeps and timeouts take no real time.
pytestmark = pytest.mark.looptime

FAST = Cadence(pending=0.05, running=0.05, waiting=0.1, final_fetch=0.05, jitter=0.0,
               error_base=0.05, error_max=0.2)


@asynccontextmanager
async def engine_on(world: World, ids: list[str], chaos: Chaos | None = None,
                    **settings: object) -> AsyncIterator[tuple[Engine, list[EngineEvent]]]:
    async with SimServer(world, chaos=chaos) as srv:
        client = AgpClient(srv.base_url, DEMO_API_KEY, retry=RetryPolicy.off(), timeout=5.0)
        base: dict[str, object] = dict(cadence=FAST, seed=1, max_rps=500.0, sweep=False,
                                       housekeeping_interval=0.05, long_poll_wait=1)
        base.update(settings)
        engine = Engine(client, None, EngineSettings(**base))  # type: ignore[arg-type]
        engine.count_requests()  # engine.requests: by purpose
        events: list[EngineEvent] = []
        engine.subscribe(events.append)
        await engine.start(ids)
        try:
            yield engine, events
        finally:
            await engine.aclose()


def busy_session(world: World) -> SimSession:
    """A running top-level session that will still be running a while."""
    for s in world.all_sessions():
        if s.parent_id is None and s.status == "running" and len(s.events) >= 8:
            return s
    raise LookupError("no running session with history")


def indices(buf: EventBuffer) -> list[int]:
    return [item.index for item in buf]


def world() -> World:
    return World(seed=11, sessions=30, clock=ManualClock(), arrival_interval_s=0)


async def test_follow_loads_the_latest_events_then_the_live_ones_without_gaps() -> None:
    w = world()
    s = busy_session(w)
    async with engine_on(w, [s.id]) as (engine, events):
        await until(lambda: (v := engine.view(s.id)) is not None and v.status is not None)
        assert engine.trajectory(s.id) is None  # nothing held until something follows it
        buf = engine.follow_events(s.id)
        assert buf is not None
        await until(lambda: len(buf) > 0)
        held = len(s.events)
        assert indices(buf) == list(range(max(0, held - 50), held))
        assert [i.event.type for i in buf] == [e.type for e in s.events[max(0, held - 50):]]
        before = engine.requests["events-count"]
        for _ in range(6):  # the agent takes steps: they arrive by the long-poll
            w.advance(10)
            await asyncio.sleep(0.05)
        await until(lambda: buf.next_index == len(s.events))
        first = buf.first_index or 0
        assert indices(buf) == list(range(first, len(s.events)))  # no gap, no duplicate
        assert engine.requests["events-count"] == before  # the history page gave the cursor
        assert any(isinstance(e, EventsArrived) and e.session_id == s.id for e in events)
        kinds = {read_event(i.event).kind for i in buf}
        assert EventKind.THOUGHT in kinds and EventKind.METRICS in kinds
        engine.unfollow_events(s.id)
        assert engine.trajectory(s.id) is None  # memory follows what is on screen


async def test_through_a_flaky_server_no_event_is_lost_or_doubled() -> None:
    w = world()
    s = busy_session(w)
    chaos = Chaos(error_5xx=0.15, malformed=0.05, drop=0.05, seed=4)
    async with engine_on(w, [s.id], chaos=chaos) as (engine, _):
        await until(lambda: (v := engine.view(s.id)) is not None and v.status is not None, 10)
        buf = engine.follow_events(s.id)
        assert buf is not None
        for _ in range(20):
            w.advance(7)
            await asyncio.sleep(0.05)
        await until(lambda: buf.next_index == len(s.events) and not buf.error, 15)
        first = buf.first_index or 0
        assert indices(buf) == list(range(first, len(s.events)))
        assert [i.event.type for i in buf] == [e.type for e in s.events[first:]]


async def test_a_settling_session_is_drained_to_its_answer() -> None:
    w = world()
    s = busy_session(w)
    async with engine_on(w, [s.id]) as (engine, _):
        await until(lambda: (v := engine.view(s.id)) is not None and v.status is not None)
        buf = engine.follow_events(s.id)
        assert buf is not None
        for _ in range(400):  # until the script ends the session
            if s.terminal:
                break
            w.advance(30)
            await asyncio.sleep(0.01)
        assert s.terminal
        await until(lambda: buf.next_index == len(s.events), 10)
        last = [read_event(i.event) for i in list(buf)[-4:]]
        assert any(e.kind in (EventKind.ANSWER, EventKind.ERROR, EventKind.STATUS) for e in last)
        view = engine.view(s.id)
        assert view is not None and view.status is not None and view.status.terminal
        if s.status == "completed":
            await until(lambda: engine.view(s.id).answer is not None)  # type: ignore[union-attr]


async def test_older_events_come_on_demand_and_stay() -> None:
    w = world()
    s = max((x for x in w.all_sessions() if x.terminal and x.parent_id is None), key=lambda x: len(x.events))
    assert len(s.events) > 60, "a long finished session"
    async with engine_on(w, [s.id]) as (engine, _):
        await until(lambda: (v := engine.view(s.id)) is not None and v.status is not None)
        buf = engine.follow_events(s.id)
        assert buf is not None
        await until(lambda: len(buf) > 0)
        total = len(s.events)
        assert buf.next_index == total and buf.missing_before() == total - 50
        got = await engine.load_older_events(s.id)
        assert got == min(100, total - 50) or got > 0
        first = buf.first_index or 0
        assert indices(buf) == list(range(first, total))
        assert buf.missing_before() == first
