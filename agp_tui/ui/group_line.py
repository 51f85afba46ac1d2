"""A followed group in a line: the aggregate row above the table and the group screen's head.

    ▤ group:nightly 2,000 · ● 1,204 running · ◌ 96 pending · ✓ 650 completed · ✗ 50 failed
      · steps ≥41.2k · tokens ≥12.4M · cost ≥$3.21 (700/2,000 read) · ended/min ▁▂▅█ peak 12

Counts by status and the ended-per-minute sparkline are exact (list pages carry statuses
and finish times); steps, tokens and cost add up the members read so far and carry `≥`
until every member is read. The query text is the user's: shown literally.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

from agp_tui.monitor.group_view import Aggregate
from agp_tui.ui.format import dollars, human_count, status_symbol
from agp_tui.ui.sparkline import spark
from agp_tui.ui.text import safe_text


def group_line(agg: Aggregate, width: int | None = None, *, sparkline: bool = True) -> Text:
    """The line; within `width` cells the counts drop their status words first (`● 672`:
    the symbols are in the `?` help), then the sparkline, so the figures still show at 100
    columns. `sparkline=False`: never (the group screen shows it on its second line)."""
    line = Text()
    for words, spark_it in ((True, sparkline), (False, sparkline), (False, False)):
        line = _line(agg, words=words, sparkline=spark_it)
        if width is None or cell_len(line.plain) <= width:
            break
    return line


def models_line(agg: Aggregate) -> Text:
    """The group screen's second head line: members ended per minute, tokens by model and
    how far cost is known."""
    out = Text(no_wrap=True, overflow="ellipsis", style="dim")
    if agg.bootstrapped and any(agg.ended_per_minute):
        out.append(_ended(agg) + " · ")
    if not agg.read:
        out.append("tokens and cost: none read yet (the rows on screen, then ended members, are read)")
        return out
    at_least = "≥" if agg.estimate else ""
    out.append("tokens " + " · ".join(f"{safe_text(name, 40)} {at_least}{human_count(n)}"
                                      for name, n in agg.per_model[:6]) if agg.per_model else "no tokens")
    if len(agg.per_model) > 6:
        out.append(f" · {len(agg.per_model) - 6} more models")
    if agg.priced or agg.unpriced:
        out.append(f" · cost {'≥' if agg.priced < agg.members else ''}{dollars(agg.cost)}"
                   f" over {agg.priced:,} member{'s' if agg.priced != 1 else ''}")
        if agg.unpriced:
            out.append(f" ({agg.unpriced:,} with an unpriced model)")
    return out


def _line(agg: Aggregate, *, words: bool, sparkline: bool) -> Text:
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append("▤ ", style="bold")
    out.append(safe_text(agg.key, 60), style="bold")
    if not agg.bootstrapped:
        out.append(f" · listing… {agg.members:,} found" if agg.members else " · listing…")
    else:
        out.append(f" {agg.members:,}{'+' if agg.truncated else ''}")
        for i, (status, n) in enumerate(agg.counts):
            if words:
                out.append(f" · {status_symbol(status)} {n:,} {safe_text(status, 24)}")
            else:
                out.append(f"{' ·' if i == 0 else ''} {status_symbol(status)}{n:,}")
    if agg.read:
        at_least = "≥" if agg.estimate else ""
        out.append(f" · steps {at_least}{human_count(agg.steps)}"
                   f" · tokens {at_least}{human_count(agg.tokens)}")
        if agg.priced:
            out.append(f" · cost {'≥' if agg.priced < agg.members else ''}{dollars(agg.cost)}")
        if agg.estimate:
            out.append(f" ({agg.read:,}/{agg.members:,} read)", style="dim")
    if sparkline and agg.bootstrapped and any(agg.ended_per_minute):
        out.append(" · " + _ended(agg))
    if agg.error:
        out.append(f" · ! {safe_text(agg.error, 80)}", style="bold red")
    return out


def _ended(agg: Aggregate) -> str:
    return f"ended/min {spark(agg.ended_per_minute)} peak {max(agg.ended_per_minute):,}"
