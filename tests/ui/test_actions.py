"""Steering from the dashboard against a live simulator: the API's answers are shown, never raised,
and the simulator's sessions really change state."""

from __future__ import annotations

import io
import uuid
from typing import Any

from helpers import frame, table_of, wait_for
from rich.console import Console
from simapp import live_manager, make_world, sim_app, top_level
from textual.command import CommandList
from textual.pilot import Pilot
from textual.widgets import Static

from agp_tui.sim import Chaos, World, steering
from agp_tui.ui.action_modals import ConfirmCancelModal, MessageModal
from agp_tui.ui.app import AgpApp
from agp_tui.ui.screens.help import HelpScreen, help_table
from agp_tui.ui.screens.main import MainScreen


async def ready(pilot: Pilot[Any], app: AgpApp, ids: list[str]) -> None:
    await wait_for(pilot, lambda: all((v := app.engine.view(s)) is not None
                                      and (v.status is not None or v.not_found) for s in ids), timeout=5)
    await frame(pilot)


async def status_becomes(pilot: Pilot[Any], app: AgpApp, sid: str, status: str) -> None:
    await wait_for(pilot, lambda: (v := app.engine.view(sid)) is not None and v.status_text == status,
                   timeout=5)


def select(app: AgpApp, sid: str) -> None:
    assert table_of(app).select(sid)


async def test_pause_then_resume_in_the_simulator() -> None:
    world = make_world()
    sid = top_level(world, "running")[0].id
    async with sim_app([sid], world=world) as (world, app, pilot, rec):
        await ready(pilot, app, [sid])
        await pilot.press("p")
        await wait_for(pilot, lambda: rec.has("accepted — paused"))
        assert world.get(sid).status == "paused"  # type: ignore[union-attr]
        await status_becomes(pilot, app, sid, "paused")  # refreshed right after the answer
        await frame(pilot)
        assert "paused" in table_of(app).get_cell(sid, "status").plain
        await pilot.press("p")  # paused: the same key resumes
        await wait_for(pilot, lambda: rec.has("accepted — resumed"))
        assert world.get(sid).status == "running"  # type: ignore[union-attr]
        await status_becomes(pilot, app, sid, "running")


async def test_marked_sessions_all_get_the_action() -> None:
    world = make_world()
    ids = [s.id for s in top_level(world, "running")[:3]]
    async with sim_app(ids, world=world) as (world, app, pilot, rec):
        await ready(pilot, app, ids)
        select(app, ids[0])
        await pilot.press("space", "down", "space")
        marked = table_of(app).targets()
        assert len(marked) == 2
        await pilot.press("p")
        await wait_for(pilot, lambda: rec.has("2 of 2 accepted"))
        assert {world.get(s).status for s in marked} == {"paused"}  # type: ignore[union-attr]
        unmarked = next(s for s in ids if s not in marked)
        assert world.get(unmarked).status == "running"  # type: ignore[union-attr]


async def test_force_answer_makes_the_session_answer() -> None:
    world = make_world()
    sid = top_level(world, "running")[0].id
    async with sim_app([sid], world=world) as (world, app, pilot, rec):
        await ready(pilot, app, [sid])
        await pilot.press("f")
        await wait_for(pilot, lambda: rec.has("accepted — asked to answer now"))
        s = world.get(sid)
        assert s is not None
        flows = [e.data.get("flow") for e in s.events
                 if isinstance(e.data, dict) and e.data.get("kind") == "flow_event"]
        assert "force_answer" in flows
        world.advance(120)  # the agent's next step comes: it answers with what it has
        app.engine.refresh([sid])
        await wait_for(pilot, lambda: app.engine.view(sid).status_text in ("completed", "idle"),  # type: ignore[union-attr]
                       timeout=5)


async def test_cancel_asks_first_names_sessions_and_cascades() -> None:
    world = make_world()
    manager = live_manager(world)
    children = list(manager.children)
    async with sim_app([manager.id], world=world) as (world, app, pilot, rec):
        await ready(pilot, app, [manager.id])
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmCancelModal)
        text = str(app.screen.query_one("#cancel-list", Static).render())
        assert manager.id[:8] in text and (manager.agent or "") in text
        assert "subagent" in text and "cancelled too" in text
        await pilot.press("n")  # changed my mind: nothing is sent
        assert isinstance(app.screen, MainScreen)
        await pilot.pause(0.1)
        assert world.get(manager.id).status == "running"  # type: ignore[union-attr]
        await pilot.press("x", "y")
        await wait_for(pilot, lambda: rec.has("accepted — cancelled"))
        assert world.get(manager.id).status == "interrupted"  # type: ignore[union-attr]
        assert {world.get(c).status for c in children} == {"interrupted"}  # type: ignore[union-attr]
        await status_becomes(pilot, app, manager.id, "interrupted")


async def test_message_modal_sends_multiple_lines_and_resumes() -> None:
    world = make_world()
    s = top_level(world, "running")[0]
    steering.pause(world, s)
    async with sim_app([s.id], world=world) as (world, app, pilot, rec):
        await ready(pilot, app, [s.id])
        await pilot.press("m")
        assert isinstance(app.screen, MessageModal)
        await pilot.press("ctrl+s")  # empty: refused inside the dialog
        assert isinstance(app.screen, MessageModal)
        await pilot.press(*"check the", "enter", *"[second] line", "ctrl+s")
        await wait_for(pilot, lambda: rec.has("accepted — message sent"))
        sent = [e.data["content"] for e in s.events
                if isinstance(e.data, dict) and e.data.get("kind") == "message_event"]
        assert ["check the\n[second] line"] in sent
        assert s.status == "running"  # a message auto-resumes a paused session
        await status_becomes(pilot, app, s.id, "running")
        await pilot.press("m", "escape")  # esc drops the draft
        assert isinstance(app.screen, MainScreen)


async def test_404_and_409_are_messages_not_crashes() -> None:
    world = make_world()
    done = top_level(world, "completed")[0].id
    ghost = str(uuid.UUID(int=12345, version=4))
    async with sim_app([done, ghost], world=world) as (world, app, pilot, rec):
        await ready(pilot, app, [done, ghost])
        select(app, done)
        await pilot.press("p")
        await wait_for(pilot, lambda: rec.has("session is not running — nothing to pause (409)"))
        assert world.get(done).status == "completed"  # type: ignore[union-attr]
        select(app, ghost)
        await pilot.press("f")
        await wait_for(pilot, lambda: rec.has("session not found (404)"))
        await pilot.press("x", "y")
        await wait_for(pilot, lambda: len([t for t in rec.texts() if "not found (404)" in t]) == 2)
        assert [sev for title, _, sev in rec.toasts if title in ("pause", "force answer", "cancel")] == \
            ["error", "error", "error"]
        assert app.is_running and app.return_code is None


async def test_rate_limited_answers_are_shown() -> None:
    world = make_world()
    sid = top_level(world, "running")[0].id
    chaos = Chaos(rate_429=1.0, retry_after_s=3)
    async with sim_app([sid], world=world, chaos=chaos) as (world, app, pilot, rec):
        await wait_for(pilot, lambda: table_of(app).row_count == 1)
        for keys in (("p",), ("f",), ("x", "y")):
            await pilot.press(*keys)
        await wait_for(pilot, lambda: len([t for t in rec.texts()
                                           if "rate limited, retry in 3s (429)" in t]) == 3)
        assert world.get(sid).status == "running"  # type: ignore[union-attr]
        assert app.is_running


async def test_read_only_blocks_every_action() -> None:
    world = make_world()
    sid = top_level(world, "running")[0].id
    async with sim_app([sid], world=world, read_only=True) as (world, app, pilot, rec):
        await ready(pilot, app, [sid])
        screen = app.screen
        assert isinstance(screen, MainScreen)
        active = screen.active_bindings
        assert {k for k in "pfxm" if not active[k].enabled} == set("pfxm")  # dimmed in the footer
        assert active["c"].enabled and active["o"].enabled  # reading is still fine
        for key in "pfxm":
            await pilot.press(key)
            assert isinstance(app.screen, MainScreen)  # no dialog opens
        await wait_for(pilot, lambda: len([t for t in rec.texts() if t.startswith("Read-only")]) == 4)
        for action in ("pause_resume", "force_answer", "cancel_sessions", "message"):
            app.run_session_command(action)  # the palette's path is refused as well
        assert len([t for t in rec.texts() if t.startswith("Read-only")]) == 8
        await pilot.pause(0.2)
        assert world.get(sid).status == "running"  # type: ignore[union-attr]
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.read_only
        console = Console(width=120, record=True, file=io.StringIO())
        console.print(help_table(read_only=True))
        assert console.export_text().count("disabled: read-only") == 4
        await pilot.press("escape", "ctrl+p", *"pause")
        await wait_for(pilot, lambda: app.screen.query_one(CommandList).option_count > 0, timeout=3)
        option = app.screen.query_one(CommandList).get_option_at_index(0)
        assert "read-only" in str(option.prompt)


async def test_palette_runs_actions_on_the_highlighted_session() -> None:
    world = make_world()
    sid = top_level(world, "running")[0].id
    async with sim_app([sid], world=world) as (world, app, pilot, rec):
        await ready(pilot, app, [sid])
        await pilot.press("ctrl+p", *"pause / res")
        await wait_for(pilot, lambda: app.screen.query_one(CommandList).option_count > 0, timeout=3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: rec.has("accepted — paused"))
        assert world.get(sid).status == "paused"  # type: ignore[union-attr]


async def test_actions_work_on_the_tree_screen() -> None:
    world: World = make_world()
    manager = live_manager(world)
    child = next(c for c in manager.children if not world.get(c).terminal)  # type: ignore[union-attr]
    async with sim_app([manager.id], world=world) as (world, app, pilot, rec):
        await ready(pilot, app, [manager.id])
        await pilot.press("enter")
        tree = app.screen.query_one("#tree")
        await wait_for(pilot, lambda: child in tree.nodes and bool(tree.nodes[child]), timeout=5)  # type: ignore[attr-defined]
        tree.move_cursor(tree.nodes[child][0])  # type: ignore[attr-defined]
        await pilot.press("p")
        await wait_for(pilot, lambda: rec.has("accepted — paused"))
        assert world.get(child).status == "paused"  # type: ignore[union-attr]
        assert world.get(manager.id).status == "running"  # type: ignore[union-attr]
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_a_message_restarts_a_finished_session_and_the_row_follows() -> None:
    world = make_world()
    done = top_level(world, "completed")[0]
    async with sim_app([done.id], world=world) as (world, app, pilot, rec):
        await ready(pilot, app, [done.id])
        await pilot.press("m", *"one more thing", "ctrl+s")
        await wait_for(pilot, lambda: rec.has("accepted — message sent"))
        assert done.status == "pending"  # the simulator re-provisions it with its history
        await status_becomes(pilot, app, done.id, "pending")
        world.advance(20)
        app.engine.refresh([done.id])
        await status_becomes(pilot, app, done.id, "running")
