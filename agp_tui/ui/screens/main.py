"""The main screen: header, filter line, session table, detail pane, footer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Input, Static

from agp_tui.api.ids import InvalidSessionId
from agp_tui.monitor.events import Connection
from agp_tui.monitor.group_view import aggregate
from agp_tui.monitor.watchlist import WatchlistError
from agp_tui.ui.actions import ACTION_BINDINGS, SessionKeys
from agp_tui.ui.filtering import parse_filter
from agp_tui.ui.group_line import group_line
from agp_tui.ui.modals import AddSessionsModal, ConfirmRemoveModal, describe_rejected
from agp_tui.ui.text import safe_text
from agp_tui.ui.updates import Batch
from agp_tui.ui.widgets.columns import ORDER, sort_name
from agp_tui.ui.widgets.detail import DetailPane
from agp_tui.ui.widgets.footer import KeysFooter
from agp_tui.ui.widgets.header import StatusHeader
from agp_tui.ui.widgets.line_table import LineTable
from agp_tui.ui.widgets.session_table import SessionTable

if TYPE_CHECKING:
    from agp_tui.ui.app import AgpApp

# Below this many rows the detail pane starts hidden (`i` shows it); beside the table from
# this width when the screen is too short to stack them.
TALL_ENOUGH = 30
SIDE_BY_SIDE = 150


class MainScreen(SessionKeys, Screen[None]):
    # Focused as soon as it is composed, before anything else can take the focus (an input
    # box comes first in some screens): every focus change rebuilds the footer.
    AUTO_FOCUS = "#sessions"

    BINDINGS = [
        Binding("a", "add", "Add"),
        Binding("d", "remove", "Remove", show=False),
        # Priority: run by the app before it hands on the keys typed after `/` (a burst, a
        # slow SSH link delivering "/abc" at once), so they reach the box, not the table.
        Binding("slash", "filter", "Filter", priority=True),
        Binding("s", "sort", "Sort", show=False),
        Binding("S", "reverse_sort", "Reverse sort", show=False),
        Binding("enter", "tree", "Tree"),
        Binding("t", "trajectory", "Trajectory"),
        Binding("escape", "escape", "Back/clear", show=False, priority=True),  # as `/`, for `esc j`
        Binding("r", "refresh", "Refresh", show=False),
        Binding("R", "refresh_all", "Refresh all", show=False),
        Binding("space", "mark", "Mark", show=False),
        Binding("exclamation_mark", "problems", "Problems"),
        Binding("i", "toggle_detail", "Detail", show=False),
        Binding("g", "group", "Group", show=False),
        *ACTION_BINDINGS,
    ]

    def __init__(self) -> None:
        super().__init__(id="main")
        self.detail_wanted: bool | None = None  # None: decided by the terminal size
        self._focus_key: tuple[tuple[str, ...], str | None] = ((), None)
        self._modeline_text = ""

    @property
    def agp(self) -> AgpApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        app = self.agp
        self._update_layout(update=False)  # styled once, with its layout: no restyle at mount
        yield StatusHeader(profile=app.profile, region=app.region, read_only=app.read_only, id="header")
        yield Input(placeholder="filter: words, status:running, agent:x, error:x, -status:completed",
                    id="filter")
        yield Static("", id="groups")
        with Container(id="body"):
            yield SessionTable(app.engine, app.clock, id="sessions")
            yield DetailPane(app.engine, app.clock, id="detail")
        yield Static("", id="modeline")
        yield KeysFooter()

    @property
    def table(self) -> SessionTable:
        return self.query_one(SessionTable)

    @property
    def detail(self) -> DetailPane:
        return self.query_one(DetailPane)

    def on_mount(self) -> None:
        self._update_layout()
        self.apply(None)

    def on_resize(self, event: events.Resize) -> None:
        self._update_layout()
        self._groups()  # the lines fit the new width

    def _update_layout(self, *, update: bool = True) -> None:
        w, h = self.size
        side = h < TALL_ENOUGH and w >= SIDE_BY_SIDE
        shown = self.detail_wanted if self.detail_wanted is not None else (h >= TALL_ENOUGH or side)
        # A changed class restyles the whole screen; unchanged ones cost nothing.
        self.set_class(side, "-detail-side", update=update)
        self.set_class(not shown, "-detail-hidden", update=update)

    # -- rendering ---------------------------------------------------------------------

    def apply(self, batch: Batch | None) -> None:
        """Render a batch of engine changes (None: everything)."""
        table = self.table
        table.sync(batch)
        if batch is None or batch.groups or batch.clock:  # clock: the ended/min sparkline moves
            self._groups()
        self._header()
        self._sync_detail(batch)
        self._report_focus()

    def _sync_detail(self, batch: Batch | None) -> None:
        sel = self.table.selected_id
        detail = self.detail
        hint = self._empty_hint()
        hint_moved = hint != detail.empty_hint
        detail.empty_hint = hint
        if not detail.display:
            detail.session_id = None  # hidden: nothing to draw; `i` shows it fresh
        elif detail.session_id != sel:
            detail.show(sel)
        elif batch is None or batch.clock or batch.touches(sel) or (sel is None and hint_moved):
            detail.refresh_view()

    def _header(self) -> None:
        engine = self.agp.engine
        now = self.agp.clock()
        stale_for = None
        if engine.connection is Connection.STALE:
            seen = [v.last_ok_at for s in engine.watched_ids() if (v := engine.view(s)) and v.last_ok_at]
            stale_for = now - max(seen) if seen else None
        self.query_one(StatusHeader).show(
            engine.connection, stale_for=stale_for, detail=engine.connection_detail,
            quota=engine.quota, watched=len(engine.watched_ids()), shown=self.table.row_count,
            stale_rows=engine.stale_count,
        )
        self._modeline()

    def _groups(self) -> None:
        """One aggregate line per followed filter (`g` expands the first; see GroupScreen)."""
        groups = self.agp.engine.groups()
        # `query`, not `query_one`: a clock tick can land while the app tears the screen down.
        for bar in self.query("#groups").results(Static):
            bar.set_class(bool(groups), "-shown")
            if groups:
                width = max(self.size.width - 2, 20)  # the bar's padding
                now = self.agp.clock()
                lines = [group_line(aggregate(g, now), width) for g in groups[:5]]
                bar.update(Text("\n", no_wrap=True, overflow="ellipsis").join(lines))

    def _empty_hint(self) -> str:
        """Why no session is selected: nothing watched, or what hides every row."""
        table = self.table
        watched = len(self.agp.engine.watched_ids())
        if not watched and self.agp.engine.groups():
            return "No sessions watched one by one: g expands the followed group above (a adds ids)."
        if not watched:
            return "No sessions watched yet. Press a to add session ids or Agent View URLs, l to discover."
        if table.row_count:
            return "No session selected."
        hiding = []
        if table.filter:
            hiding.append(f"the filter {safe_text(table.filter.text, 60)!r} (esc clears it)")
        if table.problems_only:
            hiding.append("problems only (! shows every session)")
        why = " and ".join(hiding)
        return f"{why[:1].upper()}{why[1:]} hides all {watched} watched sessions."

    def _modeline(self) -> None:
        table = self.table
        parts = []
        if table.filter:
            parts.append(f"filter: {safe_text(table.filter.text, 60)}")
        if table.problems_only:
            parts.append("problems only (!)")
        if parts and not table.row_count and self.agp.engine.watched_ids():
            parts.append("hides every session: esc clears")
        if table.sort_key != ORDER:
            parts.append(f"sort: {sort_name(table.sort_key)} {'▼' if table.sort_reverse else '▲'}")
        if table.marked:
            parts.append(f"{len(table.marked)} marked")
        line = self.query_one("#modeline", Static)
        text = "  ·  ".join(parts)
        if text != self._modeline_text:  # this runs every frame: repaint only on change
            self._modeline_text = text
            line.update(Text(text), layout=False)  # one line, always: no layout pass
        line.set_class(bool(parts), "-shown")

    def on_screen_resume(self) -> None:
        self._focus_key = ((), None)  # the tree screen had the engine's focus: take it back
        self.agp.refresh_on_resume(self)  # frames skipped it while covered
        self._report_focus()

    def _report_focus(self) -> None:
        if not self.is_current:
            return
        table = self.table
        key = (tuple(table.visible_ids()), table.selected_id)
        if key != self._focus_key:
            self._focus_key = key
            self.agp.engine.set_focus(key[0], key[1])

    @on(LineTable.RowHighlighted)
    def _row_highlighted(self, event: LineTable.RowHighlighted) -> None:
        sel = event.key
        if self.detail.display and self.detail.session_id != sel:
            self.detail.show(sel)
        self._report_focus()

    @on(LineTable.HeaderClicked)
    def _header_clicked(self, event: LineTable.HeaderClicked) -> None:
        self._modeline()  # the table sorted itself; the mode line says by what

    @on(LineTable.RowSelected)
    def _row_selected(self, event: LineTable.RowSelected) -> None:
        # Two `enter`s in one burst queue two selections here; the second arrives once the
        # tree is already open above this screen and must not open another.
        if self.is_current:
            self.action_tree()

    # -- actions -----------------------------------------------------------------------

    def action_targets(self) -> list[str]:
        """What p f x m c C o act on: the marked rows shown, else the highlighted one."""
        return self.table.targets()

    def action_add(self) -> None:
        self.app.push_screen(AddSessionsModal(), self._added)

    def _added(self, result: tuple[list[str], list[str]] | None) -> None:
        if not result:
            return
        ids, bad = result
        try:
            added = self.agp.engine.add(ids)
        except (InvalidSessionId, WatchlistError) as exc:  # a full disk, a read-only file
            self.notify(str(exc), title="Not added", severity="error", markup=False)
            return
        known = len(ids) - len(added)
        msg = f"watching {len(added)} new session{'s' if len(added) != 1 else ''}"
        if known:
            msg += f" ({known} already watched)"
        if bad:
            self.notify(f"{msg}; {describe_rejected(bad)}", title="Some tokens skipped",
                        severity="warning", markup=False, timeout=10)
        else:
            self.notify(msg, markup=False)
        if added:
            self.table.sync(None)
            self.table.select(added[0])

    def action_remove(self) -> None:
        ids = self.table.targets()
        if not ids:
            self.notify("nothing to remove", severity="warning")
            return
        engine = self.agp.engine
        views = [v for s in ids if (v := engine.view(s)) is not None]

        def done(confirmed: bool | None) -> None:
            if confirmed:
                try:
                    removed = engine.remove(ids)
                except WatchlistError as exc:  # nothing changed: the file could not be written
                    self.notify(str(exc), title="Not removed", severity="error", markup=False)
                    return
                self.table.forget(removed)
                self.table.sync(None)
                self.notify(f"stopped watching {len(removed)} session{'s' if len(removed) != 1 else ''}")

        self.app.push_screen(ConfirmRemoveModal(views), done)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter" and isinstance(self.focused, Input):
            return False  # typing in the box: `/` is a character (agent:h/web-surfer)
        return super().check_action(action, parameters)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("-shown")
        self.set_focus(box)  # now: keys typed right after `/` (a burst, a paste) go into the box

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(parse_filter(event.value))
        self._header()
        self._sync_detail(Batch())  # the selection, or what hides every row, changed

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        box = self.query_one("#filter", Input)
        if not box.value:
            box.remove_class("-shown")
        self.set_focus(self.table)

    def action_escape(self) -> None:
        box = self.query_one("#filter", Input)
        table = self.table
        if box.has_class("-shown") or table.filter:
            box.value = ""
            box.remove_class("-shown")
            table.set_filter(parse_filter(""))
            self.set_focus(table)
        elif table.marked:
            marked = set(table.marked)
            table.marked.clear()
            table.sync(Batch(sessions=marked))
        elif table.problems_only:
            table.set_problems_only(False)
        self._header()

    def action_sort(self) -> None:
        self.table.cycle_sort()  # the column header arrow and the mode line say which
        self._modeline()

    def action_reverse_sort(self) -> None:
        self.table.reverse_sort()
        self._modeline()

    def action_tree(self) -> None:
        sel = self.table.selected_id
        if sel is not None:
            self.agp.open_tree(sel)

    def action_trajectory(self) -> None:
        sel = self.table.selected_id
        if sel is not None:
            self.agp.open_trajectory(sel)

    def action_refresh(self) -> None:
        ids = self.table.targets()
        if ids:
            self.agp.engine.refresh(ids)
            self.notify(f"refreshing {len(ids)} session{'s' if len(ids) != 1 else ''}", timeout=2)

    def action_refresh_all(self) -> None:
        self.agp.engine.refresh()
        self.notify("refreshing every session", timeout=2)

    def action_mark(self) -> None:
        sel = self.table.selected_id
        if sel is not None:
            self.table.toggle_mark(sel)
            self._modeline()

    def action_problems(self) -> None:
        table = self.table
        table.set_problems_only(not table.problems_only)
        self._header()
        self.detail.show(table.selected_id)

    def action_group(self) -> None:
        groups = self.agp.engine.groups()
        if not groups:
            self.notify("no followed filters: l discovers sessions, F there follows its filter",
                        severity="warning", timeout=5)
            return
        self.agp.open_group(groups[0].key)

    def action_toggle_detail(self) -> None:
        self.detail_wanted = self.has_class("-detail-hidden")
        self._update_layout()
        if self.detail_wanted:
            self.detail.show(self.table.selected_id)

    def select(self, sid: str) -> bool:
        """Move the cursor to `sid`, clearing the filter if it hides that session."""
        table = self.table
        if table.select(sid):
            return True
        self.query_one("#filter", Input).value = ""
        table.problems_only = False
        table.set_filter(parse_filter(""))
        self._header()
        return table.select(sid)
