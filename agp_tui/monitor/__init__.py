"""The monitor engine: watchlist, poll scheduling, token history, rollups, change events.

Shared by the dashboard and the headless commands; never imports textual.
"""
