"""Fixtures for the API-layer tests: a scripted fake server behind httpx.MockTransport."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

# The package is not installed in the venv: make the checkout importable for a bare `pytest`,
# and this folder too, for the shared fakes (whatever pytest's --import-mode).
_HERE = Path(__file__).resolve().parent
if importlib.util.find_spec("agp_tui") is None:
    sys.path.insert(0, str(_HERE.parents[1]))
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

import httpx  # noqa: E402
import pytest  # noqa: E402
from agp_api_fakes import BASE, KEY, FakeServer  # noqa: E402

from agp_tui.api import AgpClient, RetryPolicy  # noqa: E402


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
async def make_client(server: FakeServer) -> AsyncIterator[Callable[..., AgpClient]]:
    """Factory of clients wired to `server`; retries off unless `retry=` is given."""
    opened: list[httpx.AsyncClient] = []

    def factory(base_url: str = BASE, key: str | None = KEY, **kwargs: Any) -> AgpClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(server))
        opened.append(http)
        kwargs.setdefault("retry", RetryPolicy.off())
        return AgpClient(base_url, key, http=http, **kwargs)

    yield factory
    for http in opened:
        await http.aclose()


@pytest.fixture
def client(make_client: Callable[..., AgpClient]) -> AgpClient:
    return make_client()
