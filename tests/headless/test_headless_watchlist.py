"""`agp-tui watchlist`: add/rm/ls/export/import, stdin, round trips, bad input, corrupt files."""

from __future__ import annotations

import json
import subprocess

import pytest
from headless_helpers import AGP, Cli, Env, free_port, run_agp, sid, tab_rows

A, B, C = sid(1), sid(2), sid(3)


def test_add_ls_rm(env: Env, cli: Cli) -> None:
    r = cli(["watchlist", "add"], A, B, "--label", "nightly", server=False)
    assert r.code == 0 and r.out == ""
    assert r.err.startswith("added 2 of 2 to ")
    assert cli(["watchlist", "add"], B, C, server=False).err.startswith("added 1 of 2")
    rows = tab_rows(cli(["watchlist", "ls"], server=False).out)
    assert [row[:3] for row in rows] == [[A, "nightly", "no"], [B, "nightly", "no"], [C, "-", "no"]]
    assert rows[0][3].endswith("Z")
    r = cli(["watchlist", "rm"], A, sid(9), server=False)
    assert r.code == 0 and "removed 1 of 2" in r.err and "1 not on it" in r.err
    assert [e["id"] for e in cli(["watchlist", "ls"], "--json", server=False).json()] == [B, C]
    assert cli(["watchlist"], server=False).out == cli(["watchlist", "list"], server=False).out


def test_no_api_key_needed(env: Env, cli: Cli) -> None:
    assert cli(["watchlist", "add"], A, server=False).code == 0
    assert cli(["watchlist", "export"], server=False).code == 0


def test_stdin_is_read_when_piped_or_dash(env: Env, cli: Cli) -> None:
    assert cli(["watchlist", "add"], stdin=f"{A}\n{B}\n", server=False).code == 0
    assert cli(["watchlist", "add"], "-", stdin=C, server=False).code == 0
    assert [e["id"] for e in cli(["watchlist", "export"], server=False).json()] == [A, B, C]
    assert cli(["watchlist", "rm"], stdin=f"{A} {B}", server=False).code == 0
    assert [e["id"] for e in cli(["watchlist", "export"], server=False).json()] == [C]


def test_no_ids_from_a_terminal_is_a_usage_error(env: Env, cli: Cli) -> None:
    r = cli(["watchlist", "add"], stdin_tty=True, server=False)
    assert r.code == 2 and "no session ids given" in r.err
    r = cli(["watchlist", "import"], stdin_tty=True, server=False)
    assert r.code == 2 and "import reads a FILE" in r.err


def test_empty_input_changes_nothing_and_succeeds(env: Env, cli: Cli) -> None:
    r = cli(["watchlist", "add"], stdin="", server=False)
    assert r.code == 0 and "nothing changed" in r.err
    assert cli(["watchlist", "import"], stdin="[]", server=False).code == 0


def test_bad_ids_are_reported_but_good_ones_still_added(env: Env, cli: Cli) -> None:
    r = cli(["watchlist", "add"], A, "bogus", B, "12", server=False)
    assert r.code == 2
    errors = [line for line in r.err.splitlines() if line.startswith("agp-tui:")]
    assert errors == [
        "agp-tui: not a session id: 'bogus' (expected a UUID or an Agent View URL)",
        "agp-tui: not a session id: '12' (expected a UUID, an Agent View URL, or 6+ characters "
        "of a watched session's id)",
    ]
    assert [e["id"] for e in cli(["watchlist", "export"], server=False).json()] == [A, B]
    r = cli(["watchlist", "import"], stdin=f"{C}\nnot-an-id\n", server=False)
    assert r.code == 2 and "'not-an-id'" in r.err
    assert C in cli(["watchlist", "export"], server=False).out


def test_export_import_round_trip_keeps_labels_pins_and_order(env: Env, cli: Cli) -> None:
    env.watchlist_file.parent.mkdir(parents=True)
    env.watchlist_file.write_text(json.dumps({"version": 1, "sessions": [
        {"id": A, "label": "first", "pinned": False, "added_at": 1.0},
        {"id": B, "label": None, "pinned": True, "added_at": 2.0},
        {"id": C, "label": "third", "pinned": False, "added_at": 3.0}]}))
    exported = cli(["watchlist", "ls"], "--json", server=False).out
    assert exported == cli(["watchlist", "export"], server=False).out
    before = json.loads(exported)
    assert [e["id"] for e in before] == [B, A, C]  # pinned first
    env.watchlist_file.unlink()
    r = cli(["watchlist", "import"], stdin=exported, server=False)
    assert r.code == 0 and "imported 3 of 3" in r.err
    after = cli(["watchlist", "export"], server=False).json()
    strip = [{k: e[k] for k in ("id", "label", "pinned")} for e in after]
    assert strip == [{k: e[k] for k in ("id", "label", "pinned")} for e in before]
    again = cli(["watchlist", "import"], "-", stdin=exported, server=False)
    assert again.code == 0 and "3 already on it" in again.err


def test_round_trip_between_profiles_through_a_real_pipe(env: Env) -> None:
    env.config.write_text("[profiles.default]\n[profiles.other]\n")
    environ = env.environ()
    base = [*AGP, "watchlist"]
    cfg = ["--config", str(env.config)]
    subprocess.run([*base, "add", A, B, "--label", "x", *cfg], env=environ, check=True,
                   capture_output=True, stdin=subprocess.DEVNULL)
    line = " ".join(base)
    pipe = subprocess.run(
        f"{line} ls --json --config {env.config} | {line} --profile other import --config {env.config}",
        shell=True, env=environ, capture_output=True, text=True, timeout=30, check=False)
    assert pipe.returncode == 0, pipe.stderr
    other = subprocess.run([*base, "export", "--profile", "other", *cfg], env=environ,
                           capture_output=True, text=True, check=True)
    assert [(e["id"], e["label"]) for e in json.loads(other.stdout)] == [(A, "x"), (B, "x")]
    assert (env.data / "agp-tui" / "watchlist-other@agp.eu.hcompany.ai-c93c1212.json").is_file()


def test_import_from_a_file_and_from_other_outputs(env: Env, cli: Cli) -> None:
    path = env.root / "ids.txt"
    path.write_text(f"# my ids\n{A}\n{B}\trunning\th/agent\tsome message\n")
    assert cli(["watchlist", "import"], str(path), server=False).code == 0
    tree = {"root": {"id": C, "children": [{"id": A, "children": []}]}, "depth": None, "rollup": {}}
    assert cli(["watchlist", "import"], stdin=json.dumps(tree), server=False).code == 0
    assert [e["id"] for e in cli(["watchlist", "export"], server=False).json()] == [A, B, C]
    r = cli(["watchlist", "import"], str(env.root / "missing.txt"), server=False)
    assert r.code == 2 and "cannot read" in r.err and "No such file" in r.err


def test_corrupt_file_is_moved_aside_with_a_warning(env: Env, cli: Cli) -> None:
    env.watchlist_file.parent.mkdir(parents=True)
    env.watchlist_file.write_text("{not json")
    r = cli(["watchlist", "ls"], server=False)
    assert r.code == 0
    assert "agp-tui: warning: watchlist file" in r.err and "moved aside" in r.err
    assert list(env.watchlist_file.parent.glob(f"{env.watchlist_file.name}.corrupt-*"))
    assert cli(["watchlist", "add"], A, server=False).code == 0


def test_unwritable_watchlist_is_one_line_exit_1(env: Env, cli: Cli) -> None:
    env.data.mkdir(parents=True)
    (env.data / "agp-tui").write_text("a file where the directory should be")
    r = cli(["watchlist", "add"], A, server=False)
    assert r.code == 1
    assert len(r.err.strip().splitlines()) == 1 and r.err.startswith("agp-tui: cannot")


def test_closed_stdout_is_quiet_and_exits_141(env: Env) -> None:
    entries = [{"id": sid(1000 + n), "label": "x" * 40, "pinned": False, "added_at": 1.0}
               for n in range(4000)]
    env.watchlist_file.parent.mkdir(parents=True)
    env.watchlist_file.write_text(json.dumps({"version": 1, "sessions": entries}))
    line = " ".join(AGP)
    # Row by row, as tables are written: the writes after `head` exits fail with EPIPE.
    script = (f"{line} watchlist ls --config {env.config} | head -n 1 > /dev/null; "
              "echo \"status=${PIPESTATUS[0]}\"")
    proc = subprocess.run(["bash", "-c", script], env=env.environ(), capture_output=True, text=True,
                          timeout=30, check=False)
    assert "status=141" in proc.stdout
    assert proc.stderr == ""  # no traceback, no "Exception ignored"


# -- labels on ids already listed; one list per server --------------------------------------


def test_add_with_label_labels_an_id_already_on_the_list(env: Env, cli: Cli) -> None:
    assert cli(["watchlist", "add"], A, B, server=False).code == 0
    r = cli(["watchlist", "add"], A, C, "--label", "nightly", server=False)
    assert r.code == 0
    assert r.err.splitlines() == [f"added 1 of 2 to {env.watchlist_file} (1 already on it)",
                                  "labelled 1 already on it: 'nightly'"]
    rows = tab_rows(cli(["watchlist", "ls"], server=False).out)
    assert [row[:2] for row in rows] == [[A, "nightly"], [B, "-"], [C, "nightly"]]  # A kept its place
    r = cli(["watchlist", "add"], A, "--label", "nightly", server=False)
    assert r.err.splitlines() == [f"added 0 of 1 to {env.watchlist_file} (1 already on it)"]
    r = cli(["watchlist", "add"], A, "--label", "", server=False)
    assert "cleared the label of 1 already on it" in r.err
    assert cli(["watchlist", "export"], server=False).json()[0]["label"] is None
    r = cli(["watchlist", "add"], C, server=False)  # no --label: the label stays
    assert "labelled" not in r.err
    assert cli(["watchlist", "export"], server=False).json()[2]["label"] == "nightly"


def test_a_base_url_run_keeps_its_own_list_and_leaves_the_accounts_alone(
    env: Env, cli: Cli, monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    sim_url = f"http://127.0.0.1:{port}"
    assert cli(["watchlist", "add"], A, server=False).code == 0  # the real account's list
    r = cli(["watchlist", "add"], B, "--base-url", sim_url, server=False)
    assert r.code == 0 and f"@127.0.0.1-{port}-" in r.err
    with monkeypatch.context() as m:
        m.setenv("AGP_BASE_URL", f"{sim_url}/api/v2/")
        r = cli(["watchlist", "add"], C, server=False)
    assert r.code == 0 and f"@127.0.0.1-{port}-" in r.err  # AGP_BASE_URL: the same server
    assert [e["id"] for e in cli(["watchlist", "export"], server=False).json()] == [A]
    sim_list = cli(["watchlist", "export"], "--base-url", sim_url, server=False).json()
    assert [e["id"] for e in sim_list] == [B, C]
    files = sorted(p.name for p in (env.data / "agp-tui").glob("watchlist-*.json"))
    assert len(files) == 2 and env.watchlist_file.name in files


def test_the_old_per_profile_file_is_adopted_by_the_profiles_own_server_only(env: Env, cli: Cli) -> None:
    legacy = env.legacy_watchlist_file
    legacy.parent.mkdir(parents=True)
    legacy.write_text(json.dumps({"version": 1, "sessions": [
        {"id": A, "label": "mine", "pinned": False, "added_at": 1.0},
        {"id": B, "label": None, "pinned": True, "added_at": 2.0}]}))
    before = legacy.read_bytes()
    # A simulator run first: it must neither see nor move the account's list.
    r = cli(["watchlist", "export"], "--base-url", f"http://127.0.0.1:{free_port()}", server=False)
    assert r.code == 0 and r.json() == [] and legacy.read_bytes() == before
    r = cli(["watchlist", "ls"], server=False)
    assert r.code == 0 and r.err == ""
    assert [row[:3] for row in tab_rows(r.out)] == [[B, "-", "yes"], [A, "mine", "no"]]
    assert not legacy.exists() and env.watchlist_file.is_file()
    assert (legacy.parent / (legacy.name + ".migrated")).read_bytes() == before
    assert [e["id"] for e in cli(["watchlist", "export"], server=False).json()] == [B, A]


def test_demo_with_a_command_is_refused_before_touching_any_list(env: Env) -> None:
    r = run_agp(env, ["--demo", "watchlist", "add"], A, server=False)
    assert r.code == 2 and "--demo opens the dashboard only" in r.err
    assert not env.data.exists()


def test_config_prints_the_watchlist_it_uses(env: Env, cli: Cli) -> None:
    port = free_port()
    r = cli(["config"], "--base-url", f"http://127.0.0.1:{port}", server=False)
    (line,) = [ln for ln in r.out.splitlines() if ln.startswith("watchlist ")]
    assert line.split(None, 1)[1] == str(env.data / "agp-tui" / f"watchlist-default@127.0.0.1-{port}-"
                                         f"{line.rsplit('-', 1)[1]}")
    assert "watchlist    " + str(env.watchlist_file) in cli(["config"], server=False).out
