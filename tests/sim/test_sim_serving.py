"""Serving: the foreground CLI (a real subprocess), the background thread, and the bench."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sim_helpers import make_world

from agp_tui.bench import sim as bench_sim
from agp_tui.sim import DEMO_API_KEY, SimServer, sim_main, start_in_thread

ROOT = Path(__file__).resolve().parents[2]


def fetch(url: str, key: str = DEMO_API_KEY) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=10) as r:  # loopback only
        return json.loads(r.read())


def spawn_cli(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "agp_tui.sim", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_cli_prints_url_and_key_serves_and_exits_130_on_ctrl_c() -> None:
    proc = spawn_cli("--sessions", "30", "--seed", "4")
    try:
        assert proc.stdout is not None
        first, second, third = (proc.stdout.readline().strip() for _ in range(3))
        assert first.startswith("AGP simulator listening on http://127.0.0.1:") and first.endswith("/api/v2")
        assert second == f"API key: {DEMO_API_KEY}"
        assert third.startswith("Try: curl ")
        base_url = first.rsplit(" ", 1)[1]
        page = fetch(f"{base_url}/sessions?status=running")
        assert page["items"] and all(i["status"] == "running" for i in page["items"])
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 130
        assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_custom_key_and_sigterm_exits_cleanly() -> None:
    proc = spawn_cli("--sessions", "5", "--key", "hk-one", "--key", "hk-two")
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip().rsplit(" ", 1)[1]
        assert proc.stdout.readline().strip() == "API key: hk-one"
        assert fetch(f"{base_url}/sessions/quota", key="hk-two")["scope"] == "user"
        with pytest.raises(urllib.error.HTTPError) as denied:
            fetch(f"{base_url}/sessions/quota")
        assert denied.value.code == 401
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_rejects_bad_arguments_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert sim_main(["--chaos", "bogus=1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bogus" in err
    assert sim_main(["--speed", "0"]) == 2


def test_cli_reports_a_port_it_cannot_bind(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def refuse(self: SimServer) -> None:
        raise OSError(98, "Address already in use")

    monkeypatch.setattr(SimServer, "start", refuse)
    assert sim_main(["--host", "0.0.0.0", "--sessions", "1"]) == 1
    err = capsys.readouterr().err
    assert "warning: binding 0.0.0.0" in err and "Address already in use" in err


def test_non_loopback_needs_an_explicit_opt_in() -> None:
    with pytest.raises(ValueError, match="allow_remote"):
        SimServer(make_world(sessions=1), host="0.0.0.0")
    SimServer(make_world(sessions=1), host="::1")
    SimServer(make_world(sessions=1), host="localhost")


def test_start_in_thread_for_sync_callers() -> None:
    handle = start_in_thread(make_world(sessions=30))
    try:
        assert handle.base_url.startswith("http://127.0.0.1:") and handle.api_key == DEMO_API_KEY
        ids = handle.demo_session_ids()
        assert ids
        before = fetch(f"{handle.base_url}/sessions/{ids[0]}/status")
        handle.advance(600)
        after = fetch(f"{handle.base_url}/sessions/{ids[0]}/status")
        assert after["steps"] >= before["steps"] and after != before
        assert handle.call(len, handle.world) >= 30
    finally:
        handle.stop()
    with pytest.raises(urllib.error.URLError):
        fetch(f"{handle.base_url}/sessions")


def test_start_in_thread_builds_a_world_from_options() -> None:
    with start_in_thread(seed=3, sessions=10, speed=5) as handle:
        assert fetch(f"{handle.base_url}/sessions")["total"] >= 10


def test_bench_reports_json_against_the_budget(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # The report's shape, not the figure: the list half runs on a 500-session world, the
    # start-up ratio against 100 and the clock on a 500-session batch here (the bench's 10,000
    # take ~15 s to build on this machine; `bench sim`, run by CI with --quick, still does).
    monkeypatch.setattr(bench_sim, "BIG_WORLD", 500)
    monkeypatch.setattr(bench_sim, "BASE_WORLD", 100)
    monkeypatch.setattr(bench_sim, "BATCH", 500)
    assert bench_sim.main(["--json", "--duration", "0.5"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["benchmark"] == "sim" and report["budget_per_s"] == 500
    assert report["requests"] > 0 and report["errors"] == 0
    assert report["result"] in ("PASS", "MISS") and report["p95_ms"] >= report["p50_ms"] > 0
    assert report["big_world_sessions"] == 500 and report["list_sessions_total"] >= 500
    assert report["list_requests_per_s"] > 0 and report["list_errors"] == 0
    assert report["list_result"] in ("PASS", "MISS")
