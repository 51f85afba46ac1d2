"""The lines `watch` prints: human text, or one JSON object per line with stable keys.

Every JSON line has `event`, `time`, `id`, `agent`, `status`, `old_status`, `steps`,
`tokens`, `error`, `error_kind` (null when not applicable); some events add keys of
their own (see `watch.py` and the README). Lines are flushed one by one so a pipe reader
sees each event as it happens.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from agp_tui.headless.output import Style, clean, dash, iso, json_text, out
from agp_tui.headless.shapes import tokens_of, usage_totals
from agp_tui.monitor.view import SessionView

CHILDREN_SHOWN = 5  # subagent ids a `children` line lists; past that it counts them


class LineWriter:
    def __init__(self, style: Style, *, as_json: bool, clock: Any = time.time) -> None:
        self.style = style
        self.as_json = as_json
        self.clock = clock

    # -- shared ---------------------------------------------------------------------

    def _json(self, event: str, view: SessionView | None, at: float | None = None, **extra: Any) -> None:
        st = view.status if view else None
        base: dict[str, Any] = {
            "event": event,
            "time": iso(at if at is not None else self.clock()),
            "id": view.id if view else None,
            "agent": view.agent if view else None,
            "status": st.status if st else None,
            "old_status": None,
            "steps": st.steps if st else None,
            "tokens": tokens_of(st),
            "error": st.error if st else None,
            "error_kind": None,
        }
        base.update(extra)
        out(json_text(base, indent=None), flush=True)

    def _human(self, view: SessionView | None, text: str, at: float | None = None) -> None:
        stamp = datetime.fromtimestamp(at if at is not None else self.clock()).strftime("%H:%M:%S")
        if view is None:
            out(f"{stamp}  {text}", flush=True)
            return
        # Full ids in pipes, short on screen; cleaned: a child's id comes from the server.
        sid = clean(view.id[:8] if self.style.tty else view.id)
        out(f"{stamp}  {sid}  {dash(view.agent)}  {text}", flush=True)

    def _counters(self, view: SessionView) -> str:
        total = sum(usage_totals(view.usage))
        return f"steps {view.steps}  tokens {total}"

    # -- events ---------------------------------------------------------------------

    def status(self, view: SessionView, old: str | None, new: str, at: float) -> None:
        if self.as_json:
            self._json("status", view, at, status=new, old_status=old)
            return
        s = self.style
        change = s.status(clean(new)) if old is None else (
            f"{s.status(clean(old))} {s.arrow} {s.status(clean(new))}"
        )
        text = f"{change}  {self._counters(view)}"
        if view.status and view.status.error:
            text += "  " + s.paint(f"error: {clean(view.status.error)}", "error")
        self._human(view, text, at)

    def progress(self, view: SessionView) -> None:
        if self.as_json:
            self._json("progress", view)
            return
        self._human(view, f"{self.style.status(dash(view.status_text))}  {self._counters(view)}")

    def error(self, view: SessionView, kind: str, message: str) -> None:
        if self.as_json:
            self._json("error", view, error=message, error_kind=kind)
            return
        self._human(view, self.style.paint(f"error: {clean(kind)}: {clean(message)}", "error"))

    def simple(self, event: str, view: SessionView) -> None:
        if self.as_json:
            self._json(event, view)
            return
        self._human(view, f"{event}  {self._counters(view)}")

    def children(self, view: SessionView, child_ids: tuple[str, ...], more: int = 0) -> None:
        """New subagents: listed while few, else counted with the first few ids; `more`
        are those past limits.max_children, which the engine counts but does not follow."""
        if self.as_json:
            self._json("children", view, children=list(child_ids), more_children=more)
            return
        n = len(child_ids)
        shown = [clean(c[:8] if self.style.tty else c) for c in child_ids[:CHILDREN_SHOWN]]
        if n > CHILDREN_SHOWN:
            text = f"+{n:,} new subagents: {', '.join(shown)}, …"
        else:
            text = f"{n} new subagent{'s' if n != 1 else ''}" + (f": {', '.join(shown)}" if n else "")
        if more:
            text += f"; {more:,} more not followed (limits.max_children)"
        self._human(view, text)

    def stale(self, view: SessionView, age: float) -> None:
        if self.as_json:
            self._json("stale", view, age=round(age, 1))
            return
        self._human(view, self.style.paint(f"stale: no good answer for {age:.0f}s", "warning"))

    def connection(self, state: str, detail: str | None) -> None:
        if self.as_json:
            self._json("connection", None, connection=state, error=detail)
            return
        text = f"connection {clean(state)}" + (f": {clean(detail)}" if detail else "")
        self._human(None, self.style.paint(text, "warning" if state != "live" else "dim"))

    def done(self, outcomes: dict[str, str], code: int) -> None:
        if self.as_json:
            self._json("done", None, exit_code=code, outcomes=outcomes)
            return
        counts: dict[str, int] = {}
        for outcome in outcomes.values():
            counts[outcome] = counts.get(outcome, 0) + 1
        summary = ", ".join(f"{n} {self.style.status(clean(o))}" for o, n in sorted(counts.items()))
        self._human(None, f"done: {summary or 'no sessions'}")
