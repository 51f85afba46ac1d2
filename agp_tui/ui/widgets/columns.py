"""The session table's columns: which ones fit a width, and what each cell shows.

Cells are drawn with no DataTable padding: every cell starts with one blank (or the `*`
mark in the id column), so columns are one cell apart and 80 columns hold the essentials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

from agp_tui.api.status import FAILED, TIMED_OUT, WAITING_ON_USER
from agp_tui.monitor.history import TokenHistory
from agp_tui.monitor.view import SessionView
from agp_tui.ui.format import (
    dollars,
    human_count,
    session_name,
    short_id,
    short_model,
    since,
    status_kind,
    status_label,
    table_duration,
)
from agp_tui.ui.sparkline import blocks_per_model, spark
from agp_tui.ui.text import literal, safe_text

StyleOf = Callable[[str], Style]  # component class name -> rich style


@dataclass(frozen=True, slots=True)
class Col:
    key: str
    label: str
    width: int  # content cells, not counting the leading gutter
    right: bool = False  # numbers are right-aligned


# (key, label, width or minimum width, right-aligned, flexible, minimum table width to show)
_SPECS: tuple[tuple[str, str, int, bool, bool, int], ...] = (
    ("id", "id", 9, False, False, 0),
    ("agent", "agent", 10, False, True, 0),
    ("status", "status", 11, False, False, 0),
    ("steps", "stp", 4, True, False, 0),
    ("input", "in", 5, True, False, 0),
    ("output", "out", 5, True, False, 0),
    ("reasoning", "rsn", 5, True, False, 100),
    ("rate", "tokens/s per model", 16, False, True, 0),
    ("cost", "cost", 7, True, False, 108),  # USD, the API's own figure (/changes metrics)
    ("age", "age", 4, True, False, 96),
    ("updated", "upd", 4, True, False, 0),
    ("error", "error", 14, False, True, 118),
)
TIME_COLUMNS = frozenset({"rate", "age", "updated"})
# Spare width goes first to the status, as (column, cap, from table width): every common
# status word whole (`⌛ timed_out`, `■ interrupted`, `? hibernating`: 13 cells), and on
# wide screens the longest (`◔ awaiting_tool_results`: 23). The rest is shared as
# (column, share, cap): the sparklines and errors gain most.
_FIRST = (("status", 13, 0), ("status", 23, 160))
_GROW = (("agent", 1, 26), ("rate", 2, 64), ("error", 3, 90))


def layout(width: int) -> list[Col]:
    """The columns for a table `width` cells wide (one cell is kept for the scrollbar)."""
    usable = max(width - 1, 40)
    chosen = [s for s in _SPECS if usable + 1 >= s[5]]
    widths = {s[0]: s[2] for s in chosen}
    spare = usable - sum(w + 1 for w in widths.values())
    for key, cap, from_width in _FIRST:
        if usable + 1 < from_width:
            continue
        add = max(min(cap - widths[key], spare), 0)
        widths[key] += add
        spare -= add
    growable = [(k, share, cap) for k, share, cap in _GROW if k in widths]
    while spare > 0 and growable:
        total_share = sum(share for _, share, _ in growable)
        step = max(spare // total_share, 1)
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
    if spare > 0:  # everything flexible is capped: the leftover widens the agent column
        widths["agent"] += spare
    return [Col(s[0], s[1], widths[s[0]], s[3]) for s in chosen]


class IdCell(Text):
    """The id column's cell; it carries the session id so sorting can look the row up."""

    session_id: str


def _pad(text: Text, col: Col) -> Text:
    text.truncate(col.width, overflow="ellipsis")
    out = Text(" ", no_wrap=True, overflow="ellipsis", justify="right" if col.right else "left")
    out.append_text(text)
    return out


def header_label(col: Col, sort_key: str, reverse: bool) -> Text:
    arrow = ("▼" if reverse else "▲") if col.key == sort_key else ""
    return _pad(Text(col.label + arrow), col)


def id_cell(view: SessionView, marked: bool, style_of: StyleOf) -> IdCell:
    cell = IdCell(" *" if marked else "  ", no_wrap=True)
    cell.append(short_id(view.id), style_of("cell--marked") if marked else "")
    cell.session_id = view.id
    return cell


def status_text(view: SessionView, style_of: StyleOf) -> Text:
    if view.not_found:
        return Text("✘ not found", style=style_of("status--failed"))
    if view.status is None:
        if view.error_kind:
            return Text(f"! {safe_text(view.error_kind, 20)}", style=style_of("status--failed"))
        return Text("◌ loading", style=style_of("status--unknown"))
    kind = status_kind(view.status.status)
    return Text(status_label(view.status.status), style=style_of(f"status--{kind}"))


def error_text(view: SessionView) -> str:
    st = view.status
    if view.not_found:
        return "not found (404)"
    if view.error_message:
        return f"{view.error_kind}: {view.error_message}" if view.error_kind else view.error_message
    if st is not None and (st.error or st.error_code):
        return st.error or st.error_code or ""
    return ""


def rates_text(history: TokenHistory | None, width: int, now: float, style_of: StyleOf) -> Text:
    out = Text(no_wrap=True)
    if history is None:
        return out
    models = history.models()
    if not models:
        return out
    labels = [short_model(m, 4) for m in models]
    label_w = max(cell_len(lbl) for lbl in labels)  # cells: a model name may be wide characters
    per = min(blocks_per_model(width, len(models), label_w), history.buckets)
    if per < 3 and len(models) > 1:  # too many models for the cell: the sum of all of them
        return rates_text_combined(history, width, now, style_of)
    estimated = history.estimated_buckets(now)
    for i, (model, label) in enumerate(zip(models, labels, strict=True)):
        if i:
            out.append(" ")
        out.append(" " * (label_w - cell_len(label)) + label, style_of("cell--dim"))
        out.append(" ")
        _append_bars(out, history.series(model, "total", now=now), per, estimated, style_of)
    return out


def rates_text_combined(history: TokenHistory, width: int, now: float, style_of: StyleOf) -> Text:
    out = Text("all ", style=style_of("cell--dim"), no_wrap=True)
    series = history.combined("total", now=now)
    _append_bars(out, series, max(width - 4, 2), history.estimated_buckets(now), style_of)
    return out


def _append_bars(out: Text, series: list[float], width: int, estimated: int, style_of: StyleOf) -> None:
    """The last `width` rates as bars; those holding estimated growth are drawn dim."""
    bars = spark(series, width)
    dim = max(0, estimated - (len(series) - len(bars)))
    if dim:
        out.append(bars[:dim], style_of("cell--spark-estimate"))
    out.append(bars[dim:], style_of("cell--spark"))


def render_cell(
    key: str, col: Col, view: SessionView, history: TokenHistory | None, now: float,
    marked: bool, style_of: StyleOf,
) -> Text:
    """One cell, padded to its column; every server string goes through `safe_text`."""
    usage = view.usage
    if key == "id":
        return id_cell(view, marked, style_of)
    if key == "agent":
        name = session_name(view)
        return _pad(literal(name, col.width), col)
    if key == "status":
        return _pad(status_text(view, style_of), col)
    if key == "steps":
        return _pad(Text(str(view.steps) if view.status else ""), col)
    if key in ("input", "output", "reasoning"):
        if not usage:
            return _pad(Text(""), col)
        total = sum(getattr(u, f"{key}_tokens") for u in usage)
        return _pad(Text(human_count(total)), col)
    if key == "rate":
        return _pad(rates_text(history, col.width, now, style_of), col)
    if key == "cost":
        cost = dollars(view.cost)
        return _pad(Text(cost, style=style_of("cell--dim") if view.cost is None else ""), col)
    if key == "age":
        return _pad(Text(table_duration(since(view.created_at, now))), col)
    if key == "updated":
        age = table_duration(since(view.last_ok_at, now)) if view.last_ok_at else "—"
        if view.stale:
            return _pad(Text("!" + age, style=style_of("cell--stale")), col)
        return _pad(Text(age), col)
    if key == "error":
        return _pad(literal(error_text(view), col.width, style=style_of("cell--error")), col)
    raise KeyError(key)


# -- sorting ------------------------------------------------------------------------------

SORT_KEYS = ("order", "id", "agent", "status", "steps", "input", "output", "reasoning", "rate",
             "cost", "age", "updated", "error")
SORT_NAMES = {"order": "watchlist order", "input": "input tokens", "output": "output tokens",
              "reasoning": "reasoning tokens", "rate": "token rate", "updated": "last update",
              "cost": "cost (API figure)"}

# Sessions that need you sort first, then trouble, then live work, then the finished.
_STATUS_RANK = {"waiting": 0, "failed": 1, "running": 2, "pending": 3, "paused": 4,
                "interrupted": 5, "completed": 6, "unknown": 7}


def sort_value(key: str, view: SessionView, history: TokenHistory | None, position: int) -> Any:
    if key == "order":
        return position
    if key == "id":
        return view.id
    if key == "agent":
        return session_name(view).lower()
    if key == "status":
        st = view.status.status if view.status else None
        rank = _STATUS_RANK[status_kind(st)]
        if st in WAITING_ON_USER or st in (FAILED, TIMED_OUT) or view.not_found:
            rank = min(rank, 1)
        return (rank, st or "")
    if key == "steps":
        return view.steps
    if key in ("input", "output", "reasoning"):
        return sum(getattr(u, f"{key}_tokens") for u in view.usage)
    if key == "rate":
        if history is None:
            return 0.0
        return sum(history.latest_rate(m) for m in history.models())
    if key == "cost":
        return view.cost if view.cost is not None else -1.0
    if key == "age":
        return -(view.created_at.timestamp() if view.created_at else 0.0)
    if key == "updated":
        return view.last_ok_at or 0.0
    if key == "error":
        return error_text(view).lower()
    return position
