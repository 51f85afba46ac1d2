"""`python -m agp_tui` is the same as the `agp-tui` command."""

import sys

from agp_tui.cli import main

sys.exit(main())
