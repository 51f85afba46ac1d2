"""`status --group` and `ls --group` at 10,000 members: they stream, in flat memory, and stop
cleanly partway. The installed command against the simulator over loopback.

The world: ~17,000 simulated sessions (past played, clock frozen), the 10,000 oldest tagged
`big`, the next 1,000 `small`, then 5,000 `mid` and 500 `tenth`. `ls` lists big against
small; `status`, a lookup per member (the suite's costliest test at 10,000: 11,000 requests
served by this process), compares mid against tenth. Peak RSS is read from the kernel (wait4
in a small wrapper process, so the figure is the command's own, not the forked test
process's), and compared between the two groups in the same run: ten times the members,
about the same memory.
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
GROUPS = {"big": BIG, "small": SMALL, "mid": 5_000, "tenth": 500}  # oldest first, in this order

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
    world = World(seed=5, sessions=7000, clock=ManualClock(), arrival_interval_s=0)
    sessions = world.all_sessions()  # oldest first
    assert len(sessions) >= sum(GROUPS.values())
    start = 0
    for group, size in GROUPS.items():
        _tag(world, group, list(sessions[start:start + size]))
        start += size
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


@pytest.mark.parametrize(("command", "large", "small"), [
    (["status"], "mid", "tenth"), (["ls", "--limit", "0"], "big", "small"),
], ids=["status-5000", "ls-10000"])
def test_groups_stream_in_flat_memory(big_sim: SimHandle, big_env: Env, command: list[str],
                                      large: str, small: str) -> None:
    few = _run(big_env, *command, "--group", small, "--json")
    many = _run(big_env, *command, "--group", large, "--json")
    for run, group in ((few, small), (many, large)):
        assert (run.code, run.err) == (0, ""), run.err
        assert [d["id"] for d in run.items] == _newest_first(big_sim, group)
    print(f"{command[0]} --group --json: {GROUPS[small]:,} members {few.rss_mb:.1f} MB peak RSS in "
          f"{few.total_s:.1f} s; {GROUPS[large]:,} members {many.rss_mb:.1f} MB in {many.total_s:.1f} s "
          f"(x{many.rss_mb / few.rss_mb:.2f} RSS for x10 members), first element after "
          f"{many.first_s:.2f} s")
    # Flat: ten times the members, about the same memory (5,000 looked-up sessions held
    # would add their JSON text, 4.8 MB, and the parsed sessions, several times that).
    assert many.rss_mb <= few.rss_mb * 1.15 + 4
    # Streamed: the first element came long before the last.
    assert many.first_s < many.total_s / 3


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
