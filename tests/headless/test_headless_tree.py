"""`agp-tui tree`: the walk, depth limit, cycles, totals and both output forms."""

from __future__ import annotations

from typing import Any

from headless_helpers import KEY, Cli, Env, api, free_port, manager_id, sid, tokens

from agp_tui.sim import DEMO_API_KEY, SimHandle
from agp_tui.sim.fake_backend import FakeBackend, Patch, status_of

NODE_KEYS = {"id", "agent", "status", "steps", "tokens", "error", "error_code", "lookup_error",
             "repeat", "truncated", "more_children", "children"}


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    out = [node]
    for child in node["children"]:
        out += _nodes(child)
    return out


def test_json_tree_matches_the_simulator(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    root_id = manager_id(sim, grandchildren=True)
    r = cli(["tree"], root_id, "--json")
    assert r.code == 0, r.err
    doc = r.json()
    assert set(doc) == {"root", "depth", "rollup"} and doc["depth"] is None
    nodes = _nodes(doc["root"])
    assert all(set(n) == NODE_KEYS for n in nodes)
    world = sim.world
    for node in nodes:
        truth = api(sim.base_url, DEMO_API_KEY, "GET", f"/sessions/{node['id']}/status")
        assert node["status"] == truth["status"] and node["steps"] == truth["steps"]
        assert [c["id"] for c in node["children"]] == truth["subagent_session_ids"]
        assert node["agent"] == world.get(node["id"]).agent  # type: ignore[union-attr]
        assert not node["repeat"] and not node["truncated"]
    assert any(n["children"] for n in doc["root"]["children"])  # grandchildren are there
    rollup = doc["rollup"]
    assert rollup["sessions"] == len(nodes) and rollup["unknown"] == 0
    assert rollup["steps"] == sum(n["steps"] for n in nodes)
    assert rollup["tokens"]["total"] == sum(n["tokens"]["total"] for n in nodes)
    assert sum(rollup["statuses"].values()) == len(nodes)
    assert sum(m["input_tokens"] for m in rollup["per_model"]) == rollup["tokens"]["input"]


def test_depth_limits_the_walk(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    root_id = manager_id(sim, grandchildren=True)
    doc = cli(["tree"], root_id, "--json", "--depth", "1").json()
    assert doc["depth"] == 1
    children = doc["root"]["children"]
    assert children and all(c["children"] == [] for c in children)
    assert any(c["truncated"] for c in children)
    assert doc["rollup"]["unknown"] > 0
    root_only = cli(["tree"], root_id, "--json", "--depth", "0").json()
    assert root_only["root"]["children"] == [] and root_only["root"]["truncated"] is True


def test_plain_tree_is_indented_without_box_drawing(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    root_id = manager_id(sim, grandchildren=True)
    r = cli(["tree"], root_id)
    lines = r.out.splitlines()
    assert lines[0].split("\t")[0] == root_id
    body = [line for line in lines if not line.startswith("#")]
    assert any(line.startswith("  ") and not line.startswith("    ") for line in body)
    assert any(line.startswith("    ") for line in body)  # grandchildren, two levels in
    assert not any(ch in r.out for ch in "├└│─")
    summary = [line for line in lines if line.startswith("# total:")]
    assert len(summary) == 1 and f"{len(body)} sessions" in summary[0]
    assert all(len(line.split("\t")) == 8 for line in body)


def test_cycles_and_shared_children_are_shown_once(fake: FakeBackend, env: Env, cli: Cli) -> None:
    env.point_at(fake.base_url, KEY)
    a, b, c = sid(1), sid(2), sid(3)
    fake.pin(a, agent="boss", status="running", steps=5, usage=tokens(1000))  # b and c: by parent
    fake.pin(b, agent="worker-b", parent=a, children=[a], status="completed", steps=2, usage=tokens(200))
    fake.pin(c, agent="worker-c", parent=a, children=[b], status="failed", steps=1, usage=tokens(50))
    doc = cli(["tree"], a, "--json").json()
    root = doc["root"]
    assert [ch["id"] for ch in root["children"]] == [b, c]
    b_node, c_node = root["children"]
    assert b_node["agent"] == "worker-b" and b_node["children"][0]["id"] == a
    assert b_node["children"][0]["repeat"] is True
    assert c_node["children"][0]["id"] == b and c_node["children"][0]["repeat"] is True
    assert doc["rollup"]["sessions"] == 3 and doc["rollup"]["steps"] == 8
    assert doc["rollup"]["statuses"] == {"completed": 1, "failed": 1, "running": 1}
    plain = cli(["tree"], a)
    assert plain.code == 0 and plain.out.count("repeat: shown above") == 2


def test_unreadable_child_is_marked_and_the_rest_shown(fake: FakeBackend, env: Env, cli: Cli) -> None:
    env.point_at(fake.base_url, KEY)
    a, gone = sid(10), sid(11)
    fake.pin(a, agent="boss", status="running", steps=1, usage=tokens(10))
    fake.name_children(a, gone)
    r = cli(["tree"], a, "--json")
    assert r.code == 1
    child = r.json()["root"]["children"][0]
    assert child["id"] == gone and child["lookup_error"]["kind"] == "NotFound"
    assert r.err.strip() == f"agp-tui: {gone}: Not found: Session not found"


def test_missing_root_and_bad_ids(sim_env: Env, cli: Cli) -> None:
    r = cli(["tree"], sid(99))
    assert r.code == 1 and r.out == ""
    assert r.err.strip() == "agp-tui: Not found: Session not found"
    r = cli(["tree"], "xyz")
    assert r.code == 2 and "not a session id: 'xyz'" in r.err


def test_json_for_a_missing_root_still_says_which_and_why(sim_env: Env, cli: Cli) -> None:
    """As `status --json`: stdout is a JSON document naming the id and its lookup error."""
    r = cli(["tree"], sid(99), "--json")
    assert r.code == 1
    doc = r.json()
    root = doc["root"]
    assert root["id"] == sid(99) and root["status"] is None and root["children"] == []
    assert root["lookup_error"] == {"kind": "NotFound", "message": "Session not found",
                                    "http_status": 404}
    assert doc["depth"] is None
    assert (doc["rollup"]["sessions"], doc["rollup"]["unknown"]) == (1, 1)
    assert r.err.strip() == f"agp-tui: {sid(99)}: Not found: Session not found"
    status = cli(["status"], sid(99), "--json")  # the same lookup_error object
    assert status.json()[0]["lookup_error"] == root["lookup_error"]


def test_json_when_the_server_cannot_be_reached(env: Env, cli: Cli) -> None:
    env.point_at(f"http://127.0.0.1:{free_port()}", "hk-any")
    r = cli(["tree"], sid(98), "--json")
    assert r.code == 1
    assert r.json()["root"]["lookup_error"]["kind"] == "Unreachable"
    assert len(r.err.splitlines()) == 1 and "Traceback" not in r.err


def test_children_only_the_list_names_are_shown_and_counted(
    fake: FakeBackend, env: Env, cli: Cli,
) -> None:
    env.point_at(fake.base_url, KEY)
    a, b, late = sid(20), sid(21), sid(22)
    fake.pin(a, agent="boss", status="running", steps=1, usage=tokens(10))
    fake.pin(b, agent="listed-and-in-status", parent=a, status="running", steps=2, usage=tokens(20))
    fake.pin(late, agent="only-listed", parent=a, status="pending")
    # Created with parent_session_id but not (yet) in the parent's subagent ids.

    def lagging(data: dict[str, Any]) -> None:
        status_of(data)["subagent_session_ids"].remove(late)

    for kind in ("status", "session"):
        fake.fail(Patch(lagging), kind=kind, session=a)
    doc = cli(["tree"], a, "--json").json()
    assert [(c["id"], c["agent"]) for c in doc["root"]["children"]] == [
        (b, "listed-and-in-status"), (late, "only-listed")]
    assert doc["rollup"]["sessions"] == 3 and doc["rollup"]["unknown"] == 0
