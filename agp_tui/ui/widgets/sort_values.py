"""Every row's sort value, kept as rows change, for the sort keys that read the session alone.

A sort key press on a 10,000-row table computed 10,000 values through the column's
function first (15-30 ms here, most of the press); kept current as each row's view changes
(a few calls per changed row), a press is two sorts keyed by dict lookups, in C. Columns
whose cells move with the clock (token rate, age, last update) may read the token history
or the time, so they are still computed when sorted by.
"""

from __future__ import annotations

from agp_tui.monitor.view import SessionView
from agp_tui.ui.widgets.columns import COLUMNS, Column

STABLE: tuple[Column, ...] = tuple(c for c in COLUMNS if c.sort is not None and not c.ticks)


class SortValues:
    def __init__(self) -> None:
        self._by_key: dict[str, dict[str, object]] = {c.key: {} for c in STABLE}

    def values(self, key: str) -> dict[str, object] | None:
        """Row id -> value for `key`, every row included; None: not kept for this key."""
        return self._by_key.get(key)

    def update(self, view: SessionView) -> None:
        sid = view.id
        for col in STABLE:
            assert col.sort is not None
            self._by_key[col.key][sid] = col.sort(view, None)

    def drop(self, sid: str) -> None:
        for values in self._by_key.values():
            values.pop(sid, None)
