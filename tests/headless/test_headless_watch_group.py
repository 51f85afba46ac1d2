"""`agp-tui watch --group G`: a whole group followed through list pages until it settles.

The installed command against a simulator in a thread whose world runs 60x faster
(`--time-scale 60` divides the command's intervals the same way).
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from headless_helpers import AGP, Env, free_port, make_env

from agp_tui.api.status import TERMINAL
from agp_tui.sim import SimHandle, World, start_in_thread
from agp_tui.sim.batches import Batch
from agp_tui.sim.clock import RealClock

SPEED = 60.0


@pytest.fixture(scope="module")
def fast_sim() -> Iterator[tuple[World, SimHandle]]:
    batches = [Batch("nightly", 150, start=-5, rate=20, steps=6),
               Batch("other", 30, start=-5, rate=20, steps=6)]
    world = World(seed=8, sessions=10, clock=RealClock(SPEED), arrival_interval_s=0, batches=batches)
    handle = start_in_thread(world)
    try:
        yield world, handle
    finally:
        handle.stop()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return make_env(tmp_path, monkeypatch)


def watch(env: Env, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AGP, *env.opts(), "watch", *args], capture_output=True, text=True,
                          env=env.environ(), timeout=timeout, check=False)


def test_a_group_is_followed_until_every_member_settles(fast_sim: tuple[World, SimHandle], env: Env) -> None:
    world, sim = fast_sim
    env.point_at(sim.base_url, sim.api_key)
    r = watch(env, "--group", "nightly", "--exit-status", "--json", "--time-scale", str(SPEED))
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert events[0]["event"] == "members" and events[-1]["event"] == "done", r.stderr
    world.sync()
    truth = {s.id: s for s in world.all_sessions() if s.group_id == "nightly"}
    final = Counter(s.status for s in truth.values())
    assert events[-1]["counts"] == dict(final) and events[-1]["members"] == len(truth) == 150
    assert all(s.status in TERMINAL or s.status == "idle" for s in truth.values())
    # Every change printed is one the session really went through, in its order.
    for e in events[1:-1]:
        if e["event"] == "status":
            log = [st for _t, st in truth[e["id"]].status_log]
            assert e["status"] in log and e["old_status"] in log, e
    # --exit-status: the worst outcome decides (this batch has failures).
    expected = 1 if final["failed"] else 3 if final["timed_out"] else 4 if final["interrupted"] else 0
    assert r.returncode == expected == events[-1]["exit_code"], (r.returncode, final, r.stderr)


def test_lines_on_a_pipe_and_filters_combine(fast_sim: tuple[World, SimHandle], env: Env) -> None:
    _world, sim = fast_sim
    env.point_at(sim.base_url, sim.api_key)
    r = watch(env, "--filter", "group:other", "--agent", "h/web-surfer-flash", "--time-scale", str(SPEED))
    lines = r.stdout.splitlines()
    assert r.returncode == 0, r.stderr  # without --exit-status: 0 once settled
    assert "following 30 sessions (group other; agent h/web-surfer-flash)" in lines[0]
    assert "settled 30 sessions" in lines[-1]


@pytest.mark.parametrize(("args", "says"), [
    (["6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20", "--group", "g"], "not both"),
    (["--group", ""], "give a value"),
    (["--filter", "grup:x"], "did you mean group:"),
])
def test_bad_usage_is_one_line_and_exit_2(args: list[str], says: str, fast_sim: tuple[World, SimHandle],
                                          env: Env) -> None:
    env.point_at(fast_sim[1].base_url, fast_sim[1].api_key)
    r = watch(env, *args)
    assert r.returncode == 2 and says in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_nothing_matches_settles_at_once(fast_sim: tuple[World, SimHandle], env: Env) -> None:
    env.point_at(fast_sim[1].base_url, fast_sim[1].api_key)
    r = watch(env, "--group", "no-such-group", "--exit-status")
    assert r.returncode == 0 and "no session matches group no-such-group" in r.stderr
    assert "settled 0 sessions" in r.stdout


def test_an_unreachable_server_before_the_first_listing_is_one_line(env: Env) -> None:
    env.point_at(f"http://127.0.0.1:{free_port()}/api/v2", "key")
    r = watch(env, "--group", "nightly")
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
