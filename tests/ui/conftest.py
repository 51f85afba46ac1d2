"""Fixtures for the dashboard tests: the simulator in-process (FakeBackend), a frozen clock."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("agp_tui") is None:  # the checkout, when the package is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest
from helpers import Clock

from agp_tui.sim.fake_backend import FakeBackend


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake() -> FakeBackend:
    return FakeBackend()
