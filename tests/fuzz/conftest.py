"""Fuzz tests: a deterministic hypothesis profile, and the shared test helpers on sys.path.

The profile is registered here and applied per test (`fuzz_payloads.fuzz_settings`), not
loaded globally, so other folders' hypothesis tests keep their own settings.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

_HERE = Path(__file__).resolve().parent
for folder in (_HERE, _HERE.parent / "ui"):  # fuzz_payloads; the dashboard helpers
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

# derandomize + no database: the same examples on every run and every machine, so CI is
# deterministic; no deadline: the machine is shared and timing is not what is tested.
settings.register_profile(
    "agp-fuzz",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
