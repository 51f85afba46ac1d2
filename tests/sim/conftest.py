"""Fixtures: a manual-clock World served by a real SimServer on 127.0.0.1, plus a client."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

# The package is not installed in the venv: make the checkout importable, and this folder
# too (for sim_helpers), whatever pytest's --import-mode.
_HERE = Path(__file__).resolve().parent
if importlib.util.find_spec("agp_tui") is None:
    sys.path.insert(0, str(_HERE.parents[1]))
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

import aiohttp  # noqa: E402
import pytest  # noqa: E402
from sim_helpers import Sim, make_world  # noqa: E402

from agp_tui.sim import SimServer, World  # noqa: E402


@pytest.fixture
def world_factory() -> Callable[..., World]:
    return make_world


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
async def sim(world: World) -> AsyncIterator[Sim]:
    async with SimServer(world, long_poll_cap=5) as server, aiohttp.ClientSession() as http:
        yield Sim(server, world, http)
