"""`agp-tui --demo` in a real terminal with a config.toml that has a typo: it starts on the
defaults, a toast names the problem, and it quits cleanly with exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_tmux import PROMPT, Tmux, agp_command, isolated_env

pytestmark = pytest.mark.e2e


def test_demo_with_a_broken_config_starts_and_says_why(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[profiles.default]\nthmee = \"nord\"\n")
    tmux = Tmux(isolated_env(tmp_path), tmp_path, 120, 32)
    try:
        tmux.start(f"TERM=xterm-256color {agp_command()} --demo --config {config}")
        text = tmux.wait_for(lambda t: "demo" in t and "running" in t and "thmee" in t,
                             what="demo sessions and the config toast", timeout=20)
        assert "default settings" in " ".join(text.split())
        tmux.keys("q")
        assert tmux.wait_exit() == 0
        after = tmux.wait_for(lambda t: t.rstrip().splitlines()[-1:] == [PROMPT.strip()],
                              what="the prompt after quitting")
        assert "Traceback" not in after
        assert "agp-tui: warning:" in after and "thmee" in after  # and on stderr, once it closed
    finally:
        tmux.kill()
