"""A text block that repaints only the lines that changed.

`Static.update` repaints the whole widget and re-lays out the screen, so a detail pane
whose "updated 3s ago" ticks every second resent all its lines each second — and the
layout pass also repainted the table's scrollbar. `TextLines` wraps its text to its width,
keeps a fingerprint per line, and refreshes only the lines whose fingerprint moved; it asks
for a layout only when its height changes. What an SSH link pays is then what changed.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

_LineKey = tuple[str, tuple[tuple[int, int, str], ...], str]


def _fingerprint(line: Text) -> _LineKey:
    return (line.plain, tuple((s.start, s.end, str(s.style)) for s in line.spans), str(line.style))


class TextLines(Widget):
    """Shows one rich `Text`, wrapped to the widget's width (height follows the text)."""

    DEFAULT_CSS = """
    TextLines {
        height: auto;
    }
    """

    def __init__(self, text: Text | str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._text = text if isinstance(text, Text) else Text(text)
        self._width = 0
        self._lines: list[Text] = []
        self._keys: list[_LineKey] = []
        self.lines_repainted = 0  # for tests: how many single-line refreshes were asked for

    @property
    def text(self) -> Text:
        return self._text

    def update(self, text: Text | str) -> None:
        """Show `text`; unchanged lines are not repainted."""
        self._text = text if isinstance(text, Text) else Text(text)
        self._rewrap(self._width)

    def _wrap(self, width: int) -> list[Text]:
        if width <= 0:
            return [self._text]
        return list(self._text.wrap(self.app.console, width, no_wrap=False, overflow="fold"))

    def _rewrap(self, width: int) -> None:
        lines = self._wrap(width)
        keys = [_fingerprint(line) for line in lines]
        old = self._keys
        self._lines, self._keys = lines, keys
        if not self.is_mounted or width <= 0:
            return
        if len(keys) != len(old):
            self.refresh(layout=True)
            return
        for y, (new_key, old_key) in enumerate(zip(keys, old, strict=True)):
            if new_key != old_key:
                self.lines_repainted += 1
                self.refresh(Region(0, y, width, 1))

    def on_resize(self) -> None:
        width = self.content_region.width
        if width != self._width:
            self._width = width
            self._keys = []  # a new width wraps differently: repaint everything
            self._rewrap(width)
            self.refresh()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(len(self._wrap(width)), 1)

    def render_line(self, y: int) -> Strip:
        width = self.content_region.width
        style = self.rich_style
        if y >= len(self._lines):
            return Strip.blank(width, style)
        segments = self._lines[y].render(self.app.console)
        strip = Strip(Segment.apply_style(segments, style))
        return strip.adjust_cell_length(width, style).simplify()

    def render(self) -> Text:
        """The whole text (what tests and screen readers ask for); painting goes by line."""
        return self._text


class FittedLine(TextLines):
    """At most `max_lines` lines, the last cut with an ellipsis, never more.

    For a URL (one line): wrapping folded it mid-UUID, and a broken URL cannot be selected
    and pasted; one that does not fit ends in `…` (`C` copies it whole). For the detail
    pane's "now" line (two): the latest step, however long the agent's thought.
    """

    def __init__(self, text: Text | str = "", *, max_lines: int = 1, id: str | None = None) -> None:
        super().__init__(text, id=id)
        self.max_lines = max_lines

    def _wrap(self, width: int) -> list[Text]:
        if not self._text.plain:
            return []
        if width <= 0:
            return [self._text]
        if self.max_lines == 1:
            line = self._text.copy()
            line.truncate(width, overflow="ellipsis")
            return [line]
        lines = list(self._text.wrap(self.app.console, width, no_wrap=False, overflow="fold"))
        if len(lines) > self.max_lines:
            lines = lines[: self.max_lines]
            last = lines[-1]
            last.truncate(max(width - 1, 0))
            last.append("…")
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._wrap(width))
