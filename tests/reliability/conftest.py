"""Reliability tests reuse the headless and dashboard helpers rather than copying them.

Like the other test folders (no `__init__.py`, `--import-mode=importlib`), helper modules
are found through sys.path: this puts `tests/headless` and `tests/ui` on it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1]
if importlib.util.find_spec("agp_tui") is None:  # the checkout, when the package is not installed
    sys.path.insert(0, str(_TESTS.parent))
for _folder in ("headless", "ui"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.append(str(_TESTS / _folder))
