"""The session table: rows keyed by session id, diffed cell by cell, never rebuilt on refresh.

`sync()` is the only way data reaches the table. It re-renders the rows a batch names,
compares each cell with what is shown and repaints only the cells that differ (a sparkline
that gained a bar: only that bar); rows are added and removed by id; sorting and filtering
happen in the row model, and the cursor stays on its session, on the same screen line
when it can. What a cell shows comes from the column registry (`columns.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Protocol

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.timer import Timer

from agp_tui.monitor.history import TokenHistory
from agp_tui.monitor.view import SessionView
from agp_tui.ui.filtering import Filter, is_problem
from agp_tui.ui.format import STATUS_KINDS
from agp_tui.ui.updates import Batch
from agp_tui.ui.widgets.columns import (
    BY_KEY,
    ORDER,
    SORT_KEYS,
    TICKING,
    Placed,
    RowContext,
    header_label,
    layout,
    render_cell,
    sort_value,
)
from agp_tui.ui.widgets.line_table import LineTable
from agp_tui.ui.widgets.sort_values import SortValues

# A sorted table re-sorts for data changes at most this often (s): rows do not jump under
# the cursor several times a second. Sorting by key, adding or removing rows re-sorts at once.
RESORT_INTERVAL = 2.0
FILTER_DELAY = 0.15  # s of no typing before a `soon` filter applies


def _same(old: Text, new: Text) -> bool:
    return old.plain == new.plain and old.spans == new.spans and old.style == new.style


def _changed_range(old: Text, new: Text, width: int) -> tuple[int, int] | None:
    """The [start, end) columns of a left-aligned cell whose characters differ, when the two
    renders differ in characters only (same length, same styles, narrow characters); None
    means repaint the whole cell. A sparkline usually changes in its last bar or two."""
    a, b = old.plain, new.plain
    if (len(a) != len(b) or len(a) > width or new.justify not in (None, "default", "left")
            or old.justify != new.justify or old.style != new.style
            or cell_len(a) != len(a) or cell_len(b) != len(b)
            or _spans(old) != _spans(new)):
        return None
    diffs = [i for i, (p, q) in enumerate(zip(a, b, strict=True)) if p != q]
    return (diffs[0], diffs[-1] + 1) if diffs else None


def _spans(text: Text) -> list[tuple[int, int, object]]:
    return [(s.start, s.end, s.style) for s in text.spans]


class RowSource(Protocol):
    """What the table reads: the engine (watched sessions) or a followed group's members."""

    def watched_ids(self) -> list[str]: ...

    def view(self, session_id: str) -> SessionView | None: ...

    def history(self, session_id: str) -> TokenHistory | None: ...


class SessionTable(LineTable):
    """Watched sessions, one row each; see `columns.py` for what each cell shows."""

    COMPONENT_CLASSES = LineTable.COMPONENT_CLASSES | {
        *(f"status--{k}" for k in STATUS_KINDS),
        "cell--dim", "cell--spark", "cell--spark-estimate", "cell--stale", "cell--error", "cell--marked",
    }

    def __init__(self, engine: RowSource, clock: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.engine = engine
        self.clock = clock
        self.filter = Filter()
        self.problems_only = False
        self.marked: set[str] = set()
        self.sort_key = ORDER
        self.sort_reverse = False
        self.placed: list[Placed] = []
        self.cells_updated = 0  # for tests: how many cells were re-rendered with a new look
        self._layout_width = 0
        self._views: dict[str, SessionView] = {}
        self._sort_values = SortValues()
        self._position: dict[str, int] = {}
        self._styles: dict[str, Style] = {}
        self._styles_stale = False
        self._moved = False  # rows were added, removed or reordered: repaint every line
        self._resort_due = False  # data moved a row's sort value since the last sort
        self._sorted_at = 0.0
        self._filter_timer: Timer | None = None
        self._positioned: list[str] | None = None  # the id list `_position` was built from
        self.rows.render = self._render_row  # rows get their cells when first drawn

    # -- layout -----------------------------------------------------------------------

    def on_mount(self) -> None:
        self._relayout(max(self.size.width, 80))

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width and event.size.width != self._layout_width:
            self._relayout(event.size.width)

    def _relayout(self, width: int) -> None:
        """Columns depend on the width: a new layout re-renders every row in place."""
        placed = layout(width)
        self._layout_width = width
        if [(p.key, p.width) for p in placed] == [(p.key, p.width) for p in self.placed]:
            return
        self.placed = placed
        self.set_columns([(p.key, self._label(p), p.width + 1) for p in placed])
        self._rerender_all()

    def _label(self, placed: Placed) -> Text:
        return header_label(placed, self.sort_key, self.sort_reverse)

    def _rerender_all(self) -> None:
        for sid in self.rows:  # made again as each row is drawn
            self.rows.forget_cells(sid)
        self.refresh()

    def _render_row(self, sid: str) -> list[Text]:
        """A row's cells, when it is first drawn (`Rows.render`)."""
        view = self._views.get(sid)
        if view is None:  # not reachable: a row is shown only with its view kept
            return [Text("") for _ in self.placed]
        ctx = self._row_context(view, self.clock())
        return [render_cell(p, ctx) for p in self.placed]

    @property
    def column_keys(self) -> list[str]:
        return [p.key for p in self.placed]

    def style_of(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(name, partial=True)
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles_stale = True  # a theme change recolours the cells: checked at the next sync

    def _check_styles(self) -> None:
        self._styles_stale = False
        fresh = {name: self.get_component_rich_style(name, partial=True) for name in self._styles}
        if fresh != self._styles:
            self._styles = fresh
            self._rerender_all()

    # -- reading ----------------------------------------------------------------------

    @property
    def selected_id(self) -> str | None:
        return self.cursor_key

    def shown_ids(self) -> list[str]:
        """Row keys in display order."""
        return list(self.rows.order)

    def visible_ids(self) -> list[str]:
        """The rows inside the viewport now (what the engine should poll first)."""
        top = self.top_row
        return self.rows.order[top: top + self.page_rows]

    def targets(self) -> list[str]:
        """Marked rows that are shown, else the highlighted row."""
        marked = [s for s in self.rows.order if s in self.marked]
        if marked:
            return marked
        sel = self.selected_id
        return [sel] if sel else []

    # -- updating ---------------------------------------------------------------------

    def passes(self, view: SessionView) -> bool:
        if self.problems_only and not is_problem(view):
            return False
        return self.filter.matches(view) if self.filter else True

    def _row_context(self, view: SessionView, now: float) -> RowContext:
        return RowContext(view, self.engine.history(view.id), now, view.id in self.marked, self.style_of)

    def sync(self, batch: Batch | None) -> None:
        """Bring rows in line with the engine; `None` means look at every watched session."""
        if not self.placed:
            return
        if self._styles_stale:
            self._check_styles()
        engine = self.engine
        watched = engine.watched_ids()
        if watched is not self._positioned or len(watched) != len(self._position):
            # A source that hands back the same list while nothing joined (a group of
            # 10,000) saves rebuilding this map every frame.
            self._position = {sid: i for i, sid in enumerate(watched)}
            self._positioned = watched
        everything = batch is None or batch.membership
        anchor = self._anchor()
        now = self.clock()
        reorder = False
        if everything:
            todo: Iterable[str] = watched
            for gone in [k for k in self.rows if k not in self._position]:
                self._drop(gone)
        else:
            assert batch is not None
            todo = [s for s in batch.sessions if s in self._position]
        done: set[str] = set()
        for sid in todo:
            done.add(sid)
            view = engine.view(sid)
            if view is None or not self.passes(view):
                self._drop(sid)
                continue
            reorder |= self._show(view, now, None)
        if batch is not None and batch.clock and not everything:
            for sid in self._clock_rows():
                view = engine.view(sid) if sid not in done else None
                if view is not None:
                    reorder |= self._show(view, now, TICKING)
        self._resort_due |= reorder
        if self._resort_due and (everything or time.monotonic() - self._sorted_at >= RESORT_INTERVAL):
            self._sort()
        self._settle(anchor)

    def _show(self, view: SessionView, now: float, only: frozenset[str] | None) -> bool:
        """Render one row; True if the table needs re-sorting."""
        sid = view.id
        old_view = self._views.get(sid)
        self._views[sid] = view
        if view is not old_view:
            self._sort_values.update(view)
        rows = self.rows
        if sid not in rows:
            rows.add(sid, None)  # cells made when the row is drawn
            self._moved = True
            return True
        ctx = self._row_context(view, now)
        if rows.has_cells(sid):  # else never drawn: its cells are made when it is
            self._update_cells(sid, ctx, only)
        if self.sort_key == ORDER or old_view is None:
            return old_view is None
        history = ctx.history
        pos = self._position.get(sid, 0)
        changed_sort: bool = sort_value(self.sort_key, old_view, history, pos) != sort_value(
            self.sort_key, view, history, pos)
        return changed_sort

    def _update_cells(self, sid: str, ctx: RowContext, only: frozenset[str] | None) -> None:
        """Re-render a drawn row's cells; repaint just what changed on screen."""
        rows = self.rows
        cells = rows.cells(sid)
        for i, placed in enumerate(self.placed):
            if only is not None and placed.key not in only:
                continue
            text = render_cell(placed, ctx)
            old = cells[i]
            if _same(old, text):
                continue
            rows.set_cell(sid, i, text)
            self.cells_updated += 1
            if not self._moved:  # a sparkline that gained a bar: repaint those cells, not all 60
                changed = _changed_range(old, text, placed.width + 1)
                self.refresh_cell(sid, placed.key, *(changed or (0, None)))

    def _clock_rows(self) -> list[str]:
        """Rows whose ages and sparklines move this tick: the ones on screen.

        Off-screen rows are re-rendered when their data changes, and within a tick of
        scrolling into view; sorting reads the sessions, not the cells. (Re-rendering a
        rolling slice of 200 off-screen rows each second cost ~10 ms of the event loop
        with 1,000 sessions, which keypresses waited behind.)
        """
        return self.visible_ids()

    def _drop(self, sid: str) -> None:
        if self.rows.drop(sid):
            self.forget_strip(sid)
            self._moved = True
        self._views.pop(sid, None)
        self._sort_values.drop(sid)

    def _sort(self) -> None:
        views, history, position = self._views, self.engine.history, self._position
        # Both sorts key on dict lookups (in C); a key's values are kept as rows change
        # (SortValues) or, for columns that move with the clock, computed in one pass.
        ties: dict[str, object] = {sid: position.get(sid, 0) for sid in self.rows}
        col = BY_KEY.get(self.sort_key)
        values: dict[str, object]
        if col is None or col.sort is None:
            values = ties
        elif (kept := self._sort_values.values(col.key)) is not None:
            values = kept
        else:
            sort = col.sort
            values = {sid: ties[sid] if (view := views.get(sid)) is None
                      else sort(view, history(sid)) for sid in self.rows}
        if self.rows.sort(values.__getitem__, ties.__getitem__, self.sort_reverse):
            self._moved = True
        self._resort_due, self._sorted_at = False, time.monotonic()

    def _anchor(self) -> tuple[str | None, int]:
        """The highlighted session and its line on screen, to keep both across a change."""
        return self.selected_id, self.cursor_row - self.top_row

    def _settle(self, anchor: tuple[str | None, int]) -> None:
        """After rows moved: the cursor back on its session (on its old screen line if it
        can), the scroll size updated, every line repainted."""
        self._resize_virtual()
        selected, line = anchor
        if self._moved:
            self._moved = False
            self.refresh()
            if selected is not None and selected in self.rows:
                index = self.rows.index(selected)
                if index != self.cursor_row:
                    self.cursor_row = index
                    self.scroll_to(y=max(index - line, 0), animate=False)
        if self.rows and (self.cursor_row >= len(self.rows) or self.cursor_key != selected):
            self.move_cursor(row=min(self.cursor_row, len(self.rows) - 1))
        elif not self.rows:
            self.cursor_row = 0

    # -- user actions -----------------------------------------------------------------

    def set_filter(self, flt: Filter, *, soon: bool = False) -> None:
        """`soon`: apply once typing pauses (FILTER_DELAY) or `apply_filter_now` is called:
        each letter typed into the filter of a 10,000-row table brings rows in and out."""
        self.filter = flt
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        if soon:
            self._filter_timer = self.set_timer(FILTER_DELAY, self.apply_filter_now)
        else:
            self._refilter()

    def apply_filter_now(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = None
        self._refilter()

    def set_problems_only(self, on: bool) -> None:
        self.problems_only = on
        self._refilter()

    def _refilter(self) -> None:
        """Rows in or out for the new filter; rows shown already keep their cells (a letter
        typed into the filter of 10,000 rows re-rendered all of them: 0.6 s a key)."""
        if not self.placed:
            return
        anchor = self._anchor()
        now = self.clock()
        watched = self.engine.watched_ids()
        self._position = {sid: i for i, sid in enumerate(watched)}
        self._positioned = watched
        for gone in [k for k in self.rows if k not in self._position]:
            self._drop(gone)
        for sid in watched:
            view = self._views.get(sid) if sid in self.rows else None
            if view is None:
                view = self.engine.view(sid)
            if view is None or not self.passes(view):
                self._drop(sid)
            elif sid not in self.rows:
                self._show(view, now, None)
        self._sort()
        self._settle(anchor)

    def cycle_sort(self) -> str:
        i = SORT_KEYS.index(self.sort_key)
        keys = [k for k in SORT_KEYS if k == ORDER or k in self.column_keys]
        later = [k for k in keys if SORT_KEYS.index(k) > i]
        self.sort_key = later[0] if later else keys[0]
        self._resort_and_label()
        return self.sort_key

    def reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._resort_and_label()

    def sort_by(self, key: str) -> None:
        """Sort by a column (a header click); the sorted column again: reverse it."""
        if key not in SORT_KEYS:
            return
        if key == self.sort_key:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_key, self.sort_reverse = key, False
        self._resort_and_label()

    @on(LineTable.HeaderClicked)
    def _header_clicked(self, event: LineTable.HeaderClicked) -> None:
        self.sort_by(event.column)  # the message goes on to the screen, which updates its mode line

    def _resort_and_label(self) -> None:
        anchor = self._anchor()
        self.set_labels({p.key: self._label(p) for p in self.placed})
        self._sort()
        self._settle(anchor)

    def toggle_mark(self, sid: str) -> None:
        self.marked.symmetric_difference_update({sid})
        self.sync(Batch(sessions={sid}))

    def forget(self, ids: Iterable[str]) -> None:
        self.marked.difference_update(ids)

    def select(self, sid: str) -> bool:
        if sid not in self.rows:
            return False
        self.move_cursor(row=self.rows.index(sid))
        return True
