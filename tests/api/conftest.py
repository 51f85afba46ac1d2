"""Fixtures for the API-layer tests: the simulator over loopback, and clients of it through
both real backends (httpx and aiohttp), so what is checked is what goes over the wire.

`server` is a `FakeBackend` (an empty World) whose hooks run inside a `SimServer` on
127.0.0.1: a test queues the documented example answers (`server.queue(reply(...))`) and
reads what the socket carried (`server.last`, `server.requests`).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

# The package is not installed in the venv: make the checkout importable for a bare `pytest`,
# and this folder too, for the shared payloads (whatever pytest's --import-mode).
_HERE = Path(__file__).resolve().parent
if importlib.util.find_spec("agp_tui") is None:
    sys.path.insert(0, str(_HERE.parents[1]))
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

import pytest  # noqa: E402
from api_payloads import KEY  # noqa: E402

from agp_tui.api import AgpClient, AiohttpBackend, Backend, HttpxBackend, RetryPolicy  # noqa: E402
from agp_tui.sim.fake_backend import FakeBackend  # noqa: E402
from agp_tui.sim.server import SimServer  # noqa: E402


@pytest.fixture
async def server() -> AsyncIterator[FakeBackend]:
    fake = FakeBackend(api_keys=(KEY,))
    http = SimServer(fake.world, api_keys=(KEY,), middlewares=[fake.middleware()])
    await http.start()
    fake.base_url = http.base_url
    try:
        yield fake
    finally:
        await http.stop()


@pytest.fixture(params=["httpx", "aiohttp"])
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_client(server: FakeBackend, backend_kind: str) -> AsyncIterator[Callable[..., AgpClient]]:
    """Factory of clients of `server` (or of `base_url`), retries off unless `retry=` is given."""
    opened: list[Backend] = []

    def factory(base_url: str | None = None, key: str | None = KEY, **kwargs: Any) -> AgpClient:
        backend: Backend = HttpxBackend() if backend_kind == "httpx" else AiohttpBackend()
        opened.append(backend)
        kwargs.setdefault("retry", RetryPolicy.off())
        return AgpClient(server.base_url if base_url is None else base_url, key, backend=backend, **kwargs)

    yield factory
    for backend in opened:
        await backend.aclose()


@pytest.fixture
def client(make_client: Callable[..., AgpClient]) -> AgpClient:
    return make_client()
