"""Terminal vs pipe: the installed command with its stdout on a real pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios

from headless_helpers import AGP, Env, manager_id, pick, run_agp

from agp_tui.headless.output import cell_width
from agp_tui.sim import DEMO_API_KEY, SimHandle


def run_tty(env: Env, argv: list[str], *, cols: int = 80, **extra: str) -> tuple[int, str]:
    """Run with stdout on a pty of `cols` columns; returns (exit code, output with \\r\\n → \\n)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    proc = subprocess.Popen([*AGP, *argv[:1], *env.opts(), *argv[1:]], stdout=slave,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env=env.environ(**extra), cwd=env.root)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    code = proc.wait(30)
    return code, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def test_terminal_gets_a_header_aligned_columns_and_colour(sim: SimHandle, sim_env: Env) -> None:
    ids = [pick(sim, "completed")[0], pick(sim, "failed")[0]]
    code, text = run_tty(sim_env, ["status", *ids], TERM="xterm-256color")
    assert code == 0
    lines = re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()
    assert lines[0].split()[:3] == ["ID", "AGENT", "STATUS"]
    assert lines[1].index("completed") == lines[2].index("failed")  # aligned
    assert "\t" not in text
    assert "\x1b[32mcompleted\x1b[0m" in text and "\x1b[31mfailed\x1b[0m" in text


def test_no_color_means_no_escape_at_all(sim: SimHandle, sim_env: Env) -> None:
    ids = [pick(sim, "completed")[0], pick(sim, "failed")[0]]
    for argv in (["status", *ids], ["ls"], ["tree", manager_id(sim)]):
        code, text = run_tty(sim_env, argv, TERM="xterm-256color", NO_COLOR="1")
        assert code == 0
        assert "\x1b" not in text, argv
    code, text = run_tty(sim_env, ["status", *ids], TERM="dumb")
    assert "\x1b" not in text


def test_long_cells_are_cut_to_the_terminal_width_but_not_in_pipes(sim: SimHandle, sim_env: Env) -> None:
    for cols in (80, 120):
        code, text = run_tty(sim_env, ["ls", "--limit", "10"], cols=cols, NO_COLOR="1")
        assert code == 0
        assert all(cell_width(line) <= cols for line in text.splitlines())
        assert "…" in text
    piped = run_agp(sim_env, ["ls"], "--limit", "10")
    assert "…" not in piped.out
    assert max(len(line) for line in piped.out.splitlines()) > 80


def test_tree_uses_box_drawing_only_on_a_terminal(sim: SimHandle, sim_env: Env) -> None:
    root = manager_id(sim)
    code, text = run_tty(sim_env, ["tree", root], cols=160, NO_COLOR="1")
    assert code == 0
    assert "└─ " in text and "\ntotal:" in text
    piped = run_agp(sim_env, ["tree"], root)
    assert "└" not in piped.out and "# total:" in piped.out


def test_watch_shortens_ids_on_a_terminal_only(sim: SimHandle, sim_env: Env) -> None:
    target = pick(sim, "completed")[0]
    code, text = run_tty(sim_env, ["watch", target, "--interval", "0.1"], NO_COLOR="1")
    assert code == 0
    first = text.splitlines()[0].split()
    assert first[1] == target[:8] and "→" not in text.splitlines()[0]
    piped = run_agp(sim_env, ["watch"], target, "--interval", "0.1")
    assert piped.out.splitlines()[0].split()[1] == target


def test_hostile_strings_on_a_terminal(sim: SimHandle, sim_env: Env) -> None:
    from headless_helpers import api

    made = api(sim.base_url, DEMO_API_KEY, "POST", "/sessions",
               {"agent": {"name": "\x1b]0;pwned\x07\x1b[?1049hevil", "instructions": "x"},
                "messages": "\x1b]52;c;cHduZWQ=\x07copy me"})
    for argv in (["status", made["id"]], ["ls", "--limit", "3"]):
        code, text = run_tty(sim_env, argv, cols=200, TERM="xterm-256color")
        assert code == 0
        assert "pwned" not in text and "\x07" not in text and "\x1b]" not in text
        assert "\x1b[?1049h" not in text
        assert "evil" in text


def _failures(sim: SimHandle) -> dict[str, str]:
    """Failed and timed-out sessions with their error, as the server states it."""
    from headless_helpers import api

    found = {}
    for status in ("failed", "timed_out"):
        for sid in pick(sim, status, n=3):
            error = api(sim.base_url, DEMO_API_KEY, "GET", f"/sessions/{sid}/status")["error"]
            assert error, sid
            found[sid] = error
    return found


def test_status_gives_the_error_the_width_left_on_a_120_column_terminal(sim: SimHandle, sim_env: Env) -> None:
    errors = _failures(sim)
    assert max(len(e) for e in errors.values()) > 40  # long enough that something must give
    for cols in (120, 100):
        code, text = run_tty(sim_env, ["status", *errors], cols=cols, NO_COLOR="1")
        assert code == 0
        header, *rows = text.splitlines()
        at = header.index("ERROR")
        assert all(cell_width(line) <= cols for line in rows)
        for line, (sid, error) in zip(rows, errors.items(), strict=True):
            assert line.split()[0] == sid[:8]  # ids give way first, to a usable short id
            shown = line[at:]
            # The whole error, or all the width there is: never cut while room is left.
            assert shown == error or (
                shown.endswith("…") and error.startswith(shown[:-1]) and len(line) == cols), (cols, line)
        assert max(len(line[at:]) for line in rows) >= cols - at - 1
        if cols == 120:
            assert cols - at >= 36  # room to say something (it was 16 when full ids came first)
    code, text = run_tty(sim_env, ["status", *errors], cols=220, NO_COLOR="1")
    rows = text.splitlines()[1:]
    assert [r.split()[0] for r in rows] == list(errors)  # room enough: whole ids
    assert all(r.endswith(e) for r, e in zip(rows, errors.values(), strict=True))
    piped = run_agp(sim_env, ["status"], *errors)
    assert [row.split("\t")[8] for row in piped.lines()] == list(errors.values())


def test_status_of_a_group_on_a_terminal_is_the_status_table(sim: SimHandle, sim_env: Env) -> None:
    failed = [s for s in sim.world.all_sessions() if s.status == "failed"]
    code, text = run_tty(sim_env, ["status", "--status", "failed"], cols=100, NO_COLOR="1")
    assert code == 0
    header, *rows = text.splitlines()
    assert header.split()[:3] == ["ID", "AGENT", "STATUS"]
    assert len(rows) == len(failed) and all(r.split()[2] == "failed" for r in rows)
    assert len({r.index("failed") for r in rows}) == 1  # aligned
    assert all(cell_width(line) <= 100 for line in rows)
    assert {r.split()[0] for r in rows} == {s.id[:8] for s in failed}  # short ids, as `status ID...`
