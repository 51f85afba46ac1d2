"""`agp-tui watch`: events, throttling, exit codes per outcome, errors, Ctrl-C."""

from __future__ import annotations

import itertools
import json
import queue
import signal
import subprocess
import threading
import time
from typing import Any

import pytest
from headless_helpers import AGP, KEY, MODEL, Cli, Env, api, pick, sid, tokens

from agp_tui.sim import DEMO_API_KEY, SimHandle
from agp_tui.sim.fake_backend import Call, FakeBackend
from agp_tui.sim.ticks import Finish, Step, Tick

BASE_KEYS = {"event", "time", "id", "agent", "status", "old_status", "steps", "tokens", "error",
             "error_kind"}
FAST = ("--interval", "0.1")


def _events(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


class Watch:
    """The installed `agp-tui watch` in a subprocess, its stdout read line by line."""

    def __init__(self, env: Env, *args: str) -> None:
        self.proc = subprocess.Popen(
            [*AGP, "watch", *env.opts(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, text=True, env=env.environ(), cwd=env.root)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, pred: Any, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            event = json.loads(line)
            if pred(event):
                return event  # type: ignore[no-any-return]
        raise AssertionError(f"no matching event within {timeout}s; saw {self.seen}")

    def finish(self, timeout: float = 15.0) -> tuple[int, list[dict[str, Any]], str]:
        code = self.proc.wait(timeout)
        time.sleep(0.05)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        err = self.proc.stderr.read() if self.proc.stderr else ""
        return code, [json.loads(line) for line in self.seen], err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


@pytest.mark.parametrize(("status", "code"), [("completed", 0), ("failed", 1), ("timed_out", 3),
                                              ("interrupted", 4)])
def test_exit_status_per_terminal_status(sim: SimHandle, sim_env: Env, cli: Cli, status: str,
                                         code: int) -> None:
    target = pick(sim, status)[0]
    r = cli(["watch"], target, "--exit-status", *FAST)
    assert r.code == code, r.err
    line = r.out.splitlines()[0].split("  ")
    assert line[1] == target and line[3] == status  # time, full id, agent, status
    assert r.out.splitlines()[-1].endswith(f"done: 1 {status}")
    assert cli(["watch"], target, *FAST).code == 0  # without --exit-status: it settled, that is all


def test_worst_outcome_wins(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    done, failed, timed_out = pick(sim, "completed")[0], pick(sim, "failed")[0], pick(sim, "timed_out")[0]
    assert cli(["watch"], done, failed, timed_out, "--exit-status", *FAST).code == 1
    assert cli(["watch"], done, timed_out, "--exit-status", *FAST).code == 3


def test_idle_session_exits_5(live_sim: SimHandle, env: Env, cli: Cli) -> None:
    env.point_at(live_sim.base_url, DEMO_API_KEY)
    made = api(live_sim.base_url, DEMO_API_KEY, "POST", "/sessions",
               {"agent": "h/web-surfer-flash", "messages": "hi", "idle_timeout_s": 600})
    for _ in range(60):
        live_sim.advance(15)
        if api(live_sim.base_url, DEMO_API_KEY, "GET", f"/sessions/{made['id']}/status")["status"] == "idle":
            break
    r = cli(["watch"], made["id"], "--exit-status", "--json", *FAST)
    assert r.code == 5
    events = _events(r.out)
    assert events[0]["status"] == "idle" and events[-1]["outcomes"] == {made["id"]: "idle"}


def test_json_lines_schema(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    a, b = pick(sim, "completed")[0], pick(sim, "failed")[0]
    r = cli(["watch"], a, b, "--json", "--exit-status", *FAST)
    assert r.code == 1
    events = _events(r.out)
    assert all(set(e) >= BASE_KEYS for e in events)
    first = {e["id"]: e for e in events if e["event"] == "status"}
    assert set(first) == {a, b}
    assert first[a]["old_status"] is None and first[a]["status"] == "completed"
    assert first[b]["error"]  # the failure reason rides along
    assert set(first[a]["tokens"]) == {"input", "output", "reasoning", "cached", "total"}
    assert first[a]["time"].endswith("Z")
    done = events[-1]
    assert done["event"] == "done" and done["id"] is None
    assert done["exit_code"] == 1 and done["outcomes"] == {a: "completed", b: "failed"}


def test_not_found_is_reported_and_settles(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    missing = sid(12345)
    r = cli(["watch"], missing, pick(sim, "completed")[0], "--json", *FAST)
    assert r.code == 1
    errors = [e for e in _events(r.out) if e["event"] == "error"]
    assert errors[0]["id"] == missing and errors[0]["error_kind"] == "NotFound"
    assert _events(r.out)[-1]["outcomes"][missing] == "not_found"


def test_live_change_is_printed_then_exit(live_sim: SimHandle, env: Env) -> None:
    env.point_at(live_sim.base_url, DEMO_API_KEY)
    target = pick(live_sim, "running", top_level=True)[0]
    w = Watch(env, target, "--json", "--exit-status", "--interval", "0.2")
    try:
        w.wait_for(lambda e: e["event"] == "status" and e["status"] == "running")
        api(live_sim.base_url, DEMO_API_KEY, "DELETE", f"/sessions/{target}")  # cancel it
        change = w.wait_for(lambda e: e["event"] == "status" and e["id"] == target
                            and e["status"] == "interrupted")
        assert change["old_status"] == "running"
        code, events, err = w.finish()
    finally:
        w.kill()
    assert code == 4, err
    assert events[-1]["event"] == "done" and events[-1]["exit_code"] == 4


def one_step_per_poll(fake: FakeBackend, session: str, steps: int, tokens_per_step: int) -> None:
    """The session (at one step now) takes a step each time it is read, `steps` in all, and
    completes with its last: a script the World plays one tick per poll of its clock."""
    usage = (MODEL, tokens_per_step, tokens_per_step // 10, 0)  # flat: model, in, out, reasoning
    ticks: list[Tick] = [Step(float(n), usage, note=0, tool=0, reasoning=False) for n in range(1, steps)]
    fake.plan(session, [*ticks, Finish(float(steps - 1), "completed")])

    def tick(call: Call) -> None:
        if call.kind in ("status", "session", "changes"):
            fake.world.advance(1)  # on the server's loop, before the World answers

    fake.fail(tick, session=session)


# Steps a scripted session takes in the two throttle tests below: the watch long-polls a
# session it follows, one `/changes` answer per step at most every 2 s (the engine's
# long_poll_min_gap), so each step costs 2 s of real time at speed 1. The tests run the
# watch at --time-scale 10, as against a simulator ten times faster: a step costs 0.2 s,
# and --interval 5 there is a 0.5 s throttle here. Steps come faster than the throttle lets
# lines out, which is what the tests check (both fail with the throttle off).
THROTTLE_STEPS = 10


def test_progress_is_throttled_per_interval(fake: FakeBackend, env: Env, cli: Cli) -> None:
    env.point_at(fake.base_url, KEY)
    s = fake.pin(sid(7), agent="stepper", steps=1, usage=tokens(1000))
    one_step_per_poll(fake, s.id, THROTTLE_STEPS, 1000)
    r = cli(["watch"], s.id, "--json", "--interval", "5", "--time-scale", "10")  # 0.5 s throttle
    assert r.code == 0, r.err
    events = _events(r.out)
    progress = [e for e in events if e["event"] == "progress"]
    statuses = [e for e in events if e["event"] == "status"]
    assert [e["status"] for e in statuses] == ["running", "completed"]
    assert statuses[-1]["steps"] == THROTTLE_STEPS
    assert statuses[-1]["tokens"]["input"] == THROTTLE_STEPS * 1000
    steps = [e["steps"] for e in progress]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)  # moving forward, no repeats
    # A step every 0.2 s, a line every 0.5 s at most: not one line per step (7 lines of 8
    # steps without the throttle).
    assert 0 < len(progress) <= (THROTTLE_STEPS - 2) // 2


def test_throttle_spacing(fake: FakeBackend, env: Env, cli: Cli) -> None:
    env.point_at(fake.base_url, KEY)
    s = fake.pin(sid(8), steps=1, usage=tokens(10))
    one_step_per_poll(fake, s.id, 8, 10)
    r = cli(["watch"], s.id, "--json", "--interval", "4", "--time-scale", "10")  # 0.4 s throttle
    from datetime import datetime

    times = [datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp()
             for e in _events(r.out) if e["event"] in ("progress", "status")]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) >= 3
    assert min(gaps[1:-1] or [1.0]) >= 0.36  # one progress line per 0.4 s at most (0.2 s without)


def test_ctrl_c_exits_130_cleanly(sim: SimHandle, sim_env: Env) -> None:
    target = pick(sim, "running")[0]  # the manual clock never moves: it runs forever
    w = Watch(sim_env, target, "--json", "--interval", "0.2")
    try:
        w.wait_for(lambda e: e["event"] == "status")
        w.proc.send_signal(signal.SIGINT)
        code, _, err = w.finish(timeout=10)
    finally:
        w.kill()
    assert code == 130
    assert "Traceback" not in err and err.strip() == ""


def test_refused_key_ends_the_watch(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    sim_env.api_key = "hk-wrong-key-0000"
    r = cli(["watch"], pick(sim, "running")[0], *FAST)
    assert r.code == 1
    assert r.err.startswith("agp-tui: Authentication failed: Unauthorized")
    assert len(r.err.splitlines()) == 1


def test_unreachable_server_ends_the_watch(env: Env, cli: Cli) -> None:
    env.point_at("http://127.0.0.1:9/api/v2", "hk-any")
    started = time.monotonic()
    r = cli(["watch"], sid(1), *FAST)
    assert r.code == 1
    assert r.err.splitlines()[-1].startswith("agp-tui: Server unreachable:")
    assert time.monotonic() - started < 10


def test_watchlist_is_the_default_and_empty_settles_at_once(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    r = cli(["watch"], *FAST)
    assert r.code == 0 and r.out.rstrip().endswith("done: no sessions")
    assert r.err.startswith("agp-tui: the watchlist is empty (")
    ids = pick(sim, "completed", n=2)
    cli(["watchlist", "add"], *ids)
    r = cli(["watch"], "--json", *FAST)
    assert r.code == 0
    assert set(_events(r.out)[-1]["outcomes"]) == set(ids)


def test_nothing_to_watch_is_exit_0_with_a_done_line_like_status(env: Env, cli: Cli) -> None:
    """An empty watchlist, or input that names no session: nothing to wait for, no request
    (no server, no key here), exit 0 even with --exit-status; `status` agrees."""
    for argv, stdin in (([], None), (["-"], ""), (["-"], "# only a comment\n")):
        r = cli(["watch"], *argv, "--json", "--exit-status", stdin=stdin, server=False)
        assert r.code == 0
        (line,) = _events(r.out)
        assert line["event"] == "done" and (line["exit_code"], line["outcomes"]) == (0, {})
        why = "the watchlist is empty" if not argv else "no session ids in the input"
        assert r.err.startswith(f"agp-tui: {why}") and len(r.err.splitlines()) == 1
        s = cli(["status"], *argv, "--json", stdin=stdin, server=False)
        assert (s.code, s.json(), s.err) == (0, [], r.err)
        s = cli(["status"], *argv, stdin=stdin, server=False)
        assert (s.code, s.out, s.err) == (0, "", r.err)


def test_bad_interval_and_ids(sim_env: Env, cli: Cli) -> None:
    r = cli(["watch"], "zzz")
    assert r.code == 2 and "not a session id: 'zzz'" in r.err
    with pytest.raises(SystemExit) as exc:
        cli(["watch"], sid(1), "--interval", "0")
    assert exc.value.code == 2


def test_hostile_agent_name_in_watch_lines(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    made = api(sim.base_url, DEMO_API_KEY, "POST", "/sessions",
               {"agent": {"name": "\x1b]0;pwned\x07bad", "instructions": "x"}, "messages": "hi"})
    api(sim.base_url, DEMO_API_KEY, "DELETE", f"/sessions/{made['id']}")
    r = cli(["watch"], made["id"], *FAST)
    assert r.code == 0
    assert "\x1b" not in r.out and "\x07" not in r.out and "pwned" not in r.out
    assert "  bad  " in r.out.splitlines()[0]


def test_forbidden_session_settles_as_error(fake: FakeBackend, env: Env, cli: Cli) -> None:
    env.point_at(fake.base_url, KEY)
    s = fake.pin(sid(21))
    fake.fail(403)  # this key may not read it: retrying will not help
    r = cli(["watch"], s.id, "--json", *FAST)
    assert r.code == 1
    events = _events(r.out)
    assert events[0]["event"] == "error" and events[0]["error_kind"] == "AuthError"
    assert events[-1]["outcomes"] == {s.id: "error"}


def test_server_errors_are_waited_out(fake: FakeBackend, env: Env) -> None:
    env.point_at(fake.base_url, KEY)
    s = fake.pin(sid(22), steps=1, usage=tokens(10))
    one_step_per_poll(fake, s.id, 2, 10)
    outage = fake.fail(503)
    w = Watch(env, s.id, "--json", "--interval", "0.1", "--exit-status")
    try:
        error = w.wait_for(lambda e: e["event"] == "error")
        assert error["error_kind"] == "ServerError" and error["id"] == s.id
        fake.handle.call(fake.heal, outage)  # type: ignore[union-attr]
        code, events, _ = w.finish()
    finally:
        w.kill()
    assert code == 0
    kinds = [e["event"] for e in events]
    assert "status" in kinds and kinds[-1] == "done"
