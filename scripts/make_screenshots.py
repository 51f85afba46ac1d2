"""Screenshots of the dashboard against a live, seeded simulator, saved as SVG in screenshots/.

    .venv/bin/python scripts/make_screenshots.py [--seconds 8] [--out screenshots]

The simulator runs faster than real time and token history uses short buckets, so a few
seconds are enough for the sparklines to move. Files: main.svg (120x36), main-80x24.svg,
detail-80x24.svg, tree.svg (120x36), help.svg (80x24), discover.svg (120x36),
cancel-80x24.svg (the cancel confirmation), trajectory.svg (120x36: a running session's
events, one expanded), groups.svg (120x36: a followed batch of 2,000 sessions as one line
above the table) and group.svg (120x36: that group expanded, its members' table).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from textual.pilot import Pilot  # noqa: E402

from agp_tui.api import AgpClient, RetryPolicy  # noqa: E402
from agp_tui.api.query import SessionQuery  # noqa: E402
from agp_tui.monitor.cadence import Cadence  # noqa: E402
from agp_tui.monitor.engine import Engine, EngineSettings  # noqa: E402
from agp_tui.sim import DEMO_API_KEY, SimServer, World  # noqa: E402
from agp_tui.sim.batches import Batch  # noqa: E402
from agp_tui.ui.app import AgpApp, make_app  # noqa: E402

Step = Callable[[Pilot[Any], AgpApp], Awaitable[None]]


async def shoot(name: str, size: tuple[int, int], seconds: float, out: Path, step: Step | None,
                *, follow: str | None = None) -> Path:
    # A batch job of 2,000 web-surfers under way (group nightly-7), for the group shots.
    batch = Batch("nightly-7", 2000, start=-150, rate=20, steps=40)
    world = World(seed=7, sessions=80, speed=15.0, batches=[batch] if follow else ())
    async with SimServer(world) as srv:
        client = AgpClient(srv.base_url, DEMO_API_KEY, retry=RetryPolicy.off())
        settings = EngineSettings(
            cadence=Cadence(pending=0.5, running=0.5, waiting=2.0, final_fetch=0.5),
            bucket_seconds=0.5, history_buckets=60, seed=7,
        )
        engine = Engine(client, None, settings)
        if follow is not None:
            engine.follow_query(SessionQuery.parse(follow, time.time()))
        app = make_app(engine, profile="demo", region="simulator", initial_ids=world.demo_session_ids(14))
        async with app.run_test(size=size) as pilot:
            await pilot.pause(seconds)
            if step is not None:
                await step(pilot, app)
            await pilot.pause(0.6)
            path = Path(app.save_screenshot(f"{name}.svg", path=str(out)))
            await pilot.press("q")
    print(f"wrote {path}")
    return path


async def open_tree(pilot: Pilot[Any], app: AgpApp) -> None:
    table = app.main.table
    parent = next((s for s in table.shown_ids() if app.engine.children_of(s)), None)
    if parent is not None:
        table.select(parent)
        await pilot.pause()
    await pilot.press("enter")
    await pilot.pause(3.0)
    await pilot.press("e")


async def show_detail(pilot: Pilot[Any], app: AgpApp) -> None:
    await pilot.press("down", "down", "i")


async def show_help(pilot: Pilot[Any], app: AgpApp) -> None:
    await pilot.press("question_mark")


async def discover(pilot: Pilot[Any], app: AgpApp) -> None:
    await pilot.press("l")
    await pilot.pause(1.0)
    await pilot.press("down", "space", "down", "down", "space")


async def confirm_cancel(pilot: Pilot[Any], app: AgpApp) -> None:
    table = app.main.table
    parent = next((s for s in table.shown_ids() if app.engine.children_of(s)), None)
    if parent is not None:
        table.select(parent)
        await pilot.pause()
    await pilot.press("x")


async def trajectory(pilot: Pilot[Any], app: AgpApp) -> None:
    table = app.main.table
    steps = {sid: v.status.steps for sid in table.shown_ids()
             if (v := app.engine.view(sid)) is not None and v.status is not None
             and v.status.status == "running"}
    busiest = max(steps, key=steps.__getitem__, default=None)
    if busiest is not None:
        table.select(busiest)
        await pilot.pause()
    await pilot.press("t")
    await pilot.pause(2.0)
    await pilot.press("up", "up", "up", "enter")  # follow pauses; one event opened


async def expand_group(pilot: Pilot[Any], app: AgpApp) -> None:
    await pilot.press("g")
    await pilot.pause(3.0)  # the rows on screen get their steps and tokens read


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="let the simulator run this long first")
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    await shoot("main", (120, 36), args.seconds, args.out, None)
    await shoot("main-80x24", (80, 24), args.seconds, args.out, None)
    await shoot("detail-80x24", (80, 24), args.seconds, args.out, show_detail)
    await shoot("tree", (120, 36), args.seconds, args.out, open_tree)
    await shoot("help", (80, 24), 0.5, args.out, show_help)
    await shoot("discover", (120, 36), 2.0, args.out, discover)
    await shoot("cancel-80x24", (80, 24), args.seconds, args.out, confirm_cancel)
    await shoot("trajectory", (120, 36), args.seconds, args.out, trajectory)
    await shoot("groups", (120, 36), args.seconds, args.out, None, follow="group:nightly-7")
    await shoot("group", (120, 36), args.seconds, args.out, expand_group, follow="group:nightly-7")


if __name__ == "__main__":
    asyncio.run(main())
