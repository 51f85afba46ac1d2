"""The discovery screen (`l`, or `agp-tui --discover`): browse `GET /sessions`, add to the watchlist.

Filters (status, agent, group, since) sit in one line of inputs; enter applies them. Pages
of 50 come from a worker owned by this screen (it only calls the client and posts the page);
the handler fills the table. Marks survive paging, so sessions from several pages can be
added at once.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from agp_tui.api.errors import AgpError
from agp_tui.api.models import Page, SessionStatus, SessionSummary
from agp_tui.api.query import SessionQuery
from agp_tui.monitor.view import SessionView
from agp_tui.monitor.watchlist import WatchlistError
from agp_tui.ui.closing import ClosesOnce, is_closed
from agp_tui.ui.discovery import DiscoverQuery, QueryError, page_count
from agp_tui.ui.format import STATUS_KINDS, short_id
from agp_tui.ui.steering import plain_error
from agp_tui.ui.text import literal
from agp_tui.ui.updates import Batch
from agp_tui.ui.widgets.columns import BY_KEY, field_text
from agp_tui.ui.widgets.footer import KeysFooter

if TYPE_CHECKING:
    from agp_tui.ui.app import AgpApp

# Columns of the session table this list shows too, drawn by the same registry; the agent
# is cut at 28 cells here (the list has room for the first message). The id is the list's
# own: the table's id cell carries the table's mark, and this list has a mark column.
SHARED_COLUMNS = ("agent", "status", "age")
SHARED_WIDTHS = {"agent": 28}


def summary_view(s: SessionSummary) -> SessionView:
    """A listed session as the view the column registry draws (its status without figures)."""
    return SessionView(id=s.id, watched=False, status=SessionStatus(status=s.status), agent=s.agent,
                       first_message=s.first_message, agent_view_url=s.agent_view_url,
                       created_at=s.created_at, started_at=s.started_at, finished_at=s.finished_at)


FILTERS = (
    ("status", "status: running idle …"),
    ("agent", "agent: h/web-surfer-flash …"),
    ("group", "group_id"),
    ("since", "since: 1h, 2d, 2026-06-11"),
)


class DiscoverTable(DataTable[Text]):
    """The listing; status colours are component classes styled in app.tcss."""

    # DataTable binds home/end to the leftmost/rightmost column; in a row table they mean
    # the first/last row, as the help says.
    BINDINGS = [
        Binding("home", "scroll_top", "First row", show=False),
        Binding("end", "scroll_bottom", "Last row", show=False),
    ]

    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | {f"status--{k}" for k in STATUS_KINDS}

    def style_of(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)


class PageLoaded(Message, bubble=False):
    def __init__(self, query: DiscoverQuery, page: Page[SessionSummary]) -> None:
        super().__init__()
        self.request = query
        self.page = page


class PageFailed(Message, bubble=False):
    def __init__(self, query: DiscoverQuery, error: AgpError) -> None:
        super().__init__()
        self.request = query
        self.error = error


class DiscoverScreen(ClosesOnce, Screen[None]):
    # Focused as soon as it is composed, before anything else can take the focus (an input
    # box comes first in some screens): every focus change rebuilds the footer.
    AUTO_FOCUS = "#discover-table"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("a", "add", "Add"),
        Binding("A", "add_all", "All"),  # short: the footer holds F Follow too at 80 columns
        Binding("F", "follow", "Follow"),
        Binding("space", "mark", "Mark", show=False),
        Binding("right_square_bracket", "next_page", "Next", key_display="]"),
        Binding("left_square_bracket", "prev_page", "Prev", key_display="["),
        Binding("slash", "filters", "Filters"),
        Binding("r", "reload", "Reload", show=False),
        Binding("c", "copy_id", "Copy id", show=False),
        Binding("C", "copy_url", "Copy URL", show=False),
        Binding("o", "open_url", "Open", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="discover")
        self.current = DiscoverQuery()
        self.requested = self.current  # the page asked for last: keys page on from it
        self.page: Page[SessionSummary] | None = None
        self.loading = False
        self.marked: dict[str, SessionSummary] = {}
        self.shown: dict[str, SessionSummary] = {}
        self.loads = 0  # pages shown, for tests

    @property
    def agp(self) -> AgpApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static("", id="discover-title")
        with Horizontal(id="discover-filters"):
            for name, placeholder in FILTERS:
                yield Input(placeholder=placeholder, id=f"discover-{name}", classes="discover-filter")
        yield Static("", id="discover-error", classes="dialog-error")
        yield DiscoverTable(id="discover-table", cursor_type="row", zebra_stripes=False)
        yield KeysFooter()

    @property
    def table(self) -> DiscoverTable:
        return self.query_one(DiscoverTable)

    def on_mount(self) -> None:
        if is_closed(self):
            return
        table = self.table
        table.add_column("", key="mark")
        table.add_column(BY_KEY["id"].label, key="id")
        for key in SHARED_COLUMNS:  # the session table's own columns, labels and cells
            table.add_column(BY_KEY[key].label, key=key)
        table.add_column("first message", key="message")
        self._load(self.current)

    # -- loading -------------------------------------------------------------------------

    def _load(self, query: DiscoverQuery) -> None:
        self.loading = True
        self.requested = query
        self._title()

        # A function, not a coroutine: a page asked for while another loads cancels that
        # worker, possibly before it started, and a coroutine never run warns on shutdown.
        async def fetch() -> None:
            await self._fetch(query)

        self.run_worker(fetch, name="discover-page", group="discover", exclusive=True,  # type: ignore[arg-type]
                        exit_on_error=False)

    async def _fetch(self, query: DiscoverQuery) -> None:
        """Worker: one list call, its answer posted back; never touches a widget."""
        try:
            page = await self.agp.engine.client.list_sessions(**query.params())
        except AgpError as exc:
            self.post_message(PageFailed(query, exc))
        else:
            self.post_message(PageLoaded(query, page))

    def on_page_loaded(self, message: PageLoaded) -> None:
        if message.request != self.requested:
            return  # an answer overtaken by a later key (its worker was cancelled)
        self.loading = False
        self.current, self.page = message.request, message.page
        self.shown = {s.id: s for s in message.page.items}
        self.loads += 1
        self._error("")
        self._fill()

    def on_page_failed(self, message: PageFailed) -> None:
        if message.request != self.requested:
            return
        self.loading = False
        self._error(f"could not list sessions: {plain_error('list', message.error)}")
        self._title()

    def _fill(self) -> None:
        table = self.table
        table.clear()
        now = self.agp.clock()
        watched = set(self.agp.engine.watched_ids())
        for s in self.shown.values():
            table.add_row(*self._cells(s, s.id in watched, now), key=s.id)
        if table.row_count:
            table.move_cursor(row=0)
        self._title()

    def _cells(self, s: SessionSummary, watched: bool, now: float) -> list[Text]:
        mark = ("*" if s.id in self.marked else " ") + ("✓" if watched else " ")
        view = summary_view(s)
        shared = []
        for key in SHARED_COLUMNS:
            text = field_text(key, view, self.table.style_of, SHARED_WIDTHS.get(key, 1000), now=now)
            if BY_KEY[key].right:
                text.justify = "right"
            shared.append(text)
        message = s.first_message.message if s.first_message else ""
        return [Text(mark, style="bold"), Text(short_id(s.id)), *shared, literal(message, 200)]

    def _refresh_marks(self, ids: list[str] | None = None) -> None:
        table = self.table
        watched = set(self.agp.engine.watched_ids())
        for sid in ids if ids is not None else list(self.shown):
            if sid in self.shown:
                mark = ("*" if sid in self.marked else " ") + ("✓" if sid in watched else " ")
                table.update_cell(sid, "mark", Text(mark, style="bold"))

    def on_screen_resume(self) -> None:
        self.agp.refresh_on_resume(self)  # frames skip a covered screen: catch up

    def apply(self, batch: Batch | None) -> None:
        """The app's frame: the ✓ (watched) column follows the watchlist."""
        if (batch is None or batch.membership) and self.shown:
            self._refresh_marks()

    def _title(self) -> None:
        line = Text("Discover sessions", style="bold")
        if self.page is not None:
            pages = page_count(self.page.total)
            line.append(f"   page {self.current.page} of {pages} · {self.page.total} sessions")
        if self.marked:
            line.append(f" · {len(self.marked)} marked")
        if self.loading:
            line.append(" · loading…", style="italic")
        line.append("   ")
        line.append_text(literal(self.current.describe(), 80, style="italic"))
        self.query_one("#discover-title", Static).update(line)

    def _error(self, text: str) -> None:
        box = self.query_one("#discover-error", Static)
        box.update(Text(text))
        box.set_class(bool(text), "-shown")

    # -- filters ---------------------------------------------------------------------------

    def _value(self, name: str) -> str:
        return self.query_one(f"#discover-{name}", Input).value

    @on(Input.Submitted, ".discover-filter")
    def _apply_filters(self) -> None:
        try:
            query = DiscoverQuery.parse(self._value("status"), self._value("agent"), self._value("group"),
                                        self._value("since"), self.agp.clock())
        except QueryError as exc:
            self._error(str(exc))
            return
        self._error("")
        self.table.focus()
        self._load(query)

    def action_filters(self) -> None:
        self.set_focus(self.query_one("#discover-status", Input))  # now, before queued keys

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.table.focus()
        else:
            self.dismiss()

    def action_reload(self) -> None:
        self._load(self.current)

    # Pages move on from the page asked for last, not the one shown: a held `]` goes
    # through pages as fast as the keys come, each new ask cancelling the one in flight.
    def action_next_page(self) -> None:
        if self.page is None:
            return
        if self.requested.page >= page_count(self.page.total):
            if not self.loading:
                self.notify("this is the last page", timeout=2)
            return
        self._load(replace(self.requested, page=self.requested.page + 1))

    def action_prev_page(self) -> None:
        if self.requested.page <= 1:
            if not self.loading:
                self.notify("this is the first page", timeout=2)
            return
        self._load(replace(self.requested, page=self.requested.page - 1))

    # -- marking and adding ----------------------------------------------------------------

    @property
    def selected_id(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return key

    def targets(self) -> list[str]:
        if self.marked:
            return list(self.marked)
        sel = self.selected_id
        return [sel] if sel else []

    def action_mark(self) -> None:
        sid = self.selected_id
        if sid is None:
            return
        if sid in self.marked:
            del self.marked[sid]
        else:
            self.marked[sid] = self.shown[sid]
        self._refresh_marks([sid])
        self._title()

    def action_add(self) -> None:
        self._add(self.targets())

    def action_add_all(self) -> None:
        self._add(list(self.shown))

    def action_follow(self) -> None:
        """Follow the current filters as one live target: an aggregate row on the main
        screen (`g` expands it), found and kept up to date through list pages."""
        q = self.current
        query = SessionQuery(group_id=q.group_id, agents=q.agents, statuses=q.statuses,
                             created_after=q.created_after)
        if query.empty:
            self.notify("set a filter first (/): following every session of the organisation "
                        "is not a group", severity="warning", timeout=5)
            return
        known = any(g.key == str(query) for g in self.agp.engine.groups())
        try:
            watch = self.agp.engine.follow_query(query, persist=True)
        except WatchlistError as exc:  # followed for this run all the same
            self.agp.engine.follow_query(query)
            self.notify(f"following {query.describe()} for this run only: {exc}", markup=False,
                        severity="warning", timeout=8)
            return
        kept = "; kept for the next runs" if watch.kept else ""  # no watchlist file in --demo
        self.notify(("already following " if known else "following ") + query.describe()
                    + f" (g on the main screen expands it{kept})", markup=False, timeout=5)

    def _add(self, ids: list[str]) -> None:
        if not ids:
            self.notify("nothing to add", severity="warning", timeout=2)
            return
        try:
            added = self.agp.engine.add(ids)
        except WatchlistError as exc:  # a full disk, a read-only file: say so, keep the marks
            self.notify(str(exc), title="Not added", severity="error", markup=False)
            return
        known = len(ids) - len(added)
        msg = f"watching {len(added)} new session{'s' if len(added) != 1 else ''}"
        if known:
            msg += f" ({known} already watched)"
        self.notify(msg, markup=False, timeout=3)
        self.marked.clear()
        self._refresh_marks()
        self._title()

    # -- copy and open (from the listing: these sessions need not be watched) ------------------

    def action_copy_id(self) -> None:
        self.agp.actions.copy_ids(self.targets())

    def action_copy_url(self) -> None:
        self.agp.actions.copy_urls(self.targets(), self._urls())

    def action_open_url(self) -> None:
        self.agp.actions.open_url(self.targets(), self._urls())

    def _urls(self) -> dict[str, str | None]:
        return {s.id: s.agent_view_url for s in (*self.shown.values(), *self.marked.values())}

