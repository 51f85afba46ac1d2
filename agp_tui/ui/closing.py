"""Screens that close once: the second of two queued "close" requests is a no-op.

Keys arrive in bursts (a held key, SSH delivering queued input). Two `enter`s on a button,
or `escape escape`, queue two close requests on the same screen; Textual's
`Screen.dismiss` pops whatever screen is on top, so the second one popped the screen
*below* (the main screen: then `ScreenStackError` or a dashboard with no table) and ran
the result callback twice (ids added twice, a cancel confirmed twice). Found by
tests/ui/test_monkey.py.
"""

from __future__ import annotations

from typing import Any

from textual.await_complete import AwaitComplete
from textual.screen import Screen


class ClosesOnce:
    """Mix in before a `Screen` class: `dismiss` acts only while this screen is on top."""

    def dismiss(self, result: Any = None) -> AwaitComplete:
        assert isinstance(self, Screen)
        if not self.is_current:
            nothing: AwaitComplete = AwaitComplete.nothing()  # type: ignore[no-untyped-call]
            return nothing  # closed already, by an earlier request of the same burst
        done: AwaitComplete = super().dismiss(result)  # type: ignore[misc]
        return done


def is_closed(screen: Screen[Any]) -> bool:
    """The screen is off the stack: popped, maybe before its mount ran (pushed and closed in
    one burst of keys). Textual still delivers its mount and its widgets' queued messages
    (a tree's first highlight) after removing those widgets: there is nothing to set up or
    show, and a `query_one` there would end the app (found by the monkey)."""
    return screen not in screen.app.screen_stack
