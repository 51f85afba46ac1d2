"""The API key never shows: not in output, logs, screens, errors or crash reports.

A distinctive canary key is used everywhere; every check looks for the whole key and for
every 8-character run of it past its first three characters (the redacted hint `sk-…a605`
shows only the first three and last four), so a partly printed key fails too.
Also: a config file holding a key that others can read gets one warning, and the key is
refused over plain http to a host that is not this machine unless explicitly allowed.
"""

from __future__ import annotations

import asyncio
import html
import io
import logging
import os
import traceback
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from headless_helpers import Env, free_port, keyed_sim, make_env, run_agp, run_cli
from rich.console import Console
from rich.traceback import Traceback
from textual.pilot import Pilot

from agp_tui.api.backend import AiohttpBackend, HttpxBackend
from agp_tui.api.errors import AgpError, AuthError, InsecureTransport, Unreachable
from agp_tui.api.secret import AuthHeaders, Secret
from agp_tui.config import CliOverrides, Settings, load_settings
from agp_tui.monitor.events import Connection
from agp_tui.runtime import make_client, make_engine
from agp_tui.sim import SimHandle
from agp_tui.ui.app import AgpApp, make_app

KEY = "sk-agp-SECRET-canary-4f9d2c7e81b3a605"
WRONG = "sk-agp-SECRET-wrong-0d5e77a9c3f2b418"
FRAGMENTS = [KEY[i:i + 8] for i in range(3, len(KEY) - 7)] + [
    WRONG[i:i + 8] for i in range(3, len(WRONG) - 7)]


def assert_no_key(text: str, where: str) -> None:
    for secret in (KEY, WRONG):
        assert secret not in text, f"the API key shows in {where}"
    leaked = [f for f in FRAGMENTS if f in text]
    assert not leaked, f"part of the API key ({leaked[0]!r}) shows in {where}: …{_around(text, leaked[0])}…"


def _around(text: str, piece: str) -> str:
    i = text.find(piece)
    return text[max(0, i - 80): i + 80]



@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    handle = keyed_sim(11, 60, KEY)  # the canary key the simulator accepts
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return make_env(tmp_path, monkeypatch)


def ids_of(sim: SimHandle, status: str, n: int = 1) -> list[str]:
    found = [s.id for s in sim.world.all_sessions() if s.status == status and s.parent_id is None]
    assert len(found) >= n, f"no {status} session in the simulated world"
    return found[:n]


def manager(sim: SimHandle) -> str:
    return next(s.id for s in sim.world.all_sessions() if s.parent_id is None and s.children)


# -- (a) + (c): every headless command's output, and the logs, at DEBUG --------------------


def headless_runs(sim: SimHandle) -> list[tuple[list[str], list[str], int]]:
    done, running = ids_of(sim, "completed")[0], ids_of(sim, "running")[0]
    return [
        (["config"], [], 0),
        (["status"], [done, running], 0),
        (["status"], [done, running, "--json"], 0),
        (["ls"], ["--limit", "5"], 0),
        (["ls"], ["--limit", "5", "--json"], 0),
        (["tree"], [manager(sim)], 0),
        (["tree"], [manager(sim), "--json"], 0),
        (["watch"], [done, "--json"], 0),
        (["watch"], [done], 0),
        (["watchlist", "add"], [done, running], 0),
        (["watchlist", "ls"], ["--json"], 0),
        (["watchlist", "export"], [], 0),
        (["status"], ["--json"], 0),  # the watchlist just written
    ]


def test_no_headless_output_or_log_line_carries_the_key(
    sim: SimHandle, env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env.point_at(sim.base_url, KEY).inline_key = True  # --api-key KEY on every command line
    caplog.set_level(logging.DEBUG)  # every logger, the client libraries' included
    runs = headless_runs(sim)
    for command, args, code in runs:
        r = run_cli(capsys, monkeypatch, env, command, *args)
        assert r.code == code, (command, args, r.err)
        assert_no_key(r.out + r.err, f"`agp-tui {' '.join(command + args)}`")
    config = run_cli(capsys, monkeypatch, env, ["config"])
    assert "api_key" in config.out and "sk-…a605" in config.out  # redacted, not absent
    # A refused key: the message says what to do, and neither key appears.
    wrong = Env(env.root, env.config, env.data).point_at(sim.base_url, WRONG)
    for command, args in ((["status"], ids_of(sim, "completed")), (["ls"], ["--json"])):
        r = run_cli(capsys, monkeypatch, wrong, command, *args)
        assert r.code == 1 and "Authentication failed" in r.err
        assert_no_key(r.out + r.err, f"`agp-tui {' '.join(command)}` with a refused key")
    assert caplog.records, "nothing was logged at DEBUG: the log check would prove nothing"
    assert_no_key(caplog.text, "the log at DEBUG")
    print(f"\nsecrets: {len(runs) + 3} headless runs and {len(caplog.records)} DEBUG log records, "
          "no key")


def test_key_from_env_and_config_file_never_printed_by_the_installed_command(
    sim: SimHandle, env: Env,
) -> None:
    done = ids_of(sim, "completed")[0]
    env.config.write_text(f'[profiles.default]\nbase_url = "{sim.base_url}"\napi_key = "{KEY}"\n')
    env.config.chmod(0o600)
    for command, args in ((["config"], []), (["status"], [done, "--json"]), (["ls"], ["--limit", "3"])):
        r = run_agp(env, command, *args, server=False)
        assert r.code == 0, r.err
        assert_no_key(r.out + r.err, f"installed `agp-tui {command[0]}` with the key in the config file")
    r = run_agp(env, ["status"], done, server=False, H_API_KEY=KEY, AGP_BASE_URL=sim.base_url)
    assert r.code == 0 and "Traceback" not in r.err
    assert_no_key(r.out + r.err, "installed `agp-tui status` with H_API_KEY")


# -- (d): errors, tracebacks and crash reports -------------------------------------------


def render_rich_traceback(exc: BaseException) -> str:
    """What Rich prints for `exc` with locals shown (Textual's crash report style)."""
    buf = io.StringIO()
    console = Console(file=buf, width=300, color_system=None)
    console.print(Traceback.from_exception(type(exc), exc, exc.__traceback__, show_locals=True,
                                           width=300, locals_max_length=50, locals_max_string=400))
    return buf.getvalue()


def settings_for(base_url: str, tmp: Path, key: str = KEY) -> Settings:
    return Settings(base_url=base_url, api_key=Secret(key), config_path=tmp / "config.toml",
                    data_dir=tmp / "data")


async def _poll_once(settings: Settings, session_id: str) -> None:
    # Holds only the wrapped key; the frames below it (client, backend) are the product's.
    client = make_client(settings, fast=True)
    try:
        await client.get_status(session_id)
    finally:
        await client.aclose()


@pytest.mark.parametrize("case", ["unreachable", "refused key", "insecure"])
def test_errors_and_tracebacks_with_locals_never_show_the_key(
    case: str, sim: SimHandle, tmp_path: Path,
) -> None:
    sid = ids_of(sim, "running")[0]
    expected: type[AgpError]
    if case == "unreachable":  # a loopback port nobody listens on
        settings, expected = settings_for(f"http://127.0.0.1:{free_port()}/api/v2", tmp_path), Unreachable
    elif case == "refused key":
        settings, expected = settings_for(sim.base_url, tmp_path, WRONG), AuthError
    else:
        settings, expected = settings_for("http://agp.example.com/api/v2", tmp_path), InsecureTransport
    with pytest.raises(expected) as info:
        asyncio.run(_poll_once(settings, sid))
    exc = info.value
    rendered = render_rich_traceback(exc)
    assert "locals" in rendered  # the rendering really showed locals
    for text, where in (
        (str(exc), "str(exc)"), (repr(exc), "repr(exc)"),
        ("".join(traceback.format_exception(exc)), "traceback.format_exception"),
        (rendered, "a Rich traceback with show_locals=True"),
    ):
        assert_no_key(text, f"{where} ({case})")


def test_headers_handed_to_the_backend_show_no_key() -> None:
    headers = AuthHeaders({"Accept": "application/json"}, Secret(KEY))
    assert headers["Authorization"] == f"Bearer {KEY}"  # what goes on the wire
    assert dict(headers) == {"Accept": "application/json", "Authorization": f"Bearer {KEY}"}
    from rich.pretty import pretty_repr

    for text in (repr(headers), str(headers), f"{headers}", pretty_repr(headers),
                 pretty_repr({"headers": headers})):
        assert_no_key(text, "the request headers' repr")
        assert "Bearer sk-…a605" in text
    assert len(AuthHeaders({}, None)) == 0 and "Authorization" not in AuthHeaders({}, None)


def test_parsed_command_line_holds_the_key_only_wrapped() -> None:
    from agp_tui.cli import _overrides, build_parser

    args = build_parser().parse_args(["status", "--api-key", KEY, "x"])
    assert_no_key(repr(args), "repr of the parsed command line")
    overrides = _overrides(args)
    assert_no_key(repr(overrides), "repr of the CLI overrides")
    settings = load_settings(overrides, {"HOME": "/nonexistent", "XDG_CONFIG_HOME": "/nonexistent"})
    assert settings.api_key == Secret(KEY)
    assert_no_key(repr(settings), "repr of the settings")


# -- (b): the dashboard's screens, toasts and crash report ---------------------------------


@asynccontextmanager
async def dashboard(
    sim: SimHandle, tmp_path: Path, ids: list[str], key: str = KEY,
) -> AsyncIterator[tuple[AgpApp, Pilot[Any], list[str]]]:
    """The dashboard wired as the CLI wires it (Settings → make_engine → make_app)."""
    engine = make_engine(settings_for(sim.base_url, tmp_path, key))
    engine.add(ids)
    app = make_app(engine, profile="default", region="simulator", env=dict(os.environ))
    toasts: list[str] = []
    notify = app.notify

    def record(message: str, **kw: Any) -> None:
        toasts.append(f"{kw.get('title', '')}: {message}")
        notify(message, **kw)

    app.notify = record  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        yield app, pilot, toasts


def screen_text(app: AgpApp) -> str:
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


async def wait_until(pilot: Pilot[Any], cond: Any, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        assert loop.time() < deadline, "condition not reached in time"
        await pilot.pause(0.05)


async def test_no_screen_or_toast_shows_the_key(
    sim: SimHandle, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    ids = [*ids_of(sim, "running", 2), manager(sim)]
    shots: dict[str, str] = {}
    async with dashboard(sim, tmp_path, ids) as (app, pilot, toasts):
        await wait_until(pilot, lambda: all((v := app.engine.view(s)) and v.status for s in ids))
        await pilot.pause(0.3)
        shots["main"] = screen_text(app)
        await pilot.press("i")
        await pilot.pause(0.1)
        shots["detail"] = screen_text(app)
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        shots["help"] = screen_text(app)
        await pilot.press("escape")
        await pilot.press("a")
        await pilot.pause(0.1)
        shots["add dialog"] = screen_text(app)
        await pilot.press("escape")
        await pilot.press("l")
        await pilot.pause(0.5)
        shots["discover"] = screen_text(app)
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        shots["palette"] = screen_text(app)
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.engine.connection is Connection.LIVE
    async with dashboard(sim, tmp_path / "wrong", ids, key=WRONG) as (app, pilot, wrong_toasts):
        await wait_until(pilot, lambda: app.engine.connection is Connection.AUTH_ERROR)
        await pilot.pause(0.3)
        shots["refused key"] = screen_text(app)
        assert "AUTH ERROR" in shots["refused key"]
    for name, text in shots.items():
        assert_no_key(text, f"the {name} screen")
    for toast in toasts + wrong_toasts:
        assert_no_key(toast, "a toast")
    assert_no_key(caplog.text, "the dashboard's log")
    print(f"\nsecrets: {len(shots)} dashboard screens and {len(toasts) + len(wrong_toasts)} toasts, "
          "no key")


async def test_the_dashboards_crash_report_shows_no_locals(sim: SimHandle, tmp_path: Path) -> None:
    """What Textual prints on the way out of a crash (its `error_console`), read whole."""
    ids = ids_of(sim, "running")
    crashed: list[AgpApp] = []
    report = io.StringIO()

    def crash() -> None:
        token = KEY  # a local holding the raw key, as a careless frame might
        raise RuntimeError(f"boom near a {len(token)}-character token")

    with pytest.raises(RuntimeError, match="boom"):  # Pilot re-raises the app's crash
        async with dashboard(sim, tmp_path, ids) as (app, pilot, _):
            crashed.append(app)
            app.error_console = Console(file=report, width=200, color_system=None)
            app.main.action_toggle_detail = crash  # type: ignore[method-assign]
            await pilot.press("i")
            await pilot.pause(0.2)
    text = report.getvalue()
    assert crashed and text, "no crash report was printed"
    assert "RuntimeError" in text and "boom" in text and "crash" in text  # the error and its frame
    assert "locals" not in text.lower()
    assert_no_key(text, "the dashboard's crash report")


# -- (e): a config file holding a key that others can read ---------------------------------


@pytest.mark.parametrize(("mode", "warned"), [(0o644, True), (0o640, True), (0o600, False)])
def test_config_file_with_a_key_readable_by_others_is_warned_about(
    env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    mode: int, warned: bool,
) -> None:
    env.config.write_text(f'[profiles.default]\napi_key = "{KEY}"\n')
    env.config.chmod(mode)
    r = run_cli(capsys, monkeypatch, env, ["config"], server=False)
    assert r.code == 0
    warnings = [line for line in r.err.splitlines() if "warning" in line]
    if warned:
        assert warnings == [f"agp-tui: warning: {env.config} holds an API key and is readable by "
                            f"group or others (mode {mode:04o}); run: chmod 600 {env.config}"]
    else:
        assert warnings == []
    assert_no_key(r.out + r.err, "`agp-tui config`")


def test_no_warning_for_a_readable_config_without_a_key(
    env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    env.config.write_text('[profiles.default]\nregion = "us"\n')
    env.config.chmod(0o644)
    r = run_cli(capsys, monkeypatch, env, ["config"], server=False)
    assert r.code == 0 and "warning" not in r.err


# -- (f): plain http only to this machine, unless allowed ----------------------------------


@pytest.mark.parametrize("url", ["http://agp.example.com", "http://10.1.2.3:8000/api/v2",
                                 "http://[2001:db8::1]:8080"])
def test_plain_http_to_another_host_is_refused(
    url: str, env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    sid = "6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20"
    env.point_at(url, KEY)

    async def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a request to {url} was about to be sent")

    # Should the refusal ever break, fail here rather than reach out to a foreign host.
    monkeypatch.setattr(AiohttpBackend, "request", no_network)
    monkeypatch.setattr(HttpxBackend, "request", no_network)
    for command, args in ((["status"], [sid]), (["ls"], []), (["watch"], [sid])):
        r = run_cli(capsys, monkeypatch, env, command, *args)
        assert r.code == 2, (command, r.err)
        lines = r.err.splitlines()
        assert len(lines) == 1 and "refusing to send the API key over plain http" in lines[0]
        assert "--allow-insecure-http" in lines[0] and r.out == ""
        assert_no_key(r.err, "the refusal")
    # Explicitly allowed: the client is built (no request is made here: not our network).
    settings = load_settings(CliOverrides(config_path=env.config, base_url=url, api_key=KEY,
                                          allow_insecure_http=True), {})
    asyncio.run(make_client(settings, fast=False).aclose())
    refused = load_settings(CliOverrides(config_path=env.config, base_url=url, api_key=KEY), {})
    with pytest.raises(InsecureTransport):
        make_client(refused)


def test_https_and_loopback_http_are_allowed(
    sim: SimHandle, env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = sim.base_url.split(":")[2].split("/")[0]
    done = ids_of(sim, "completed")[0]
    for host in ("127.0.0.1", "localhost"):
        r = run_cli(capsys, monkeypatch, env.point_at(f"http://{host}:{port}", KEY), ["status"], done)
        assert r.code == 0 and "refusing" not in r.err, (host, r.err)
    # ::1 is loopback too: not refused (nothing may listen there, so it may be unreachable).
    r = run_cli(capsys, monkeypatch, env.point_at(f"http://[::1]:{free_port()}", KEY), ["status"], done)
    assert "refusing" not in r.err and r.code in (0, 1)
    for url in ("https://agp.example.com", "http://127.0.0.1:9/api/v2"):
        settings = load_settings(CliOverrides(config_path=env.config, base_url=url, api_key=KEY), {})
        asyncio.run(make_client(settings, fast=False).aclose())
    r = run_cli(capsys, monkeypatch, env.point_at("http://agp.example.com", KEY), ["config"],
                "--allow-insecure-http")
    assert r.code == 0 and "allow_insecure_http" in r.out
