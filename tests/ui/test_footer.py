"""The key footer: rebuilt once for a burst of signals, only when its keys change, and drawn
exactly as Textual's own compact `Footer`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Footer, Input

from agp_tui.ui.widgets.footer import KeysFooter


class CountingFooter(KeysFooter):
    def __init__(self) -> None:
        super().__init__()
        self.builds = 0

    def compose(self) -> ComposeResult:
        self.builds += 1
        yield from super().compose()


class KeysScreen(Screen[None]):
    BINDINGS = [
        Binding("f1", "alpha", "Alpha"),
        Binding("f2", "beta", "Beta"),
        Binding("f3", "extra", "Extra"),
    ]

    def __init__(self, footer: Footer) -> None:
        super().__init__()
        self.footer = footer
        self.extra = False

    def compose(self) -> ComposeResult:
        yield Input(id="one")
        yield Input(id="two")
        yield self.footer

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.extra if action == "extra" else True


class KeysApp(App[None]):
    def __init__(self, footer: Footer) -> None:
        super().__init__()
        self.keys_screen = KeysScreen(footer)

    def on_mount(self) -> None:
        self.push_screen(self.keys_screen)


@contextlib.asynccontextmanager
async def keys_app(footer: Footer) -> AsyncIterator[tuple[KeysApp, Pilot[Any], KeysScreen]]:
    app = KeysApp(footer)
    async with app.run_test(size=(80, 5)) as pilot:
        await pauses(pilot)
        yield app, pilot, app.keys_screen


async def pauses(pilot: Pilot[Any], n: int = 2) -> None:
    for _ in range(n):
        await pilot.pause()


async def test_a_burst_of_signals_rebuilds_once_and_only_for_new_keys() -> None:
    footer = CountingFooter()
    async with keys_app(footer) as (app, pilot, screen):
        start = footer.builds
        assert "Alpha" in app.export_screenshot() and "Extra" not in app.export_screenshot()

        # Focus moves and refreshes that change no key: Textual's Footer rebuilds on each.
        for _ in range(5):
            screen.refresh_bindings()
            screen.set_focus(screen.query_one("#two"))
            screen.set_focus(screen.query_one("#one"))
        await pauses(pilot)
        assert footer.builds == start

        # A key appears: one rebuild for a burst of signals, and the key is shown.
        screen.extra = True
        for _ in range(5):
            screen.refresh_bindings()
        await pauses(pilot)
        assert footer.builds == start + 1
        assert "Extra" in app.export_screenshot()

        # And goes away again.
        screen.extra = False
        screen.refresh_bindings()
        await pauses(pilot)
        assert footer.builds == start + 2
        assert "Extra" not in app.export_screenshot()


class FlippingFooter(CountingFooter):
    """Takes the extra key away again right after a rebuild has read the keys with it."""

    def __init__(self) -> None:
        super().__init__()
        self.flip = False

    def compose(self) -> ComposeResult:
        yield from super().compose()
        if self.flip:
            self.flip = False
            screen = self.screen
            assert isinstance(screen, KeysScreen)
            screen.extra = False
            screen.refresh_bindings()  # arrives while this rebuild is still queued


async def test_a_change_signalled_during_a_rebuild_is_not_lost() -> None:
    footer = FlippingFooter()
    async with keys_app(footer) as (app, pilot, screen):
        start = footer.builds
        footer.flip = True
        screen.extra = True
        screen.refresh_bindings()
        await pauses(pilot, 4)
        assert footer.builds == start + 2
        assert "Extra" not in app.export_screenshot()


async def _drawn(footer: Footer, extra: bool) -> str:
    async with keys_app(footer) as (app, pilot, screen):
        screen.extra = extra
        screen.refresh_bindings()
        await pauses(pilot)
        return app.export_screenshot()


async def test_it_is_drawn_exactly_as_textuals_compact_footer() -> None:
    for extra in (False, True):
        assert await _drawn(KeysFooter(), extra) == await _drawn(Footer(compact=True), extra)
