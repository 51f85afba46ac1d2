"""A reader that goes away early (`agp-tui config | head -1`): exit 141, and not a word on stderr.

The installed command runs with its stdout on a real pipe. Either the read end is closed
before the command writes anything (deterministic: the first write or the last flush
fails), or a reader takes one line of a long output and then closes it, as `head -1`
does. Both with Python's default buffered stdout and with PYTHONUNBUFFERED set, since the
two fail in different places (a write swallowed by argparse, or the flush at exit).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from headless_helpers import AGP, Env, manager_id, pick

from agp_tui.monitor.watchlist import Watchlist
from agp_tui.sim import SimHandle

BROKEN_PIPE = 141
BUFFERING = {"buffered": None, "unbuffered": "1"}


def _environ(env: Env, buffering: str | None) -> dict[str, str]:
    environ = env.environ()
    environ.pop("PYTHONUNBUFFERED", None)
    if buffering is not None:
        environ["PYTHONUNBUFFERED"] = buffering
    return environ


def run_into_closed_pipe(env: Env, argv: list[str], buffering: str | None) -> tuple[int, str]:
    """Run with stdout on a pipe nobody reads any more; (exit code, stderr)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.Popen([*AGP, *argv], stdout=write_end, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, env=_environ(env, buffering), cwd=env.root)
    finally:
        os.close(write_end)
    _, err = proc.communicate(timeout=30)
    return proc.returncode, err.decode("utf-8", "replace")


def first_line_then_close(env: Env, argv: list[str], buffering: str | None) -> tuple[int, str, str]:
    """Read one line, close the pipe (like `head -1`); (exit code, that line, stderr)."""
    proc = subprocess.Popen([*AGP, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=_environ(env, buffering), cwd=env.root)
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline().decode()
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8", "replace")
    return proc.wait(30), line, err


@pytest.mark.parametrize("buffering", list(BUFFERING.values()), ids=list(BUFFERING))
def test_every_command_exits_141_quietly_on_a_closed_pipe(
    sim: SimHandle, sim_env: Env, buffering: str | None,
) -> None:
    done = pick(sim, "completed")[0]
    cfg = ["--config", str(sim_env.config)]
    server = sim_env.opts()
    Watchlist(sim_env.watchlist_file).add([done])
    argvs = [
        ["config", *cfg], ["--help"], ["--version"], ["ls", "--help"], ["watchlist", "add", "--help"],
        ["status", done, *server], ["status", done, "--json", *server], ["ls", "--limit", "3", *server],
        ["ls", "--json", *server], ["tree", manager_id(sim), *server],
        ["tree", done, "--json", *server], ["watch", done, "--interval", "0.1", *server],
        ["watch", done, "--json", "--interval", "0.1", *server],
        ["watchlist", "ls", *cfg], ["watchlist", "export", *cfg], ["watchlist", "ls", "--json", *cfg],
    ]
    # Four at a time: each is its own process on its own pipe, and most of a run is start-up.
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda argv: run_into_closed_pipe(sim_env, argv, buffering), argvs))
    for argv, (code, err) in zip(argvs, results, strict=True):
        assert (code, err) == (BROKEN_PIPE, ""), argv


@pytest.mark.parametrize("buffering", list(BUFFERING.values()), ids=list(BUFFERING))
def test_a_reader_that_takes_one_line_and_leaves(env: Env, buffering: str | None) -> None:
    # More than a pipe's 64 KiB buffer, so the command is still writing when the reader leaves.
    ids = [str(uuid.UUID(int=n + 1, version=4)) for n in range(3000)]
    Watchlist(env.watchlist_file).add(ids, label="a label long enough to fill the pipe quickly")
    # Unbuffered, `export`'s one big write is cut short by the reader leaving and Python
    # reports the short write as success: nothing fails, so nothing can say 141.
    argvs = [["watchlist", "ls"]] + ([["watchlist", "export"]] if buffering is None else [])
    for argv in argvs:
        code, line, err = first_line_then_close(env, [*argv, "--config", str(env.config)], buffering)
        assert line.strip()
        assert (code, err) == (BROKEN_PIPE, ""), argv


def test_usage_errors_keep_their_code_when_stdout_is_closed(env: Env) -> None:
    """Only stdout is closed: a usage error still says why on stderr, with exit 2."""
    code, err = run_into_closed_pipe(env, ["ls", "--bogus"], None)
    assert code == 2 and "unrecognized arguments: --bogus" in err and "Traceback" not in err
