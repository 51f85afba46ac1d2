"""`agp-tui status` against the simulator (seeded, or pinned sessions with injected faults)."""

from __future__ import annotations

from headless_helpers import Cli, Env, api, pick, tab_rows

from agp_tui.sim import DEMO_API_KEY, SimHandle
from agp_tui.sim.fake_backend import FakeBackend

STATUS_KEYS = {
    "id", "agent", "status", "outcome", "steps", "tokens", "usage_per_model", "children", "error",
    "error_code", "parent_id", "group_id", "agent_view_url", "created_at", "started_at",
    "finished_at", "answer", "lookup_error",
}
MISSING = "11111111-2222-4333-8444-555555555555"


def _truth(sim: SimHandle, sid: str) -> dict[str, object]:
    return api(sim.base_url, DEMO_API_KEY, "GET", f"/sessions/{sid}")  # type: ignore[no-any-return]


def test_json_matches_the_server_for_each_status(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    ids = [pick(sim, s)[0] for s in ("completed", "failed", "running", "timed_out")]
    r = cli(["status"], *ids, "--json")
    assert r.code == 0, r.err
    data = r.json()
    assert [d["id"] for d in data] == ids
    for item in data:
        assert set(item) == STATUS_KEYS
        truth = _truth(sim, item["id"])
        st = truth["status"]
        assert isinstance(st, dict)
        assert item["status"] == st["status"]
        assert item["steps"] == st["steps"]
        assert item["agent"] == truth["request"]["agent"]  # type: ignore[index]
        usage = st["usage_per_model"]
        assert item["tokens"]["input"] == sum(u["input_tokens"] for u in usage)
        assert item["tokens"]["total"] == sum(
            u["input_tokens"] + u["output_tokens"] + u["reasoning_tokens"] for u in usage)
        assert item["children"] == st["subagent_session_ids"]
        assert item["error"] == st["error"]
        assert item["lookup_error"] is None
        assert item["created_at"].endswith("Z")
    failed = data[1]
    assert failed["status"] == "failed" and failed["error"]


def test_plain_output_is_one_tab_separated_row_per_id(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    ids = pick(sim, "completed", n=2) + pick(sim, "failed")
    r = cli(["status"], *ids)
    assert r.code == 0
    rows = tab_rows(r.out)
    assert [row[0] for row in rows] == ids  # no header when piped, full ids
    assert all(len(row) == 9 for row in rows)
    assert [row[2] for row in rows] == ["completed", "completed", "failed"]
    assert rows[2][8] != "-"  # the failure reason is shown
    assert "\x1b" not in r.out


def test_missing_session_is_reported_and_the_rest_printed(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    good = pick(sim, "completed")[0]
    r = cli(["status"], good, MISSING)
    assert r.code == 1
    rows = tab_rows(r.out)
    assert rows[0][0] == good and rows[0][2] == "completed"
    assert rows[1][0] == MISSING and "Not found" in rows[1][8]
    assert r.err.strip() == f"agp-tui: {MISSING}: Not found: Session not found"
    j = cli(["status"], good, MISSING, "--json")
    assert j.code == 1
    assert j.json()[1]["lookup_error"] == {"kind": "NotFound", "message": "Session not found",
                                           "http_status": 404}
    assert j.json()[1]["status"] is None


def test_malformed_ids_exit_2_and_send_nothing(fake: FakeBackend, env: Env, cli: Cli) -> None:
    env.point_at(fake.base_url, "hk-headless-fake-0001")
    r = cli(["status"], "6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20", "not-an-id")
    assert r.code == 2
    assert r.out == ""
    assert r.err.splitlines() == [
        "agp-tui: not a session id: 'not-an-id' (expected a UUID or an Agent View URL)"]
    assert sum(fake.calls.values()) == 0


def test_agent_view_urls_and_stdin(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    a, b = pick(sim, "completed", n=2)
    url = f"https://platform.eu.hcompany.ai/agent-view/{a}"
    r = cli(["status"], url, "--json")
    assert [d["id"] for d in r.json()] == [a]
    piped = cli(["ls"], "--status", "completed", "--limit", "2", "--json")
    r = cli(["status"], "-", "--json", stdin=piped.out)
    assert r.code == 0
    assert [d["id"] for d in r.json()] == [d["id"] for d in piped.json()]
    r = cli(["status"], "-", stdin=f"{b}\n{a}\n")
    assert [row[0] for row in tab_rows(r.out)] == [b, a]


def test_no_ids_means_the_watchlist(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    r = cli(["status"])
    assert r.code == 0 and r.out == ""
    assert "the watchlist is empty" in r.err
    assert cli(["status"], "--json").json() == []
    ids = pick(sim, "running", n=2)
    assert cli(["watchlist", "add"], *ids).code == 0
    r = cli(["status"], "--json")
    assert [d["id"] for d in r.json()] == ids


def test_hostile_strings_never_reach_the_terminal(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    hostile = "\x1b]0;pwned\x07\x1b[2Jevil\u202e"
    made = api(sim.base_url, DEMO_API_KEY, "POST", "/sessions",
               {"agent": {"name": hostile, "instructions": "x"}, "messages": "hi \x1b[31mred"})
    r = cli(["status"], made["id"])
    assert r.code == 0
    assert "\x1b" not in r.out and "\x07" not in r.out and "\u202e" not in r.out
    assert "pwned" not in r.out
    assert tab_rows(r.out)[0][1] == "evil"
    j = cli(["status"], made["id"], "--json")
    assert "\x1b" not in j.out and "\x07" not in j.out and "\u202e" not in j.out
    assert j.json()[0]["agent"] == hostile  # JSON keeps the exact string, escaped


def test_usage_errors_from_the_fake_are_one_line(fake: FakeBackend, env: Env, cli: Cli) -> None:
    from headless_helpers import sid, tokens

    env.point_at(fake.base_url, "hk-headless-fake-0001")
    s = fake.pin(sid(1), agent="x", status="failed", steps=3, usage=tokens(100), error="boom\nsecond line",
                 error_code="internal")
    r = cli(["status"], s.id)
    assert r.code == 0
    row = tab_rows(r.out)[0]
    assert row[2] == "failed" and row[8] == "boom second line"
    fake.fail(503)
    r = cli(["status"], s.id, sid(2))
    assert r.code == 1
    assert r.out == ""
    assert r.err.splitlines() == [
        "agp-tui: Server error: Upstream temporarily unavailable while consuming command"]


def test_natural_argument_orders(sim: SimHandle, sim_env: Env) -> None:
    """`agp-tui status ID`, global options before or after: what people actually type."""
    import subprocess

    from headless_helpers import AGP

    target = pick(sim, "completed")[0]
    opts = sim_env.opts()
    for argv in (["status", target, "--json", *opts], [*opts, "status", target, "--json"],
                 ["watchlist", "add", target, "--config", str(sim_env.config)],
                 ["tree", target, "--depth", "1", *opts]):
        proc = subprocess.run([*AGP, *argv], capture_output=True, text=True, env=sim_env.environ(),
                              timeout=30, check=False)
        assert proc.returncode == 0, f"{argv[:3]}: {proc.stderr}"
