"""Against the live simulator: token-rate sparklines move and tree children arrive."""

from __future__ import annotations

from helpers import frame, table_of, wait_for

from agp_tui.api import AgpClient, RetryPolicy
from agp_tui.monitor.cadence import Cadence
from agp_tui.monitor.engine import Engine, EngineSettings
from agp_tui.sim import DEMO_API_KEY, SimServer, World
from agp_tui.ui.app import make_app
from agp_tui.ui.screens.tree import TreeScreen
from agp_tui.ui.sparkline import BLOCKS
from agp_tui.ui.widgets.session_tree import SessionTree

FAST = Cadence(pending=0.3, running=0.3, waiting=1.0, final_fetch=0.3, jitter=0.0)


async def test_sparklines_move_and_tree_fills_in() -> None:
    world = World(seed=5, sessions=24, speed=20.0)
    async with SimServer(world) as srv:
        client = AgpClient(srv.base_url, DEMO_API_KEY, retry=RetryPolicy.off())
        engine = Engine(client, None, EngineSettings(cadence=FAST, bucket_seconds=0.25, history_buckets=40,
                                                     seed=1, max_rps=500.0))
        ids = world.demo_session_ids(8)
        app = make_app(engine, initial_ids=ids)
        async with app.run_test(size=(120, 36)) as pilot:
            table = table_of(app)
            await wait_for(pilot, lambda: table.row_count == len(ids), timeout=5)

            def moving() -> bool:
                return any(
                    set(table.get_cell(s, "rate").plain) & set(BLOCKS[1:]) for s in table.shown_ids()
                )

            await wait_for(pilot, moving, timeout=8)
            # A manager has subagents: its tree fills in with real nodes.
            await wait_for(pilot, lambda: first_parent(app.engine, ids) is not None, timeout=8)
            parent = first_parent(app.engine, ids)
            assert parent is not None
            table.select(parent)
            await pilot.press("enter")
            assert isinstance(app.screen, TreeScreen)
            tree = app.screen.query_one(SessionTree)
            await wait_for(pilot, lambda: len(tree.nodes) > 1 and any(
                n.data and n.data != parent for n in tree.root.children), timeout=8)
            await frame(pilot)
            assert tree.root.children
            await pilot.press("escape", "q")


def first_parent(engine: Engine, ids: list[str]) -> str | None:
    return next((s for s in ids if engine.children_of(s)), None)
