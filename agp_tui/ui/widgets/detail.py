"""The detail pane: everything known about the highlighted session, its models and its tree."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Sparkline

from agp_tui.monitor.engine import Engine
from agp_tui.monitor.history import TokenHistory
from agp_tui.monitor.view import Rollup, SessionView
from agp_tui.ui.format import (
    STATUS_KINDS,
    human_count,
    human_rate,
    long_duration,
    since,
    status_kind,
    status_label,
    timestamp,
)
from agp_tui.ui.text import literal, safe_text
from agp_tui.ui.widgets.columns import error_text
from agp_tui.ui.widgets.lines import TextLines


class ModelRow(Horizontal):
    """One model: its name and totals as numbers, then its token-rate `Sparkline`."""

    def compose(self) -> ComposeResult:
        yield TextLines("", classes="model-numbers")
        yield Sparkline([], classes="model-spark")

    _pending: tuple[str, TokenHistory, float] | None = None
    _ready = False  # children composed (`is_mounted` is still False inside on_mount)

    def on_mount(self) -> None:
        self._ready = True
        if self._pending is not None:
            self.show(*self._pending)

    def show(self, name: str, history: TokenHistory, now: float) -> None:
        if not self._ready:  # filled in by on_mount
            self._pending = (name, history, now)
            return
        self._pending = None
        usage = history.totals(name)
        text = literal(name, 18)
        text.pad_right(19 - text.cell_len)
        if usage is not None:
            text.append(f"in {human_count(usage.input_tokens):>5}  out {human_count(usage.output_tokens):>5}"
                        f"  rsn {human_count(usage.reasoning_tokens):>5}")
        text.append(f"  {human_rate(history.latest_rate(name)):>8}")
        self.query_one(".model-numbers", TextLines).update(text)
        series = history.series(name, "total", now=now)
        spark = self.query_one(Sparkline)
        if list(spark.data or []) != series:
            spark.data = series


def _kv(out: Text, key: str, value: Text | str, *, sep: str = "  ") -> None:
    if out.plain and not out.plain.endswith("\n"):
        out.append(sep)
    out.append(f"{key} ", style="bold")
    out.append_text(value if isinstance(value, Text) else Text(value))


def cost_text(cost: float | None) -> str:
    """`$0.0123 (API figure)`; the figure is the API's `/changes` metrics, never our estimate."""
    if cost is None:
        return "— (API figure, not known yet)"
    return f"${cost:.4f} (API figure)"


def rollup_cost_text(r: Rollup) -> str:
    if not r.cost_sessions:
        return "— (API figure, not known yet)"
    cover = "" if r.cost_sessions >= r.sessions else f" over {r.cost_sessions} of {r.sessions} sessions"
    return f"${r.cost:.4f}{cover} (API figure)"


def _rollup_text(r: Rollup) -> str:
    statuses = ", ".join(f"{n} {safe_text(s, 24)}" for s, n in sorted(r.statuses.items()))
    unknown = f", {r.unknown} not loaded" if r.unknown else ""
    return (f"{r.sessions} sessions, {r.steps} steps, {human_count(r.total_tokens)} tokens "
            f"({statuses}{unknown}); cost {rollup_cost_text(r)}")


class DetailPane(VerticalScroll):
    """Shown below or beside the table (and on the tree screen) for one session."""

    COMPONENT_CLASSES = {f"status--{k}" for k in STATUS_KINDS}

    def __init__(self, engine: Engine, clock: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.engine = engine
        self.clock = clock
        self.session_id: str | None = None
        self._rows: list[ModelRow] = []
        self.show_tree_hint = True

    def compose(self) -> ComposeResult:
        yield TextLines("", id="detail-info")
        yield Vertical(id="detail-models")
        yield TextLines("", id="detail-tree")

    def show(self, session_id: str | None) -> None:
        self.session_id = session_id
        self.refresh_view()

    def refresh_view(self) -> None:
        view = self.engine.view(self.session_id) if self.session_id else None
        info = self.query_one("#detail-info", TextLines)
        if view is None:
            for kind in ("-error", "-waiting", "-stale"):
                self.remove_class(kind)
            info.update(Text("No session selected. Press a to add session ids.", style="italic"))
            self._show_models(None)
            self.query_one("#detail-tree", TextLines).update("")
            return
        now = self.clock()
        self.set_class(bool(view.stale), "-stale")
        self.set_class(bool(error_text(view)), "-error")
        self.set_class(bool(view.status and view.status.waiting_on_user), "-waiting")
        info.update(self._info(view, now))
        self._show_models(self.engine.history(view.id))
        self.query_one("#detail-tree", TextLines).update(self._tree(view))

    def _info(self, view: SessionView, now: float) -> Text:
        out = Text(no_wrap=False, overflow="fold")
        out.append_text(literal(view.id, 64, style="bold"))
        if view.label:
            _kv(out, "label", literal(view.label, 60), sep="   ")
        out.append("\n")
        st = view.status
        kind = status_kind(st.status if st else None)
        status = Text(status_label(st.status) if st else "? not loaded yet",
                      style=self.get_component_rich_style(f"status--{kind}", partial=True))
        _kv(out, "status", status)
        _kv(out, "steps", str(view.steps) if st else "—")
        _kv(out, "cost", cost_text(view.cost))
        _kv(out, "agent", literal(view.agent or "—", 48))
        if view.parent_id:
            _kv(out, "parent", literal(view.parent_id[:8]))
        out.append("\n")
        if view.first_message is not None:
            _kv(out, "asked", literal(view.first_message.message, 300))
            out.append("\n")
        age = long_duration(since(view.created_at, now))
        _kv(out, "created", f"{timestamp(view.created_at)} ({age} ago)")
        _kv(out, "started", timestamp(view.started_at))
        _kv(out, "finished", timestamp(view.finished_at))
        out.append("\n")
        last = f"{long_duration(since(view.last_ok_at, now))} ago" if view.last_ok_at else "never"
        if view.stale:
            last += " (STALE)"
        _kv(out, "updated", last)
        if st is not None and st.outcome:
            _kv(out, "outcome", literal(st.outcome, 40))
        if not view.polling:
            _kv(out, "polling", "stopped")
        err = []
        if st is not None and (st.error or st.error_code):
            err.append(f"{st.error_code or 'error'}: {st.error or ''}")
        if view.not_found:
            err.append("not found (404): the id is wrong or not visible to this key")
        elif view.error_kind:
            err.append(f"last poll failed: {view.error_kind}: {view.error_message or ''}")
        for line in err:
            out.append("\n")
            _kv(out, "error", literal(line, 400, style="bold"))
        if view.agent_view_url:
            out.append("\n")
            _kv(out, "url", literal(view.agent_view_url, 200))
        return out

    def _tree(self, view: SessionView) -> Text:
        kids = view.child_ids
        if not kids:
            return Text("no subagents", style="italic")
        out = Text()
        _kv(out, "subagents", str(len(kids)))
        _kv(out, "tree", _rollup_text(self.engine.rollup(view.id)))
        if self.show_tree_hint:
            out.append("  (enter: open tree)", style="italic")
        return out

    def _show_models(self, history: TokenHistory | None) -> None:
        models = history.models() if history is not None else []
        while len(self._rows) > len(models):
            self._rows.pop().remove()
        if len(self._rows) < len(models):
            new = [ModelRow() for _ in range(len(models) - len(self._rows))]
            self._rows.extend(new)
            self.query_one("#detail-models", Vertical).mount_all(new)
        if history is None:
            return
        now = self.clock()
        for row, name in zip(self._rows, models, strict=True):
            row.show(name, history, now)
