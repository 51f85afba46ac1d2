"""The AGP v2 API simulator: a deterministic world of sessions served over real HTTP.

Never imports textual: it runs headless, in tests, and behind `agp-tui --demo`.
"""

from agp_tui.sim.chaos import Chaos, ChaosSpecError, parse_chaos
from agp_tui.sim.cli import sim_main
from agp_tui.sim.clock import ManualClock, RealClock
from agp_tui.sim.server import DEMO_API_KEY, SimHandle, SimServer, start_in_thread
from agp_tui.sim.world import World

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
