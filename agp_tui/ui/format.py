"""Small formatters shared by the table, the detail pane and the tree: numbers, ages, statuses."""

from __future__ import annotations

import math
import re
from datetime import datetime

from rich.cells import cell_len

from agp_tui.api import status as st
from agp_tui.monitor.view import SessionView
from agp_tui.ui.text import safe_text

# Every status has a symbol as well as a colour: colour is never the only signal.
STATUS_SYMBOL: dict[str, str] = {
    st.RUNNING: "●",
    st.PENDING: "◌",
    st.QUEUED: "◌",
    st.PAUSED: "❚❚",
    st.IDLE: "◔",
    st.AWAITING_TOOL_RESULTS: "◔",
    st.COMPLETED: "✔",
    st.FAILED: "✘",
    st.TIMED_OUT: "⌛",
    st.INTERRUPTED: "■",
}
UNKNOWN_SYMBOL = "?"

# Status -> the style family it is drawn in (component classes `status--<kind>` in app.tcss).
STATUS_KIND: dict[str, str] = {
    st.RUNNING: "running",
    st.PENDING: "pending",
    st.QUEUED: "pending",
    st.PAUSED: "paused",
    st.IDLE: "waiting",
    st.AWAITING_TOOL_RESULTS: "waiting",
    st.COMPLETED: "completed",
    st.FAILED: "failed",
    st.TIMED_OUT: "failed",
    st.INTERRUPTED: "interrupted",
}
STATUS_KINDS = ("running", "pending", "paused", "waiting", "completed", "failed", "interrupted", "unknown")


def session_name(view: SessionView | None) -> str:
    """What a session is called on screen: its label *and* its agent (`nightly · h/web-surfer`);
    a label never hides which agent runs. Raw server text: callers clean and cut it."""
    if view is None:
        return ""
    if view.label and view.agent and view.label != view.agent:
        return f"{view.label} · {view.agent}"
    return view.label or view.agent or ""


def status_symbol(status: str | None) -> str:
    return STATUS_SYMBOL.get(status or "", UNKNOWN_SYMBOL)


def status_kind(status: str | None) -> str:
    return STATUS_KIND.get(status or "", "unknown")


def status_label(status: str | None) -> str:
    """`● running`; an unknown status is shown literally after a `?`."""
    if status is None:
        return f"{UNKNOWN_SYMBOL} unknown"
    return f"{status_symbol(status)} {safe_text(status, 40)}"


def _finite(n: int | float) -> float | None:
    """`n` as a float, or None when it has none (NaN, infinities, ints past float range)."""
    try:
        f = float(n)
    except OverflowError:
        return None
    return f if math.isfinite(f) else None


def human_count(n: int | float) -> str:
    """At most five characters (six when negative): 999, 12.4k, 124k, 1.2M, 12M, 3.4G, 1e+18."""
    f = _finite(n)
    if f is None:
        return "?"  # never "nanP" or an OverflowError in a table cell
    if abs(f) < 1000:
        return f"{f:.0f}"
    for unit, scale in (("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15)):
        value = f / scale
        if abs(value) < 9.95:
            return f"{value:.1f}{unit}"
        if abs(value) < 999.5:
            return f"{value:.0f}{unit}"
    return f"{f:.0e}"


def dollars(amount: float | None) -> str:
    """A cost cell, at most seven characters: $0.0123, $12.34, $1234, $12k; — when unknown."""
    if amount is None or _finite(amount) is None or amount < 0:
        return "—"
    if amount < 1:
        return f"${amount:.4f}"
    if amount < 100:
        return f"${amount:.2f}"
    if amount < 10_000:
        return f"${amount:.0f}"
    return f"${human_count(amount)}"


def human_rate(per_second: float) -> str:
    return f"{human_count(per_second)}/s"


def duration(seconds: float | None) -> str:
    """Compact age: 5s, 3m, 2h, 4d (empty when unknown)."""
    if seconds is None or _finite(seconds) is None:
        return ""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def table_duration(seconds: float | None) -> str:
    """A table age that changes rarely: `now` under 5 s, then 5 s steps, then `duration`.

    Every changed cell is sent to the terminal; second-by-second ages on every visible row
    were most of those bytes (measured: `python -m agp_tui.bench bandwidth`).
    """
    if seconds is None or _finite(seconds) is None:
        return ""
    if seconds < 5:
        return "now"
    if seconds < 60:
        return f"{int(seconds) // 5 * 5}s"
    return duration(seconds)


def long_duration(seconds: float | None) -> str:
    """Detail-pane age: 45s, 3m 05s, 2h 04m, 3d 02h."""
    if seconds is None or _finite(seconds) is None:
        return "—"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600:02d}h"


def since(when: datetime | float | None, now: float) -> float | None:
    if when is None:
        return None
    ts = when.timestamp() if isinstance(when, datetime) else when
    return now - ts


def timestamp(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if when else "—"


def head_cells(text: str, cells: int) -> str:
    """The start of `text` that fits `cells` terminal cells, with no ellipsis; cells, not
    characters, so a server's wide characters cannot push a column out of line."""
    out: list[str] = []
    used = 0
    for ch in text:
        used += cell_len(ch)
        if used > cells:
            break
        out.append(ch)
    return "".join(out)


def short_id(session_id: str) -> str:
    """The first 8 cells of an id (a UUID's first group)."""
    return head_cells(safe_text(session_id, 64), 8)  # 64: a 36-character UUID is never cut short


_SIZE = re.compile(r"^\d+(?:\.\d+)?[bmkt]$", re.IGNORECASE)


def short_model(name: str, width: int = 5) -> str:
    """A short model label for sparklines: `holo3-122b-a10b` -> `122b`, else a prefix."""
    clean = safe_text(name, 64)
    parts = [p for p in re.split(r"[-_/:\s]+", clean) if p]
    for part in parts:
        if _SIZE.match(part):
            return part[:width]
    tail = parts[-1] if parts else clean or "?"
    return head_cells(tail, width) or "?"
