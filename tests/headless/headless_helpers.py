"""Running the real `agp-tui` in-process (cli.main + capsys) or as the installed command."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agp_tui.cli import main
from agp_tui.sim import DEMO_API_KEY, ManualClock, SimHandle, World, start_in_thread

KEY = "hk-headless-fake-0001"  # the key of the `fake` fixture's server
MODEL = "holo3-1-35b-a3b"
ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).parent / "agp-tui"
AGP: list[str] = [str(_SCRIPT)] if _SCRIPT.exists() else (
    [shutil.which("agp-tui")] if shutil.which("agp-tui") else [sys.executable, "-m", "agp_tui"]
)  # type: ignore[list-item]

SCRUB = ("AGP_BASE_URL", "AGP_PROFILE", "H_API_KEY", "HAI_API_KEY", "NO_COLOR", "COLUMNS", "LINES")


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def lines(self) -> list[str]:
        return self.out.splitlines()


@dataclass
class Env:
    """An isolated home: config file, XDG dirs, and the env a subprocess gets."""

    root: Path
    config: Path
    data: Path
    base_url: str = ""
    api_key: str = ""
    inline_key: bool = False  # `--api-key KEY` instead of `--api-key-file`

    def opts(self, *, server: bool = True) -> list[str]:
        """`--config`, and with `server` the server and its key. The key goes in a file, as
        on a shared machine (`--api-key VALUE` makes `watch` warn that `ps` shows it)."""
        opts = ["--config", str(self.config)]
        if server and self.base_url and self.inline_key:
            opts += ["--base-url", self.base_url, "--api-key", self.api_key]
        elif server and self.base_url:
            key_file = self.root / "api.key"
            key_file.write_text(self.api_key + "\n")
            opts += ["--base-url", self.base_url, "--api-key-file", str(key_file)]
        return opts

    def environ(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in SCRUB}
        env.update(HOME=str(self.root / "home"), XDG_DATA_HOME=str(self.data),
                   XDG_CONFIG_HOME=str(self.root / "xdg-config"), TERM="dumb")
        env.update(extra)
        return env

    @property
    def watchlist_file(self) -> Path:
        """The list of profile "default" on its own server (EU): what `server=False` runs edit.

        Spelled out, not computed by the code under test: the name is users' data.
        """
        return self.data / "agp-tui" / "watchlist-default@agp.eu.hcompany.ai-c93c1212.json"

    @property
    def server_watchlist_file(self) -> Path:
        """The list that runs with `--base-url self.base_url` (server=True) read and edit."""
        from agp_tui.config import CliOverrides, load_settings

        cli = CliOverrides(config_path=self.config, base_url=self.base_url or None)
        return load_settings(cli, self.environ()).watchlist_path

    @property
    def legacy_watchlist_file(self) -> Path:
        """Where agp-tui kept profile "default"'s list before lists were keyed by server."""
        return self.data / "agp-tui" / "watchlist-default.json"

    def point_at(self, base_url: str, api_key: str) -> Env:
        self.base_url, self.api_key = base_url, api_key
        return self


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released): an unreachable server."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def keyed_sim(seed: int, sessions: int, *keys: str) -> SimHandle:
    """A frozen-clock simulator in a thread accepting `keys` (and the demo key, for set-up)."""
    world = World(seed=seed, sessions=sessions, clock=ManualClock(), arrival_interval_s=0)
    return start_in_thread(world, api_keys=(*keys, DEMO_API_KEY))


def make_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    root = tmp_path / "agp-home"
    (root / "home").mkdir(parents=True)
    config = root / "config.toml"
    config.write_text("# empty: every setting at its default\n")
    env = Env(root=root, config=config, data=root / "xdg-data")
    for name in SCRUB:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(root / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(env.data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "xdg-config"))
    return env


class FakeStdin(io.StringIO):
    def __init__(self, text: str, *, tty: bool = False) -> None:
        super().__init__(text)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def run_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, env: Env, command: list[str],
    *args: str, stdin: str | None = None, stdin_tty: bool = False, server: bool = True,
) -> Result:
    """`agp-tui COMMAND... [global options] ARGS...` through the real `agp_tui.cli.main`."""
    monkeypatch.setattr(sys, "stdin", FakeStdin(stdin or "", tty=stdin_tty))
    capsys.readouterr()
    code = main([*command, *env.opts(server=server), *args])
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def run_agp(env: Env, command: list[str], *args: str, input: str | None = None,
            timeout: float = 30, server: bool = True, **extra_env: str) -> Result:
    """The installed `agp-tui` in a subprocess, stdout/stderr piped."""
    proc = subprocess.run(
        [*AGP, *command, *env.opts(server=server), *args], input=input if input is not None else "",
        capture_output=True, text=True, timeout=timeout, env=env.environ(**extra_env), cwd=env.root,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def api(base_url: str, key: str, method: str, path: str, body: Any = None) -> Any:
    """A direct call to a server, independent of the code under test."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base_url + path, method=method, data=data, headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def tab_rows(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


Cli = Callable[..., Result]  # the `cli` / `agp` fixtures: (command, *args, **options) -> Result
SEED = 11  # a world whose history holds completed, failed, timed_out and interrupted sessions


def sid(n: int) -> str:
    return str(uuid.UUID(int=n, version=4))


def tokens(n: int) -> list[tuple[str, int, int, int]]:
    """`n` input tokens, and a tenth as many output tokens, on one model."""
    return [(MODEL, n, n // 10, 0)] if n else []


def new_sim(sessions: int = 150) -> SimHandle:
    """A simulator whose clock only moves when a test calls `advance`: nothing flakes."""
    world = World(seed=SEED, sessions=sessions, clock=ManualClock(), arrival_interval_s=0)
    return start_in_thread(world)


def pick(handle: SimHandle, status: str, *, top_level: bool = False, n: int = 1) -> list[str]:
    """Ids of sessions in `status`, straight from the simulator's list endpoint."""
    page = api(handle.base_url, DEMO_API_KEY, "GET", f"/sessions?status={status}&size=100")
    found = [item["id"] for item in page["items"]]
    if top_level:
        found = [i for i in found if getattr(handle.world.get(i), "parent_id", "x") is None]
    assert len(found) >= n, f"the seed-{SEED} world has fewer than {n} {status} sessions"
    return found[:n]


def manager_id(handle: SimHandle, *, grandchildren: bool = False) -> str:
    """A top-level session with subagents (whose own subagents exist, if asked)."""
    world = handle.world
    for s in reversed(world.all_sessions()):
        if s.parent_id is not None or not s.children:
            continue
        kids = [world.get(c) for c in s.children]
        if not grandchildren or any(k is not None and k.children for k in kids):
            return s.id
    raise AssertionError("no such manager session in the simulated world")
