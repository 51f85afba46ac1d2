"""Benchmarks: `python -m agp_tui.bench NAME [options]` prints measured numbers beside budgets."""
