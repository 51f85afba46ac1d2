"""Telling the user a watched session finished or needs them: toast, bell, desktop notification.

Fed the engine's `StatusChanged` events (by the app's message handler, on the event loop).
Fires for a change *into* completed / failed / timed_out / idle / awaiting_tool_results,
never for the first status seen (`old is None`: that is what was already true when the
session was added) and never for subagent children the engine only polls for a tree.
Each transition fires once: dedupe on (id, new status, transition number).

No textual here: the app hands in `toast` and `write` (the driver's write), so the
decisions and the bytes are unit-testable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from agp_tui.api import status as st
from agp_tui.monitor.events import StatusChanged
from agp_tui.monitor.view import SessionView
from agp_tui.ui import osc
from agp_tui.ui.format import session_name, short_id, status_symbol
from agp_tui.ui.text import safe_text

NOTIFY_ON = frozenset({st.COMPLETED, st.FAILED, st.TIMED_OUT, st.IDLE, st.AWAITING_TOOL_RESULTS})
_WORDS = {
    st.COMPLETED: "completed",
    st.FAILED: "failed",
    st.TIMED_OUT: "timed out",
    st.IDLE: "is waiting for your message",
    st.AWAITING_TOOL_RESULTS: "is waiting for tool results",
}
Toast = Callable[[str, str, str], None]  # (message, title, severity)


@dataclass(frozen=True, slots=True)
class NotifyOptions:
    toast: bool = True
    bell: bool = False
    desktop: bool = False

    @property
    def any(self) -> bool:
        return self.toast or self.bell or self.desktop


MAX_DESCRIBED = 100


def describe(view: SessionView | None, sid: str, new: str) -> str:
    """`✔ 1a2b3c4d h/web-surfer completed`: literal, one line, short."""
    name = safe_text(session_name(view) or None, 60)
    words = _WORDS.get(new, safe_text(new, 30))
    text = " ".join(p for p in (status_symbol(new), short_id(sid), name, words) if p)
    # At most MAX_DESCRIBED characters, whatever the parts hold: cells are not characters
    # (combining marks are 0 cells), and an unknown status adds its own 30.
    return text if len(text) <= MAX_DESCRIBED else text[: MAX_DESCRIBED - 1] + "…"


class Notifier:
    def __init__(
        self,
        options: NotifyOptions,
        *,
        toast: Toast,
        write: Callable[[str], None],
        env: Mapping[str, str],
    ) -> None:
        self.options = options
        self._toast = toast
        self._write = write
        self._env = env
        self._last: dict[str, str] = {}  # id -> last status seen
        self._transitions: dict[str, int] = {}  # id -> changes of status seen
        self._sent: dict[str, tuple[str, int]] = {}  # id -> (status, transition) last told
        self.fired: list[tuple[str, str]] = []  # (id, new status), for tests

    def forget(self, ids: tuple[str, ...]) -> None:
        """Sessions left the watchlist: drop what is kept about them (memory stays bounded)."""
        for sid in ids:
            self._last.pop(sid, None)
            self._transitions.pop(sid, None)
            self._sent.pop(sid, None)

    def on_status(self, event: StatusChanged, view: SessionView | None) -> bool:
        """Handle one event; True if the user was told."""
        sid, new = event.session_id, event.new
        previous = self._last.get(sid)
        self._last[sid] = new
        if previous == new:
            return False  # the same change reported twice
        count = self._transitions[sid] = self._transitions.get(sid, 0) + 1
        if event.old is None or new not in NOTIFY_ON or not self.options.any:
            return False
        if view is None or not view.watched:
            return False  # a tree-only child, or gone from the watchlist
        if self._sent.get(sid) == (new, count):
            return False
        self._sent[sid] = (new, count)
        self.fired.append((sid, new))
        text = describe(view, sid, new)
        severity = "error" if new in (st.FAILED, st.TIMED_OUT) else (
            "warning" if new in st.WAITING_ON_USER else "information")
        if self.options.toast:
            self._toast(text, "session needs you" if new in st.WAITING_ON_USER else "session finished",
                        severity)
        out = ""
        if self.options.bell:
            out += osc.bell()
        if self.options.desktop:
            out += osc.desktop_notification("agp-tui", text, self._env)
        if out:
            self._write(out)
        return True
