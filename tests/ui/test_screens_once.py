"""Full screens open once: `l` reached again while a discover screen is already in the stack
(under help or the palette) must not push a second one (found by the monkey, seed 889913:
DuplicateIds 'discover' ended the app)."""

from __future__ import annotations

from helpers import wait_for
from simapp import make_world, sim_app

from agp_tui.api.query import SessionQuery
from agp_tui.ui.screens.discover import DiscoverScreen
from agp_tui.ui.screens.help import HelpScreen
from agp_tui.ui.screens.main import MainScreen


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


async def test_a_screen_closed_before_it_mounted_sets_nothing_up() -> None:
    """Opened and closed in one burst (the monkey: `enter escape` queued behind slow work):
    Textual still mounts the popped screen after removing its widgets; the app stays up,
    and the tree it never opened is not closed."""
    world = make_world()
    ids = [s.id for s in world.all_sessions() if s.parent_id is None][:5]
    async with sim_app(ids, world=world) as (_, app, pilot, rec):
        await wait_for(pilot, lambda: app.engine.view(ids[0]) is not None)
        watch = app.engine.follow_query(SessionQuery(group_id="nothing-here"))
        openers = {
            "tree": lambda: app.open_tree(ids[0]),
            "trajectory": lambda: app.open_trajectory(ids[0]),
            "discover": app.action_discover,
            "group": lambda: app.open_group(watch.key),
        }
        for name, open_it in openers.items():
            open_it()
            app.pop_screen()
            await pilot.pause(0.3)
            assert app.is_running, name
            assert isinstance(app.screen, MainScreen), name
        assert not [t for t in rec.toasts if t[2] == "error"], rec.toasts
        assert app.engine.watched_ids()[0] == ids[0]  # closing a tree never opened unwatched nothing
