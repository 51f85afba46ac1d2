"""A followed group, expanded: its aggregate line over the session table of its members.

The table is the main screen's (`SessionTable`) over `GroupRows`: the same columns, sort
keys and filter words. Statuses are live from the group's list pages; a member's steps
and tokens show `·` until read (`/status` of the rows on screen is read first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Static

from agp_tui.monitor.group_view import GroupRows, aggregate
from agp_tui.monitor.groups import GroupWatch
from agp_tui.monitor.watchlist import WatchlistError
from agp_tui.ui.closing import ClosesOnce, is_closed
from agp_tui.ui.filtering import parse_filter
from agp_tui.ui.group_line import group_line, models_line
from agp_tui.ui.text import safe_text
from agp_tui.ui.updates import Batch
from agp_tui.ui.widgets.columns import ORDER, sort_name
from agp_tui.ui.widgets.footer import KeysFooter
from agp_tui.ui.widgets.line_table import LineTable
from agp_tui.ui.widgets.session_table import SessionTable

if TYPE_CHECKING:
    from agp_tui.ui.app import AgpApp


class GroupScreen(ClosesOnce, Screen[None]):
    # Focused as soon as it is composed, before anything else can take the focus (an input
    # box comes first in some screens): every focus change rebuilds the footer.
    AUTO_FOCUS = "#members"

    BINDINGS = [
        Binding("escape", "back", "Back", priority=True),
        Binding("slash", "filter", "Filter", priority=True),
        Binding("s", "sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse sort", show=False),
        Binding("enter", "tree", "Tree"),
        Binding("a", "watch", "Watch"),
        Binding("g", "next_group", "Next group", show=False),
        Binding("u", "unfollow", "Unfollow"),
    ]

    def __init__(self, watch: GroupWatch) -> None:
        super().__init__()
        self.followed = watch
        self._focus: tuple[str, ...] = ()

    @property
    def agp(self) -> AgpApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static("", id="group-head")
        yield Static("", id="group-models")
        yield Input(placeholder="filter: words, status:running, agent:x, -status:completed", id="filter")
        yield SessionTable(GroupRows(self.followed), self.agp.clock, id="members")
        yield Static("", id="modeline")
        yield KeysFooter()

    @property
    def table(self) -> SessionTable:
        return self.query_one(SessionTable)

    def on_mount(self) -> None:
        if is_closed(self):
            return
        self.apply(None)

    def on_resize(self) -> None:
        self._head()

    def _head(self) -> None:
        # `query`, not `query_one`: a clock tick can land while the app tears the screen down.
        agg = aggregate(self.followed, self.agp.clock())
        for head in self.query("#group-head").results(Static):
            head.update(group_line(agg, max(self.size.width - 2, 20), sparkline=False))
        for models in self.query("#group-models").results(Static):
            models.update(models_line(agg))

    def on_screen_resume(self) -> None:
        self._focus = ()
        self.agp.refresh_on_resume(self)

    def apply(self, batch: Batch | None) -> None:
        """Render what changed in this group (None: everything)."""
        key = self.followed.key
        if batch is None or key in batch.groups or batch.clock:  # clock: the sparkline moves
            self._head()
        if batch is None:
            self.table.sync(None)
        else:
            # Members only ever join, and each new one is in `sessions`: rendering just those
            # (not a full pass, which re-renders 10,000 rows) keeps keys quick while a batch
            # still arrives.
            self.table.sync(Batch(sessions=batch.sessions, clock=batch.clock))
        self._modeline()
        self._report_focus()

    def _report_focus(self) -> None:
        visible = tuple(self.table.visible_ids())
        if self.is_current and visible != self._focus:
            self._focus = visible
            self.agp.engine.set_group_focus(self.followed.key, visible)

    def _modeline(self) -> None:
        table = self.table
        parts = [f"{table.row_count:,} of {len(self.followed.members):,} members shown"]
        if table.filter:
            parts.append(f"filter: {safe_text(table.filter.text, 60)}")
        if table.sort_key != ORDER:
            parts.append(f"sort: {sort_name(table.sort_key)} {'▼' if table.sort_reverse else '▲'}")
        self.query_one("#modeline", Static).update("  ·  ".join(parts))
        self.query_one("#modeline", Static).set_class(True, "-shown")

    @on(LineTable.RowHighlighted)
    def _row_highlighted(self, event: LineTable.RowHighlighted) -> None:
        self._report_focus()

    @on(LineTable.RowSelected)
    def _row_selected(self, event: LineTable.RowSelected) -> None:
        if self.is_current:
            self.action_tree()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter" and isinstance(self.focused, Input):
            return False  # typing in the box: `/` is a character
        return super().check_action(action, parameters)

    # -- actions -----------------------------------------------------------------------

    def action_back(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_class("-shown") or self.table.filter:
            box.value = ""
            box.remove_class("-shown")
            self.table.set_filter(parse_filter(""))
            self.set_focus(self.table)
            self._modeline()
            return
        self.dismiss()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("-shown")
        self.set_focus(box)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(parse_filter(event.value), soon=True)  # 10,000 rows: once typing pauses
        self._modeline()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.table.apply_filter_now()
        self._modeline()
        if not event.value:
            self.query_one("#filter", Input).remove_class("-shown")
        self.set_focus(self.table)

    def action_sort(self) -> None:
        self.table.cycle_sort()
        self._modeline()

    def action_reverse_sort(self) -> None:
        self.table.reverse_sort()
        self._modeline()

    def action_tree(self) -> None:
        sel = self.table.selected_id
        if sel is not None:
            self.agp.open_tree(sel)

    def action_watch(self) -> None:
        """Put the highlighted member on the watchlist (the main table, polled on its own)."""
        sel = self.table.selected_id
        if sel is None:
            return
        added = self.agp.engine.add([sel])
        self.notify("watching it in the main table" if added else "already watched", timeout=3)

    def action_next_group(self) -> None:
        groups = self.agp.engine.groups()
        if len(groups) > 1:
            at = next((i for i, g in enumerate(groups) if g.key == self.followed.key), -1)
            nxt = groups[(at + 1) % len(groups)]
            self.dismiss()
            self.agp.open_group(nxt.key)

    def action_unfollow(self) -> None:
        key = safe_text(self.followed.key, 60)
        try:
            self.agp.engine.unfollow_query(self.followed.key)
            self.notify(f"stopped following {key}", markup=False, timeout=4)
        except WatchlistError as exc:  # stopped here; the file still lists it
            self.notify(f"stopped following {key} for this run; it is still kept: {exc}",
                        markup=False, severity="warning", timeout=8)
        self.dismiss()
