"""What a session's fields look like on screen, shared by the table, the tree, the discover
list and the detail pane.

Each function returns the *content* of one field as a `Text`; the session table pads and
cuts it to its column (`columns.py`). Every server string goes through `safe_text` /
`literal`, so it is shown literally. Styles come from component classes (`status--running`,
`cell--spark`, ...) through a `StyleOf` the calling widget provides.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

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
    status_symbol,
    table_duration,
)
from agp_tui.ui.sparkline import blocks_per_model, spark
from agp_tui.ui.text import literal, safe_text

StyleOf = Callable[[str], Style]  # component class name -> rich style


def status_parts(view: SessionView) -> tuple[str, str, str]:
    """(symbol, word, style family) of a session's status, as the table, the tree and the
    discover list show it: `● running`, `✘ not found`, `! Unreachable` (a lookup that
    fails), `◌ loading`; an unknown status word is shown literally after `?`."""
    if view.not_found:
        return "✘", "not found", "failed"
    if view.status is None:
        if view.error_kind:
            return "!", safe_text(view.error_kind, 20), "failed"
        return "◌", "loading", "unknown"
    st = view.status.status
    return status_symbol(st), safe_text(st, 40), status_kind(st)


def status_text(view: SessionView, style_of: StyleOf) -> Text:
    """Symbol and word in the status colour."""
    symbol, word, kind = status_parts(view)
    return Text(f"{symbol} {word}", style=style_of(f"status--{kind}"))


def error_text(view: SessionView) -> str:
    """Why a session is in trouble: a failed lookup first, then the session's own error."""
    st = view.status
    if view.not_found:
        return "not found (404)"
    if view.error_message:
        return f"{view.error_kind}: {view.error_message}" if view.error_kind else view.error_message
    if st is not None and (st.error or st.error_code):
        return st.error or st.error_code or ""
    return ""


def error_cell(view: SessionView, cells: int, style_of: StyleOf) -> Text:
    return literal(error_text(view), cells, style=style_of("cell--error"))


def id_text(view: SessionView, marked: bool, style_of: StyleOf) -> Text:
    """`*` for a marked session, then its short id (underlined when marked)."""
    out = Text("*" if marked else " ")
    out.append(short_id(view.id), style_of("cell--marked") if marked else "")
    return out


def name_text(view: SessionView, cells: int) -> Text:
    """Label and agent (`nightly · h/web-surfer`), cut to `cells`."""
    return literal(session_name(view), cells)


def token_total(view: SessionView, kind: str) -> int:
    """Tokens of one kind (`input`, `output`, `reasoning`) over every model."""
    return sum(getattr(u, f"{kind}_tokens") for u in view.usage)


def tokens_text(view: SessionView, kind: str) -> Text:
    return Text(human_count(token_total(view, kind)) if view.usage else "")


def cost_text(view: SessionView, style_of: StyleOf) -> Text:
    """The API's cost figure; a dim `—` until it is known."""
    return Text(dollars(view.cost), style=style_of("cell--dim") if view.cost is None else "")


def age_text(view: SessionView, now: float) -> Text:
    return Text(table_duration(since(view.created_at, now)))


def updated_text(view: SessionView, now: float, style_of: StyleOf) -> Text:
    """Time since the last good poll; `!` and reversed when stale."""
    age = table_duration(since(view.last_ok_at, now)) if view.last_ok_at else "—"
    if view.stale:
        return Text("!" + age, style=style_of("cell--stale"))
    return Text(age)


def rates_text(history: TokenHistory | None, width: int, now: float, style_of: StyleOf) -> Text:
    """One labelled sparkline per model of tokens/s, fitted to `width` cells."""
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


def total_rate(history: TokenHistory | None) -> float:
    if history is None:
        return 0.0
    return sum(history.latest_rate(m) for m in history.models())
