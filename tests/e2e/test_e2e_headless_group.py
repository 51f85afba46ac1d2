"""`agp-tui status --group G` in a real terminal (tmux): the aligned status table on stdout,
then the count by status that only a terminal gets on stderr, and exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_tmux import PROMPT, Sim, Tmux, agp_command, isolated_env

pytestmark = pytest.mark.e2e


def test_status_of_a_group_in_a_terminal(sim: Sim, tmp_path: Path) -> None:
    # Summaries do not carry group_id: ask for the simulator's groups by name.
    sizes = {g: sim.get(f"/sessions?size=100&group_id={g}")
             for g in ("nightly-batch-7", "crm-sync", "pricing-watch", "qa-smoke")}
    group, members = max(sizes.items(), key=lambda kv: kv[1]["total"])
    assert 0 < members["total"] <= 30, "a group that fits the 40-line pane"
    (tmp_path / "config.toml").write_text("")
    (tmp_path / "key").write_text(sim.key + "\n")
    tmux = Tmux(isolated_env(tmp_path), tmp_path, 160, 40)
    try:
        tmux.start(f"NO_COLOR=1 {agp_command()} status --group {group} --base-url {sim.base_url} "
                   f"--api-key-file {tmp_path / 'key'} --config {tmp_path / 'config.toml'}")
        assert tmux.wait_exit(20) == 0
        text = tmux.wait_for(lambda t: t.rstrip().splitlines()[-1:] == [PROMPT.strip()],
                             what="the prompt after the command")
        lines = text.splitlines()
        header = next(i for i, line in enumerate(lines) if line.split()[:3] == ["ID", "AGENT", "STATUS"])
        rows = lines[header + 1: header + 1 + members["total"]]
        assert [r.split()[0] for r in rows] == [m["id"] for m in members["items"]]
        total = members["total"]
        summary = lines[header + 1 + total]
        assert summary.startswith(f"{total} session{'s' if total != 1 else ''}: "), summary
        assert "Traceback" not in text
    finally:
        tmux.kill()
