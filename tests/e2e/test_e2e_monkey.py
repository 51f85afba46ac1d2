"""The installed `agp-tui --demo` in tmux under bursts of 50 keys, as a held key or SSH's
queued input delivers them: still alive and drawing afterwards, then a clean quit.

Keys are drawn from a seed printed with each run (`AGP_MONKEY_SEED=N` replays one); each
burst is one `tmux send-keys` of 50 keys, which tmux writes to the pane at once.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from e2e_tmux import Tmux
from test_e2e_dashboard import command, open_tmux, quit_cleanly

pytestmark = pytest.mark.e2e

BURST_KEYS = ("Up", "Down", "PageUp", "PageDown", "Home", "End", "i", "Enter", "Escape", "s", "/", "t")
BURSTS = 10


def burst(rng: random.Random) -> list[str]:
    keys = []
    while len(keys) < 50:
        key = rng.choice(BURST_KEYS)
        # Held keys repeat: runs of the same key, as auto-repeat sends them.
        keys.extend([key] * min(rng.choice((1, 1, 3, 10)), 50 - len(keys)))
    return keys


def alive_and_drawing(tmux: Tmux) -> str:
    assert not tmux.exit_file.exists(), f"agp-tui exited:\n{tmux.exit_file.read_text()}\n{tmux.screen()}"
    text = tmux.screen()
    assert "Traceback" not in text and "Error" not in text.split("\n", 1)[0], text
    return text


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
def test_bursts_of_fifty_keys_leave_the_demo_alive(home: Path, size: tuple[int, int]) -> None:
    seed = int(os.environ.get("AGP_MONKEY_SEED") or time.time_ns() % 1_000_000)
    print(f"tmux monkey seed {seed} at {size[0]}x{size[1]} (replay: AGP_MONKEY_SEED={seed})")
    rng = random.Random(seed)
    for tmux in open_tmux(home, *size):
        tmux.start(command(home, None, term="xterm-256color"))
        tmux.wait_for(lambda t: "demo" in t and "running" in t, what="demo sessions", timeout=20)
        for n in range(BURSTS):
            keys = burst(rng)
            tmux.keys(*keys)
            time.sleep(rng.choice((0.0, 0.05, 0.3)))
            try:
                alive_and_drawing(tmux)
            except AssertionError as exc:
                raise AssertionError(f"seed {seed}, burst {n}: {keys}\n{exc}") from None
        time.sleep(1.0)  # let the last burst land
        alive_and_drawing(tmux)
        # Still drawing: out of whatever screen the keys left open, the table is back and live.
        for _ in range(4):
            tmux.keys("Escape")
            time.sleep(0.2)
        tmux.wait_for(lambda t: "agp-tui" in t and "demo@simulator" in t, what="the main screen")
        before = tmux.screen()
        tmux.keys("Down")
        tmux.wait_for(lambda t, old=before: t != old, what="the screen to change after a key", timeout=10)
        quit_cleanly(tmux)
