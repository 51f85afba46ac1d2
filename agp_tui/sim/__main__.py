"""`python -m agp_tui.sim [options]`: run the simulator in the foreground."""

import sys

from agp_tui.sim.cli import sim_main

sys.exit(sim_main(sys.argv[1:]))
