"""The key footer, rebuilt only when the keys it shows change.

Textual's `Footer` recomposes (unmounts and mounts a dozen `FooterKey` widgets, each styled
twice) on every `bindings_updated` signal, and a screen sends one on every focus change and
every `refresh_bindings()`, most of which change nothing the footer shows: five rebuilds to
start the dashboard, four of them identical. This footer queues at most one rebuild at a
time and lets a signal through only when the keys, their labels or their enabled state
differ from what it composed last.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    """A compact `Footer` that skips rebuilds showing the same keys."""

    def __init__(self) -> None:
        super().__init__(compact=True)
        self._shown: Hashable | None = None  # what the last compose put on screen
        self._queued = False  # a rebuild is queued and has not run yet

    def _keys(self, screen: Screen[object]) -> Hashable:
        # Everything the parent's compose reads: each active binding (a frozen dataclass:
        # key, action, description, show, group...), whether it is enabled, its tooltip,
        # and how the app displays its key (a keymap can change that alone).
        app = self.app
        return tuple(
            (binding, enabled, tooltip, app.get_key_display(binding))
            for (_node, binding, enabled, tooltip) in screen.active_bindings.values()
        )

    def bindings_changed(self, screen: Screen[object]) -> None:
        # Signals come in bursts (focus, then a refresh_bindings or two) before the queued
        # rebuild runs; the rebuild reads the bindings when it runs, so one is enough.
        if self._queued or (self._shown is not None and self._keys(screen) == self._shown):
            return
        self._queued = True
        super().bindings_changed(screen)  # queues the rebuild after the next refresh
        self.call_after_refresh(self._rebuilt)  # callbacks run in order: after the rebuild

    def _rebuilt(self) -> None:
        self._queued = False
        # A signal skipped while the rebuild was queued may have come after it read them.
        if (self._shown is not None and self.is_attached and self.app.app_focus
                and self._keys(self.screen) != self._shown):
            self.bindings_changed(self.screen)

    def compose(self) -> ComposeResult:
        shown = False
        for widget in super().compose():
            shown = True
            if type(widget).__name__ == "FooterKey":
                # A key is compact from birth (Textual's own default); its watcher adds the
                # class once mounted, restyling it. With the class already there, it does not.
                widget.add_class("-compact", update=False)
            yield widget
        # Nothing composed means the parent was not ready yet: the next signal must pass.
        self._shown = self._keys(self.screen) if shown else None
