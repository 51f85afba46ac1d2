"""Failures inside the dashboard are shown as notifications; the app keeps running."""

from __future__ import annotations

from typing import Any

from helpers import Clock, frame, make_engine, running, sid, wait_for
from ui_world import standard_world

from agp_tui.sim.fake_backend import FakeBackend
from agp_tui.ui.app import make_app
from agp_tui.ui.updates import Batch


async def test_a_render_failure_is_reported_not_fatal(
    fake: FakeBackend, clock: Clock, monkeypatch: Any,
) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        real_view = app.engine.view

        def broken(session_id: str) -> Any:
            raise RuntimeError("boom")

        monkeypatch.setattr(app.engine, "view", broken)
        app.render_now(Batch(sessions={sid(1)}))
        await pilot.pause()
        assert app.is_running
        assert any("display update failed" in n.message and "boom" in n.message for n in app._notifications)
        monkeypatch.setattr(app.engine, "view", real_view)
        fake.set(sid(1), steps=42)
        app.engine.refresh([sid(1)])
        await wait_for(pilot, lambda: real_view(sid(1)).steps == 42)  # type: ignore[union-attr]
        await frame(pilot)
        assert app.main.table.get_cell(sid(1), "steps").plain.strip() == "42"


async def test_engine_start_failure_is_reported(fake: FakeBackend, clock: Clock, monkeypatch: Any) -> None:
    engine = make_engine(fake, clock)

    async def fail(ids: Any = ()) -> None:
        raise RuntimeError("cannot start")

    monkeypatch.setattr(engine, "start", fail)
    app = make_app(engine, clock=clock, tick_clock=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: any("cannot start" in n.message for n in app._notifications))
        assert app.is_running


async def test_a_watchlist_that_cannot_be_written_is_a_message_not_a_crash(
    fake: FakeBackend, clock: Clock, tmp_path: Any, monkeypatch: Any
) -> None:
    """A full disk while adding or removing from the dashboard: one toast, nothing changes."""
    import errno

    import agp_tui.monitor.watchlist as store
    from agp_tui.ui.modals import AddSessionsModal, ConfirmRemoveModal

    ids = standard_world(fake)
    watchlist = store.Watchlist(tmp_path / "watchlist.json")
    watchlist.add(ids)
    engine = make_engine(fake, clock, watchlist)  # the fake API, over a real file on disk
    app = make_app(engine, clock=clock, tick_clock=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: engine.started and len(engine.watched_ids()) == len(ids))
        await frame(pilot)
        before = (tmp_path / "watchlist.json").read_bytes()

        def disk_full(*args: Any, **kw: Any) -> Any:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(store.tempfile, "mkstemp", disk_full)
        await pilot.press("a")
        assert isinstance(app.screen, AddSessionsModal)
        await pilot.press(*sid(77), "enter")
        await wait_for(pilot, lambda: any("No space left" in n.message for n in app._notifications))
        assert app.is_running and sid(77) not in engine.watched_ids()
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmRemoveModal)
        await pilot.press("y")
        await wait_for(pilot, lambda: sum("No space left" in n.message for n in app._notifications) == 2)
        assert app.is_running and engine.watched_ids() == ids
        assert (tmp_path / "watchlist.json").read_bytes() == before
