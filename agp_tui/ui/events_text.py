"""Trajectory events as screen text: an icon per kind, one line per event, the full text.

Shared by the detail pane's "now" line and the trajectory screen. Every string is the
server's, so it goes through `safe_text` / `safe_lines` into a `Text`, never markup; the
icon is never the only signal (the kind's word is on the expanded view and in `?`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from rich.style import Style
from rich.text import Text

from agp_tui.api.events import EventInfo, EventKind, read_event
from agp_tui.monitor.trajectory import EventBuffer, Indexed
from agp_tui.ui.text import literal, safe_lines, safe_text

StyleOf = Callable[[str], Style]

ICON: dict[EventKind, str] = {
    EventKind.THOUGHT: "✎",
    EventKind.TOOL: "⚙",
    EventKind.OBSERVATION: "◉",
    EventKind.ANSWER: "✔",
    EventKind.ERROR: "✘",
    EventKind.FLOW: "⇄",
    EventKind.STATUS: "●",
    EventKind.METRICS: "Σ",
    EventKind.MESSAGE: "✉",
    EventKind.OTHER: "·",
}
KINDS_HELP = "  ".join(f"{ICON[k]} {k.value}" for k in EventKind)
# What the "now" line tells: what the agent does, not bookkeeping (metrics, status flips).
NOW_KINDS = frozenset({EventKind.THOUGHT, EventKind.TOOL, EventKind.OBSERVATION, EventKind.ANSWER,
                       EventKind.ERROR, EventKind.MESSAGE, EventKind.FLOW})
NOW_LOOKBACK = 40  # events searched back for the latest step
BODY_LINES = 400  # lines of an expanded event's text shown; `c` copies all of it


def style_class(kind: EventKind) -> str:
    return f"event--{kind.value}"


def clock(when: datetime | None) -> str:
    return when.astimezone().strftime("%H:%M:%S") if when else "--:--:--"


def latest_step(buf: EventBuffer | None) -> tuple[Indexed, EventInfo] | None:
    """The newest event that says what the agent is doing, if any is held."""
    if buf is None:
        return None
    for item in reversed(buf.recent(NOW_LOOKBACK)):
        info = read_event(item.event)
        if info.kind in NOW_KINDS:
            return item, info
    return None


def now_text(step: tuple[Indexed, EventInfo] | None, style_of: StyleOf) -> Text:
    """`now  ✎ 12:03:04  Opening Hacker News → navigate(url=https://…)` (two lines at most)."""
    out = Text()
    if step is None:
        return out
    item, info = step
    out.append("now ", style="bold")
    out.append(f"{ICON[info.kind]} ", style_of(style_class(info.kind)))
    out.append(f"{clock(item.event.timestamp)}  ", style_of("event--time"))
    out.append_text(literal(info.title, 400))
    return out


def answer_text(answer: object) -> Text:
    """`answer  1. … 2. …` — a string answer, or an object's JSON, first lines only."""
    out = Text()
    if answer is None:
        return out
    out.append("answer ", style="bold")
    text = answer if isinstance(answer, str) else _json(answer)
    out.append(safe_text(" ".join(safe_lines(text, 3, 400)), 600))
    return out


def _json(value: object) -> str:
    import json

    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def event_line(item: Indexed, info: EventInfo, step: int | None, style_of: StyleOf, *,
               expanded: bool) -> Text:
    """`12:03:04  s12 #143 ✎ Opening Hacker News → navigate(url=…)`"""
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(f"{clock(item.event.timestamp)} ", style_of("event--time"))
    out.append(f"{'s' + str(step) if step is not None else '':>4} ", style_of("event--time"))
    out.append(f"{'▾' if expanded else '▸'} ", style_of("event--time"))
    out.append(f"{ICON[info.kind]} ", style_of(style_class(info.kind)))
    title = literal(info.title, 2000)
    if info.kind is EventKind.ERROR:
        title.stylize(style_of(style_class(info.kind)))
    out.append_text(title)
    return out


def event_body(item: Indexed, info: EventInfo) -> list[Text]:
    """The expanded event: its kind, type and index, then every line of its text."""
    head = Text(f"    {info.kind.value} · {safe_text(item.event.type, 60)} · event #{item.index}",
                style="italic")
    lines = [head]
    if info.url:
        lines.append(Text("    " + safe_text(info.url, 400)))
    for line in safe_lines(info.body or info.title, BODY_LINES, 2000):
        lines.append(Text("    " + line))
    return lines


def steps_of(items: Sequence[Indexed], infos: Sequence[EventInfo]) -> list[int | None]:
    """The agent step each event belongs to: a thought starts the next step, and a
    `MetricsUpdateEvent` says the count (None until one of them is held)."""
    out: list[int | None] = []
    step: int | None = None
    for item, info in zip(items, infos, strict=True):
        if info.kind is EventKind.THOUGHT and step is not None:
            step += 1
        elif item.event.type == "MetricsUpdateEvent":
            metrics = item.event.data.get("metrics")
            value = metrics.get("steps") if isinstance(metrics, Mapping) else None
            if isinstance(value, int) and not isinstance(value, bool):
                step = value
        out.append(step)
    return out
