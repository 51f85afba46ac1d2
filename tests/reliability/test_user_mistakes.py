"""User mistakes each get one clear message, no traceback, and lose nothing.

Headless (`agp-tui status`, `agp-tui watchlist add`, through the real `cli.main`) and the
dashboard's add dialog (`a`, Pilot): malformed ids (garbage, half a UUID, a URL on another
host), an empty paste, 10,000 ids pasted at once, an unknown profile, an unreachable base
URL, a refused key. The watchlist file is compared byte for byte where nothing may change.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from headless_helpers import Env, Result, free_port, keyed_sim, make_env, run_cli
from textual import events
from textual.pilot import Pilot
from textual.widgets import Static

from agp_tui.api.secret import Secret
from agp_tui.config import Settings
from agp_tui.monitor.events import Connection
from agp_tui.monitor.watchlist import Watchlist
from agp_tui.runtime import make_engine
from agp_tui.sim import SimHandle
from agp_tui.ui.app import AgpApp, make_app
from agp_tui.ui.modals import AddSessionsModal, PasteInput
from agp_tui.ui.screens.help import HelpScreen

KEY = "sk-agp-mistakes-0000000000000001"
WRONG = "sk-agp-mistakes-wrong-00000000002"
rng = random.Random(8)


def new_id() -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


ON_LIST = [new_id(), new_id()]  # the watchlist every test starts with
MALFORMED = {
    "garbage": "hello-world",
    "half a UUID": new_id()[:18],  # half of a watched one is a short id: it names that session
    "a URL on another host": f"https://evil.example.com/agent-view/{new_id()}",
}



@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    handle = keyed_sim(5, 30, KEY)  # the key the simulator accepts
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    env = make_env(tmp_path, monkeypatch)
    Watchlist(env.watchlist_file).add(ON_LIST)
    return env


def messages(r: Result) -> list[str]:
    """stderr lines; a traceback anywhere fails the test outright."""
    assert "Traceback" not in r.err and "Traceback" not in r.out, r.err
    return r.err.splitlines()


def on_disk(env: Env) -> bytes:
    return env.watchlist_file.read_bytes()


def watch_on_server(env: Env) -> Path:
    """Put ON_LIST on the list of the server `env` points at (each server has its own)."""
    path = env.server_watchlist_file
    Watchlist(path).add(ON_LIST)
    return path


# -- headless --------------------------------------------------------------------------------


@pytest.mark.parametrize("what", list(MALFORMED))
def test_a_malformed_id_is_one_line_exit_2_and_nothing_sent_or_saved(
    what: str, env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = MALFORMED[what]
    # Nothing listens on this port: had a request been sent, the exit code would be 1.
    env.point_at(f"http://127.0.0.1:{free_port()}", KEY)
    before = on_disk(env)
    r = run_cli(capsys, monkeypatch, env, ["status"], ON_LIST[1], token)
    assert r.code == 2 and r.out == ""
    (line,) = messages(r)
    start = "no watched session starts with" if what == "half a UUID" else "not a session id:"
    assert line.startswith(f"agp-tui: {start} ") and repr(token[:57]).strip("'") in line
    assert ("hcompany.ai" in line) == (what == "a URL on another host")
    r = run_cli(capsys, monkeypatch, env, ["watchlist", "add"], token, server=False)
    assert r.code == 2
    assert messages(r) == [line]
    assert on_disk(env) == before


def test_an_empty_paste_changes_nothing(
    env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = on_disk(env)
    for stdin in ("", "\n\n  \n"):
        r = run_cli(capsys, monkeypatch, env, ["watchlist", "add"], stdin=stdin, server=False)
        assert r.code == 0
        assert messages(r) == ["no session ids in the input: nothing changed"]
    r = run_cli(capsys, monkeypatch, env, ["watchlist", "add"], stdin_tty=True, server=False)
    assert r.code == 2
    assert messages(r) == ["agp-tui: no session ids given: pass ids, or pipe them on stdin"]
    assert on_disk(env) == before


def ten_thousand() -> tuple[str, list[str], int]:
    """10,000 pasted tokens: (text, the new valid ids in order, how many are invalid)."""
    fresh = [new_id() for _ in range(3000)]
    tokens = fresh + ON_LIST * 500 + fresh + fresh[:1000]  # duplicates of new and known ids
    invalid = [f"junk-{i}" for i in range(1500)] + [new_id().replace("-", "")[:20] for _ in range(500)]
    tokens += invalid
    assert len(tokens) == 10_000
    shuffled = tokens[3000:]
    rng.shuffle(shuffled)
    return "\n".join(fresh + shuffled), fresh, len(invalid)


def test_ten_thousand_ids_at_once_one_write_one_summary(
    env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    watchlist_writes: list[int],
) -> None:
    text, fresh, n_invalid = ten_thousand()
    writes = watchlist_writes
    r = run_cli(capsys, monkeypatch, env, ["watchlist", "add"], stdin=text, server=False)
    assert r.code == 2  # the README: malformed input is a usage error, valid ids still added
    added, summary = messages(r)
    assert added == f"added {len(fresh)} of {len(fresh) + 2} to {env.watchlist_file} (2 already on it)"
    assert summary.startswith(f"agp-tui: {n_invalid} inputs are not session ids ")
    assert summary.endswith(f"and {n_invalid - 3} more")
    assert writes == [len(ON_LIST) + len(fresh)]  # all valid ids in one locked write
    assert [e.id for e in Watchlist(env.watchlist_file).load()] == ON_LIST + fresh
    # `status` with the same paste refuses it whole, in one line, before any request.
    env.point_at(f"http://127.0.0.1:{free_port()}", KEY)
    r = run_cli(capsys, monkeypatch, env, ["status"], "-", stdin=text)
    assert r.code == 2 and r.out == ""
    assert len(messages(r)) == 1 and f"{n_invalid} inputs are not session ids" in r.err


def test_unknown_profile_one_line_with_a_suggestion(
    env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    env.config.write_text('[profiles.prod]\nregion = "eu"\n[profiles.staging]\nregion = "us"\n')
    before = on_disk(env)
    for command, args in ((["status"], [ON_LIST[0]]), (["watchlist", "add"], [new_id()])):
        r = run_cli(capsys, monkeypatch, env, command, "--profile", "prdo", *args, server=False)
        assert r.code == 2 and r.out == ""
        assert messages(r) == [
            f"agp-tui: flag --profile: unknown profile 'prdo'; did you mean 'prod'? "
            f"profiles in {env.config}: prod, staging"]
    r = run_cli(capsys, monkeypatch, env, ["status"], "--profile", "zzz", ON_LIST[0], server=False)
    (line,) = messages(r)
    assert "unknown profile 'zzz'" in line and "did you mean" not in line
    assert on_disk(env) == before


def test_unreachable_base_url_one_line_exit_1_watchlist_intact(
    env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    env.point_at(f"http://127.0.0.1:{free_port()}", KEY)
    server_list = watch_on_server(env)
    before, server_before = on_disk(env), server_list.read_bytes()
    for args in ([], [ON_LIST[0]], ["--json"]):  # no id: the watchlist's two sessions
        r = run_cli(capsys, monkeypatch, env, ["status"], *args)
        assert r.code == 1
        (line,) = messages(r)
        assert line.startswith("agp-tui: Server unreachable: ") and "127.0.0.1" in line
    assert on_disk(env) == before and server_list.read_bytes() == server_before
    # Editing the watchlist needs no server: it still works while the server is down.
    extra = new_id()
    r = run_cli(capsys, monkeypatch, env, ["watchlist", "add"], extra)
    assert r.code == 0 and messages(r) == [f"added 1 of 1 to {server_list}"]
    assert [e.id for e in Watchlist(server_list).load()] == [*ON_LIST, extra]
    assert on_disk(env) == before  # that server's list, not the account's


def test_refused_key_one_line_exit_1(
    sim: SimHandle, env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    env.point_at(sim.base_url, WRONG)
    server_list = watch_on_server(env)
    before, server_before = on_disk(env), server_list.read_bytes()
    sid = sim.world.all_sessions()[0].id
    for args in ([sid], [], [sid, "--json"]):
        r = run_cli(capsys, monkeypatch, env, ["status"], *args)
        assert r.code == 1
        (line,) = messages(r)
        assert line.startswith("agp-tui: Authentication failed: ")
        assert "check --api-key, H_API_KEY / HAI_API_KEY" in line
    assert on_disk(env) == before and server_list.read_bytes() == server_before


# -- the dashboard's add dialog --------------------------------------------------------------


@asynccontextmanager
async def dashboard(
    base_url: str, tmp_path: Path, key: str = KEY,
) -> AsyncIterator[tuple[AgpApp, Pilot[Any], list[tuple[str, str]], Path]]:
    """Wired as the CLI wires it, on a watchlist file that starts with ON_LIST."""
    settings = Settings(base_url=base_url, api_key=Secret(key), config_path=tmp_path / "c.toml",
                        data_dir=tmp_path / "data")
    Watchlist(settings.watchlist_path).add(ON_LIST)
    engine = make_engine(settings)
    app = make_app(engine, profile="default", region="simulator")
    toasts: list[tuple[str, str]] = []
    notify = app.notify

    def record(message: str, **kw: Any) -> None:
        toasts.append((str(kw.get("title", "")), message))
        notify(message, **kw)

    app.notify = record  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        yield app, pilot, toasts, settings.watchlist_path


async def wait_until(pilot: Pilot[Any], cond: Any, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        assert loop.time() < deadline, "condition not reached in time"
        await pilot.pause(0.05)


async def submit_in_dialog(app: AgpApp, pilot: Pilot[Any], text: str, *, paste: bool = False) -> None:
    await pilot.press("a")
    await wait_until(pilot, lambda: isinstance(app.screen, AddSessionsModal))
    box = app.screen.query_one(PasteInput)
    if paste:
        box.post_message(events.Paste(text))
    else:
        box.value = text
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause(0.1)


def dialog_error(app: AgpApp) -> str:
    assert isinstance(app.screen, AddSessionsModal), "the dialog closed"
    return str(app.screen.query_one("#add-error", Static).render())


async def test_dialog_keeps_malformed_and_empty_input_with_one_message(
    sim: SimHandle, tmp_path: Path,
) -> None:
    async with dashboard(sim.base_url, tmp_path) as (app, pilot, toasts, path):
        before = path.read_bytes()
        for what, token in MALFORMED.items():
            await submit_in_dialog(app, pilot, token, paste=True)
            error = dialog_error(app)  # still open, the text still there to fix
            assert error == f"not session ids: {token[:39]!r}" or error.startswith(
                "not session ids: '"), (what, error)
            assert app.screen.query_one(PasteInput).value == token
            await pilot.press("escape")
        for empty in ("", "   "):
            await submit_in_dialog(app, pilot, empty)
            assert dialog_error(app) == "nothing to add: paste at least one session id"
            await pilot.press("escape")
        await pilot.pause(0.1)
        assert toasts == []  # the dialog said it; nothing else piles up
        assert path.read_bytes() == before


async def test_dialog_takes_ten_thousand_ids_in_one_write_and_one_toast(
    sim: SimHandle, tmp_path: Path, watchlist_writes: list[int],
) -> None:
    text, fresh, n_invalid = ten_thousand()
    writes = watchlist_writes
    async with dashboard(sim.base_url, tmp_path) as (app, pilot, toasts, path):
        writes.clear()  # the set-up write of ON_LIST
        await submit_in_dialog(app, pilot, text, paste=True)
        await wait_until(pilot, lambda: not isinstance(app.screen, AddSessionsModal))
        assert writes == [len(ON_LIST) + len(fresh)]
        assert [e.id for e in Watchlist(path).load()] == ON_LIST + fresh
        assert len(toasts) == 1
        title, message = toasts[0]
        assert title == "Some tokens skipped"
        assert message.startswith(f"watching {len(fresh)} new sessions (2 already watched); "
                                  "not session ids: ")
        assert message.endswith(f"and {n_invalid - 5} more")
        # Still responsive: the help screen opens and closes while 3,000 sessions load.
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        assert len(toasts) == 1


async def test_dialog_with_a_refused_key_adds_and_says_it_once(sim: SimHandle, tmp_path: Path) -> None:
    async with dashboard(sim.base_url, tmp_path, key=WRONG) as (app, pilot, toasts, path):
        await wait_until(pilot, lambda: app.engine.connection is Connection.AUTH_ERROR)
        sid = sim.world.all_sessions()[0].id
        await submit_in_dialog(app, pilot, sid)
        await pilot.pause(0.5)
        assert [e.id for e in Watchlist(path).load()] == [*ON_LIST, sid]  # nothing lost
        assert toasts == [("", "watching 1 new session")]
        shot = app.export_screenshot()
        assert shot.count("AUTH") == 1 and "check&#160;the&#160;API&#160;key" in shot


async def test_dialog_with_an_unreachable_server_still_saves(tmp_path: Path) -> None:
    async with dashboard(f"http://127.0.0.1:{free_port()}/api/v2", tmp_path) as (app, pilot, toasts, path):
        sid = new_id()
        await submit_in_dialog(app, pilot, sid)
        await wait_until(pilot, lambda: app.engine.connection is Connection.OFFLINE)
        await pilot.pause(0.3)
        assert [e.id for e in Watchlist(path).load()] == [*ON_LIST, sid]
        assert toasts == [("", "watching 1 new session")]
        assert "OFFLINE" in app.export_screenshot()
