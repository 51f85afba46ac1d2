"""Bounded against any server, on the dashboard (issue 18, items 8 and 9): Pilot runs of the
real app and engine against the hostile loopback server.

- item 8: a chain of 2,000 subagents: the tree screen builds (and `e` expands) it without
  recursion, down to `max_tree_depth`, where a marker leaf says what is not shown; a parent
  naming 5,000 subagents shows its first `max_children` and a "+N more" leaf;
- item 9: `o` / `C` on an Agent View URL the server points off the platform (a look-alike
  host): nothing opened, nothing copied, a warning naming the host.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from helpers import wait_for
from hostile_server import KEY, ROOT, Hostile
from rich.text import Text
from simapp import Recorder
from textual.pilot import Pilot

from agp_tui.api.backend import AiohttpBackend
from agp_tui.api.client import AgpClient
from agp_tui.api.retry import RetryPolicy
from agp_tui.monitor.cadence import Cadence
from agp_tui.monitor.engine import Engine, EngineSettings
from agp_tui.ui.app import AgpApp, make_app
from agp_tui.ui.screens.tree import TreeScreen
from agp_tui.ui.widgets.session_tree import SessionTree

Report = Callable[[str], None]
FAST = Cadence(pending=0.2, running=0.2, waiting=0.5, jitter=0.0)


@contextlib.asynccontextmanager
async def dashboard(server: Hostile, **settings: Any) -> AsyncIterator[tuple[AgpApp, Pilot[Any], Recorder]]:
    env = settings.pop("env", {})
    client = AgpClient(server.base_url, KEY, backend=AiohttpBackend(), retry=RetryPolicy.off())
    engine = Engine(client, None, EngineSettings(
        cadence=FAST, seed=1, max_rps=500.0, max_in_flight=32, sweep=False, long_poll=False,
        housekeeping_interval=0.05, **settings))
    app = make_app(engine, initial_ids=[ROOT], env=env)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: (v := engine.view(ROOT)) is not None and v.status is not None)
        yield app, pilot, Recorder(app)


def labels(tree: SessionTree) -> list[str]:
    out, stack = [], [tree.root]
    while stack:
        node = stack.pop()
        label = node.label
        out.append(label.plain if isinstance(label, Text) else str(label))
        stack.extend(node.children)
    return out


async def test_item8_the_tree_screen_of_a_2000_level_chain(hostile: Hostile, report_figure: Report) -> None:
    hostile.set("deep", depth=2000)
    depth = 40
    async with dashboard(hostile, max_tree_depth=depth) as (app, pilot, _):
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TreeScreen))
        tree = app.screen.query_one(SessionTree)

        def marked() -> bool:
            return any("not shown (limits.max_tree_depth)" in t for t in labels(tree))

        await wait_for(pilot, lambda: (app.screen.apply(None), marked())[1], timeout=20)
        await pilot.press("e")  # expand everything: a loop, as deep as the cap
        await pilot.pause()
        sessions = sum(1 for nodes in tree.nodes.values() if nodes)
        polled = len(app.engine._core.sched.tree_active)
        report_figure(f"BOUNDED item 8 dashboard tree of a 2,000-level chain: {sessions} nodes shown, "
                      f"{polled} sessions polled (max_tree_depth {depth}), marker leaf at the bottom; "
                      f"no RecursionError")
        assert sessions == depth + 1 and polled == depth + 1
        assert marked() and app.is_running


async def test_item8_a_parent_with_5000_subagents_shows_a_count(hostile: Hostile) -> None:
    hostile.set("children", n=5_000)
    async with dashboard(hostile, max_children=30) as (app, pilot, _):
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TreeScreen))
        tree = app.screen.query_one(SessionTree)
        await wait_for(pilot, lambda: (app.screen.apply(None),
                                       any("+4,970 more subagents" in t for t in labels(tree)))[1])
        assert len(tree.root.children) == 31  # 30 subagents and the count


async def test_item9_o_and_C_refuse_a_url_off_the_platform(hostile: Hostile, report_figure: Report) -> None:
    hostile.set("evil_url")
    async with dashboard(hostile, env={"DISPLAY": ":0"}) as (app, pilot, rec):
        opened: list[str] = []
        app.actions.open_browser = lambda url: opened.append(url) or True
        await wait_for(pilot, lambda: (v := app.engine.view(ROOT)) is not None and bool(v.agent_view_url))
        await pilot.press("o")
        await pilot.press("C")
        await pilot.pause()
        refused = [t for t in rec.texts() if "Link refused" in t]
        report_figure("BOUNDED item 9 o / C on an Agent View URL at platform.eu.hcompany.ai.evil.example: "
                      f"{len(opened)} opened, {len(rec.written)} copied, {len(refused)} warnings")
        assert opened == [] and rec.written == []
        assert len(refused) == 2 and all("platform.eu.hcompany.ai.evil.example" in t for t in refused)
        assert "not opened" in refused[0] and "not copied" in refused[1]
