"""The dashboard in a real terminal (tmux): keys, screens, colour rules, and a clean way out.

Each test types the command at a `bash --norc` prompt (PS1=READY$), drives it with
`tmux send-keys`, reads `tmux capture-pane`, and after `q` checks the exit code, that the
prompt is back, and that no alternate screen or mouse tracking is left switched on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_tmux import E2E_KEY, PROMPT, Sim, Tmux, agp_command, chromatic_colours, isolated_env

pytestmark = pytest.mark.e2e


def open_tmux(home: Path, width: int, height: int) -> Iterator[Tmux]:
    tmux = Tmux(isolated_env(home), home, width, height)
    try:
        yield tmux
    finally:
        tmux.kill()


def command(home: Path, sim: Sim | None, *, term: str, no_color: bool = False) -> str:
    prefix = f"TERM={term} " + ("NO_COLOR=1 " if no_color else "")
    where = "--demo" if sim is None else f"--base-url {sim.base_url} --api-key {E2E_KEY}"
    return f"{prefix}{agp_command()} {where} --config {home / 'config.toml'}"


def quit_cleanly(tmux: Tmux) -> None:
    tmux.keys("q")
    assert tmux.wait_exit() == 0
    text = tmux.wait_for(lambda t: t.rstrip().splitlines()[-1:] == [PROMPT.strip()],
                         what="the prompt after quitting")
    assert "Traceback" not in text
    assert tmux.flag("alternate_on") == "0"  # the alternate screen is gone
    for flag in ("mouse_any_flag", "mouse_all_flag", "mouse_button_flag", "mouse_sgr_flag"):
        assert tmux.flag(flag) == "0", f"{flag} still set after quitting"
    assert tmux.flag("cursor_flag") == "1"  # the cursor is visible again


def wait_live(tmux: Tmux) -> str:
    return tmux.wait_for(lambda t: "agp-tui" in t and "live" in t, what="the dashboard header")


def test_add_filter_tree_back_quit_80x24(home: Path, sim: Sim) -> None:
    manager = sim.manager()
    other = next(i for i in sim.get("/sessions?size=20&status=completed")["items"]
                 if i["id"] != manager and i["agent"] != sim.get(f"/sessions/{manager}")["request"]["agent"])
    child = sim.get(f"/sessions/{manager}/status")["subagent_session_ids"][0]
    for tmux in open_tmux(home, 80, 24):
        tmux.start(command(home, sim, term="xterm-256color"))
        wait_live(tmux)
        assert tmux.flag("alternate_on") == "1"
        tmux.keys("a")
        tmux.wait_for(lambda t: "Watch sessions" in t, what="the add dialog")
        tmux.type(f"{manager} {other['id']}")
        tmux.keys("Enter")
        tmux.wait_for(lambda t: manager[:8] in t and other["id"][:8] in t, what="both rows")
        tmux.keys("/")
        tmux.wait_for(lambda t: "filter: words" in t, what="the filter box")  # focused: safe to type
        tmux.type(other["agent"])
        tmux.wait_for(lambda t: other["id"][:8] in t and manager[:8] not in t, what="the filtered table")
        tmux.keys("Escape")
        tmux.wait_for(lambda t: manager[:8] in t and other["id"][:8] in t, what="the filter cleared")
        tmux.keys("Up", "Enter")  # the cursor stayed on the filtered row; the manager is above
        tmux.wait_for(lambda t: f"subagent tree of {manager[:8]}" in t and child[:8] in t,
                      what="the tree screen with a subagent")
        tmux.keys("Escape")
        tmux.wait_for(lambda t: "subagent tree" not in t and other["id"][:8] in t, what="the table again")
        quit_cleanly(tmux)
    # The dashboard persisted its watchlist: the simulator's own, not the account's.
    (path,) = (home / "data" / "agp-tui").glob("watchlist-*.json")
    assert path.name.startswith(f"watchlist-default@127.0.0.1-{sim.port}-")
    saved = path.read_text()
    assert manager in saved and other["id"] in saved


def test_demo_mode_160x48_linux_console(home: Path) -> None:
    for tmux in open_tmux(home, 160, 48):
        tmux.start(command(home, None, term="linux"))
        text = tmux.wait_for(lambda t: "demo" in t and "running" in t, what="demo sessions", timeout=20)
        assert len(text.splitlines()) == 48 and max(len(line) for line in text.splitlines()) <= 160
        tmux.keys("Enter")
        tmux.wait_for(lambda t: "subagent tree of" in t, what="the tree screen")
        tmux.keys("Escape")
        tmux.wait_for(lambda t: "subagent tree of" not in t and "running" in t, what="the table again")
        quit_cleanly(tmux)
    assert not list(home.rglob("watchlist*"))  # the demo keeps its list in memory only


@pytest.mark.parametrize(("demo", "size", "term"), [
    (False, (160, 48), "linux"),
    (True, (80, 24), "xterm-256color"),
], ids=["base-url-160x48-linux", "demo-80x24-xterm"])
def test_no_color_means_greys_only(home: Path, sim: Sim, demo: bool, size: tuple[int, int],
                                   term: str) -> None:
    for tmux in open_tmux(home, *size):
        tmux.start(command(home, None if demo else sim, term=term, no_color=True))
        wait_live(tmux)
        if not demo:
            tmux.keys("a")
            tmux.wait_for(lambda t: "Watch sessions" in t, what="the add dialog")
            tmux.type(sim.manager())
            tmux.keys("Enter")
            tmux.wait_for(lambda t: "watching 1 new session" in t, what="a row")
        screen = tmux.screen(escapes=True)
        assert chromatic_colours(screen) == [], "colour on screen although NO_COLOR=1"
        quit_cleanly(tmux)


def test_colour_check_can_fail(home: Path, sim: Sim) -> None:
    """Without NO_COLOR the same check finds colour: the test above is not vacuous."""
    for tmux in open_tmux(home, 80, 24):
        tmux.start(command(home, sim, term="xterm-256color"))
        wait_live(tmux)
        assert chromatic_colours(tmux.screen(escapes=True)) != []
        quit_cleanly(tmux)


SPARK_BARS = set("▂▃▄▅▆▇█")


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
def test_demo_opens_live_with_moving_sparklines_and_a_manager_tree(home: Path, size: tuple[int, int]) -> None:
    """The dashboard issue's acceptance: demo rows with sparklines at once, a manager's tree
    with its children on enter, back on esc, a clean quit."""
    for tmux in open_tmux(home, *size):
        tmux.start(command(home, None, term="xterm-256color"))
        text = tmux.wait_for(lambda t: "running" in t and any(c in t for c in SPARK_BARS),
                             what="live rows with sparkline bars", timeout=20)
        assert len(text.splitlines()) == size[1]
        tmux.keys("Enter")  # the newest demo session is a manager
        tmux.wait_for(lambda t: "subagent tree of" in t and ("└" in t or "├" in t),
                      what="the tree with its children", timeout=20)
        tmux.keys("Escape")
        tmux.wait_for(lambda t: "subagent tree of" not in t and "running" in t, what="the table again")
        quit_cleanly(tmux)
