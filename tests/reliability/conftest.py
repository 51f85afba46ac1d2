"""Reliability tests reuse the headless and dashboard helpers rather than copying them.

Like the other test folders (no `__init__.py`, `--import-mode=importlib`), helper modules
are found through sys.path: this puts `tests/headless` and `tests/ui` on it.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

_TESTS = Path(__file__).resolve().parents[1]
if importlib.util.find_spec("agp_tui") is None:  # the checkout, when the package is not installed
    sys.path.insert(0, str(_TESTS.parent))
for _folder in ("headless", "ui", "reliability"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.append(str(_TESTS / _folder))


@pytest.fixture
def watchlist_writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every watchlist file write from now on, as the number of entries written."""
    from agp_tui.monitor.watchlist import Watchlist

    writes: list[int] = []
    real_write = Watchlist._write

    def counting_write(self: Watchlist, entries: Any, follows: Any) -> Any:
        writes.append(len(entries))
        return real_write(self, entries, follows)

    monkeypatch.setattr(Watchlist, "_write", counting_write)
    return writes


@pytest.fixture
def report_figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Print a line of figures now and again in the run's summary (tests/conftest.py
    gathers them from the test reports, so they reach the summary from xdist workers too)."""

    def report(line: str) -> None:
        print(line)
        request.node.user_properties.append(("figure", line.strip()))

    return report


# -- issue 18: a hostile loopback server and an isolated home pointed at it ----------------


@pytest.fixture
def hostile() -> Any:
    from hostile_server import Hostile

    server = Hostile().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hostile_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hostile: Any) -> Any:
    """An isolated home whose commands go to the hostile server with its key."""
    from headless_helpers import make_env
    from hostile_server import KEY

    return make_env(tmp_path, monkeypatch).point_at(hostile.base_url, KEY)


@pytest.fixture
def hostile_servers() -> Any:
    """`servers(n)`: that many more hostile servers, stopped after the test."""
    from hostile_server import Hostile

    started: list[Any] = []

    def servers(n: int) -> list[Any]:
        more = [Hostile().start() for _ in range(n)]
        started.extend(more)
        return more

    try:
        yield servers
    finally:
        for server in started:
            server.stop()
