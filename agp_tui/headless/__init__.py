"""Headless commands: `status`, `ls`, `tree`, `watch`, `events`, `watchlist` (--json schemas in
the README).

They never import textual, and import the API and monitor layers only once a command
runs, so building the parser stays cheap for every invocation, the dashboard's included.
"""

from __future__ import annotations

import argparse

from agp_tui.headless import events, ls, status, tree, watch, watchlist


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Add every headless subcommand; each sets `handler(args, settings) -> int`."""
    for module in (status, ls, tree, watch, events, watchlist):
        module.add_parser(sub, common)


__all__ = ["register"]
