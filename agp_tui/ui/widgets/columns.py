"""The session table's columns, declared once.

A `Column` says everything about one column: its key and header label, what the `?` help
says of it, how wide it is and how it grows, its alignment, how a cell is drawn, how rows
sort by it, and whether it moves with the clock. The header, the widths (`layout`), the
cells (`render_cell`), sorting (`SORT_KEYS`, `sort_value`) and the help all read
`COLUMNS`; adding a column touches this one place.

Cells have no padding of their own: each starts with one blank (the id column puts the `*`
mark there), so columns sit one cell apart and 80 columns hold the essentials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text

from agp_tui.api.status import FAILED, TIMED_OUT, WAITING_ON_USER
from agp_tui.monitor.history import TokenHistory
from agp_tui.monitor.view import SessionView
from agp_tui.ui.format import session_name, status_kind
from agp_tui.ui.widgets.cells import (
    StyleOf,
    age_text,
    cost_text,
    error_cell,
    error_text,
    id_text,
    name_text,
    rates_text,
    status_text,
    token_total,
    tokens_text,
    total_rate,
    updated_text,
)

__all__ = ["BY_KEY", "COLUMNS", "ORDER", "SORT_KEYS", "TICKING", "Column", "Placed", "RowContext", "StyleOf",
           "error_text", "field_text", "header_label", "layout", "render_cell", "sort_name", "sort_value",
           "status_text"]


@dataclass(frozen=True, slots=True)
class RowContext:
    """What every cell of one row is drawn from."""

    view: SessionView
    history: TokenHistory | None
    now: float
    marked: bool
    style_of: StyleOf


SortKey = Callable[[SessionView, TokenHistory | None], Any]


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str  # the header
    help: str  # one line in the `?` help
    render: Callable[[RowContext, int], Text]  # a cell's content for a width; padded and cut by the table
    width: int  # content cells at least (the one-cell gutter before it is not counted)
    right: bool = False  # numbers are right-aligned
    shown_from: int = 0  # the table width from which the column is shown at all
    first: tuple[tuple[int, int], ...] = ()  # (cap, from table width): spare cells taken before sharing
    share: int = 0  # weight in the sharing of the remaining spare cells ...
    cap: int = 0  # ... up to this width
    takes_rest: bool = False  # what is left when every growing column is capped
    sort: SortKey | None = None  # None: rows cannot be sorted by it
    sort_name: str = ""  # how the mode line names the sort (default: the key)
    ticks: bool = False  # its cells change with the clock alone (ages, sparklines)


# Sessions that need you sort first, then trouble, then live work, then the finished.
_STATUS_RANK = {"waiting": 0, "failed": 1, "running": 2, "pending": 3, "paused": 4,
                "interrupted": 5, "completed": 6, "unknown": 7}


def _status_rank(view: SessionView, _history: TokenHistory | None) -> tuple[int, str]:
    st = view.status.status if view.status else None
    rank = _STATUS_RANK[status_kind(st)]
    if st in WAITING_ON_USER or st in (FAILED, TIMED_OUT) or view.not_found:
        rank = min(rank, 1)
    return (rank, st or "")


def _steps_text(view: SessionView) -> Text:
    if not view.figures_known:
        return Text("·")  # a group member not read yet: its steps are unknown, not 0
    return Text(str(view.steps) if view.status else "")


def _tokens(kind: str) -> Column:
    labels = {"input": "in", "output": "out", "reasoning": "rsn"}
    return Column(
        kind, labels[kind], f"{kind} tokens over every model (12.4k, 1.2M)",
        lambda row, _w: tokens_text(row.view, kind), 5, right=True,
        shown_from=100 if kind == "reasoning" else 0,
        sort=lambda view, _h: token_total(view, kind), sort_name=f"{kind} tokens",
    )


COLUMNS: tuple[Column, ...] = (
    Column("id", "id", "short id; * when marked (space)",
           lambda row, _w: id_text(row.view, row.marked, row.style_of), 9,
           sort=lambda view, _h: view.id),
    Column("agent", "agent", "label (if any) and agent",
           lambda row, w: name_text(row.view, w), 10, share=1, cap=26, takes_rest=True,
           sort=lambda view, _h: session_name(view).lower()),
    # Spare width goes first to the status: every common status word whole (`⌛ timed_out`,
    # `■ interrupted`, `? hibernating`: 13 cells), and on wide screens the longest
    # (`◔ awaiting_tool_results`: 23).
    Column("status", "status", "symbol and word (colour is never the only signal)",
           lambda row, _w: status_text(row.view, row.style_of), 11, first=((13, 0), (23, 160)),
           sort=_status_rank),
    Column("steps", "stp", "agent steps so far",
           lambda row, _w: _steps_text(row.view), 4, right=True,
           sort=lambda view, _h: view.steps if view.figures_known else -1),
    _tokens("input"),
    _tokens("output"),
    _tokens("reasoning"),
    Column("rate", "tokens/s per model",
           "a sparkline per model of tokens/s in 10 s buckets",
           lambda row, w: rates_text(row.history, w, row.now, row.style_of), 16, share=2, cap=64,
           sort=lambda _view, history: total_rate(history), sort_name="token rate", ticks=True),
    Column("cost", "cost", "the API's own figure in USD (/changes metrics); — until known",
           lambda row, _w: cost_text(row.view, row.style_of), 7, right=True, shown_from=108,
           sort=lambda view, _h: view.cost if view.cost is not None else -1.0,
           sort_name="cost (API figure)"),
    Column("age", "age", "time since the session was created",
           lambda row, _w: age_text(row.view, row.now), 4, right=True, shown_from=96,
           sort=lambda view, _h: -(view.created_at.timestamp() if view.created_at else 0.0), ticks=True),
    Column("updated", "upd",
           "time since the last good poll; !12s = stale (not updated as often as it should be)",
           lambda row, _w: updated_text(row.view, row.now, row.style_of), 4, right=True,
           sort=lambda view, _h: view.last_ok_at or 0.0, sort_name="last update", ticks=True),
    Column("error", "error", "why the session failed, or why polling it fails",
           lambda row, w: error_cell(row.view, w, row.style_of), 14,
           shown_from=118, share=3, cap=90, sort=lambda view, _h: error_text(view).lower()),
)


BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}
TICKING = frozenset(c.key for c in COLUMNS if c.ticks)

# -- widths -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Placed:
    """A column laid out for one table width."""

    column: Column
    width: int  # content cells (the cell is one wider: its gutter)

    @property
    def key(self) -> str:
        return self.column.key

    @property
    def label(self) -> str:
        return self.column.label

    @property
    def right(self) -> bool:
        return self.column.right


def layout(width: int) -> list[Placed]:
    """The columns for a table `width` cells wide (one cell is kept for the scrollbar)."""
    usable = max(width - 1, 40)
    chosen = [c for c in COLUMNS if usable + 1 >= c.shown_from]
    widths = {c.key: c.width for c in chosen}
    spare = usable - sum(w + 1 for w in widths.values())
    for col in chosen:
        for cap, from_width in col.first:
            if usable + 1 < from_width:
                continue
            add = max(min(cap - widths[col.key], spare), 0)
            widths[col.key] += add
            spare -= add
    growable = [(c.key, c.share, c.cap) for c in chosen if c.share]
    while spare > 0 and growable:
        step = max(spare // sum(share for _, share, _ in growable), 1)
        progressed = False
        for key, share, cap in growable:
            add = min(step * share, cap - widths[key], spare)
            if add > 0:
                widths[key] += add
                spare -= add
                progressed = True
        growable = [(k, s, c) for k, s, c in growable if widths[k] < c]
        if not progressed:
            break
    if spare > 0:  # everything flexible is capped: the leftover goes to the one that takes it
        rest = next((c for c in chosen if c.takes_rest), chosen[0])
        widths[rest.key] += spare
    return [Placed(c, widths[c.key]) for c in chosen]


# -- cells --------------------------------------------------------------------------------


def pad(content: Text, width: int, right: bool) -> Text:
    """A cell: one blank of gutter, then `content` cut to `width` cells with an ellipsis."""
    content.truncate(width, overflow="ellipsis")
    out = Text(" ", no_wrap=True, overflow="ellipsis", justify="right" if right else "left")
    out.append_text(content)
    return out


def render_cell(placed: Placed, row: RowContext) -> Text:
    """One cell of a row, padded to its column."""
    col = placed.column
    return pad(col.render(row, placed.width), placed.width, col.right)


def field_text(key: str, view: SessionView, style_of: StyleOf, width: int = 1000, *, now: float = 0.0,
               history: TokenHistory | None = None) -> Text:
    """What column `key` shows for `view`, unpadded, for a screen that shows the same field
    outside the table (the tree's node labels, the discover list)."""
    return BY_KEY[key].render(RowContext(view, history, now, False, style_of), width)


def header_label(placed: Placed, sort_key: str, reverse: bool) -> Text:
    arrow = ("▼" if reverse else "▲") if placed.key == sort_key else ""
    return pad(Text(placed.label + arrow), placed.width, placed.right)


# -- sorting ------------------------------------------------------------------------------

ORDER = "order"  # the watchlist's own order: not a column
SORT_KEYS: tuple[str, ...] = (ORDER, *(c.key for c in COLUMNS if c.sort is not None))


def sort_name(key: str) -> str:
    """How the mode line names a sort: `sort: input tokens ▲`."""
    if key == ORDER:
        return "watchlist order"
    col = BY_KEY.get(key)
    return (col.sort_name or col.key) if col is not None else key


def sort_value(key: str, view: SessionView, history: TokenHistory | None, position: int) -> Any:
    """What rows sort by for `key`; `position` (watchlist order) for `order`."""
    col = BY_KEY.get(key)
    if col is None or col.sort is None:
        return position
    return col.sort(view, history)
