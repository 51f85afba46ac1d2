"""The detail pane: everything known about the highlighted session, its models and its tree."""

from __future__ import annotations

from collections.abc import Callable

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.timer import Timer

from agp_tui.api.events import EventKind
from agp_tui.api.status import RUNNING
from agp_tui.monitor.engine import Engine
from agp_tui.monitor.history import TokenHistory
from agp_tui.monitor.view import Rollup, SessionView
from agp_tui.ui.events_text import answer_text, latest_step, now_text, style_class
from agp_tui.ui.format import (
    STATUS_KINDS,
    human_count,
    human_rate,
    long_duration,
    since,
    timestamp,
)
from agp_tui.ui.sparkline import spark
from agp_tui.ui.text import literal, safe_text
from agp_tui.ui.widgets.columns import error_text, status_text
from agp_tui.ui.widgets.lines import FittedLine, TextLines

MIN_SPARK = 10  # fewer cells left beside a model's numbers: its sparkline gets its own line
FOLLOW_AFTER = 0.3  # seconds a selection rests before its events are followed


class ModelLines(TextLines):
    """Each model of a session on its own line: name and totals, then its token-rate sparkline.

    One widget that draws lines, not a row of child widgets per model: rows mounted and
    removed as the selection moved were updated before their children existed (ten quick
    `Down` presses ended the app with `NoMatches`). Lines follow the width: the sparkline
    takes what the numbers leave, or a line of its own when too little is left.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._models: list[tuple[Text, list[float], int]] = []  # numbers, series, estimated
        self._spark = Style()
        self._estimate = Style(dim=True)

    def show(self, models: list[tuple[Text, list[float], int]], spark: Style, estimate: Style) -> None:
        """`models`: (numbers, rates oldest first, how many leading rates are estimates)."""
        self._models, self._spark, self._estimate = models, spark, estimate
        self._rewrap(self._width)

    def _wrap(self, width: int) -> list[Text]:
        lines: list[Text] = []
        for numbers, series, estimated in self._models:
            room = width - numbers.cell_len - 1
            if width <= 0 or room >= MIN_SPARK:
                line = numbers.copy()
                if width > 0:
                    line.append(" ")
                    line.append_text(self._bars(series, estimated, min(room, len(series))))
                lines.append(line)
                continue
            lines.extend(numbers.wrap(self.app.console, width, no_wrap=False, overflow="fold"))
            lines.append(self._bars(series, estimated, min(width, len(series))))
        return lines

    def _bars(self, series: list[float], estimated: int, width: int) -> Text:
        bars = spark(series, width)
        dim = max(0, estimated - (len(series) - len(bars)))  # estimates among the bars shown
        out = Text(no_wrap=True)
        out.append(bars[:dim], self._estimate)
        out.append(bars[dim:], self._spark)
        return out

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._wrap(width))


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

    COMPONENT_CLASSES = ({f"status--{k}" for k in STATUS_KINDS} | {"spark", "spark--estimate", "event--time"}
                         | {style_class(k) for k in EventKind})

    def __init__(self, engine: Engine, clock: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.engine = engine
        self.clock = clock
        self.session_id: str | None = None
        self.show_tree_hint = True
        # What to say when no session is selected; the screen knows why (none watched, a
        # filter hiding every row) and sets it.
        self.empty_hint = "No session selected. Press a to add session ids."
        self._following: str | None = None  # whose events the engine keeps for the "now" line
        self._follow_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield TextLines("", id="detail-info")
        yield FittedLine("", id="detail-url")
        yield FittedLine("", max_lines=2, id="detail-now")
        yield FittedLine("", max_lines=2, id="detail-answer")
        yield ModelLines(id="detail-models")
        yield TextLines("", id="detail-tree")

    def show(self, session_id: str | None) -> None:
        self.session_id = session_id
        self._follow(session_id)
        self.refresh_view()

    def _follow(self, session_id: str | None) -> None:
        """Have the engine keep the shown session's events, once the selection rests: a
        held arrow key passes a row in milliseconds, and each follow reads a page."""
        if session_id == self._following:
            return
        if self._follow_timer is not None:
            self._follow_timer.stop()
            self._follow_timer = None
        if self._following is not None:
            self.engine.unfollow_events(self._following)
            self._following = None
        if session_id is not None and self.is_mounted:
            self._follow_timer = self.set_timer(FOLLOW_AFTER, lambda: self._start_following(session_id))

    def _start_following(self, session_id: str) -> None:
        self._follow_timer = None
        if (self.session_id == session_id and self._following is None and self.is_attached
                and self.engine.follow_events(session_id) is not None):
            self._following = session_id

    def on_unmount(self) -> None:
        self._follow(None)

    def refresh_view(self) -> None:
        view = self.engine.view(self.session_id) if self.session_id else None
        info = self.query_one("#detail-info", TextLines)
        if view is None:
            for kind in ("-error", "-waiting", "-stale"):
                self.remove_class(kind)
            info.update(Text(self.empty_hint, style="italic"))
            self.query_one("#detail-url", FittedLine).update("")
            self.query_one("#detail-now", FittedLine).update("")
            self.query_one("#detail-answer", FittedLine).update("")
            self._show_models(None, None)
            self.query_one("#detail-tree", TextLines).update("")
            return
        now = self.clock()
        self.set_class(bool(view.stale), "-stale")
        self.set_class(bool(error_text(view)), "-error")
        self.set_class(bool(view.status and view.status.waiting_on_user), "-waiting")
        info.update(self._info(view, now))
        self.query_one("#detail-url", FittedLine).update(self._url(view))
        style_of: Callable[[str], Style] = lambda name: self.get_component_rich_style(name, partial=True)  # noqa: E731
        self.query_one("#detail-now", FittedLine).update(
            now_text(latest_step(self.engine.trajectory(view.id)), style_of))
        self.query_one("#detail-answer", FittedLine).update(answer_text(view.answer))
        self._show_models(view, self.engine.history(view.id))
        self.query_one("#detail-tree", TextLines).update(self._tree(view))

    def _info(self, view: SessionView, now: float) -> Text:
        out = Text(no_wrap=False, overflow="fold")
        out.append_text(literal(view.id, 64, style="bold"))
        if view.label:
            _kv(out, "label", literal(view.label, 60), sep="   ")
        out.append("\n")
        st = view.status
        # The table's words: not found, the error that kept it from loading, or loading.
        _kv(out, "status", status_text(view, lambda name: self.get_component_rich_style(name, partial=True)))
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
        return out

    @staticmethod
    def _url(view: SessionView) -> Text:
        if not view.agent_view_url:
            return Text()
        # Plain text, never a hyperlink built from server data: a cut link would hide where
        # it leads. `C` copies the whole URL, `o` opens it.
        out = Text(no_wrap=True)
        out.append("url ", style="bold")
        out.append(safe_text(view.agent_view_url, 400))
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

    def _show_models(self, view: SessionView | None, history: TokenHistory | None) -> None:
        lines = self.query_one("#detail-models", ModelLines)
        if view is None or history is None:
            lines.show([], Style(), Style())
            return
        now = self.clock()
        # A pace only while it runs: finished, paused or waiting on you, it uses nothing now,
        # whatever its last interval or an estimate since its start say.
        running = view.status is not None and view.status.status == RUNNING
        estimated = history.estimated_buckets(now)
        models = [(self._numbers(name, history, running), history.series(name, "total", now=now), estimated)
                  for name in history.models()]
        lines.show(models, self.get_component_rich_style("spark", partial=True),
                   self.get_component_rich_style("spark--estimate", partial=True))

    @staticmethod
    def _numbers(name: str, history: TokenHistory, running: bool) -> Text:
        """`holo3-122b-a10b  in 12.4k  out  1.2k  rsn     0  cache  8.1k   ~1.2k/s`"""
        usage = history.totals(name)
        text = literal(name, 18)
        text.pad_right(19 - text.cell_len)
        if usage is not None:
            text.append(f"in {human_count(usage.input_tokens):>5}  out {human_count(usage.output_tokens):>5}"
                        f"  rsn {human_count(usage.reasoning_tokens):>5}")
            if usage.cached_tokens is not None:
                text.append(f"  cache {human_count(usage.cached_tokens):>5}")
        if not running:
            rate = "—"
        else:
            rate = human_rate(history.latest_rate(name))
            if history.rate_is_estimate():
                rate = "~" + rate  # averaged since the start, before we were watching
        text.append(f"  {rate:>8}")
        return text
