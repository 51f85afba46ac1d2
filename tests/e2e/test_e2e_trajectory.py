"""The trajectory in a real terminal: `agp-tui ID` against `agp-tui sim`, then `t`.

Events arrive live (the simulator runs in real time), the view follows them until `Up`
pauses it and `End` resumes, `enter` expands one, `/` finds one, `c` copies it (OSC 52
passes through tmux), `esc` goes back; at 80x24 with NO_COLOR, every line fits.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from e2e_tmux import Sim
from test_e2e_dashboard import command, open_tmux, quit_cleanly

pytestmark = pytest.mark.e2e

EVENT_LINE = re.compile(r"^\s*(\d\d:\d\d:\d\d)\s+(s\d+)?\s*[▸▾]", re.MULTILINE)


def held(screen: str) -> int:
    """`N` of the title's `N of M events`."""
    found = re.search(r"(\d[\d,]*) of [\d,]+ events", screen)
    return int(found.group(1).replace(",", "")) if found else 0


def search_box(screen: str) -> str | None:
    """The search box's text when it is open (the line above the footer), else None."""
    lines = screen.rstrip("\n").splitlines()
    above = lines[-2].strip() if len(lines) >= 2 else ""
    return above if above and not re.match(r"\d\d:\d\d:\d\d", above) and "·" not in above else None


def running_worker(sim: Sim) -> str:
    for item in sim.get("/sessions?status=running&size=100")["items"]:
        if not sim.get(f"/sessions/{item['id']}/status")["subagent_session_ids"]:
            return str(item["id"])
    raise RuntimeError("no running worker session")


def test_trajectory_live_follow_expand_search_copy_80x24(home: Path, sim: Sim) -> None:
    sid = running_worker(sim)
    for tmux in open_tmux(home, 80, 24):
        tmux.start(command(home, sim, term="xterm-256color", no_color=True) + f" {sid}")
        tmux.wait_for(lambda t: sid[:8] in t and "running" in t, what="the session's row")
        tmux.keys("t")
        first = tmux.wait_for(lambda t: t.startswith(" trajectory ") and len(EVENT_LINE.findall(t)) >= 3,
                              what="the trajectory with events", timeout=20)
        assert "following" in first.splitlines()[0]
        assert all(len(line) <= 80 for line in first.splitlines())
        count = held(first)
        tmux.wait_for(lambda t, n=count: held(t) > n, what="a new event arriving live", timeout=30)
        tmux.keys("Up")
        tmux.wait_for(lambda t: "PAUSED" in t, what="follow mode paused by Up")
        tmux.keys("End")
        tmux.wait_for(lambda t: "following" in t, what="follow mode back on End")
        tmux.keys("Home", "Enter")
        tmux.wait_for(lambda t: "· RequestStartEvent · event #0" in t or "AgentEvent · event #" in t
                      or "Event · event #" in t, what="an expanded event")
        tmux.keys("/")
        tmux.type("agent started")
        tmux.keys("Enter")
        tmux.wait_for(lambda t: search_box(t) == "agent started", what="the search box with the query")
        tmux.keys("Escape")  # closes the search box (then a pause: ESC + c would read as alt+c)
        tmux.wait_for(lambda t: search_box(t) is None and "n Next error" in t, what="the search box closed")
        tmux.keys("c")
        tmux.wait_for(lambda t: "copied event #" in t, what="the copy toast")
        tmux.keys("Escape")
        tmux.wait_for(lambda t: not t.startswith(" trajectory ") and sid[:8] in t, what="the table again")
        quit_cleanly(tmux)
