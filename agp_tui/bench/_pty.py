"""The installed dashboard in a pseudo-terminal of a given size, as a user's terminal sees it."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass


@dataclass
class Pty:
    proc: subprocess.Popen[bytes]
    master: int

    def read(self, timeout: float) -> bytes | None:
        """What the program wrote within `timeout` s: b"" if nothing, None once it is gone."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self.master, 65536)
        except OSError:  # EIO: the program exited and the pty closed
            return None


@contextmanager
def spawn(argv: Sequence[str], cols: int, rows: int, env: Mapping[str, str]) -> Iterator[Pty]:
    """Run `argv` in a `cols`x`rows` pty; on the way out press `q` and wait (kill at 10 s)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    proc = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=slave,
                            env={**env, "TERM": "xterm-256color"}, close_fds=True, start_new_session=True)
    os.close(slave)
    try:
        yield Pty(proc, master)
    finally:
        with suppress(OSError):  # the program may be gone already
            os.write(master, b"q")
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(master)
