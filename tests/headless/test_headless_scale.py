"""`status --group` and `ls --group` at 10,000 members: they stream, in flat memory, and stop
cleanly partway. The installed command against the simulator over loopback.

The world: ~11,000 simulated sessions (past played, clock frozen), the 10,000 oldest tagged
`big` and the next 1,000 `small`. Peak RSS is read from the kernel (wait4 in a small wrapper
process, so the figure is the command's own, not the forked test process's), and compared
between the two groups in the same run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from headless_helpers import AGP, Env, api

from agp_tui.sim import DEMO_API_KEY, Chaos, ManualClock, SimHandle, World, start_in_thread

BIG, SMALL = 10_000, 1_000

# Runs the command with stdout inherited and reports its peak RSS (KB) as stderr's last line.
WRAP = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(proc.pid, 0)
sys.stderr.write(f"\\nMAXRSS_KB {usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _tag(world: World, group: str, members: list[object]) -> None:
    """Move `members` into `group`. The simulator has no bulk way to make a 10,000-session
    group (POST /sessions is ~10 ms each here), so the test re-tags a built world: the
    session's group and the world's group index, which `GET /sessions?group_id=` reads."""
    index = world._by_group
    for s in members:
        old = s.group_id  # type: ignore[attr-defined]
        if old is not None:
            index[old].remove(s)  # type: ignore[arg-type]
        s.group_id = group  # type: ignore[attr-defined]
    index[group] = list(members)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def big_sim() -> Iterator[SimHandle]:
    world = World(seed=5, sessions=4600, clock=ManualClock(), arrival_interval_s=0)
    sessions = world.all_sessions()  # oldest first
    assert len(sessions) >= BIG + SMALL
    _tag(world, "big", list(sessions[:BIG]))
    _tag(world, "small", list(sessions[BIG:BIG + SMALL]))
    handle = start_in_thread(world, chaos=Chaos())  # chaos off, switchable at run time
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def big_env(env: Env, big_sim: SimHandle) -> Env:
    return env.point_at(big_sim.base_url, DEMO_API_KEY)


@dataclass
class Run:
    code: int
    out: str
    err: str
    first_s: float  # when the first array element reached us
    total_s: float
    rss_mb: float

    @property
    def items(self) -> list[dict[str, object]]:
        return json.loads(self.out)  # type: ignore[no-any-return]


def _run(env: Env, *argv: str, on_first: object = None) -> Run:
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", WRAP, *AGP, *argv, *env.opts()],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env.environ(), cwd=env.root)
    assert proc.stdout is not None and proc.stderr is not None
    lines, first = [], None
    for raw in proc.stdout:
        line = raw.decode()
        if first is None and line.startswith("  {"):
            first = time.perf_counter() - started
            if callable(on_first):
                on_first()
        lines.append(line)
    err = proc.stderr.read().decode()
    code = proc.wait(60)
    total = time.perf_counter() - started
    body, _, rss = err.rstrip("\n").rpartition("MAXRSS_KB ")
    return Run(code, "".join(lines), body.rstrip("\n"), first or total, total, int(rss) / 1024)


def _newest_first(sim: SimHandle, group: str) -> list[str]:
    return [s.id for s in reversed(sim.world.all_sessions()) if s.group_id == group]


@pytest.mark.parametrize("command", [["status"], ["ls", "--limit", "0"]])
def test_10000_members_stream_in_flat_memory(big_sim: SimHandle, big_env: Env, command: list[str]) -> None:
    small = _run(big_env, *command, "--group", "small", "--json")
    big = _run(big_env, *command, "--group", "big", "--json")
    for run, group in ((small, "small"), (big, "big")):
        assert (run.code, run.err) == (0, ""), run.err
        assert [d["id"] for d in run.items] == _newest_first(big_sim, group)
    print(f"{command[0]} --group --json: {SMALL:,} members {small.rss_mb:.1f} MB peak RSS in "
          f"{small.total_s:.1f} s; {BIG:,} members {big.rss_mb:.1f} MB in {big.total_s:.1f} s "
          f"(x{big.rss_mb / small.rss_mb:.2f} RSS for x10 members), first element after "
          f"{big.first_s:.2f} s")
    # Flat: ten times the members, about the same memory (a list of 10,000 session objects
    # and their JSON text alone would add tens of MB).
    assert big.rss_mb <= small.rss_mb * 1.15 + 4
    # Streamed: the first element came long before the last.
    assert big.first_s < big.total_s / 3


def test_a_server_failing_partway_leaves_what_was_read_and_one_line(
        big_sim: SimHandle, big_env: Env) -> None:
    def break_server() -> None:
        api(big_sim.origin, DEMO_API_KEY, "POST", "/_sim/chaos", {"chaos": "5xx=1,retry_after=0.01"})

    try:
        run = _run(big_env, "status", "--group", "big", "--json", on_first=break_server)
    finally:
        api(big_sim.origin, DEMO_API_KEY, "POST", "/_sim/chaos", {"chaos": "off"})
    assert run.code == 1
    items = run.items  # still one well-formed array
    assert 1 <= len(items) < BIG
    assert [d["id"] for d in items] == _newest_first(big_sim, "big")[: len(items)]
    failed = [d for d in items if d["lookup_error"] is not None]
    assert all(d["lookup_error"]["kind"] == "ServerError" for d in failed)  # type: ignore[index]
    last = run.err.splitlines()[-1]
    assert last.startswith("agp-tui: ") and last.endswith(f"printed the {len(items)} sessions read before")
    assert len(run.err.splitlines()) <= 5  # three failed lookups, a count, the reason
