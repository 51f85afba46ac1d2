"""Attribute a `bench bandwidth --dump FILE` capture to screen rows and columns.

Splits the stream at cursor moves (CSI row;col H) and counts the bytes each move's run
wrote, by row and by the column the run started in, after the warm-up. A tool for finding
what the dashboard repaints, not part of the product.
"""

from __future__ import annotations

import re
import sys
from collections import Counter

MOVE = re.compile(rb"\x1b\[(\d+);(\d+)H")
STAMP = re.compile(rb"\x00T([0-9.]+)\x00")


def main(path: str, after: float = 5.0) -> None:
    with open(path, "rb") as fh:
        data = fh.read()
    by_row: Counter[int] = Counter()
    by_col: Counter[int] = Counter()
    sgr = 0
    row = col = 0
    total = 0
    parts = STAMP.split(data)  # [before, t1, chunk1, t2, chunk2, ...]
    for i in range(1, len(parts), 2):
        t = float(parts[i])
        chunk = parts[i + 1]
        if t < after:
            continue
        last = 0
        for m in MOVE.finditer(chunk):
            seg = chunk[last:m.start()]
            by_row[row] += len(seg)
            by_col[col] += len(seg)
            total += len(seg) + len(m.group(0))
            row, col = int(m.group(1)), int(m.group(2))
            last = m.end()
        seg = chunk[last:]
        by_row[row] += len(seg)
        by_col[col] += len(seg)
        total += len(seg)
        sgr += chunk.count(b"\x1b[")
    print(f"bytes after {after}s: {total}; escape sequences: {sgr}")
    print("by row:", sorted(by_row.items()))
    print("by start column:", by_col.most_common(15))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 5.0)
