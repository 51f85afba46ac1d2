"""`agp-tui --demo` with a broken config.toml: the demo starts anyway and says why.

The real `cli.main` runs with its real simulator; only `AgpApp.run` is swapped for a
Pilot session, so the dashboard runs headless instead of taking over the terminal.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from helpers import wait_for

from agp_tui.cli import main
from agp_tui.ui.app import AgpApp


def _run_demo(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> tuple[int, dict[str, Any]]:
    seen: dict[str, Any] = {}

    def run_headless(app: AgpApp) -> None:
        async def drive() -> None:
            async with app.run_test(size=(120, 30)) as pilot:
                await wait_for(pilot, lambda: app.main.table.row_count > 0, timeout=15)
                seen["rows"] = app.main.table.row_count
                seen["toasts"] = [(n.title, n.severity, n.message) for n in app._notifications]
                seen["profile"] = app.profile

        asyncio.run(drive())

    monkeypatch.setattr(AgpApp, "run", run_headless)
    return main(argv), seen


def test_demo_runs_on_defaults_with_a_broken_config_and_shows_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    config = tmp_path / "config.toml"
    config.write_text("[profiles.default]\nbogus_key = 1\n")
    # What a plain command says about this file: the toast must carry the same words.
    assert main(["status", "--config", str(config)]) == 2
    error = capsys.readouterr().err.strip().removeprefix("agp-tui: ")
    assert "bogus_key" in error

    code, seen = _run_demo(monkeypatch, ["--demo", "--config", str(config)])
    assert code == 0
    assert seen["rows"] > 0 and seen["profile"] == "demo"
    assert ("Warning", "warning", f"{error} (the demo runs on default settings)") in seen["toasts"]
    assert f"agp-tui: warning: {error}" in capsys.readouterr().err  # still there after it closes


def test_demo_never_runs_the_key_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo has its own key: a profile's `api_key_cmd` (a password prompt, say) stays idle."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    marker = tmp_path / "ran"
    config = tmp_path / "config.toml"
    config.write_text(f"[profiles.default]\napi_key_cmd = \"touch {marker}\"\ntheme = \"nord\"\n")
    code, seen = _run_demo(monkeypatch, ["--demo", "--config", str(config)])
    assert code == 0 and seen["rows"] > 0
    assert not marker.exists()
    assert not [t for t in seen["toasts"] if t[1] == "warning"]
