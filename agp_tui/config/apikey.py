"""Getting the API key out of a command or the dotenv file `hai login` writes, without leaking it."""

from __future__ import annotations

import contextlib
import os
import selectors
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from agp_tui.api.secret import Secret
from agp_tui.config.errors import ConfigError
from agp_tui.config.schema import api_key_problem
from agp_tui.safefile import KB, read_file

API_KEY_CMD_TIMEOUT = 5.0  # seconds; a password manager that needs longer should cache
# A key is a few dozen bytes: a key file or a key command's output past this is not one.
MAX_KEY_FILE_BYTES = 64 * KB
HAI_KEY_VAR = "HAI_API_KEY"


def checked_key(value: str, where: str, key: str | None) -> Secret:
    """`value` stripped and wrapped; a ConfigError (that never shows the value) if unusable."""
    value = value.strip()
    problem = api_key_problem(value)
    if problem:
        raise ConfigError(where, key, f"expected {problem}")
    return Secret(value)


def read_key_file(path: Path, where: str) -> Secret:
    """The key on the first line of a file the user named (`--api-key-file PATH`).

    Any file type (`--api-key-file <(pass show agp)` is a pipe) but at most
    MAX_KEY_FILE_BYTES; the contents are never shown, only why they are not a key.
    """
    try:
        raw, _ = read_file(path, MAX_KEY_FILE_BYTES, regular_only=False)
    except OSError as exc:
        raise ConfigError(where, None, f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    return _first_line_key(raw, where, f"{path} holds no key on its first line")


def read_key_stream(stream: IO[str] | None, where: str) -> Secret:
    """The key on the first line of stdin (`--api-key -`); the rest stays for the command."""
    line = stream.readline(MAX_KEY_FILE_BYTES + 1) if stream is not None else ""
    if len(line) > MAX_KEY_FILE_BYTES:
        raise ConfigError(where, None, f"the first line of stdin is longer than "
                          f"{MAX_KEY_FILE_BYTES // 1024} KB: not a key")
    return _first_line_key(line.encode("utf-8", "replace"), where, "stdin holds no key on its first line")


def _first_line_key(raw: bytes, where: str, empty: str) -> Secret:
    lines = raw.decode("utf-8", "replace").splitlines()
    first = lines[0].strip() if lines else ""
    if not first:
        raise ConfigError(where, None, empty)
    return checked_key(first, where, None)


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
        out = _read_output(proc, timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise ConfigError(where, key, f"command timed out after {timeout:g} s") from None
    except OverflowError:
        _kill(proc)
        raise ConfigError(where, key, f"command printed more than {MAX_KEY_FILE_BYTES // 1024} KB "
                          "(only its first line, the key, is wanted)") from None
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


def _read_output(proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    """The command's stdout once it exits, read as it comes: `communicate` would hold
    everything a runaway command prints (`cat /dev/zero`: gigabytes within the timeout).
    `OverflowError` past MAX_KEY_FILE_BYTES, `TimeoutExpired` past `timeout`."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    chunks: list[bytes] = []
    size = 0
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(proc.args, timeout)
            if not sel.select(left):
                continue
            chunk = os.read(fd, 64 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_KEY_FILE_BYTES:
                raise OverflowError
            chunks.append(chunk)
    proc.stdout.close()
    proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
    return b"".join(chunks)


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
        # Read on our own, not named by the user: a regular file of sane size, or nothing.
        raw, _ = read_file(path, MAX_KEY_FILE_BYTES)
        text = raw.decode("utf-8")
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
