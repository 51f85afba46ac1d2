"""tests/monitor: its helper modules (loop_wait) importable by name, as in tests/ui."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
