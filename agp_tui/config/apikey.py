"""Getting the API key out of a command or the dotenv file `hai login` writes, without leaking it."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

from agp_tui.api.secret import Secret
from agp_tui.config.errors import ConfigError
from agp_tui.config.schema import api_key_problem

API_KEY_CMD_TIMEOUT = 5.0  # seconds; a password manager that needs longer should cache
HAI_KEY_VAR = "HAI_API_KEY"


def checked_key(value: str, where: str, key: str | None) -> Secret:
    """`value` stripped and wrapped; a ConfigError (that never shows the value) if unusable."""
    value = value.strip()
    problem = api_key_problem(value)
    if problem:
        raise ConfigError(where, key, f"expected {problem}")
    return Secret(value)


def run_key_command(
    command: str,
    *,
    where: str,
    key: str,
    env: Mapping[str, str] | None = None,
    timeout: float = API_KEY_CMD_TIMEOUT,
) -> Secret:
    """Run `command` (split with shlex, no shell) and return its first stdout line as the key.

    Failures name `where`/`key` and the exit status; stdout is never shown, since it may hold
    the key. stderr is inherited so the tool's own diagnostics reach the user.
    """
    argv = shlex.split(command)
    if not argv:
        raise ConfigError(where, key, "expected a command, got an empty string")
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=None,  # a password manager's own complaints reach the terminal as-is
            env=dict(env) if env is not None else None,
            # its own process group, so a timeout also kills anything it started
            process_group=0 if os.name == "posix" else None,
        )
    except FileNotFoundError:
        raise ConfigError(where, key, f"command not found: {argv[0]!r}") from None
    except OSError as exc:
        raise ConfigError(where, key, f"command {argv[0]!r} could not start: {exc.strerror}") from None
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise ConfigError(where, key, f"command timed out after {timeout:g} s") from None
    if proc.returncode != 0:
        status = (
            f"was killed by signal {-proc.returncode}"
            if proc.returncode < 0
            else f"exited with status {proc.returncode}"
        )
        raise ConfigError(where, key, f"command {status}")
    lines = out.decode("utf-8", "replace").splitlines()
    first = lines[0].strip() if lines else ""
    if not first:
        raise ConfigError(where, key, "command printed no key on its first line")
    problem = api_key_problem(first)
    if problem:
        raise ConfigError(where, key, f"command's first line is not a usable key: expected {problem}")
    return Secret(first)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill the command and its process group; a straggler holding the pipe is not waited for."""
    with contextlib.suppress(OSError):
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=1.0)


def read_dotenv_value(path: Path, name: str) -> str | None:
    """The value of `name` in a dotenv file (`NAME=v`, `export NAME="v"`), or None.

    The first assignment wins, as in the official SDK; an unreadable file counts as absent.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        left, sep, value = line.strip().removeprefix("export ").partition("=")
        if not sep or left.strip() != name:
            continue
        value = value.strip()
        if value[:1] in ("'", '"'):
            end = value.find(value[0], 1)
            value = value[1:end] if end > 0 else value[1:]
        else:
            value = value.split(" #", 1)[0]
        return value.strip() or None
    return None
