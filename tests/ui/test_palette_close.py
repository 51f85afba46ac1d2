"""The command palette closed while keys still reach it (a burst: `enter` then typing).

Textual's palette starts a command search on every change of its input. A search that
started after the palette began to close ran on while Textual removed the palette's
widgets, and setting its list's visibility then raised `NoMatches: CommandList`, which
ended the app (found by tests/ui/test_monkey.py, seed 2, about one run in two).
"""

from __future__ import annotations

import asyncio

from simapp import make_world, sim_app
from textual.command import CommandList
from textual.widgets import Input

from agp_tui.ui.commands import Palette
from agp_tui.ui.screens.main import MainScreen


async def test_typing_into_a_closing_palette_starts_no_search() -> None:
    world = make_world()
    async with sim_app(world.demo_session_ids(5), world=world) as (_, app, pilot, _rec):
        await pilot.press("ctrl+p")
        await pilot.pause()
        palette = app.screen
        assert isinstance(palette, Palette)
        field = palette.query_one(Input)
        for _ in range(20):  # every ordering of close and typed keys the loop can produce
            palette.dismiss()
            field.value += "x"  # what a typed key does: Input.Changed, a new search
            await asyncio.sleep(0)
        await pilot.pause(0.5)
        assert app.return_code is None and app.is_running, "the app died"
        assert isinstance(app.screen, MainScreen)
        running = [w for w in app.workers if w.node is palette and not w.is_finished]
        assert not running, running


async def test_a_search_finishing_after_the_list_is_gone_does_not_crash() -> None:
    """The race itself, made deterministic: the list is removed (as Textual does first when
    it removes a closing palette), then the search's last step shows its results."""
    world = make_world()
    async with sim_app(world.demo_session_ids(5), world=world) as (_, app, pilot, _rec):
        await pilot.press("ctrl+p")
        await pilot.pause()
        palette = app.screen
        assert isinstance(palette, Palette)
        await palette.query_one(CommandList).remove()
        palette._list_visible = not palette._list_visible  # raised NoMatches without the guard
        await pilot.pause()
        assert app.is_running
