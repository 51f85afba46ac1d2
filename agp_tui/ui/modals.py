"""Modal dialogs: add session ids, confirm removal."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from agp_tui.api.ids import parse_session_ids
from agp_tui.monitor.view import SessionView
from agp_tui.ui.closing import ClosesOnce
from agp_tui.ui.format import session_name, short_id, status_label
from agp_tui.ui.text import literal, safe_text


class PasteInput(Input):
    """An Input that keeps every line of a paste (as spaces), so many ids can be pasted at once."""

    def on_paste(self, event: events.Paste) -> None:
        if event.text:
            text = " ".join(event.text.split())
            if self.selection.is_empty:
                self.insert_text_at_cursor(text)
            else:
                self.replace(text, *self.selection)
        event.stop()
        event.prevent_default()  # Input's own handler would insert the first line again


def describe_rejected(tokens: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(repr(safe_text(t, 40)) for t in tokens[:limit])
    more = f" and {len(tokens) - limit} more" if len(tokens) > limit else ""
    return f"not session ids: {shown}{more}"


class AddSessionsModal(ClosesOnce, ModalScreen[tuple[list[str], list[str]] | None]):
    """Paste ids or Agent View URLs, separated by spaces, commas or newlines.

    Dismisses with (valid ids, rejected tokens); stays open while nothing valid was given.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="add-dialog", classes="dialog"):
            yield Static(Text("Watch sessions", style="bold"), classes="dialog-title")
            yield Static("Paste session ids or Agent View URLs (spaces, commas or newlines between them).",
                         classes="dialog-help")
            yield PasteInput(placeholder="6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20, …", id="add-input")
            yield Static("", id="add-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Add", id="add-ok", variant="primary")
                yield Button("Cancel", id="add-cancel")

    def on_mount(self) -> None:
        self.query_one(PasteInput).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#add-ok")
    def submit(self) -> None:
        text = self.query_one(PasteInput).value
        ids, bad = parse_session_ids(text)
        if not ids:
            error = self.query_one("#add-error", Static)
            message = describe_rejected(bad) if bad else "nothing to add: paste at least one session id"
            error.update(Text(message))
            error.add_class("-shown")
            return
        self.dismiss((ids, bad))

    @on(Button.Pressed, "#add-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmRemoveModal(ClosesOnce, ModalScreen[bool]):
    """Names the sessions that `d` would stop watching; y/enter confirms, n/esc cancels."""

    BINDINGS = [
        Binding("y", "confirm", "Remove"),
        Binding("n,escape", "cancel", "Cancel"),
    ]
    LIMIT = 8

    def __init__(self, sessions: Sequence[SessionView]) -> None:
        super().__init__()
        self.sessions = list(sessions)

    def compose(self) -> ComposeResult:
        n = len(self.sessions)
        with Vertical(id="remove-dialog", classes="dialog"):
            yield Static(Text(f"Stop watching {n} session{'s' if n != 1 else ''}?", style="bold"),
                         classes="dialog-title")
            body = Text()
            for view in self.sessions[: self.LIMIT]:
                body.append(f"  {short_id(view.id)}  ")
                body.append_text(literal(session_name(view) or "?", 40))
                body.append(f"  {status_label(view.status.status) if view.status else ''}\n")
            if n > self.LIMIT:
                body.append(f"  … and {n - self.LIMIT} more\n")
            body.append("The sessions keep running on the platform; only the watchlist changes.",
                        style="italic")
            yield Static(body, id="remove-list")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Remove (y)", id="remove-ok", variant="error")
                yield Button("Cancel (n)", id="remove-cancel")

    def on_mount(self) -> None:
        self.query_one("#remove-cancel", Button).focus()

    @on(Button.Pressed, "#remove-ok")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#remove-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
