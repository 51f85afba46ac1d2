"""The trajectory screen and the detail pane's "now" line, against the simulator (issue 14).

The world's clock is manual, so events appear when a test advances it (or emits one).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from helpers import wait_for
from simapp import live_manager, make_world, sim_app
from textual import events
from textual.pilot import Pilot

from agp_tui.sim import World
from agp_tui.sim.session import SimSession
from agp_tui.ui.app import AgpApp
from agp_tui.ui.screens.main import MainScreen
from agp_tui.ui.screens.trajectory import TrajectoryScreen
from agp_tui.ui.widgets.trajectory_view import TrajectoryView

HOSTILE = "[bold red]x[/] \x1b[2J\x1b]52;c;cHduZWQ=\x07 \u202egnp.exe [link=https://evil.example]y[/link]"


def running_worker(world: World) -> SimSession:
    for s in world.all_sessions():
        if s.status == "running" and s.profile.agent.role != "manager" and len(s.events) > 4:
            return s
    raise LookupError("no running worker")


def emit(world: World, s: SimSession, type_: str, data: dict[str, Any]) -> None:
    s.emit(world.now(), type_, data)
    world.notify()


def screen_text(app: AgpApp) -> str:
    view = app.screen.query_one(TrajectoryView)
    return "\n".join(view.render_line(y).text for y in range(view.size.height))


async def open_trajectory(app: AgpApp, pilot: Pilot[Any], sid: str) -> TrajectoryView:
    await wait_for(pilot, lambda: (v := app.engine.view(sid)) is not None and v.status is not None)
    app.main.select(sid)
    await pilot.press("t")
    await wait_for(pilot, lambda: isinstance(app.screen, TrajectoryScreen))
    view = app.screen.query_one(TrajectoryView)
    await wait_for(pilot, lambda: len(view.buffer) > 0)
    await pilot.pause(0.3)
    return view


async def test_events_arrive_live_and_follow_mode_tracks_the_newest() -> None:
    world = make_world()
    s = running_worker(world)
    async with sim_app([s.id], world=world, size=(120, 40)) as (_, app, pilot, _rec):
        view = await open_trajectory(app, pilot, s.id)
        assert view.follow and view.cursor == view.buffer.latest().index  # type: ignore[union-attr]
        before = len(s.events)
        world.advance(30)
        await wait_for(pilot, lambda: view.buffer.next_index == len(s.events) > before)
        await wait_for(pilot, lambda: view.cursor == len(s.events) - 1)  # followed to the newest
        await pilot.press("up")  # moving up pauses following
        paused_at = view.cursor
        assert not view.follow and paused_at is not None
        world.advance(30)
        await wait_for(pilot, lambda: view.buffer.next_index == len(s.events))
        await pilot.pause(0.3)
        assert view.cursor == paused_at  # new events do not pull the cursor away
        assert "PAUSED" in str(app.screen.query_one("#trajectory-title").render())
        await pilot.press("end")
        assert view.follow and view.cursor == len(s.events) - 1
        # Expand the newest thought: its text, reasoning and tool arguments as JSON.
        thought = view.find(lambda info: info.kind.value == "thought", -1)
        assert thought is not None
        view.select(thought)
        await pilot.press("enter")
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "thought · AgentEvent" in text and '"' in text  # the arguments' JSON
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))


async def test_no_sideways_scrollbar_when_events_outgrow_the_screen() -> None:
    """Lines are cut to the width, never scrolled sideways: a horizontal scrollbar used to
    appear (and cover the last line) when the vertical one came with new events."""
    world = make_world()
    s = next(s for s in world.all_sessions() if s.status == "running" and len(s.events) < 20)
    async with sim_app([s.id], world=world, size=(100, 30)) as (_, app, pilot, _rec):
        view = await open_trajectory(app, pilot, s.id)
        assert not view.show_vertical_scrollbar
        for n in range(40):
            emit(world, s, "AgentEvent", {"kind": "policy_event", "content": f"thought {n} " + "x" * 200})
        await wait_for(pilot, lambda: view.buffer.next_index == len(s.events))
        await pilot.pause(0.3)
        assert view.show_vertical_scrollbar and not view.show_horizontal_scrollbar


async def test_search_errors_copy_and_older_events() -> None:
    world = make_world()
    s = running_worker(world)
    async with sim_app([s.id], world=world, size=(100, 30)) as (_, app, pilot, rec):
        view = await open_trajectory(app, pilot, s.id)
        emit(world, s, "AgentEvent", {"kind": "error_event", "error": "the page did not load",
                                      "origin": "environment", "tool_req": None})
        world.advance(20)
        await wait_for(pilot, lambda: view.info(len(s.events) - 1) is not None)  # on screen, not only held
        await pilot.press("home")
        await pilot.press("n")
        assert view.cursor is not None and view.info(view.cursor).is_error  # type: ignore[union-attr]
        # `/` then a word, as one burst: the keys after `/` land in the box.
        for key, char in [("slash", "/"), *((c, c) for c in "agent started"), ("enter", "\r")]:
            app.post_message(events.Key(key if key != " " else "space", char))
        await pilot.pause(0.3)
        info = view.info(view.cursor)  # type: ignore[arg-type]
        assert info is not None and "agent started" in info.title.lower()
        await pilot.press("escape")  # closes the search box, not the screen
        assert isinstance(app.screen, TrajectoryScreen)
        written = len(rec.written)
        await pilot.press("c")
        copied = "".join(rec.written[written:])
        payload = re.search(r"\]52;c;([A-Za-z0-9+/=]+)", copied)
        assert payload is not None
        event = json.loads(base64.b64decode(payload.group(1)))
        assert event["type"] == "AgentStartedEvent" and "timestamp" in event


async def test_older_events_on_demand_for_a_long_finished_session() -> None:
    world = make_world()
    finished = [x for x in world.all_sessions() if x.terminal and x.parent_id is None]
    s = max(finished, key=lambda x: len(x.events))
    async with sim_app([s.id], world=world, size=(100, 30)) as (_, app, pilot, _rec):
        view = await open_trajectory(app, pilot, s.id)
        total = len(s.events)
        await wait_for(pilot, lambda: view.buffer.next_index == total)
        missing = view.buffer.missing_before()
        assert missing == max(total - 50, 0)
        if missing:
            await pilot.press("home")
            assert "earlier event" in screen_text(app)
            await pilot.press("left_square_bracket")
            await wait_for(pilot, lambda: view.buffer.missing_before() < missing)
        assert view.buffer.next_index == total


async def test_hostile_and_huge_events_stay_inert_and_bounded() -> None:
    world = make_world()
    s = running_worker(world)
    async with sim_app([s.id], world=world, size=(80, 24)) as (_, app, pilot, _rec):
        view = await open_trajectory(app, pilot, s.id)
        emit(world, s, "AgentEvent", {
            "kind": "policy_event", "content": HOSTILE, "reasoning_content": HOSTILE,
            "tool_reqs": [{"tool_name": HOSTILE, "args": {"x": HOSTILE}}]})
        emit(world, s, "AgentEvent", {"kind": "answer_event", "answer": "A" * 100_000 + "\n" * 5000,
                                      "outcome": "success"})
        emit(world, s, "NeverHeardOfEvent", {"weird": [1, {"deep": HOSTILE}]})
        emit(world, s, "AgentEvent", {"event": {  # the docs' shape: the step under data.event
            "kind": "observation_event", "text": HOSTILE,
            "metadata": {"url": "https://example.com/x", "title": HOSTILE}}})
        world.advance(1)
        await wait_for(pilot, lambda: view.info(len(s.events) - 1) is not None)
        for index in (len(s.events) - 4, len(s.events) - 3, len(s.events) - 1):
            view.select(index)
            await pilot.press("enter")
            await pilot.pause(0.05)
            text = screen_text(app)
            assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
            assert all(len(line) <= 80 for line in text.splitlines())
        assert "[bold red]x[/]" in screen_text(app)  # markup shown, not obeyed
        assert app.is_running
        lines = view._lines  # the 100 KB answer expanded: bounded
        assert len(lines) < 2000


async def test_detail_now_line_shows_what_the_agent_does() -> None:
    world = make_world()
    s = running_worker(world)
    async with sim_app([s.id], world=world, size=(120, 40)) as (_, app, pilot, _rec):
        await wait_for(pilot, lambda: (v := app.engine.view(s.id)) is not None and v.status is not None)
        if not app.main.detail.display:
            await pilot.press("i")
        now = app.main.query_one("#detail-now")
        await wait_for(pilot, lambda: "now " in now.render().plain, 5)
        first = now.render().plain
        assert any(icon in first for icon in "✎⚙◉✔✘✉⇄")
        world.advance(40)  # the agent goes on: the line follows
        await wait_for(pilot, lambda: now.render().plain != first, 5)


async def test_the_answer_of_a_completed_session_is_shown() -> None:
    world = make_world()
    done = next(x for x in world.all_sessions() if x.status == "completed" and x.parent_id is None)
    async with sim_app([done.id], world=world, size=(120, 40)) as (_, app, pilot, _rec):
        await wait_for(pilot, lambda: (v := app.engine.view(done.id)) is not None and v.answer is not None)
        answer = app.main.query_one("#detail-answer")
        await wait_for(pilot, lambda: answer.render().plain.startswith("answer "))
        assert str(done.latest_answer)[:20] in answer.render().plain


async def test_t_on_a_tree_node_opens_its_trajectory() -> None:
    world = make_world()
    m = live_manager(world)
    async with sim_app([m.id], world=world, size=(120, 40)) as (_, app, pilot, _rec):
        await wait_for(pilot, lambda: (v := app.engine.view(m.id)) is not None and v.status is not None)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "TreeScreen")
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TrajectoryScreen))
        assert app.screen.session_id == m.id  # type: ignore[attr-defined]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "TreeScreen")
