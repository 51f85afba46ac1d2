"""The `?` help screen: every key, grouped, what each table column shows, the status symbols."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from agp_tui.ui.closing import ClosesOnce
from agp_tui.ui.events_text import KINDS_HELP
from agp_tui.ui.widgets.columns import COLUMNS

# (section, key, what it does): the single source the help screen and the tests read.
KEY_HELP: tuple[tuple[str, str, str], ...] = (
    ("Sessions", "a", "add session ids or Agent View URLs (paste several at once)"),
    ("Sessions", "d", "remove the marked sessions, else the highlighted one (asks first)"),
    ("Sessions", "space", "mark / unmark the highlighted session"),
    ("Sessions", "r", "refresh the marked or highlighted sessions now"),
    ("Sessions", "R", "refresh every session now"),
    ("Sessions", "enter", "open the subagent tree of the highlighted session"),
    ("Sessions", "t", "trajectory: what the agent did, event by event, live (also on a tree node)"),
    ("Actions", "p", "pause running sessions / resume paused ones (marked, else highlighted)"),
    ("Actions", "f", "force answer: the session answers now with what it has"),
    ("Actions", "x", "cancel (asks first; their subagent sessions are cancelled too)"),
    ("Actions", "m", "send a message (multi-line; ctrl+s sends); wakes idle / paused sessions"),
    ("Actions", "c", "copy the session id (OSC 52: works over SSH and in tmux)"),
    ("Actions", "C", "copy the Agent View URL"),
    ("Actions", "o", "open the Agent View in a browser (over SSH: show the link and copy it)"),
    ("Discover", "l", "browse the organisation's sessions (also agp-tui --discover)"),
    ("Discover", "tab / enter", "move between the filters / apply them: status, agent, group, since"),
    ("Discover", "space a A", "mark / add the marked or highlighted / add every shown session"),
    ("Discover", "] [", "next / previous page (50 a page)"),
    ("Discover", "F", "follow the filters as one live group (a line above the table, kept for next runs)"),
    ("Groups", "g", "expand the first followed group: its members as a table (g there: the next group)"),
    ("Groups", "enter / a / u", "in a group: a member's tree / watch it in the main table / unfollow"),
    ("Groups", "≥ (N/M read)", "steps, tokens, cost add up the members read so far; counts are exact"),
    ("Groups", "ended/min", "members that ended in each of the last 15 minutes (exact), and the peak"),
    ("View", "/", "filter: words, status:x agent:x error:x id:x label:x, -term negates"),
    ("View", "esc", "close the filter and clear it / clear marks / go back"),
    ("View", "!", "problems only: failed, timed out, waiting on you, stale, not found, erroring"),
    ("View", "s", "sort by the next column"),
    ("View", "S", "reverse the sort"),
    ("View", "i", "show / hide the detail pane"),
    ("View", "↑↓ PgUp PgDn", "move; home / end: first / last row; the mouse works as well"),
    ("Tree", "enter / click", "expand or collapse a node"),
    ("Tree", "z", "fold every finished branch"),
    ("Tree", "e", "expand every branch"),
    ("Tree", "esc", "back to the table"),
    ("Trajectory", "enter / click", "expand or fold an event: reasoning, tool arguments, page text, answer"),
    ("Trajectory", "End / F", "follow new events (↑, PgUp, Home or the wheel pause it)"),
    ("Trajectory", "/  n N", "search the events / next, previous error"),
    ("Trajectory", "c  [", "copy the event as JSON (OSC 52) / load 100 older events"),
    ("App", "ctrl+p", "command palette: jump to a session by id or agent, run an action"),
    ("App", "?", "this help"),
    ("App", "q", "quit"),
)

# Keys that change sessions: disabled, and marked so here, in read-only mode.
READ_ONLY_KEYS = frozenset({"p", "f", "x", "m"})

STATUS_HELP = (
    "● running   ◌ pending/queued   ❚❚ paused   ◔ idle / awaiting tool results (waiting on you)\n"
    "✔ completed   ✘ failed   ⌛ timed out   ■ interrupted   ? unknown (shown literally)\n"
    "dim sparkline bars are an ESTIMATE: a session first seen mid-run has its earlier tokens\n"
    "  spread since its start; ~12/s is an estimated rate, — not running\n"
    f"events: {KINDS_HELP}"
)


def help_table(read_only: bool = False) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 1), expand=True)
    table.add_column("key", style="bold", no_wrap=True, width=14)
    table.add_column("action", ratio=1)
    last = ""
    for section, key, what in KEY_HELP:
        if section != last:
            table.add_row(Text(section, style="bold underline"), "")
            last = section
        if read_only and key in READ_ONLY_KEYS:
            table.add_row(Text(key, style="dim strike"), Text(f"{what} — disabled: read-only", style="dim"))
        else:
            table.add_row(key, what)
    return table


def columns_table() -> Table:
    """What each column of the session table shows: the column registry's own words."""
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 1), expand=True)
    table.add_column("column", style="bold", width=14)  # aligned with the keys above
    table.add_column("what it shows", ratio=1)
    table.add_row(Text("Columns", style="bold underline"), "s sorts by the next one, S reverses")
    for col in COLUMNS:
        wide = f" (from {col.shown_from} columns wide)" if col.shown_from else ""
        table.add_row(Text(col.label), Text(col.help + wide))
    return table


class HelpScreen(ClosesOnce, ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, read_only: bool = False) -> None:
        super().__init__()
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog", classes="dialog"):
            title = Text("agp-tui keys", style="bold")
            if self.read_only:
                title.append("   READ-ONLY: p f x m are disabled", style="bold reverse")
            yield Static(title, classes="dialog-title")
            yield Static(help_table(self.read_only), id="help-keys")
            yield Static(columns_table(), id="help-columns")
            yield Static(Text(STATUS_HELP), id="help-status")
            yield Static(Text("esc / ? / q closes this help", style="italic"), classes="dialog-help")

    def action_close(self) -> None:
        self.dismiss(None)
