"""Exit codes of the headless commands, and the one place async commands are run.

| code | meaning                                                                  |
|------|--------------------------------------------------------------------------|
| 0    | success (`watch --exit-status`: every session completed); `status` and   |
|      | `watch` with no session at all (an empty watchlist or input)             |
| 1    | an API error: not found, auth, unreachable, server error; `watch`: a     |
|      | session could not be read; `watch --exit-status`: a session failed       |
| 2    | usage: bad flag, unknown command, malformed session id, a short id that  |
|      | names no single watched session, unreadable input file, config           |
| 3    | `watch --exit-status`: a session timed out (none failed)                 |
| 4    | `watch --exit-status`: a session was interrupted (cancelled)             |
| 5    | `watch --exit-status`: a session went idle, waiting for a message        |
| 130  | interrupted with Ctrl-C                                                  |
| 141  | stdout closed early (`agp-tui ls | head -1`), as if killed by SIGPIPE;   |
|      | for every command (cli.main catches it once, as well as these guards)    |
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from agp_tui.api.errors import AgpError, AuthError, InsecureTransport, Unreachable
from agp_tui.api.ids import InvalidSessionId
from agp_tui.headless.output import err

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TIMED_OUT = 3
EXIT_INTERRUPTED_SESSION = 4
EXIT_IDLE = 5
EXIT_CTRL_C = 130
EXIT_BROKEN_PIPE = 141

# A settled session's outcome → exit code under --exit-status (`watch`, `events --follow`),
# and the order in which they win.
OUTCOME_CODES = {"failed": 1, "not_found": 1, "error": 1, "timed_out": 3, "interrupted": 4, "idle": 5,
                 "completed": 0}
PRECEDENCE = (1, 3, 4, 5, 0)


def exit_code_for(outcomes: list[str], *, exit_status: bool) -> int:
    """The exit code once every session settled with these outcomes."""
    if not exit_status:
        return 1 if {"not_found", "error"} & set(outcomes) else 0
    codes = {OUTCOME_CODES.get(o, 1) for o in outcomes}
    return next(c for c in PRECEDENCE if c in codes)


def describe_error(exc: AgpError) -> str:
    """One line for the user; a refused key also says where keys come from."""
    text = str(exc)
    if isinstance(exc, AuthError) and exc.status == 401:
        text += " (check --api-key, H_API_KEY / HAI_API_KEY or the profile's api_key)"
    return text


def code_for(exc: AgpError) -> int:
    # Bad input and a refused insecure URL are the caller's to fix: usage, like a bad flag.
    return EXIT_USAGE if isinstance(exc, InvalidSessionId | InsecureTransport) else EXIT_ERROR


# Past its own deadline a command has this long to print what it has and close its client.
DEADLINE_GRACE = 2.0


def run(main: Callable[[], Coroutine[Any, Any, int]], *, deadline: float | None = None) -> int:
    """Run an async command; Ctrl-C → 130, a closed pipe → 141, an AgpError → one line.

    On Ctrl-C asyncio cancels the command's task first, so its `finally` blocks (closing
    the engine and the client) run before we return; no traceback is printed.

    `deadline` (seconds) is a backstop: the commands given one stop their own work at it
    and print what they read, and this cancels whatever is still going `DEADLINE_GRACE`
    seconds later, with one line and exit 1.
    """

    async def bounded() -> int:
        if deadline is None:
            return await main()
        try:
            async with asyncio.timeout(deadline + DEADLINE_GRACE):
                return await main()
        except TimeoutError:
            raise Unreachable(f"no complete answer within {deadline:g} s "
                              "(limits.command_timeout)") from None

    try:
        return asyncio.run(bounded())
    except KeyboardInterrupt:
        return EXIT_CTRL_C
    except BrokenPipeError:
        silence_stdout()
        return EXIT_BROKEN_PIPE
    except AgpError as exc:
        err(describe_error(exc))
        return code_for(exc)


def guarded(fn: Callable[[], int]) -> int:
    """The same guards for a synchronous command."""
    try:
        return fn()
    except KeyboardInterrupt:
        return EXIT_CTRL_C
    except BrokenPipeError:
        silence_stdout()
        return EXIT_BROKEN_PIPE


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
