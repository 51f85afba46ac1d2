"""Headless commands: `status`, `ls`, `tree`, `watch`, `events`, `watchlist` (--json schemas in
the README).

They never import textual. `parser` defines every command's arguments and imports only
argparse, so building the parser stays cheap for every invocation, the dashboard's
included; it dispatches to the one implementation module the chosen command needs
(`status`, `ls`, ...), and those import what they use at the top. This package's
`__init__` imports nothing: importing any of its modules must not load the others.
"""
