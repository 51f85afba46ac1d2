"""Block-character sparklines for table cells and tree labels."""

from __future__ import annotations

import math
from collections.abc import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"


def _level(v: float) -> float:
    # NaN, infinities and negatives are no rate anyone can draw (and round(NaN) raises):
    # they show as the lowest block rather than breaking the cell.
    return v if math.isfinite(v) and v > 0 else 0.0


def spark(values: Sequence[float], width: int | None = None) -> str:
    """The last `width` values as blocks scaled to their maximum; zero is the lowest block."""
    data = [_level(v) for v in (list(values)[-width:] if width else values)]
    if width and len(data) < width:
        data = [0.0] * (width - len(data)) + data
    top = max(data, default=0.0)
    if top <= 0:
        return BLOCKS[0] * len(data)
    out = []
    for v in data:
        if v <= 0:
            out.append(BLOCKS[0])
        else:
            # Any activity shows at least the second block, so a trickle is not read as nothing.
            out.append(BLOCKS[max(1, min(len(BLOCKS) - 1, round(v / top * (len(BLOCKS) - 1))))])
    return "".join(out)


def blocks_per_model(width: int, models: int, label: int) -> int:
    """How many buckets each model's sparkline gets in a cell `width` cells wide."""
    if models <= 0:
        return 0
    per = (width - (models - 1)) // models - label - 1
    return max(per, 2)
