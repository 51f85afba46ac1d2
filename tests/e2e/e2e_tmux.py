"""Driving the installed `agp-tui` in a detached tmux session, and reading the screen back."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCRUB = ("AGP_BASE_URL", "AGP_PROFILE", "H_API_KEY", "HAI_API_KEY", "NO_COLOR", "TMUX", "TMUX_PANE",
         "COLUMNS", "LINES", "PYTHONPATH")
PROMPT = "READY$ "
E2E_KEY = "hk-e2e-0123456789abcdef"


def agp_command() -> str:
    script = Path(sys.executable).parent / "agp-tui"
    if script.exists():
        return str(script)
    found = shutil.which("agp-tui")
    return found or f"{sys.executable} -m agp_tui"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def isolated_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUB}
    (root / "home").mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(root / "home"), XDG_DATA_HOME=str(root / "data"),
               XDG_CONFIG_HOME=str(root / "config"), PS1=PROMPT)
    return env


class Sim:
    """`agp-tui sim --port P` as a subprocess, with its own key."""

    def __init__(self, env: dict[str, str], key: str, *extra: str) -> None:
        self.port = free_port()
        self.key = key
        self.base_url = f"http://127.0.0.1:{self.port}/api/v2"
        self.proc = subprocess.Popen(
            [*agp_command().split(), "sim", "--port", str(self.port), "--key", key, "--sessions", "60",
             "--seed", "5", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        deadline = time.monotonic() + 60  # a 10,000-session batch world takes a few seconds
        while True:
            try:
                self.get("/sessions/quota")
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the simulator did not start") from None
                time.sleep(0.05)

    def get(self, path: str) -> Any:
        req = urllib.request.Request(self.base_url + path, headers={"Authorization": f"Bearer {self.key}"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    def manager(self) -> str:
        """A session with subagents, for the tree screen."""
        for item in self.get("/sessions?size=50")["items"]:
            if self.get(f"/sessions/{item['id']}/status")["subagent_session_ids"]:
                return str(item["id"])
        raise RuntimeError("no session with subagents")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Tmux:
    """One tmux server on its own socket, one pane running `bash --norc` with PS1=READY$."""

    def __init__(self, env: dict[str, str], root: Path, width: int, height: int) -> None:
        self.socket = f"agp-e2e-{uuid.uuid4().hex[:12]}"
        self.env = env
        self.exit_file = root / f"exit-{self.socket}"
        self.socket_path = Path()
        self.run("-f", "/dev/null", "new-session", "-d", "-x", str(width), "-y", str(height), "-s", "e2e",
                 "bash", "--norc", "--noprofile")
        try:
            self.socket_path = Path(self.run("display", "-p", "#{socket_path}").strip())
            self.wait_for(lambda text: PROMPT.strip() in text, what="the shell prompt")
        except BaseException:
            self.kill()
            raise

    def run(self, *args: str) -> str:
        proc = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              env=self.env, timeout=10, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args[:2])} failed: {proc.stderr.strip()}")
        return proc.stdout

    def start(self, command: str) -> None:
        """Type `command` at the prompt; its exit code lands in `exit_file`."""
        self.run("send-keys", "-t", "e2e", "-l", f"{command}; echo EXIT=$? > {self.exit_file}")
        self.run("send-keys", "-t", "e2e", "Enter")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "e2e", *keys)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", "e2e", "-l", text)

    def screen(self, *, escapes: bool = False) -> str:
        return self.run("capture-pane", "-p", "-t", "e2e", *(["-e"] if escapes else []))

    def flag(self, name: str) -> str:
        return self.run("display", "-p", "-t", "e2e", f"#{{{name}}}").strip()

    def wait_for(self, pred: Callable[[str], bool], *, what: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if pred(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; the screen was:\n{text}")

    def wait_exit(self, timeout: float = 15.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exit_file.exists():
                match = re.search(r"EXIT=(\d+)", self.exit_file.read_text())
                if match:
                    return int(match.group(1))
            time.sleep(0.1)
        raise AssertionError(f"the command did not exit; the screen was:\n{self.screen()}")

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, env=self.env,
                       timeout=10, check=False)
        if self.socket_path.name == self.socket:  # tmux 3.3 leaves the socket file behind
            self.socket_path.unlink(missing_ok=True)


CHROMATIC_SGR = re.compile(r"\x1b\[([0-9;]*)m")


def chromatic_colours(text: str) -> list[str]:
    """SGR colour parameters in `text` that carry a hue (not black, white or grey)."""
    found = []
    for match in CHROMATIC_SGR.finditer(text):
        params = [int(p) if p.isdigit() else 0 for p in match.group(1).split(";")]
        i = 0
        while i < len(params):
            p = params[i]
            if p in (38, 48, 58) and i + 1 < len(params):
                if params[i + 1] == 5 and i + 2 < len(params):
                    n = params[i + 2]
                    if not (n in (0, 7, 8, 15, 16, 231) or 232 <= n <= 255 or _grey_cube(n)):
                        found.append(match.group(0))
                    i += 3
                    continue
                if params[i + 1] == 2 and i + 4 < len(params):
                    r, g, b = params[i + 2:i + 5]
                    if max(r, g, b) - min(r, g, b) > 8:
                        found.append(match.group(0))
                    i += 5
                    continue
            if 31 <= p <= 36 or 41 <= p <= 46 or 91 <= p <= 96 or 101 <= p <= 106:
                found.append(match.group(0))
            i += 1
    return found


def _grey_cube(n: int) -> bool:
    if not 16 <= n <= 231:
        return False
    n -= 16
    return n // 36 == (n // 6) % 6 == n % 6
