"""Reading small files and streams without trusting what they turn out to be.

A file we read on our own (the watchlist, `hai login`'s key file) may have become a
symlink to `/dev/zero` (read forever, then `MemoryError`) or a FIFO (open blocks until
someone writes): those must be one clear error. A path the user names (`--config`,
`--api-key-file`, `watchlist import FILE`) may well be a pipe (`<(pass show agp)`), so it
is read, but never past a size cap. Errors are `OSError`s with a `strerror` that says
why, so callers' existing "cannot read X: <why>" messages cover them.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import IO

KB = 1024
MB = 1024 * KB


class Refused(OSError):
    """The file is not one we may read: not a regular file, or larger than the cap."""


def _size_text(limit: int) -> str:
    return f"{limit / MB:g} MB" if limit >= MB else f"{limit / KB:g} KB"


def too_large(limit: int) -> Refused:
    return Refused(errno.EFBIG, f"larger than {_size_text(limit)}")


def read_file(path: Path | str, limit: int, *, regular_only: bool = True) -> tuple[bytes, os.stat_result]:
    """At most `limit` bytes of `path` and its `fstat`; `Refused` past the cap or, with
    `regular_only`, for anything but a regular file (checked before reading a byte)."""
    flags = os.O_RDONLY | os.O_CLOEXEC
    if regular_only:
        flags |= os.O_NONBLOCK  # opening a FIFO must not wait for a writer
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if regular_only and not stat.S_ISREG(st.st_mode):
            raise Refused(errno.EINVAL, f"not a regular file ({_kind(st.st_mode)})")
        if stat.S_ISREG(st.st_mode) and st.st_size > limit:
            raise too_large(limit)
        if regular_only:
            os.set_blocking(fd, True)
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, min(limit + 1 - size, 1 * MB))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # a file growing while read, a device, a pipe
                raise too_large(limit)
        return b"".join(chunks), st
    finally:
        os.close(fd)


def read_stream(stream: IO[str], limit: int) -> str:
    """At most `limit` characters of a text stream (stdin); `Refused` past it."""
    text = stream.read(limit + 1)
    if len(text) > limit:
        raise too_large(limit)
    return text


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


def make_private_dirs(path: Path) -> None:
    """`mkdir -p path`, every directory it creates made 0700 whatever the umask.

    Directories that exist already are left as they are: they are the user's to set.
    """
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            continue  # made meanwhile by another process
        os.chmod(directory, 0o700)  # mkdir's mode is cut by the umask, never widened
    if not path.is_dir():  # as `mkdir(exist_ok=True)`: a file in the way is an error
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path))
