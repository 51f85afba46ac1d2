"""agp-tui: watch AI-agent sessions on H Company's Agent Platform from a terminal."""

__version__ = "0.1.0"
