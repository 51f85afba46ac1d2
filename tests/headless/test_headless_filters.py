"""`ls` and `status` with the GET /sessions filters (options and `--filter` text), against the
simulator's own answers."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from headless_helpers import Cli, Env, api, manager_id, tab_rows

from agp_tui.headless import status_query
from agp_tui.sim import DEMO_API_KEY, SimHandle


def _ids(sim: SimHandle, query: str) -> list[str]:
    page = api(sim.base_url, DEMO_API_KEY, "GET", f"/sessions?size=100&{query}")
    assert page["total"] <= 100, "the test wants one page of truth"
    return [item["id"] for item in page["items"]]


def _group(sim: SimHandle) -> str:
    """The group with the most sessions in the seed-11 world."""
    groups = [s.group_id for s in sim.world.all_sessions() if s.group_id]
    return max(set(groups), key=groups.count)


def test_the_text_form_and_the_options_select_the_same(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    group = _group(sim)
    by_options = cli(["ls"], "--group", group, "--status", "completed,failed", "--limit", "0", "--json")
    by_text = cli(["ls"], "--filter", f"group:{group} status:completed,failed", "--limit", "0", "--json")
    mixed = cli(["ls"], "--filter", f"group:{group}", "--status", "completed", "--status", "failed",
                "--limit", "0", "--json")
    assert by_options.code == by_text.code == mixed.code == 0, by_text.err
    ids = [d["id"] for d in by_options.json()]
    assert ids and ids == [d["id"] for d in by_text.json()] == [d["id"] for d in mixed.json()]
    assert ids == _ids(sim, f"group_id={group}&status=completed&status=failed")


def test_since_takes_an_age_or_a_date(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    now = time.time()
    cut = datetime.fromtimestamp(now - 2 * 3600, UTC)
    want = {s.id for s in sim.world.all_sessions()
            if sim.world.epoch + s.created_at > cut.timestamp() + 5}  # a few seconds of slack
    got = {d["id"] for d in cli(["ls"], "--since", "2h", "--limit", "0", "--json").json()}
    assert want <= got and len(got - want) <= 3
    iso = (cut - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ").replace("Z", "+00:00")
    dated = {d["id"] for d in cli(["ls"], "--filter", f"since:{iso}", "--limit", "0", "--json").json()}
    assert got <= dated


def test_status_with_a_group_is_status_of_each_member_in_listing_order(
        sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    group = _group(sim)
    members = _ids(sim, f"group_id={group}")
    streamed = cli(["status"], "--group", group, "--json")
    assert streamed.code == 0, streamed.err
    one_by_one = cli(["status"], *members, "--json")
    assert streamed.json() == one_by_one.json()
    assert [d["id"] for d in streamed.json()] == members
    text = cli(["status"], "--filter", f"group:{group}")
    assert [row[0] for row in tab_rows(text.out)] == members
    assert tab_rows(text.out) == tab_rows(cli(["status"], *members).out)


def test_status_filters_combine(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    parent = manager_id(sim)
    r = cli(["status"], "--parent", parent, "--status", "completed", "--json")
    assert r.code == 0, r.err
    assert [d["id"] for d in r.json()] == _ids(sim, f"parent_session_id={parent}&status=completed")
    assert all(d["parent_id"] == parent and d["status"] == "completed" for d in r.json())


def test_no_match_is_an_empty_array_and_success(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    for command in (["status"], ["ls"]):
        r = cli(command, "--group", "no-such-group", "--json")
        assert (r.code, r.json(), r.err) == (0, [], "")
        assert cli(command, "--group", "no-such-group").out == ""


def test_a_terminal_gets_a_count_by_status_on_stderr(
        sim: SimHandle, sim_env: Env, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    group = _group(sim)
    statuses = [s.status for s in sim.world.all_sessions() if s.group_id == group]
    monkeypatch.setattr(status_query, "_is_tty", lambda stream: True)
    r = cli(["status"], "--group", group, "--json")
    assert r.code == 0
    top = max(set(statuses), key=statuses.count)
    assert r.err.startswith(f"{len(statuses)} sessions: {statuses.count(top)} {top}")
    assert r.err.count("\n") == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--status", "runnig"], "agp-tui: --status: unknown status 'runnig'; did you mean running?"),
    (["--status", ","], "agp-tui: --status: give a value, e.g. --status running"),
    (["--agent", ""], "agp-tui: --agent: give a value, e.g. --agent h/web-surfer"),
    (["--group", " "], "agp-tui: --group: give a value, e.g. group:nightly"),
    (["--since", "3x"], "agp-tui: --since: '3x' is neither an age (1h, 2d) nor an ISO date/time"),
    (["--parent", "nope"], "agp-tui: --parent: 'nope' is not a session id"),
    (["--parent", "abcdef12"], "agp-tui: --parent: no watched session starts with abcdef12"),
    (["--filter", "group:a statu:running"],
     "agp-tui: --filter: 'statu:running' is not a filter; did you mean status:?"),
    (["--filter", ""], "agp-tui: --filter: an empty filter follows nothing"),
    (["--filter", "group:a", "--group", "b"], "agp-tui: --group: also given in --filter, differently"),
])
@pytest.mark.parametrize("command", ["ls", "status"])
def test_bad_filters_exit_2_with_one_line(sim_env: Env, cli: Cli, command: str, args: list[str],
                                          message: str) -> None:
    r = cli([command], *args, "--json")
    assert (r.code, r.out) == (2, "")
    assert r.err.startswith(message) and r.err.count("\n") == 1, r.err


def test_ids_and_filters_together_are_a_usage_error(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    r = cli(["status"], sim.world.all_sessions()[0].id, "--group", _group(sim))
    assert (r.code, r.out) == (2, "")
    assert r.err == "agp-tui: give session ids or filters (--group, --filter, ...), not both\n"
