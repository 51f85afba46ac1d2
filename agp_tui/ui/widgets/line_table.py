"""A one-line-per-row table on Textual's public Line API.

`LineTable` is a `ScrollView` that draws each line itself (`render_line(y) -> Strip`):
line 0 is the header, fixed while rows scroll under it; the rows come from a `Rows`
model the subclass fills. Only public Textual API is used: `virtual_size` for scrolling,
`refresh(Region)` for the cells that changed, component classes for styles.

Rendered rows are cached as strips keyed by (row version, width, cursor, hover, base
style): moving the cursor redraws two rows, scrolling redraws only rows never drawn at
this version, a data change redraws just that row, and the screen sends just the cells
that changed (`refresh_cell`). The styles reproduce `DataTable`'s (`datatable--*` colours
under `line-table--*` names), so the dashboard looks as it did.
Its vertical scrollbar is drawn by its base, `DrawnScrollView` (scrollbar_view.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip

from agp_tui.ui.widgets.rows import Rows
from agp_tui.ui.widgets.scrollbar_view import DrawnScrollView

_StripKey = tuple[int, int, bool, bool, Style, bool]


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a column is drawn: `x` and `width` in cells (gutter included), and its header."""

    key: str
    label: Text
    x: int
    width: int


class LineTable(DrawnScrollView, can_focus=True):
    DEFAULT_CSS = """
    LineTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .line-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .line-table--header { background-tint: $foreground 5%; }
        }
        & > .line-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .line-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .line-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .line-table--hover { background: $block-hover-background; }
    }
    """
    COMPONENT_CLASSES = {"line-table--header", "line-table--cursor", "line-table--hover"}
    BINDINGS = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,ctrl+home", "first_row", "First row", show=False),
        Binding("end,ctrl+end", "last_row", "Last row", show=False),
    ]

    class _RowMessage(Message):
        """A row of `table` (`key`: its id, None when the table is empty)."""

        def __init__(self, table: LineTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> LineTable:
            return self.table

    class RowHighlighted(_RowMessage):
        """The cursor is on another row."""

    class RowSelected(_RowMessage):
        """`enter`, or a click on the highlighted row. (Not a RowHighlighted: handlers of
        that would run for it too.)"""

    class HeaderClicked(Message):
        def __init__(self, table: LineTable, column: str) -> None:
            super().__init__()
            self.table = table
            self.column = column

        @property
        def control(self) -> LineTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.rows = Rows()
        self.slots: list[Slot] = []
        self.columns: dict[str, Slot] = {}
        self.cursor_row = 0
        self.hover_row: int | None = None  # the row under the mouse, while it moves
        self.strips_rendered = 0  # for tests and benchmarks: rows drawn (cache misses)
        self._strips: dict[str, tuple[_StripKey, Strip]] = {}
        self._header: tuple[tuple[object, ...], Strip] | None = None
        # Styles for the frame being drawn, read once per `render_lines`.
        self._base = Style()
        self._header_style = Style()
        self._cursor_style = Style()
        self._hover_style = Style()
        self._focused = False

    # -- columns and size -------------------------------------------------------------------

    def set_columns(self, columns: list[tuple[str, Text, int]]) -> None:
        """(key, header label, width in cells) left to right; every row must be re-filled."""
        x = 0
        slots = []
        for key, label, width in columns:
            slots.append(Slot(key, label, x, width))
            x += width
        self.slots = slots
        self.columns = {s.key: s for s in slots}
        self._strips.clear()
        self._header = None
        self._resize_virtual()
        self.refresh()

    def set_labels(self, labels: dict[str, Text]) -> None:
        """New header labels (a sort arrow moved); only the header line is redrawn."""
        self.slots = [Slot(s.key, labels.get(s.key, s.label), s.x, s.width) for s in self.slots]
        self.columns = {s.key: s for s in self.slots}
        self._header = None
        self.refresh(Region(0, 0, self.size.width, 1))

    @property
    def table_width(self) -> int:
        return sum(s.width for s in self.slots)

    def _resize_virtual(self) -> None:
        size = Size(self.table_width, len(self.rows) + 1)
        if self.virtual_size != size:
            self.virtual_size = size

    @property
    def page_rows(self) -> int:
        """Rows that fit under the header."""
        return max(self.scrollable_content_region.height - 1, 1)

    @property
    def top_row(self) -> int:
        return self.scroll_offset.y

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()  # a theme or a pseudo class changed what every row looks like
        self._header = None

    # -- reading ----------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def cursor_key(self) -> str | None:
        if not self.rows:
            return None
        return self.rows.key_at(min(self.cursor_row, len(self.rows) - 1))

    def get_cell(self, key: str, column: str) -> Text:
        """The cell as the table shows it (padded to its column)."""
        slot = self.columns[column]
        return self.rows.cells(key)[self.slots.index(slot)]

    # -- drawing ----------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base = self.rich_style
        self._header_style = self.get_component_styles("line-table--header").rich_style
        self._cursor_style = self.get_component_rich_style("line-table--cursor")
        self._hover_style = self.get_component_rich_style("line-table--hover")
        self._focused = self.has_focus
        return super().render_lines(crop)

    # -- lines ------------------------------------------------------------------------------

    def render_content_line(self, y: int, width: int) -> Strip:
        if y == 0:
            return self._header_strip(width)
        index = self.top_row + y - 1
        key = self.rows.key_at(index)
        if key is None:
            return Strip.blank(width, self._base)
        cursor = index == self.cursor_row
        hover = index == self.hover_row
        cache_key = (self.rows.version(key), width, cursor, hover, self._base, self._focused)
        cached = self._strips.get(key)
        if cached is not None and cached[0] == cache_key:
            return cached[1]
        component = Style()
        if hover:
            component += self._hover_style
        if cursor:
            component += self._cursor_style
        # As DataTable: the cursor's foreground wins over a cell's colours, its background does not.
        post = Style.from_color(color=component.color)
        strip = self._line(self.rows.cells(key), self._base + component, post, width)
        self._strips[key] = (cache_key, strip)
        self.strips_rendered += 1
        return strip

    def _header_strip(self, width: int) -> Strip:
        key = (width, self._header_style, self._base, tuple(s.label for s in self.slots))
        if self._header is not None and self._header[0] == key:
            return self._header[1]
        strip = self._line([s.label for s in self.slots], self._header_style, Style(), width)
        self._header = (key, strip)
        return strip

    def _line(self, cells: list[Text], pre: Style, post: Style, width: int) -> Strip:
        console = self.app.console
        segments: list[Segment] = []
        for cell, slot in zip(cells, self.slots, strict=True):
            wrapped = cell.wrap(console, slot.width, justify=cell.justify or "default",
                                overflow=cell.overflow or "fold", no_wrap=True)
            rendered = wrapped[0].render(console, end="") if wrapped else []
            styled = Segment.apply_style(rendered, pre, post)
            # Merged within a cell, not across cells: the same segments DataTable produced.
            segments.extend(Segment.simplify(Segment.adjust_line_length(list(styled), slot.width)))
        rest = width - self.table_width
        if rest > 0:  # the row's colours run to the edge (the cursor bar spans the width)
            segments.append(Segment(" " * rest, pre))
        return Strip(segments).adjust_cell_length(width, self._base)

    def forget_strip(self, key: str) -> None:
        self._strips.pop(key, None)

    def refresh_row(self, index: int) -> None:
        line = index - self.top_row + 1
        if 1 <= line < self.scrollable_content_region.height:
            self.refresh(Region(0, line, self.size.width, 1))

    def refresh_cell(self, key: str, column: str, start: int = 0, end: int | None = None) -> None:
        """Repaint one cell on screen (or columns [start, end) of it); off-screen: nothing."""
        line = self.rows.index(key) - self.top_row + 1
        if not 1 <= line < self.scrollable_content_region.height:
            return
        slot = self.columns[column]
        stop = slot.width if end is None else end
        self.refresh(Region(slot.x + start, line, stop - start, 1))

    # -- the cursor -------------------------------------------------------------------------

    def move_cursor(self, *, row: int, scroll: bool = True) -> None:
        """Put the cursor on row `row` (clamped); scrolls it into view unless told not to."""
        count = len(self.rows)
        row = max(min(row, count - 1), 0)
        old = self.cursor_row
        old_key = self.cursor_key
        self.cursor_row = row
        if old != row:
            self.refresh_row(old)
            self.refresh_row(row)
        if scroll:
            self.scroll_to_row(row)
        if self.cursor_key != old_key:
            self.post_message(self.RowHighlighted(self, self.cursor_key))

    def scroll_to_row(self, row: int) -> None:
        top, page = self.top_row, self.page_rows
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + page:
            self.scroll_to(y=row - page + 1, animate=False)

    def _cursor_into_view(self) -> None:
        self.scroll_to_row(self.cursor_row)

    def _keyboard(self) -> None:
        """Keys hide the mouse's hover bar, as DataTable does."""
        if self.hover_row is not None:
            old, self.hover_row = self.hover_row, None
            self.refresh_row(old)

    def action_cursor_up(self) -> None:
        self._keyboard()
        self.move_cursor(row=self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self._keyboard()
        self.move_cursor(row=self.cursor_row + 1)

    def action_page_down(self) -> None:
        self._keyboard()
        page = self.page_rows
        self.scroll_to(y=self.top_row + page, animate=False)
        self.move_cursor(row=self.cursor_row + page, scroll=False)
        self.call_after_refresh(self._cursor_into_view)  # in case the scroll was clamped

    def action_page_up(self) -> None:
        self._keyboard()
        page = self.page_rows
        self.scroll_to(y=max(self.top_row - page, 0), animate=False)
        self.move_cursor(row=self.cursor_row - page, scroll=False)
        self.call_after_refresh(self._cursor_into_view)

    def action_first_row(self) -> None:
        self._keyboard()
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        self._keyboard()
        self.move_cursor(row=len(self.rows) - 1)

    def action_select_cursor(self) -> None:
        if self.rows:
            self.post_message(self.RowSelected(self, self.cursor_key))

    # -- the mouse --------------------------------------------------------------------------

    def _row_at(self, event: events.MouseEvent) -> tuple[int, int] | None:
        """(x, row index) under the mouse; row -1 is the header; None outside the rows."""
        offset = event.get_content_offset(self)
        if offset is None or self.on_scrollbar(event):
            return None
        if offset.y == 0:
            return offset.x, -1
        index = self.top_row + offset.y - 1
        return (offset.x, index) if index < len(self.rows) else None

    def on_click(self, event: events.Click) -> None:
        if self.on_scrollbar(event):
            return
        at = self._row_at(event)
        if at is None:
            return
        x, index = at
        event.stop()
        if index < 0:
            slot = next((s for s in self.slots if s.x <= x < s.x + s.width), None)
            if slot is not None:
                self.post_message(self.HeaderClicked(self, slot.key))
        elif index == self.cursor_row:
            self.post_message(self.RowSelected(self, self.cursor_key))
        else:
            self.move_cursor(row=index)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self.scrollbar_grabbed:
            return
        at = self._row_at(event)
        row = at[1] if at is not None and at[1] >= 0 else None
        if row != self.hover_row:
            old, self.hover_row = self.hover_row, row
            if old is not None:
                self.refresh_row(old)
            if row is not None:
                self.refresh_row(row)

    def on_leave(self, event: events.Leave) -> None:
        if self.hover_row is not None:
            old, self.hover_row = self.hover_row, None
            self.refresh_row(old)
