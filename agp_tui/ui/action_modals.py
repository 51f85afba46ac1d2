"""Dialogs of the steering actions: confirm a cancel, write a message, show a link."""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

from agp_tui.monitor.view import SessionView
from agp_tui.ui.closing import ClosesOnce
from agp_tui.ui.format import session_name, short_id, status_label
from agp_tui.ui.text import literal

LIST_LIMIT = 8


def session_lines(sessions: Sequence[SessionView], limit: int = LIST_LIMIT) -> Text:
    """`  1a2b3c4d  h/web-surfer  ● running` per session, literal, at most `limit` of them."""
    body = Text()
    for view in sessions[:limit]:
        body.append(f"  {short_id(view.id)}  ")
        body.append_text(literal(session_name(view) or "?", 40))
        body.append(f"  {status_label(view.status.status) if view.status else ''}\n")
    if len(sessions) > limit:
        body.append(f"  … and {len(sessions) - limit} more\n")
    return body


class ConfirmCancelModal(ClosesOnce, ModalScreen[bool]):
    """Names the sessions `x` would cancel and warns that their subagents go too."""

    BINDINGS = [
        Binding("y", "confirm", "Cancel them"),
        Binding("n,escape", "dismiss_modal", "Keep running"),
    ]

    def __init__(self, sessions: Sequence[SessionView]) -> None:
        super().__init__()
        self.sessions = list(sessions)

    def compose(self) -> ComposeResult:
        n = len(self.sessions)
        with Vertical(id="cancel-dialog", classes="dialog"):
            yield Static(Text(f"Cancel {n} session{'s' if n != 1 else ''}?", style="bold"),
                         classes="dialog-title")
            body = session_lines(self.sessions)
            body.append("Their subagent sessions (children) are cancelled too. ", style="bold")
            body.append("This cannot be undone: the sessions end as interrupted.", style="italic")
            yield Static(body, id="cancel-list")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel sessions (y)", id="cancel-ok", variant="error")
                yield Button("Keep running (n)", id="cancel-keep")

    def on_mount(self) -> None:
        self.query_one("#cancel-keep", Button).focus()

    @on(Button.Pressed, "#cancel-ok")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel-keep")
    def action_dismiss_modal(self) -> None:
        self.dismiss(False)


class MessageModal(ClosesOnce, ModalScreen[str | None]):
    """A multi-line message to the sessions; ctrl+s sends, esc drops it."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Send"),
        Binding("escape", "dismiss_modal", "Cancel"),
    ]

    def __init__(self, sessions: Sequence[SessionView]) -> None:
        super().__init__()
        self.sessions = list(sessions)

    def compose(self) -> ComposeResult:
        n = len(self.sessions)
        with Vertical(id="message-dialog", classes="dialog"):
            yield Static(Text(f"Message {n} session{'s' if n != 1 else ''}", style="bold"),
                         classes="dialog-title")
            yield Static(session_lines(self.sessions, 4), id="message-list")
            yield Static("Enter adds a line. A paused session resumes; a finished one starts again.",
                         classes="dialog-help")
            yield TextArea(id="message-input", soft_wrap=True, show_line_numbers=False)
            yield Static("", id="message-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send (ctrl+s)", id="message-send", variant="primary")
                yield Button("Cancel (esc)", id="message-cancel")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @on(Button.Pressed, "#message-send")
    def action_send(self) -> None:
        text = self.query_one(TextArea).text
        if not text.strip():
            error = self.query_one("#message-error", Static)
            error.update(Text("nothing to send: write a message first"))
            error.add_class("-shown")
            return
        self.dismiss(text)

    @on(Button.Pressed, "#message-cancel")
    def action_dismiss_modal(self) -> None:
        self.dismiss(None)


class LinkModal(ClosesOnce, ModalScreen[None]):
    """A URL as an OSC 8 hyperlink (terminals that support it make it clickable)."""

    BINDINGS = [Binding("escape,enter,q,o", "close", "Close")]

    def __init__(self, url: str, note: str) -> None:
        super().__init__()
        self.url = url  # already checked by `osc.safe_url`: http(s), no control characters
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="link-dialog", classes="dialog"):
            yield Static(Text("Agent View", style="bold"), classes="dialog-title")
            link = Text(self.url, style=Style(link=self.url, underline=True), overflow="fold")
            yield Static(link, id="link-url")
            yield Static(Text(self.note, style="italic"), classes="dialog-help")

    def action_close(self) -> None:
        self.dismiss(None)
