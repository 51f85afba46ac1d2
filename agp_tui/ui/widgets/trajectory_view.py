"""One line per trajectory event, expandable to its full text, following new ones like `tail -f`.

A Line API widget (`ScrollView` + `render_line`): only the lines on screen are rendered,
each event's lines are cached (events never change once received), and a cursor move
repaints two lines. Follow mode keeps the cursor on the newest event and the view at the
bottom; moving up (keys, page, home, the mouse wheel) leaves it, `End` or `F` resumes.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from agp_tui.api.events import EventInfo, EventKind, read_event
from agp_tui.monitor.trajectory import EventBuffer, Indexed
from agp_tui.ui.events_text import event_body, event_line, steps_of, style_class

OLDER = -1  # the line above the first event saying how many older ones exist


class TrajectoryView(ScrollView, can_focus=True):
    """The events of one `EventBuffer`; `sync()` takes what arrived since the last call."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end,F", "follow", "Follow"),
        Binding("enter", "expand", "Expand"),
    ]
    COMPONENT_CLASSES = {"trajectory--cursor", "trajectory--older", "event--time",
                         *(style_class(k) for k in EventKind)}

    class Moved(Message):
        """The cursor or follow mode changed (the screen's title says which)."""

    def __init__(self, buffer: EventBuffer, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.buffer = buffer
        self.follow = True
        self.cursor: int | None = None  # event index under the cursor
        self.expanded: set[int] = set()
        self._items: list[Indexed] = []
        self._infos: dict[int, EventInfo] = {}
        self._steps: dict[int, int | None] = {}
        self._lines: list[tuple[int, int]] = []  # (event index or OLDER, line within it)
        self._first_line: dict[int, int] = {}  # event index -> its first line
        self._item_pos: dict[int, int] = {}  # event index -> its position in `_items`
        self._pad = 0  # blank lines below the last while following (see _keep_newest_in_view)
        self._version = -1
        self._width = 0
        self._strips: dict[tuple[int, int, bool], Strip] = {}
        self._bodies: dict[int, list[Text]] = {}

    # -- data ---------------------------------------------------------------------------

    def info(self, index: int) -> EventInfo | None:
        return self._infos.get(index)

    def item(self, index: int) -> Indexed | None:
        pos = self._item_pos.get(index)
        return self._items[pos] if pos is not None else None

    def sync(self, *, force: bool = False) -> None:
        """Re-read the buffer if it changed; in follow mode, go to the newest event."""
        if self.buffer.version == self._version and not force:
            return
        self._version = self.buffer.version
        self._items = list(self.buffer)
        for item in self._items:
            if item.index not in self._infos:
                self._infos[item.index] = read_event(item.event)
        held = {item.index for item in self._items}
        for gone in [i for i in self._infos if i not in held]:  # dropped from the buffer
            del self._infos[gone]
            self._bodies.pop(gone, None)
            self.expanded.discard(gone)
        steps = steps_of(self._items, [self._infos[i.index] for i in self._items])
        new_steps = {item.index: step for item, step in zip(self._items, steps, strict=True)}
        old_lines = len(self._lines)
        # The usual case: events only appended, the lines above unchanged. Then repaint just
        # the new lines (an SSH link pays for every repainted cell), not the whole view.
        appended = (
            bool(self._lines) and all(new_steps.get(i) == st for i, st in self._steps.items())
            and self._lines[0][0] == (OLDER if self.buffer.missing_before() > 0 else self._items[0].index)
        )
        if not appended:
            self._strips.clear()
        self._steps = new_steps
        self._relayout(full=not appended)
        if appended:
            self.refresh_lines(old_lines, len(self._lines) - old_lines)
        if self.follow and self._items:
            self._move_to(self._items[-1].index, scroll=False)
            self._keep_newest_in_view()
        elif self.cursor is not None and self.cursor not in self._first_line and self._items:
            self._move_to(self._items[0].index)

    def _relayout(self, *, full: bool = True) -> None:
        lines: list[tuple[int, int]] = []
        if self.buffer.missing_before() > 0:
            lines.append((OLDER, 0))
        first: dict[int, int] = {}
        pos: dict[int, int] = {}
        for n, item in enumerate(self._items):
            first[item.index] = len(lines)
            pos[item.index] = n
            count = 1 + (len(self._body(item)) if item.index in self.expanded else 0)
            lines.extend((item.index, k) for k in range(count))
        self._lines, self._first_line, self._item_pos = lines, first, pos
        self.virtual_size = Size(self._width, len(lines) + self._pad)
        if full:
            self.refresh()

    def _keep_newest_in_view(self) -> None:
        """Follow like `tail -f`, but scroll half a page at a time: a scroll repaints every
        line of the view (an SSH link pays for each), while lines added into the blank
        half below cost only themselves. So the view jumps once per half page of events,
        not once per event."""
        height = self.size.height
        last = len(self._lines)
        if height <= 0 or last <= int(self.scroll_offset.y) + height:
            return  # the newest line is on screen already
        self._pad = height // 2
        self.virtual_size = Size(self._width, last + self._pad)
        self.scroll_to(y=max(last + self._pad - height, 0), animate=False, immediate=True)

    def _body(self, item: Indexed) -> list[Text]:
        body = self._bodies.get(item.index)
        if body is None:
            body = self._bodies[item.index] = event_body(item, self._infos[item.index])
        return body

    # -- drawing ------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        width = self.scrollable_content_region.width
        if width != self._width:
            self._width = width
            self._strips.clear()
            self.virtual_size = Size(width, len(self._lines) + self._pad)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line_no = y + int(self.scroll_offset.y)
        base = self.rich_style
        if line_no >= len(self._lines) or width <= 0:
            return Strip.blank(width, base)
        index, sub = self._lines[line_no]
        selected = index == self.cursor and index != OLDER
        key = (index, sub, selected)
        strip = self._strips.get(key)
        if strip is None:
            text = self._text(index, sub)
            segments = list(text.render(self.app.console))
            style = base + self._style("trajectory--cursor") if selected and sub == 0 else base
            strip = Strip(Segment.apply_style(segments, style)).adjust_cell_length(width, style)
            self._strips[key] = strip
        return strip

    def _text(self, index: int, sub: int) -> Text:
        if index == OLDER:
            n = self.buffer.missing_before()
            return Text(f"▲ {n:,} earlier event{'s' if n != 1 else ''}: [ loads 100 more",
                        style=self._style("trajectory--older"))
        pos = self._item_pos[index]
        item = self._items[pos]
        if sub == 0:
            return event_line(item, self._infos[index], self._steps.get(index), self._style,
                              expanded=index in self.expanded)
        return self._body(item)[sub - 1]

    # -- moving -------------------------------------------------------------------------

    def _move_to(self, index: int, *, scroll: bool = True) -> None:
        old = self.cursor
        self.cursor = index
        for i in (old, index):
            if i is not None and i in self._first_line:
                self.refresh_line(self._first_line[i])
        if scroll and index in self._first_line:
            y = self._first_line[index]
            body = self._body(self._items[self._item_pos[index]]) if index in self.expanded else []
            height = 1 + len(body)
            self.scroll_to_region(Region(0, y, max(self._width, 1), min(height, self.size.height)),
                                  animate=False, immediate=True)
        self.post_message(self.Moved())

    def _step_from_cursor(self, delta: int) -> int | None:
        if not self._items:
            return None
        last = len(self._items) - 1
        pos = self._item_pos.get(self.cursor, last) if self.cursor is not None else last
        return self._items[max(0, min(pos + delta, len(self._items) - 1))].index

    def _leave_follow(self) -> None:
        if self.follow:
            self.follow = False
            self.post_message(self.Moved())

    def action_cursor(self, delta: int) -> None:
        if delta < 0:
            self._leave_follow()
        target = self._step_from_cursor(delta)
        if target is not None:
            self._move_to(target)

    def action_page(self, direction: int) -> None:
        if direction < 0:
            self._leave_follow()
        self.action_cursor(direction * max(self.size.height - 1, 1))

    def action_first(self) -> None:
        self._leave_follow()
        if self._items:
            self._move_to(self._items[0].index)
            self.scroll_home(animate=False, immediate=True)

    def action_follow(self) -> None:
        self.follow = True
        if self._items:
            self._move_to(self._items[-1].index, scroll=False)
        self._keep_newest_in_view()
        self.post_message(self.Moved())

    def action_expand(self) -> None:
        """Expand the event under the cursor, or fold it again."""
        index = self.cursor
        if index is None or index not in self._first_line:
            return
        self.expanded.symmetric_difference_update({index})
        self._strips = {k: v for k, v in self._strips.items() if k[0] != index}
        self._relayout()
        self._move_to(index)

    def select(self, index: int) -> None:
        """Put the cursor on event `index` (search, next error); leaves follow mode."""
        self._leave_follow()
        self._move_to(index)

    def find(self, pred: Callable[[EventInfo], bool], direction: int = 1) -> int | None:
        """The next event after the cursor (before it when `direction` < 0) matching `pred`,
        wrapping around; None if none does."""
        if not self._items:
            return None
        n = len(self._items)
        before = -1 if direction > 0 else n
        start = self._item_pos.get(self.cursor, before) if self.cursor is not None else before
        for step in range(1, n + 1):
            item = self._items[(start + direction * step) % n]
            if pred(self._infos[item.index]):
                return item.index
        return None

    # -- mouse --------------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        line_no = event.y + int(self.scroll_offset.y)
        if not 0 <= line_no < len(self._lines):
            return
        index, _ = self._lines[line_no]
        if index == OLDER:
            return
        if index == self.cursor:
            self.action_expand()
        else:
            self.select(index)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._leave_follow()
