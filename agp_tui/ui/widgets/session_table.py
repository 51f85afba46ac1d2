"""The session table: rows keyed by session id, diffed cell by cell, never rebuilt on refresh.

`sync()` is the only way data reaches the table. It re-renders the rows a batch names,
compares each cell with what is on screen and calls `update_cell` only for those that
differ; rows are added and removed by key; the cursor stays on the same session.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from agp_tui.monitor.engine import Engine
from agp_tui.monitor.view import SessionView
from agp_tui.ui.filtering import Filter, is_problem
from agp_tui.ui.format import STATUS_KINDS
from agp_tui.ui.updates import Batch
from agp_tui.ui.widgets.columns import (
    SORT_KEYS,
    TIME_COLUMNS,
    Col,
    IdCell,
    header_label,
    layout,
    render_cell,
    sort_value,
)

_CellKey = tuple[str, str, tuple[object, ...]]
# A sorted table re-sorts for data changes at most this often (s): rows do not jump under
# the cursor several times a second, and a re-sort (every row re-rendered) costs ~25 ms
# with 1,000 rows. Sorting by key, adding or removing rows re-sorts at once.
RESORT_INTERVAL = 2.0


def _fingerprint(text: Text) -> _CellKey:
    return (text.plain, str(text.style), tuple((s.start, s.end, str(s.style)) for s in text.spans))


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


class SessionTable(DataTable[Text]):
    """Watched sessions, one row each; see `columns.py` for what each cell shows."""

    # DataTable binds home/end to the leftmost/rightmost column; in a row table they mean
    # the first/last row, as the help says.
    BINDINGS = [
        Binding("home", "scroll_top", "First row", show=False),
        Binding("end", "scroll_bottom", "Last row", show=False),
    ]

    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | {
        *(f"status--{k}" for k in STATUS_KINDS),
        "cell--dim", "cell--spark", "cell--spark-estimate", "cell--stale", "cell--error", "cell--marked",
    }

    def __init__(self, engine: Engine, clock: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(cursor_type="row", cell_padding=0, zebra_stripes=False, id=id)
        self.engine = engine
        self.clock = clock
        self.filter = Filter()
        self.problems_only = False
        self.marked: set[str] = set()
        self.sort_key = "order"
        self.sort_reverse = False
        self._cols: list[Col] = []
        self._layout_width = 0
        self._shown: dict[str, dict[str, _CellKey]] = {}  # row key -> column -> fingerprint
        self._views: dict[str, SessionView] = {}
        self._position: dict[str, int] = {}
        self._styles: dict[str, Style] = {}
        self.cells_updated = 0  # for tests: how many update_cell calls were made
        self._changed_rows: set[RowKey] = set()  # whose render caches are out of date
        self._resort_due = False  # data moved a row's sort value since the last sort
        self._last_sizes: tuple[Size, Size, Size] | None = None
        self._sorted_at = 0.0

    # -- layout -----------------------------------------------------------------------

    def on_mount(self) -> None:
        self._relayout(max(self.size.width, 80))

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width and event.size.width != self._layout_width:
            self._relayout(event.size.width)

    def _relayout(self, width: int) -> None:
        """Columns depend on width; a resize is the one time rows are re-added."""
        cols = layout(width)
        self._layout_width = width
        if [(c.key, c.width) for c in cols] == [(c.key, c.width) for c in self._cols]:
            return
        selected = self.selected_id
        scroll = self.scroll_offset
        self._cols = cols
        self.clear(columns=True)
        self._shown.clear()
        for col in cols:
            self.add_column(header_label(col, self.sort_key, self.sort_reverse), key=col.key,
                            width=col.width + 1)
        self.sync(None)
        self._restore_cursor(selected)
        self.scroll_to(scroll.x, scroll.y, animate=False)

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        """ScrollView's, skipped when nothing changed. ScrollView repaints both scrollbars on
        every layout pass of the screen even when no size moved, and any toast or detail
        line that changes height asks for one: 24 rows of scrollbar resent each time."""
        sizes = (size, virtual_size, container_size)
        if sizes == self._last_sizes and self.size == size:
            return False
        self._last_sizes = sizes
        return super()._size_updated(size, virtual_size, container_size, layout)

    @property
    def column_keys(self) -> list[str]:
        return [c.key for c in self._cols]

    def style_of(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(name, partial=True)
        return style

    def on_theme_changed(self) -> None:  # pragma: no cover - cosmetic
        self._styles.clear()

    # -- reading ----------------------------------------------------------------------

    @property
    def selected_id(self) -> str | None:
        if not self.row_count or not self._cols:
            return None
        row = min(self.cursor_row, self.row_count - 1)
        key = self.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        return key

    def shown_ids(self) -> list[str]:
        """Row keys in display order."""
        return [row.key.value for row in self.ordered_rows if row.key.value is not None]

    def visible_ids(self) -> list[str]:
        """The rows inside the viewport now (what the engine should poll first)."""
        top = int(self.scroll_y)
        height = max(self.scrollable_content_region.height - 1, 1)
        return self.shown_ids()[top: top + height]

    def targets(self) -> list[str]:
        """Marked rows that are shown, else the highlighted row."""
        shown = self.shown_ids()
        marked = [s for s in shown if s in self.marked]
        if marked:
            return marked
        sel = self.selected_id
        return [sel] if sel else []

    # -- updating ---------------------------------------------------------------------

    def passes(self, view: SessionView) -> bool:
        if self.problems_only and not is_problem(view):
            return False
        return self.filter.matches(view) if self.filter else True

    def sync(self, batch: Batch | None) -> None:
        """Bring rows in line with the engine; `None` means look at every watched session."""
        if not self._cols:
            return
        engine = self.engine
        watched = engine.watched_ids()
        self._position = {sid: i for i, sid in enumerate(watched)}
        everything = batch is None or batch.membership
        selected = self.selected_id
        now = self.clock()
        reorder = False
        if everything:
            todo: Iterable[str] = watched
            for gone in [k for k in self._shown if k not in self._position]:
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
                    reorder |= self._show(view, now, TIME_COLUMNS)
        self._drop_render_caches()
        self._resort_due |= reorder
        if self._resort_due and (everything or time.monotonic() - self._sorted_at >= RESORT_INTERVAL):
            self._sort()
        self._restore_cursor(selected)

    def _show(self, view: SessionView, now: float, only: frozenset[str] | None) -> bool:
        """Render one row; True if the table needs re-sorting."""
        sid = view.id
        old_view = self._views.get(sid)
        self._views[sid] = view
        history = self.engine.history(sid)
        marked = sid in self.marked
        current = self._shown.get(sid)
        if current is None:
            cells = [render_cell(c.key, c, view, history, now, marked, self.style_of) for c in self._cols]
            self.add_row(*cells, key=sid)
            self._shown[sid] = {c.key: _fingerprint(t) for c, t in zip(self._cols, cells, strict=True)}
            return True
        for col in self._cols:
            if only is not None and col.key not in only:
                continue
            text = render_cell(col.key, col, view, history, now, marked, self.style_of)
            fp = _fingerprint(text)
            if current.get(col.key) != fp:
                current[col.key] = fp
                self._set_cell(sid, col.key, text)
                self.cells_updated += 1
        if self.sort_key == "order" or old_view is None:
            return old_view is None
        pos = self._position.get(sid, 0)
        changed: bool = sort_value(self.sort_key, old_view, history, pos) != sort_value(
            self.sort_key, view, history, pos
        )
        return changed

    def _clock_rows(self) -> list[str]:
        """Rows whose ages and sparklines move this tick: the ones on screen.

        Off-screen rows are re-rendered when their data changes, and within a tick of
        scrolling into view; sorting reads the sessions, not the cells. (Re-rendering a
        rolling slice of 200 off-screen rows each second cost ~10 ms of the event loop
        with 1,000 sessions, which keypresses waited behind.)
        """
        return self.visible_ids()

    def _drop(self, sid: str) -> None:
        if sid in self._shown:
            del self._shown[sid]
            self.remove_row(sid)
        self._views.pop(sid, None)

    def _sort(self) -> None:
        def key(cell: Text) -> object:
            sid = cell.session_id if isinstance(cell, IdCell) else ""
            view = self._views.get(sid)
            pos = self._position.get(sid, 0)
            if view is None:
                return (1, pos)
            return (0, sort_value(self.sort_key, view, self.engine.history(sid), pos), pos)

        self.sort("id", key=key, reverse=self.sort_reverse)
        self._resort_due, self._sorted_at = False, time.monotonic()

    def _restore_cursor(self, selected: str | None) -> None:
        if selected is None or selected not in self._shown:
            return
        index = self.get_row_index(selected)
        if index != self.cursor_row:
            self.move_cursor(row=index)

    # -- user actions -----------------------------------------------------------------

    def set_filter(self, flt: Filter) -> None:
        self.filter = flt
        self.sync(None)

    def set_problems_only(self, on: bool) -> None:
        self.problems_only = on
        self.sync(None)

    def cycle_sort(self) -> str:
        i = SORT_KEYS.index(self.sort_key)
        keys = [k for k in SORT_KEYS if k == "order" or k in self.column_keys]
        later = [k for k in keys if SORT_KEYS.index(k) > i]
        self.sort_key = later[0] if later else keys[0]
        self._resort_and_label()
        return self.sort_key

    def _set_cell(self, row_key: str, column_key: str, value: Text) -> None:
        """`update_cell` without its whole-table `refresh()`: only the cell is repainted.

        `DataTable.update_cell` refreshes the entire widget, so every visible line was sent
        to the terminal again on each render tick — with 20 live rows about 35 KB/s, most of
        an SSH link's load (`python -m agp_tui.bench bandwidth`). A cell region, written by
        `lean_output`, sends just that cell. It also bumps `_update_count`, which is part
        of every DataTable render-cache key: with data arriving several times a second no
        rendered cell survived to the next keypress, and scrolling 1,000 rows re-rendered
        every visible cell (~40 ms). Instead the caches of the changed rows are dropped
        once per batch (`_drop_render_caches`).
        """
        rk, ck = RowKey(row_key), ColumnKey(column_key)
        old = self._data[rk].get(ck)
        self._data[rk][ck] = value
        self._changed_rows.add(rk)
        region = self._cell_region(self.get_row_index(rk), column_key)
        changed = _changed_range(old, value, region.width) if old is not None else None
        if changed is not None:  # a sparkline gained a bar: repaint those cells, not all 60
            region = Region(region.x + changed[0], region.y, changed[1] - changed[0], 1)
        self._refresh_region(region)

    def _drop_render_caches(self) -> None:
        """Forget DataTable's rendered lines and cells of the rows changed since last time.

        DataTable keys its caches by (row key | row index | line y, ..., update count);
        everything else in them is still what the screen shows. Scanning the caches
        (at most ~13,000 keys) once per batch costs about a millisecond.
        """
        rows = self._changed_rows
        if not rows:
            return
        indices = {self.get_row_index(rk) for rk in rows if rk in self.rows}
        lines = {i + (self.header_height if self.show_header else 0) for i in indices}
        caches: list[tuple[Any, int, set[Any]]] = [
            (self._cell_render_cache, 0, rows), (self._row_render_cache, 0, rows),
            (self._line_cache, 0, lines), (self._row_renderable_cache, 1, indices),
        ]
        for cache, position, wanted in caches:
            for key in [k for k in cache.keys() if k[position] in wanted]:  # noqa: SIM118 (no __iter__)
                cache.discard(key)
        rows.clear()

    def _render_cell(
        self, row_index: int, column_index: int, base_style: Style, width: int,
        cursor: bool = False, hover: bool = False,
    ) -> list[list[Segment]]:
        """DataTable's cell renderer, with a fast path for our one-line `Text` cells.

        DataTable renders every cell through `Console.render_lines(Styled(Padding(cell)))`,
        ~0.1 ms a cell: a re-sort or a scroll of 1,000 rows re-renders ~300 visible cells,
        which was most of a keypress's latency. A one-line Text needs only its wrap to the
        width, its segments and the two styles; `test_cell_fast_path_renders_what_datatable_would`
        checks the output is segment-for-segment what DataTable produces.
        """
        if row_index < 0 or column_index < 0 or self.cell_padding or self.fixed_rows or self.fixed_columns:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        cache_key = (row_key, column_key, base_style, cursor, hover, self._show_hover_cursor,
                     self._update_count, self._pseudo_class_state)
        cached = self._cell_render_cache.get(cache_key)
        if cached is not None:
            return cached
        cell = self._data[row_key].get(column_key)
        if not isinstance(cell, Text) or self.rows[row_key].height != 1:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css",
        )
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
        console = self.app.console
        wrapped = cell.wrap(console, width, justify=cell.justify or "default",
                            overflow=cell.overflow or "fold", no_wrap=True)
        segments = wrapped[0].render(console, end="") if wrapped else []
        styled = Segment.apply_style(segments, pre_style, post_style)
        lines = [Segment.adjust_line_length(list(styled), width)]
        self._cell_render_cache[cache_key] = lines
        return lines

    def _cell_region(self, row_index: int, column_key: str) -> Region:
        """Where a cell is, in constant time. DataTable's `_get_cell_region` sums the heights
        of all the rows above (rebuilding its row list after every update): with 1,000 rows
        that was a millisecond per changed cell. Every row here is one line high."""
        x = 0
        for col in self._cols:
            width = self.columns[ColumnKey(col.key)].get_render_width(self)
            if col.key == column_key:
                return Region(x, row_index + (self.header_height if self.show_header else 0), width, 1)
            x += width
        return Region(0, 0, 0, 0)

    def reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._resort_and_label()

    def _resort_and_label(self) -> None:
        selected = self.selected_id
        for col in self._cols:
            self.columns[col.key].label = header_label(col, self.sort_key, self.sort_reverse)  # type: ignore[index]
        self._sort()
        self._restore_cursor(selected)
        self.refresh()

    def toggle_mark(self, sid: str) -> None:
        self.marked.symmetric_difference_update({sid})
        self.sync(Batch(sessions={sid}))

    def forget(self, ids: Iterable[str]) -> None:
        self.marked.difference_update(ids)

    def select(self, sid: str) -> bool:
        if sid not in self._shown:
            return False
        self.move_cursor(row=self.get_row_index(sid))
        return True
