"""Failures every API command shares: one clear line on stderr and the documented exit code."""

from __future__ import annotations

import pytest
from headless_helpers import Cli, Env, pick, sid

from agp_tui.sim import SimHandle

COMMANDS = [["status", sid(1)], ["ls"], ["tree", sid(1)], ["watch", sid(1), "--interval", "0.1"]]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0])
def test_refused_key(sim: SimHandle, sim_env: Env, cli: Cli, argv: list[str]) -> None:
    sim_env.api_key = "hk-not-the-key"
    r = cli(argv[:1], *argv[1:])
    assert r.code == 1
    assert r.out == ""
    lines = r.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("agp-tui: Authentication failed: Unauthorized (check --api-key")
    assert "hk-not-the-key" not in r.err


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0])
def test_unreachable_server(env: Env, cli: Cli, argv: list[str]) -> None:
    env.point_at("http://127.0.0.1:9/api/v2", "hk-any")
    r = cli(argv[:1], *argv[1:])
    assert r.code == 1
    assert r.err.splitlines()[-1].startswith("agp-tui: Server unreachable:")
    assert "Traceback" not in r.err


def test_not_found_for_each_command(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    missing = sid(4242)
    assert cli(["status"], missing).code == 1
    assert cli(["tree"], missing).code == 1
    assert cli(["watch"], missing, "--interval", "0.1").code == 1
    ok = cli(["ls"], "--parent", missing)  # no children is not an error
    assert (ok.code, ok.out) == (0, "")


def test_missing_key_and_insecure_url_are_usage_errors(env: Env, cli: Cli) -> None:
    r = cli(["status"], sid(1), server=False)
    assert r.code == 2 and r.err.startswith("agp-tui: no API key")
    env.point_at("http://example.com/api/v2", "hk-secret-key")
    r = cli(["status"], sid(1))
    assert r.code == 2
    assert "Insecure connection refused" in r.err and "hk-secret-key" not in r.err


def test_config_errors_are_usage_errors(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    sim_env.config.write_text("[profiles.default]\nbogus_key = 1\n")
    r = cli(["status"], pick(sim, "completed")[0])
    assert r.code == 2 and r.err.startswith("agp-tui: ") and "bogus_key" in r.err


@pytest.mark.parametrize(("typed", "meant"), [("stauts", "status"), ("wacth", "watch"),
                                              ("watchlst", "watchlist"), ("confg", "config"),
                                              ("tre", "tree")])
def test_a_mistyped_command_gets_did_you_mean(env: Env, agp: Cli, typed: str, meant: str) -> None:
    r = agp([typed], server=False)
    assert r.code == 2 and r.out == ""
    assert r.err.splitlines() == [f"agp-tui: unknown command {typed!r}; did you mean {meant}?"]


def test_an_unknown_word_lists_the_commands(env: Env, agp: Cli) -> None:
    r = agp(["frobnicate"], server=False)
    assert r.code == 2 and r.out == ""
    assert r.err.startswith("agp-tui: unknown command 'frobnicate' (commands: config, sim, status, ls,")
    # What could be an id still goes the dashboard's `agp-tui ID...` way and is judged as one.
    r = agp(["12345"], server=False)
    assert r.code == 2 and "not a session id: '12345'" in r.err


@pytest.mark.parametrize("argv", [["ls", "--bogus"], ["status", "--bogus"], ["tree", "x", "--bogus"],
                                  ["watchlist", "add", "--bogus"], ["watchlist", "--bogus"]],
                         ids=" ".join)
def test_an_unknown_flag_shows_that_commands_usage(env: Env, agp: Cli, argv: list[str]) -> None:
    r = agp(argv[:1], *argv[1:], server=False)
    prog = "agp-tui " + " ".join(a for a in argv if a not in ("x", "--bogus"))
    assert r.code == 2 and r.out == ""
    assert r.err.startswith(f"usage: {prog} [-h]")
    assert r.err.splitlines()[-1] == f"{prog}: error: unrecognized arguments: --bogus"
