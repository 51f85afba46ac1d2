"""Short ids (the 8 characters the dashboard and `watch` show) are accepted by every command
that takes a session id, when they name exactly one session on the profile's watchlist.

Against the simulator for what resolves; against an empty one that counts requests, or a port
nothing listens on, for what must send nothing at all.
"""

from __future__ import annotations

import pytest
from headless_helpers import KEY, Cli, Env, free_port, manager_id, pick

from agp_tui.monitor.watchlist import Watchlist
from agp_tui.sim import SimHandle
from agp_tui.sim.fake_backend import FakeBackend


def _twin(sid: str) -> str:
    """Another valid id sharing `sid`'s first 8 characters (never on the server)."""
    return f"{sid[:8]}-0000-4000-8000-000000000000"


def test_status_tree_watch_and_ls_take_a_watched_short_id(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    done, failed = pick(sim, "completed")[0], pick(sim, "failed")[0]
    manager = manager_id(sim)
    Watchlist(sim_env.server_watchlist_file).add([done, failed, manager])  # the simulator's list
    for short in (done[:8], done[:8].upper(), done[:6], done[:13], done[:13].replace("-", "")):
        r = cli(["status"], short, "--json")
        assert r.code == 0, (short, r.err)
        assert [d["id"] for d in r.json()] == [done]
    r = cli(["status"], failed[:8], done)  # mixed with a full id: the order given is kept
    assert r.code == 0 and [line.split("\t")[0] for line in r.lines()] == [failed, done]
    tree = cli(["tree"], manager[:8], "--json")
    assert tree.code == 0 and tree.json()["root"]["id"] == manager
    watch = cli(["watch"], done[:8], "--json", "--interval", "0.1")
    assert watch.code == 0 and watch.lines()[-1].count(done) == 1  # the `done` line's outcomes
    kids = cli(["ls"], "--parent", manager[:8], "--json", "--limit", "0")
    assert kids.code == 0
    assert [k["id"] for k in kids.json()] == [k["id"] for k in cli(
        ["ls"], "--parent", manager, "--json", "--limit", "0").json()]


def test_watchlist_rm_takes_a_short_id(env: Env, cli: Cli) -> None:
    keep, drop = "6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20", "358bbbfd-9af4-4e57-94e0-2cff337b91c5"
    Watchlist(env.watchlist_file).add([keep, drop])
    r = cli(["watchlist", "rm"], "358BBBFD", server=False)
    assert r.code == 0 and "removed 1 of 1" in r.err
    assert [e["id"] for e in cli(["watchlist", "export"], server=False).json()] == [keep]


@pytest.mark.parametrize("command", [["status"], ["tree"], ["watch"], ["watchlist", "rm"],
                                     ["ls", "--parent"]], ids=" ".join)
def test_ambiguous_or_unknown_short_ids_send_nothing(
    fake: FakeBackend, env: Env, cli: Cli, command: list[str],
) -> None:
    env.point_at(fake.base_url, KEY)
    one = "358bbbfd-9af4-4e57-94e0-2cff337b91c5"
    listed = env.server_watchlist_file  # the list of the server the commands go to
    Watchlist(listed).add([one, _twin(one), "6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20"])
    before = listed.read_bytes()
    flag = command[1:] if command[0] == "ls" else []  # global options go before an option's value
    command = command[:1] if flag else command
    r = cli(command, *flag, "358bbbfd")
    assert r.code == 2 and r.out == ""
    prefix = "agp-tui: --parent: " if flag else "agp-tui: "
    assert r.err.splitlines() == [
        f"{prefix}358bbbfd matches 2 watched sessions: {one}, {_twin(one)}; give more characters"]
    r = cli(command, *flag, "deadbeef")
    assert r.code == 2 and r.out == ""
    assert r.err.splitlines() == [
        f"{prefix}no watched session starts with deadbeef (a short id names a session on the "
        "profile's watchlist; give the full id otherwise)"]
    assert sum(fake.calls.values()) == 0
    assert listed.read_bytes() == before


def test_too_short_says_how_long_a_short_id_must_be(env: Env, cli: Cli) -> None:
    env.point_at(f"http://127.0.0.1:{free_port()}", "hk-any")  # a request would make it exit 1
    Watchlist(env.server_watchlist_file).add(["358bbbfd-9af4-4e57-94e0-2cff337b91c5"])
    r = cli(["status"], "358bb")
    assert r.code == 2
    assert r.err.splitlines() == ["agp-tui: not a session id: '358bb' (expected a UUID, an Agent "
                                  "View URL, or 6+ characters of a watched session's id)"]


def test_the_dashboard_form_resolves_the_same_way(env: Env, agp: Cli) -> None:
    """`agp-tui SHORT` is refused before any screen opens when it names no watched session."""
    Watchlist(env.watchlist_file).add(["358bbbfd-9af4-4e57-94e0-2cff337b91c5"])
    r = agp(["deadbeef"], server=False)
    assert r.code == 2 and r.out == ""
    assert r.err.startswith("agp-tui: no watched session starts with deadbeef")
