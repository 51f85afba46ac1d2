"""Full screens open once: `l` reached again while a discover screen is already in the stack
(under help or the palette) must not push a second one (found by the monkey, seed 889913:
DuplicateIds 'discover' ended the app)."""

from __future__ import annotations

from helpers import wait_for
from simapp import sim_app

from agp_tui.ui.screens.discover import DiscoverScreen
from agp_tui.ui.screens.help import HelpScreen


async def test_discover_is_opened_once_whatever_is_above_it() -> None:
    async with sim_app([]) as (_, app, pilot, _rec):
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, DiscoverScreen))
        app.push_screen(HelpScreen())
        await pilot.pause()
        app.action_discover()  # what `l` or the palette's "Discover sessions" asks for
        await pilot.pause()
        assert app.is_running
        assert sum(isinstance(s, DiscoverScreen) for s in app.screen_stack) == 1
