"""`agp-tui ls` and its filters, checked against the simulator's own answers."""

from __future__ import annotations

from headless_helpers import Cli, Env, api, manager_id, tab_rows

from agp_tui.sim import DEMO_API_KEY, SimHandle

LS_KEYS = {"id", "agent", "status", "created_at", "started_at", "finished_at", "agent_view_url",
           "first_message"}


def _api_list(sim: SimHandle, query: str) -> list[dict[str, object]]:
    return api(sim.base_url, DEMO_API_KEY, "GET", f"/sessions?{query}")["items"]  # type: ignore[no-any-return]


def test_default_is_the_20_newest(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    r = cli(["ls"])
    assert r.code == 0, r.err
    rows = tab_rows(r.out)
    assert len(rows) == 20
    assert [row[0] for row in rows] == [s["id"] for s in _api_list(sim, "size=20")]
    assert all(len(row) == 5 for row in rows)


def test_json_schema_and_order(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    r = cli(["ls"], "--limit", "7", "--json")
    data = r.json()
    assert len(data) == 7
    assert all(set(d) == LS_KEYS for d in data)
    created = [d["created_at"] for d in data]
    assert created == sorted(created, reverse=True)
    assert all(isinstance(d["first_message"], str) for d in data)


def test_limit_pages_past_100_and_zero_means_all(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    assert len(cli(["ls"], "--limit", "150", "--json").json()) == 150
    total = api(sim.base_url, DEMO_API_KEY, "GET", "/sessions?status=failed&size=1")["total"]
    assert len(cli(["ls"], "--status", "failed", "--limit", "0", "--json").json()) == total


def test_status_filters_repeat_and_split_on_commas(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    one = cli(["ls"], "--status", "failed", "--limit", "0", "--json").json()
    assert one and {d["status"] for d in one} == {"failed"}
    both = cli(["ls"], "--status", "failed", "--status", "timed_out", "--limit", "0", "--json").json()
    assert {d["status"] for d in both} == {"failed", "timed_out"}
    comma = cli(["ls"], "--status", "failed,timed_out", "--limit", "0", "--json").json()
    assert [d["id"] for d in comma] == [d["id"] for d in both]


def test_agent_group_and_parent_filters(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    agent = str(_api_list(sim, "size=1")[0]["agent"])
    mine = cli(["ls"], "--agent", agent, "--limit", "0", "--json").json()
    assert mine and {d["agent"] for d in mine} == {agent}
    group = next(s.group_id for s in sim.world.all_sessions() if s.group_id)
    grouped = cli(["ls"], "--group", group, "--limit", "0", "--json").json()
    expected = {s.id for s in sim.world.all_sessions() if s.group_id == group}
    assert {d["id"] for d in grouped} == expected
    parent = manager_id(sim)
    kids = cli(["ls"], "--parent", parent, "--limit", "0", "--json").json()
    assert {d["id"] for d in kids} == set(sim.world.get(parent).children)  # type: ignore[union-attr]


def test_no_match_prints_nothing_and_succeeds(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    r = cli(["ls"], "--group", "no-such-group")
    assert (r.code, r.out) == (0, "")
    assert cli(["ls"], "--group", "no-such-group", "--json").json() == []


def test_bad_flags_are_usage_errors(sim_env: Env, cli: Cli, capsys: object) -> None:
    r = cli(["ls"], "--parent", "nope")
    assert r.code == 2
    assert r.err.startswith("agp-tui: --parent: 'nope' is not a session id")
    try:
        cli(["ls"], "--limit", "-1")
    except SystemExit as exc:  # argparse itself rejects it, before anything runs
        assert exc.code == 2
    else:
        raise AssertionError("--limit -1 was accepted")
