"""A followed group in one line: the aggregate row above the table and the group screen's head.

    ▤ group:nightly 2,000 · ● 1,204 running · ◌ 96 pending · ✓ 650 completed · ✗ 50 failed
      · steps ≥41.2k · tokens ≥12.4M (700/2,000 read)          (one line on screen)

Counts by status are exact (list pages); steps and tokens add up the members read so far
and carry `≥` until every member is read. The query text is the user's: shown literally.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

from agp_tui.monitor.group_view import Aggregate
from agp_tui.ui.format import human_count, status_symbol
from agp_tui.ui.text import safe_text


def group_line(agg: Aggregate, width: int | None = None) -> Text:
    """The line; within `width` cells the counts drop their status words first (`● 672`:
    the symbols are in the `?` help), so steps and tokens still show at 120 columns."""
    line = _line(agg, words=True)
    if width is not None and cell_len(line.plain) > width:
        line = _line(agg, words=False)
    return line


def _line(agg: Aggregate, *, words: bool) -> Text:
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
        if agg.estimate:
            out.append(f" ({agg.read:,}/{agg.members:,} read)", style="dim")
    if agg.error:
        out.append(f" · ! {safe_text(agg.error, 80)}", style="bold red")
    return out
