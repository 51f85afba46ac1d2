"""Creation windows (windows.py): keyset-paged list pages of the non-terminal sessions created
between two watched sessions, over the one fake, in virtual time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from loop_wait import until

from agp_tui.api.errors import ServerError
from agp_tui.monitor import windows
from agp_tui.monitor.engine import Engine, EngineSettings
from agp_tui.monitor.tracked import Tracked
from agp_tui.sim.fake_backend import FakeBackend

pytestmark = pytest.mark.looptime


@pytest.fixture
async def fake() -> AsyncIterator[FakeBackend]:
    yield FakeBackend()


async def watching(fake: FakeBackend, ids: list[str]) -> tuple[Engine, list[Tracked]]:
    """An engine that has read `ids` (statuses and creation times) and sweeps nothing itself:
    the test calls the windows."""
    engine = Engine(fake.client(), None, EngineSettings(sweep=False, long_poll=False, max_rps=1000.0))
    await engine.start(ids)
    store = engine._core.store.tracked
    tracked = [store[sid] for sid in ids]
    await until(lambda: all(t.created_at is not None and t.status is not None for t in tracked), 30.0)
    return engine, tracked


async def test_a_window_reads_every_non_terminal_session_created_in_it_by_keyset_pages(
        fake: FakeBackend) -> None:
    before = fake.pin(created=-400).id  # outside the window, on either side
    inside = [fake.pin(created=-300 + i).id for i in range(250)]
    done = fake.pin(status="completed", created=-120).id  # inside, but finished
    after = fake.pin(created=-10).id
    engine, tracked = await watching(fake, inside)
    try:
        first, last = tracked[0].created_at, tracked[-1].created_at
        assert first is not None and last is not None
        lists = fake.calls["list"]
        seen = await windows.window(engine._core, first, last, count=len(inside))
        assert seen == dict.fromkeys(inside, "running")
        assert not {before, done, after} & set(seen or ())
        assert fake.calls["list"] - lists == 3  # 250 sessions: three pages of 100
        # A window that costs more pages than polling its candidates would: given up.
        assert await windows.window(engine._core, first, last, count=4) is None
    finally:
        await engine.aclose()


async def test_a_sweep_reads_its_chunks_at_once_and_raises_the_first_error(fake: FakeBackend) -> None:
    ids = [fake.pin(created=-500 + 2 * i, status="idle" if i % 7 == 0 else "running").id
           for i in range(200)]
    engine, tracked = await watching(fake, ids)
    try:
        assert windows.pages_at_best(len(tracked)) == 3
        lists = fake.calls["list"]
        gate = fake.hold()
        sweep = asyncio.create_task(windows.sweep(engine._core, list(reversed(tracked))))  # any order
        await until(lambda: fake.in_flight[""] == 3)  # the three windows are asked at once
        gate.set()
        assert await sweep == {sid: fake.get(sid).status for sid in ids}
        assert fake.calls["list"] - lists == 3
        fake.fail(500, kind="list")
        with pytest.raises(ServerError):
            await windows.sweep(engine._core, tracked)
    finally:
        await engine.aclose()
