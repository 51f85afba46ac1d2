"""The dashboard follows watchlist edits made by another process: rows, and their labels."""

from __future__ import annotations

from pathlib import Path

from helpers import BASE, Clock, cell_text, settle, sid, table_of, wait_for

from agp_tui.monitor.engine import Engine, EngineSettings
from agp_tui.monitor.watchlist import Watchlist
from agp_tui.sim.fake_backend import FakeBackend
from agp_tui.ui.app import make_app


async def test_a_label_changed_by_another_process_repaints_the_row(
    fake: FakeBackend, clock: Clock, tmp_path: Path,
) -> None:
    for n in (1, 2):
        fake.pin(n)
    path = tmp_path / "watchlist.json"
    Watchlist(path).add([sid(1), sid(2)])
    client = fake.client(BASE)
    engine = Engine(client, Watchlist(path), EngineSettings(
        sweep=False, seed=7, max_rps=1000.0, housekeeping_interval=0.05, watchlist_sync_interval=0.05,
    ), wall=clock)
    app = make_app(engine, clock=clock, tick_clock=False)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        agent = cell_text(app, sid(1), "agent").strip()
        assert agent and "deploy check" not in agent
        other = Watchlist(path)  # `agp-tui watchlist add ID --label ...` elsewhere
        other.set_label(sid(1), "deploy check")
        await wait_for(pilot, lambda: cell_text(app, sid(1), "agent").strip().startswith("deploy check"))
        other.remove([sid(2)])
        other.add([sid(3)], label="added elsewhere")
        fake.pin(3)
        await wait_for(pilot, lambda: table_of(app).shown_ids() == [sid(1), sid(3)])
        await wait_for(pilot, lambda: cell_text(app, sid(3), "agent").strip().startswith("added elsew"))
