"""The trajectory screen (`t`): what one agent did, event by event, live.

The engine follows the session while this screen is open (its events arrive by the
long-poll it already makes); the view below follows the newest event until the user
moves up. `/` searches titles and texts, `n` / `N` jump to the next / previous error,
`[` fetches older events, `c` copies the event under the cursor as JSON (OSC 52).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Static

from agp_tui.api.events import EventInfo
from agp_tui.monitor.trajectory import EventBuffer
from agp_tui.ui.closing import ClosesOnce, is_closed
from agp_tui.ui.format import session_name, short_id, status_label
from agp_tui.ui.text import literal, safe_text
from agp_tui.ui.updates import Batch
from agp_tui.ui.widgets.footer import KeysFooter
from agp_tui.ui.widgets.trajectory_view import TrajectoryView

if TYPE_CHECKING:
    from agp_tui.ui.app import AgpApp


class TrajectoryScreen(ClosesOnce, Screen[None]):
    # Focused as soon as it is composed, before anything else can take the focus (an input
    # box comes first in some screens): every focus change rebuilds the footer.
    AUTO_FOCUS = "#trajectory"

    BINDINGS = [
        # Priority, like `/`: leaving the search box must happen before the keys typed
        # after `esc` are handed on (`esc c` in one burst copies, not types a "c").
        Binding("escape", "back", "Back", priority=True),
        # Priority, like the table's filter: the keys typed right after `/` go to the box.
        Binding("slash", "search", "Search", priority=True),
        Binding("n", "error(1)", "Error"),
        Binding("N", "error(-1)", "Prev error", show=False),
        Binding("c", "copy", "Copy"),
        Binding("left_square_bracket", "older", "Older"),
    ]

    def __init__(self, session_id: str) -> None:
        super().__init__(id="trajectory-screen")
        self.session_id = session_id
        self.buffer: EventBuffer | None = None
        self._query = ""
        self._loading_older = False
        self._title_text = ""

    @property
    def agp(self) -> AgpApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static("", id="trajectory-title")
        # Followed from here until the screen closes; an untracked id gets an empty buffer.
        self.buffer = self.agp.engine.follow_events(self.session_id)
        yield TrajectoryView(self.buffer if self.buffer is not None else EventBuffer(), id="trajectory")
        yield Input(placeholder="search the events (enter: next match, esc: close)", id="trajectory-search")
        yield KeysFooter()

    @property
    def view(self) -> TrajectoryView:
        return self.query_one(TrajectoryView)

    def on_mount(self) -> None:
        if is_closed(self):
            return
        self.view.sync(force=True)
        self._title()

    def on_unmount(self) -> None:
        if self.buffer is not None:
            self.agp.engine.unfollow_events(self.session_id)
            self.buffer = None

    def on_screen_resume(self) -> None:
        self.agp.refresh_on_resume(self)  # frames skip a covered screen: catch up

    def apply(self, batch: Batch | None) -> None:
        """The app's frame: new events, and the title's status."""
        if batch is None or self.session_id in batch.events or batch.touches(self.session_id) or batch.clock:
            self.view.sync()
            self._title()

    @on(TrajectoryView.Moved)
    def _moved(self) -> None:
        self._title()

    def _title(self) -> None:
        """`trajectory 76d4db23 · following · 120 of 1,234 events · ● running · name`: what
        changes as you read comes first, so 80 columns keep it."""
        view = self.agp.engine.view(self.session_id)
        tv = self.query_one(TrajectoryView)
        line = Text(f"trajectory {short_id(self.session_id)}", style="bold")
        line.append(" · following (↑ pauses)" if tv.follow else " · PAUSED (End follows)",
                    style="italic" if tv.follow else "bold reverse")
        buf = self.buffer
        if buf is None:
            line.append(" · not tracked: open it from the table or a tree", style="italic")
        else:
            total = max(buf.total or 0, buf.next_index)
            line.append(f" · {len(buf):,} of {total:,} events")
            if buf.error:
                line.append(f" · could not read events: {safe_text(buf.error, 60)}", style="bold")
        if view is not None:
            if view.status is not None:
                line.append(f" · {status_label(view.status.status)}")
            if session_name(view):
                line.append(" · ")
                line.append_text(literal(session_name(view), 40))
        if line.plain != self._title_text:  # this runs every second: repaint only on change,
            self._title_text = line.plain  # and one line needs no layout pass of the screen
            self.query_one("#trajectory-title", Static).update(line, layout=False)

    # -- actions ------------------------------------------------------------------------

    def action_back(self) -> None:
        box = self.query_one("#trajectory-search", Input)
        if box.has_class("-shown"):
            box.remove_class("-shown")
            self.set_focus(self.view)
            return
        self.dismiss()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Typing in the box, `/` is a character.
        return not (action == "search" and isinstance(self.focused, Input))

    def action_search(self) -> None:
        box = self.query_one("#trajectory-search", Input)
        box.add_class("-shown")
        self.set_focus(box)  # now, not after the keys already queued behind `/`

    @on(Input.Submitted, "#trajectory-search")
    def _search(self, event: Input.Submitted) -> None:
        self._query = event.value.strip().lower()
        if not self._query:
            return
        query = self._query

        def matches(info: EventInfo) -> bool:
            return query in info.title.lower() or query in info.body.lower()

        found = self.view.find(matches)
        if found is None:
            self.notify(f"no event matches {safe_text(event.value, 40)!r}", severity="warning", markup=False)
        else:
            self.view.select(found)

    def action_error(self, direction: int) -> None:
        found = self.view.find(lambda info: info.is_error, direction)
        if found is None:
            self.notify("no error event here", timeout=3)
        else:
            self.view.select(found)

    def action_copy(self) -> None:
        index = self.view.cursor
        item = self.view.item(index) if index is not None else None
        if item is None:
            self.notify("no event under the cursor", severity="warning")
            return
        envelope = {"type": item.event.type, "data": dict(item.event.data),
                    "timestamp": item.event.timestamp.isoformat() if item.event.timestamp else None}
        self.agp.copy_text(json.dumps(envelope, ensure_ascii=False, default=str, indent=2))
        self.notify(f"copied event #{item.index}", timeout=2)

    def action_older(self) -> None:
        if self.buffer is None or self._loading_older or self.buffer.missing_before() <= 0:
            return
        self._loading_older = True

        async def load() -> None:
            try:
                await self.agp.engine.load_older_events(self.session_id)
            finally:
                self._loading_older = False

        self.run_worker(load, name="older-events", exit_on_error=False)  # type: ignore[arg-type]
