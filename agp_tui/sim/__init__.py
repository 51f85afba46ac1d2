"""The AGP v2 API simulator: a deterministic world of sessions served over real HTTP.

Never imports textual: it runs headless, in tests, and behind `agp-tui --demo`.

The names below load on first use (PEP 562): `import agp_tui.sim.world` (a World, for a
fake backend or a benchmark in virtual time) does not pull in aiohttp, the server or the CLI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agp_tui.sim.chaos import Chaos, ChaosSpecError, parse_chaos
    from agp_tui.sim.cli import sim_main
    from agp_tui.sim.clock import ManualClock, RealClock
    from agp_tui.sim.server import DEMO_API_KEY, SimHandle, SimServer, start_in_thread
    from agp_tui.sim.world import World

_WHERE = {
    "Chaos": "chaos",
    "ChaosSpecError": "chaos",
    "parse_chaos": "chaos",
    "sim_main": "cli",
    "ManualClock": "clock",
    "RealClock": "clock",
    "DEMO_API_KEY": "server",
    "SimHandle": "server",
    "SimServer": "server",
    "start_in_thread": "server",
    "World": "world",
}

__all__ = [
    "DEMO_API_KEY",
    "Chaos",
    "ChaosSpecError",
    "ManualClock",
    "RealClock",
    "SimHandle",
    "SimServer",
    "World",
    "parse_chaos",
    "sim_main",
    "start_in_thread",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups are plain module attributes
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
