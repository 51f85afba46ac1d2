"""Fixtures for the headless command tests: isolated config/XDG dirs, the simulator (a seeded
world, or an empty one of pinned sessions with FakeBackend's hooks), both over loopback."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if importlib.util.find_spec("agp_tui") is None:
    sys.path.insert(0, str(_HERE.parents[1]))
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

import pytest  # noqa: E402
from headless_helpers import KEY, Cli, Env, Result, make_env, new_sim, run_agp, run_cli  # noqa: E402

from agp_tui.sim import DEMO_API_KEY, SimHandle  # noqa: E402
from agp_tui.sim.fake_backend import FakeBackend  # noqa: E402


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    """Shared by a module's read-only tests; tests that move time use `live_sim`."""
    handle = new_sim()
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def live_sim() -> Iterator[SimHandle]:
    handle = new_sim(sessions=40)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def fake() -> Iterator[FakeBackend]:
    """An empty world served on 127.0.0.1 (at `fake.base_url`, key KEY): tests pin sessions
    in it and use its hooks (faults, counts), which run on the server's thread."""
    backend = FakeBackend(api_keys=(KEY,))
    handle = backend.serve_in_thread()
    try:
        yield backend
    finally:
        handle.stop()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return make_env(tmp_path, monkeypatch)


@pytest.fixture
def sim_env(env: Env, sim: SimHandle) -> Env:
    return env.point_at(sim.base_url, DEMO_API_KEY)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, env: Env) -> Cli:
    """`cli(["status"], id, "--json")`: the real cli.main in-process, output captured."""

    def call(command: list[str], *args: str, **kw: object) -> Result:
        return run_cli(capsys, monkeypatch, env, command, *args, **kw)  # type: ignore[arg-type]

    return call


@pytest.fixture
def agp(env: Env) -> Callable[..., Result]:
    """`agp(["status"], id)`: the installed command in a subprocess with the isolated env."""

    def call(command: list[str], *args: str, **kw: object) -> Result:
        return run_agp(env, command, *args, **kw)  # type: ignore[arg-type]

    return call
