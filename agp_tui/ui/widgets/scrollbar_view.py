"""A `ScrollView` that draws its own vertical scrollbar, in its last column.

Textual's scrollbar is a widget of its own, and it is repainted on every layout pass of
the screen, whether or not anything moved: a toast appearing, a header label changing
width. Over SSH that is a whole column of the table resent each time (~5 KB in 10 s in a
`bench bandwidth --dump`). Here Textual's scrollbar gets no cells
(`scrollbar-size-vertical: 0`, so the view still scrolls with the wheel and the keys) and
the bar is drawn with Textual's own `ScrollBarRender` and scrollbar colours as part of
each line: it is repainted with the lines, when it moves. A click above or below the thumb
scrolls a page, the thumb drags. Public Textual API only.
"""

from __future__ import annotations

from math import ceil

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBarRender
from textual.strip import Strip


class DrawnScrollView(ScrollView):
    DEFAULT_CSS = """
    DrawnScrollView {
        scrollbar-size-vertical: 0;  /* drawn by the view itself (this module) */
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._bar: list[Segment] | None = None  # this frame's scrollbar, a segment per line
        self._bar_state = "idle"  # "hover" while the mouse is over it, "grab" while dragged
        self._grab: tuple[int, float] | None = None  # (mouse y, scroll y) when a drag began

    def render_content_line(self, y: int, width: int) -> Strip:
        """Line `y` of the view, `width` cells wide (the scrollbar's column not included)."""
        raise NotImplementedError

    def render_lines(self, crop: Region) -> list[Strip]:
        self._bar = self._scrollbar()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        bar = self._bar
        if bar is None or y >= len(bar):
            return self.render_content_line(y, width)
        return Strip([*self.render_content_line(y, width - 1), bar[y]], width)

    @property
    def scrollbar_shown(self) -> bool:
        height = self.scrollable_content_region.height
        return 0 < height < self.virtual_size.height and self.size.width > 1

    @property
    def scrollbar_grabbed(self) -> bool:
        return self._grab is not None

    def _scrollbar(self) -> list[Segment] | None:
        """The vertical scrollbar for this frame, one segment per line, as Textual's
        `ScrollBar.render` draws it; None when everything fits."""
        if not self.scrollbar_shown:
            return None
        height = self.scrollable_content_region.height
        styles = self.styles
        if self._bar_state == "grab":
            background, color = styles.scrollbar_background_active, styles.scrollbar_color_active
        elif self._bar_state == "hover":
            background, color = styles.scrollbar_background_hover, styles.scrollbar_color_hover
        else:
            background, color = styles.scrollbar_background, styles.scrollbar_color
        if background.a < 1:
            background = self.background_colors[0] + background
        color = background + color
        base = self.rich_style
        if self.screen.styles.scrollbar_color.a == 0:
            return [Segment(" ", Style(bgcolor=background.rich_color))] * height
        bar = ScrollBarRender.render_bar(
            size=height, virtual_size=ceil(self.virtual_size.height), window_size=height,
            position=self.scroll_y, thickness=1, vertical=True,
            back_color=background.rich_color,  # Rich colours, as Textual's ScrollBar passes them
            bar_color=color.rich_color,
        )
        # The bar's mouse metadata names ScrollBar actions (this view handles its own clicks);
        # under it, the colours the scrollbar widget itself would have had.
        under = Style.from_color(base.color, base.bgcolor)
        return [Segment(seg.text, under + seg.style.clear_meta_and_links() if seg.style else under)
                for seg in bar.segments if seg.text != "\n"]

    def refresh_scrollbar(self) -> None:
        if self.scrollbar_shown:
            self.refresh(Region(self.size.width - 1, 0, 1, self.scrollable_content_region.height))

    def on_scrollbar(self, event: events.MouseEvent) -> bool:
        """Is the mouse on the scrollbar's column?"""
        offset = event.get_content_offset(self)
        return offset is not None and self.scrollbar_shown and offset.x == self.size.width - 1

    def _set_bar_state(self, state: str) -> None:
        if state != self._bar_state:
            self._bar_state = state
            self.refresh_scrollbar()

    def _thumb(self) -> tuple[float, float]:
        """(top, length) of the thumb, in lines."""
        height = self.scrollable_content_region.height
        total = self.virtual_size.height
        thumb = max(height * height / total, 1)
        return (height - thumb) * self.scroll_y / max(total - height, 1), thumb

    def on_mouse_down(self, event: events.MouseDown) -> None:
        offset = event.get_content_offset(self)
        if offset is None or not self.on_scrollbar(event):
            return
        event.stop()
        page = self.scrollable_content_region.height - 1
        top, thumb = self._thumb()
        if offset.y < top:
            self.scroll_to(y=self.scroll_y - page, animate=False)
        elif offset.y >= top + thumb:
            self.scroll_to(y=self.scroll_y + page, animate=False)
        else:
            self._grab = (event.screen_y, self.scroll_y)
            self.capture_mouse()
            self._set_bar_state("grab")

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._grab is not None:
            self._grab = None
            self.release_mouse()
            self._set_bar_state("hover" if self.on_scrollbar(event) else "idle")
            event.stop()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._grab is None:
            self._set_bar_state("hover" if self.on_scrollbar(event) else "idle")
            return
        start_y, start_scroll = self._grab
        height = self.scrollable_content_region.height
        _, thumb = self._thumb()
        per_line = (self.virtual_size.height - height) / max(height - thumb, 1)
        self.scroll_to(y=start_scroll + (event.screen_y - start_y) * per_line, animate=False)

    def on_leave(self, event: events.Leave) -> None:
        if self._grab is None:
            self._set_bar_state("idle")
