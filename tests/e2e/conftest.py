"""End-to-end runs of the installed `agp-tui` in tmux; skipped (with the reason) without tmux."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if importlib.util.find_spec("agp_tui") is None:
    sys.path.insert(0, str(_HERE.parents[1]))
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

import pytest  # noqa: E402
from e2e_tmux import E2E_KEY, Sim, isolated_env  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if shutil.which("tmux") is None:
        reason = "tmux is not installed: the end-to-end terminal tests need it"
        print(f"\nSKIPPING e2e: {reason}")
        for item in items:
            if "e2e" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    handle = Sim(isolated_env(tmp_path_factory.mktemp("e2e-sim")), E2E_KEY)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A private HOME / XDG tree with an empty config file."""
    (tmp_path / "config.toml").write_text("")
    return tmp_path
