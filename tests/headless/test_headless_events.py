"""`agp-tui events`: a session's trajectory from the simulator, and the official CLI agrees.

`hai sessions events --json` (hai-agents[cli], a client written by others) reads the
same session through its own models; our `--json` lines carry the same events, event for
event: type, timestamp (the same instant) and data.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from headless_helpers import Cli, Env, api, pick

from agp_tui.sim import DEMO_API_KEY, SimHandle

HAI = Path(sys.executable).parent / "hai"


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_json_lines_match_the_official_cli_event_for_event(sim: SimHandle, sim_env: Env, cli: Cli,
                                                          tmp_path: Path) -> None:
    if not HAI.exists() and shutil.which("hai") is None:
        pytest.fail("the official CLI (hai-agents[cli], a test dependency) is not installed")
    hai = str(HAI) if HAI.exists() else "hai"
    for status in ("completed", "failed", "running"):
        sid = pick(sim, status)[0]
        proc = subprocess.run(
            [hai, "--json", "--api-key", DEMO_API_KEY, "--base-url", sim.base_url.removesuffix("/api/v2"),
             "sessions", "events", sid],
            capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "HOME": str(tmp_path)},  # no login state of this machine
        )
        assert proc.returncode == 0, proc.stderr
        theirs = json.loads(proc.stdout)
        r = cli(["events"], sid, "--json")
        assert r.code == 0, r.err
        ours = [json.loads(line) for line in r.lines()]
        assert theirs, f"hai printed no events for a {status} session"
        assert len(ours) >= len(theirs)  # hai reads one page; we read them all
        for n, (mine, other) in enumerate(zip(ours, theirs, strict=False)):
            assert mine["index"] == n
            assert mine["type"] == other["type"]
            assert instant(mine["timestamp"]) == instant(other["timestamp"])
            assert mine["data"] == other["data"], (status, n, mine["type"])
        assert len(ours) == len(sim.world.get(sid).events)  # type: ignore[union-attr]


def test_text_lines_piped_and_from_an_index(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    sid = pick(sim, "failed")[0]
    total = len(sim.world.get(sid).events)  # type: ignore[union-attr]
    r = cli(["events"], sid)
    assert r.code == 0
    rows = [line.split("\t") for line in r.lines()]
    assert [int(row[0]) for row in rows] == list(range(total))
    assert {row[3] for row in rows} >= {"status", "thought", "error"}
    assert rows[-1][2] == "AgentErrorEvent"
    r = cli(["events"], sid, "--from", str(total - 2))
    assert [int(line.split("\t")[0]) for line in r.lines()] == [total - 2, total - 1]
    r = cli(["events"], sid, "--from", str(total + 5))
    assert r.code == 0 and r.out == ""
    assert f"no events from #{total + 5}: the session has {total} (#0 to #{total - 1})" in r.err
    r = cli(["events"], sid, "--exit-status")  # only means something with --follow
    assert r.code == 2 and r.out == "" and "--exit-status needs --follow" in r.err


def test_follow_runs_until_the_session_settles_and_exits_as_watch(live_sim: SimHandle, env: Env,
                                                                  cli: Cli) -> None:
    env.point_at(live_sim.base_url, DEMO_API_KEY)
    made = api(live_sim.base_url, DEMO_API_KEY, "POST", "/sessions",
               {"agent": "h/web-surfer-flash", "messages": "find the cheapest flight"})
    sid = made["id"]
    stop = threading.Event()

    def clock() -> None:  # the agent works while the command follows it
        while not stop.is_set():
            live_sim.advance(20)
            time.sleep(0.05)

    mover = threading.Thread(target=clock, daemon=True)
    mover.start()
    try:
        r = cli(["events"], sid, "--follow", "--exit-status", "--json")
    finally:
        stop.set()
        mover.join(5)
    session = live_sim.world.get(sid)
    assert session is not None and session.terminal
    lines = [json.loads(line) for line in r.lines()]
    assert [e["index"] for e in lines] == list(range(len(session.events)))  # drained to the end
    expected = {"completed": 0, "failed": 1, "timed_out": 3, "interrupted": 4}[session.status]
    assert r.code == expected, (session.status, r.err)
    if session.status == "completed":
        assert any(e["data"].get("kind") == "answer_event" for e in lines)


def test_unknown_and_malformed_ids(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    r = cli(["events"], "6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20")
    assert r.code == 1 and r.out == "" and "not found" in r.err.lower()
    r = cli(["events"], "not-an-id")
    assert r.code == 2 and r.out == ""


def test_status_json_carries_the_answer(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    done = pick(sim, "completed")[0]
    r = cli(["status"], done, "--json")
    assert r.code == 0
    assert r.json()[0]["answer"] == sim.world.get(done).latest_answer  # type: ignore[union-attr]
    assert r.json()[0]["answer"] is not None


def test_status_json_reads_the_answer_from_changes_when_the_server_has_no_latest_answer(
        env: Env, cli: Cli) -> None:
    from headless_helpers import KEY, sid

    from agp_tui.sim.fake_backend import FakeBackend, Patch

    server = FakeBackend(api_keys=(KEY,))
    server.pin(sid(1), status="completed", steps=3, answer="42 stories")
    server.pin(sid(2), status="running", steps=1, answer="not yet")
    server.fail(Patch(lambda session: session.pop("latest_answer")), kind="session")  # an older server
    handle = server.serve_in_thread()
    try:
        env.point_at(server.base_url, KEY)
        r = cli(["status"], sid(1), sid(2), "--json")
        assert r.code == 0
        assert [d["answer"] for d in r.json()] == ["42 stories", None]  # running: not asked
        assert server.calls["changes"] == 1
    finally:
        handle.stop()
