"""A followed group of 10,000 sessions in a real terminal (tmux): the installed command with
`--follow group:big` against a simulator serving a 10,000-session batch. The aggregate line,
expanding it, sorting, filtering, one member's tree, and keys answering throughout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_tmux import Sim, Tmux, agp_command, isolated_env

pytestmark = pytest.mark.e2e
KEY = "hk-e2e-group-0000000000"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    handle = Sim(isolated_env(tmp_path_factory.mktemp("e2e-group-sim")), KEY,
                 "--batch", "size=10000,group=big,start=-400,rate=50")
    try:
        yield handle
    finally:
        handle.stop()


def test_a_group_of_10000_in_a_terminal(big: Sim, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("")
    (tmp_path / "key").write_text(big.key + "\n")
    tmux = Tmux(isolated_env(tmp_path), tmp_path, 120, 36)
    try:
        tmux.start(f"{agp_command()} --base-url {big.base_url} --api-key-file {tmp_path / 'key'} "
                   f"--config {tmp_path / 'config.toml'} --follow group:big")
        line = tmux.wait_for(lambda t: "▤ group:big 10,000" in t, what="the group's line", timeout=60)
        assert re.search(r"▤ group:big 10,000 · \S ?[\d,]+", line), line
        assert "g expands the followed group" in line  # the empty table says where the sessions are
        tmux.keys("g")
        tmux.wait_for(lambda t: "10,000 of 10,000 members shown" in t, what="the members' table", timeout=30)
        tmux.keys("s", "s", "s")  # id, agent, status
        tmux.wait_for(lambda t: "sort: status" in t, what="sorted by status")
        tmux.keys("/")
        tmux.type("status:failed")
        tmux.keys("Enter")
        def only_failed(t: str) -> bool:
            rows = [ln for ln in t.splitlines() if re.match(r"\s+[0-9a-f]{8} ", ln)]
            return bool(rows) and all("✘ failed" in r for r in rows) and "filter: status:failed" in t

        shown = tmux.wait_for(only_failed, what="only failed members once the filter applies")
        assert re.search(r"[\d,]+ of 10,000 members shown", shown), shown
        for _ in range(5):
            tmux.keys("Down")
        tmux.keys("Enter")  # the highlighted member's tree
        tmux.wait_for(lambda t: "subagent tree of" in t, what="the tree of a member")
        tmux.keys("Escape")
        tmux.wait_for(lambda t: "members shown" in t, what="back to the group")
        tmux.keys("Escape", "Escape")  # clear the filter, back to the main screen
        tmux.wait_for(lambda t: "▤ group:big 10,000" in t and "members shown" not in t,
                      what="the main screen")
        tmux.keys("q")
        assert tmux.wait_exit(15) == 0
        assert "Traceback" not in tmux.screen()
    finally:
        tmux.kill()


def test_demo_with_a_batch_follows_its_group(tmp_path: Path) -> None:
    """`agp-tui --demo --batch ...`: the demo's simulator runs the batch job and the
    dashboard follows its group from the start: the line, the members, the ended/min line."""
    tmux = Tmux(isolated_env(tmp_path), tmp_path, 100, 30)
    try:
        tmux.start(f"{agp_command()} --demo --batch size=2000,group=nightly,start=-120,rate=20")
        tmux.wait_for(lambda t: "▤ group:nightly 2,000" in t, what="the batch's group line", timeout=60)
        tmux.keys("g")
        text = tmux.wait_for(lambda t: "2,000 of 2,000 members shown" in t, what="its members", timeout=30)
        assert "ended/min" in text  # the group screen's second line
        tmux.keys("Escape")
        tmux.wait_for(lambda t: "members shown" not in t, what="back to the main screen")
        tmux.keys("q")
        assert tmux.wait_exit(15) == 0
        assert "Traceback" not in tmux.screen()
    finally:
        tmux.kill()
