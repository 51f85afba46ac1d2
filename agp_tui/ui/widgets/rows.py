"""The rows a table shows: keyed by id, in display order, each with its cells and a version.

Pure data (no Textual): the widget draws from it, the session table fills and sorts it.
A row's version changes whenever one of its cells does; versions come from one counter,
so a row removed and added again never matches a render cached for its earlier self.

A row may be added without cells (`add(key, None)`, `forget_cells`): they are made by
`render` when first asked for, i.e. when the row is drawn. A table of 10,000 rows then
renders the ~30 on screen, not all of them (expanding a 10,000-member group stalled the
event loop 2.5 s rendering cells nobody saw).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from rich.text import Text


class Rows:
    def __init__(self, render: Callable[[str], list[Text]] | None = None) -> None:
        self._order: list[str] = []
        self._index: dict[str, int] = {}
        self._index_valid = True
        self._cells: dict[str, list[Text] | None] = {}  # None: not made yet (see `render`)
        self.render = render
        self._version: dict[str, int] = {}
        self._counter = 0

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, key: object) -> bool:
        return key in self._cells

    def __iter__(self) -> Iterator[str]:
        return iter(self._order)

    @property
    def order(self) -> list[str]:
        """Row keys in display order (do not mutate)."""
        return self._order

    def key_at(self, index: int) -> str | None:
        return self._order[index] if 0 <= index < len(self._order) else None

    def index(self, key: str) -> int:
        """Where `key` is shown; KeyError if it is not."""
        if not self._index_valid:
            self._index = {k: i for i, k in enumerate(self._order)}
            self._index_valid = True
        return self._index[key]

    def cells(self, key: str) -> list[Text]:
        cells = self._cells[key]
        if cells is None:
            if self.render is None:
                raise KeyError(f"row {key!r} has no cells and no renderer")
            cells = self._cells[key] = self.render(key)
        return cells

    def has_cells(self, key: str) -> bool:
        """Whether `key`'s cells were made (False: they will be when it is drawn)."""
        return self._cells[key] is not None

    def version(self, key: str) -> int:
        return self._version[key]

    def _bump(self, key: str) -> None:
        self._counter += 1
        self._version[key] = self._counter

    # -- changes --------------------------------------------------------------------------

    def add(self, key: str, cells: list[Text] | None) -> None:
        """A new row at the end (sorting puts it in its place); None: cells made when drawn."""
        if key in self._cells:
            raise KeyError(f"row {key!r} already exists")
        if self._index_valid:
            self._index[key] = len(self._order)
        self._order.append(key)
        self._cells[key] = cells
        self._bump(key)

    def drop(self, key: str) -> bool:
        if key not in self._cells:
            return False
        self._order.remove(key)
        del self._cells[key], self._version[key]
        self._index_valid = False
        return True

    def set_cell(self, key: str, column: int, text: Text) -> None:
        self.cells(key)[column] = text
        self._bump(key)

    def forget_cells(self, key: str) -> None:
        """The row's cells are out of date: made again when it is next drawn."""
        self._cells[key] = None
        self._bump(key)

    def replace_cells(self, key: str, cells: list[Text]) -> None:
        self._cells[key] = cells
        self._bump(key)

    def clear(self) -> None:
        self._order.clear()
        self._index.clear()
        self._cells.clear()
        self._version.clear()
        self._index_valid = True

    def touch_all(self) -> None:
        """Every row drawn anew (a style change)."""
        for key in self._order:
            self._bump(key)

    def sort(self, value: Callable[[str], Any], tiebreak: Callable[[str], Any], reverse: bool) -> bool:
        """Order rows by `value`, ties always by `tiebreak` ascending (whichever the direction),
        so equal rows keep one order through every re-sort. True if the order changed."""
        ordered = sorted(self._order, key=tiebreak)
        ordered.sort(key=value, reverse=reverse)  # stable: ties stay in tiebreak order
        if ordered == self._order:
            return False
        self._order = ordered
        self._index_valid = False
        return True

    def reorder(self, keys: Iterable[str]) -> None:
        """Show exactly these rows in this order (every one must exist)."""
        order = list(keys)
        if sorted(order) != sorted(self._order):
            raise ValueError("reorder must name every row exactly once")
        self._order = order
        self._index_valid = False
