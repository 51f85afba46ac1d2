"""The watchlist: an ordered set of session ids, persisted per profile and server as one JSON file.

A dashboard and a scripted `agp-tui add` may run at the same time against the same file,
so no change is ever made to a stale in-memory copy: every mutation takes an exclusive
`flock` on a sibling `<name>.lock`, re-reads the file, applies just that one operation to
what is on disk, writes atomically and releases. The cache then holds the merged result.

Reads take no lock: writers only ever `os.replace` a complete file into place, so a reader
sees either the old or the new version, never a torn one.

A writer killed between creating its temp file and renaming it (SIGKILL, power loss)
leaves a `.<name>.<random>.tmp` behind; temp files are only ever created under the lock, so
the first mutation of each `Watchlist` deletes any it finds while holding the lock.

A file we cannot parse is moved aside to `<name>.corrupt-<UTC timestamp>` (under the lock,
after re-checking it is still corrupt) and a warning is recorded; it is never emptied or
overwritten in place, so a hand edit gone wrong loses nothing.

Adopting a file of the older per-profile layout (`legacy`, see `Watchlist`): on first use
its entries are merged into ours (ours win on conflict) and it is renamed
`<legacy>.migrated`, holding our lock and then its own (which older versions take), so two
processes adopting at once do it once. At every instant each entry is in our file, in the
legacy file, or both, so a crash loses nothing; the next run merges again, by id.

File format::

    {"version": 1, "sessions": [{"id": "...", "label": null, "pinned": false, "added_at": 0.0}],
     "follows": ["group:nightly status:running"]}

`follows` (optional) are the filters followed from the dashboard (`F` on the discover
screen), each one live target (see monitor/groups.py), in the query syntax of api/query.py.
Unknown keys are ignored; entries whose id is not a session id, and follows that do not
parse, are dropped with a warning.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agp_tui.api.ids import InvalidSessionId, normalize_session_id
from agp_tui.api.query import QueryError, SessionQuery
from agp_tui.safefile import MB, make_private_dirs, read_file

FORMAT_VERSION = 1
MAX_FILE_BYTES = 32 * MB  # about 200,000 entries; a larger file is refused, not read

# (st_ino, st_mtime_ns, st_size): the inode catches a same-size rewrite within one mtime
# tick, because every write is a rename of a fresh file.
_Signature = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class WatchEntry:
    id: str
    label: str | None = None
    pinned: bool = False
    added_at: float = 0.0  # epoch seconds

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "pinned": self.pinned, "added_at": self.added_at}


class WatchlistError(Exception):
    """The watchlist file could not be read or written; `str()` is one line naming the path."""


class _Corrupt(Exception):
    """The file exists but is not a watchlist; `reason` says why, for the warning."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _TooNew(Exception):
    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.version = version


def _why(err: OSError) -> str:
    return err.strerror or type(err).__name__


def _clean_label(label: str | None) -> str | None:
    # A blank label would render as an empty cell; treat it as "no label".
    if label is None:
        return None
    text = label.strip()
    return text or None


def _normalize_all(ids: Iterable[str]) -> list[str]:
    # A bare string is one id, not an iterable of one-character ids.
    items: Iterable[str] = [ids] if isinstance(ids, str) else ids
    out: list[str] = []
    seen: set[str] = set()
    for raw in items:
        sid = normalize_session_id(raw)
        if sid not in seen:
            seen.add(sid)
            out.append(sid)
    return out


def _parse(raw: bytes) -> tuple[dict[str, WatchEntry], list[str], list[str]]:
    """Entries keyed by id in file order, the followed filters, and a description of each
    dropped entry."""
    if not raw.strip():
        # Nothing to lose, so no reason to quarantine (e.g. a user `touch`ed the file).
        return {}, [], []
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError
        first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise _Corrupt(f"not valid JSON: {first_line}") from None
    if not isinstance(doc, dict):
        raise _Corrupt(f"expected a JSON object, got {type(doc).__name__}")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _Corrupt("missing or non-integer 'version'")
    if version > FORMAT_VERSION:
        raise _TooNew(version)
    if version < 1:
        raise _Corrupt(f"unknown version {version}")
    sessions = doc.get("sessions")
    if not isinstance(sessions, list):
        raise _Corrupt("'sessions' is not a list")

    entries: dict[str, WatchEntry] = {}
    dropped: list[str] = []
    for item in sessions:
        if not isinstance(item, dict):
            dropped.append(f"{item!r:.40} (not an object)")
            continue
        raw_id = item.get("id")
        if not isinstance(raw_id, str):
            dropped.append(f"{raw_id!r:.40} (id is not a string)")
            continue
        try:
            sid = normalize_session_id(raw_id)
        except InvalidSessionId:
            dropped.append(f"{raw_id!r:.40} (not a session id)")
            continue
        if sid in entries:
            continue  # a hand-edited duplicate: the first one wins, nothing is lost
        label = item.get("label")
        added_at = item.get("added_at")
        entries[sid] = WatchEntry(
            id=sid,
            label=_clean_label(label) if isinstance(label, str) else None,
            pinned=item.get("pinned") is True,
            added_at=(
                float(added_at)
                if isinstance(added_at, (int, float))
                and not isinstance(added_at, bool)
                and math.isfinite(added_at)
                else 0.0
            ),
        )
    follows: list[str] = []
    raw_follows = doc.get("follows", [])
    for item in raw_follows if isinstance(raw_follows, list) else [raw_follows]:
        try:
            # canonical text: a hand-written `since:2h` is fixed to a date from now on
            text = str(SessionQuery.parse(item, time.time())) if isinstance(item, str) else None
        except QueryError as err:
            dropped.append(f"follow {item!r:.60} ({err})")
            continue
        if text is None:
            dropped.append(f"follow {item!r:.40} (not a filter string)")
        elif text not in follows:
            follows.append(text)
    return entries, follows, dropped


class Watchlist:
    """The watchlist of one profile on one server, stored at `path` (the caller picks it).

    `legacy`, when given, is a file of the older per-profile layout that belongs here: it is
    merged in and moved aside on first use (see the module docstring).

    Accessors (`entries`, `ids`, `in`, `len`) read the in-memory cache, which is filled by
    `load()` and refreshed by every mutation and by `reload_if_changed()`; they never touch
    the disk. Mutations raise `WatchlistError` when the file cannot be written, and
    `InvalidSessionId` (before any I/O) when given a malformed id.
    """

    def __init__(
        self, path: Path, *, clock: Callable[[], float] = time.time, legacy: Path | None = None
    ) -> None:
        self._path = Path(path)
        self._legacy = Path(legacy) if legacy is not None else None
        self._adopted = legacy is None  # the legacy file is looked at once per instance
        self._lock_path = self._path.with_name(self._path.name + ".lock")
        self._clock = clock
        self._entries: dict[str, WatchEntry] = {}
        self._follows: list[str] = []
        self._sig: _Signature | None = None
        self._warnings: list[str] = []
        self._warned: set[str] = set()
        # flock serialises processes (and separate fds); this serialises threads sharing us.
        self._mutex = threading.Lock()
        self._swept = False  # debris of killed writers is removed once per instance

    # ----------------------------------------------------------------- accessors

    @property
    def path(self) -> Path:
        return self._path

    @property
    def warnings(self) -> list[str]:
        """Problems met while reading (corrupt file moved aside, entries dropped); a copy."""
        return list(self._warnings)

    def take_warnings(self) -> list[str]:
        """The pending warnings, cleared so the caller shows each one once."""
        taken, self._warnings = self._warnings, []
        return taken

    def entries(self) -> list[WatchEntry]:
        """Pinned entries first, then the rest; each group in insertion order."""
        values = list(self._entries.values())
        return [e for e in values if e.pinned] + [e for e in values if not e.pinned]

    def ids(self) -> list[str]:
        return [e.id for e in self.entries()]

    def follows(self) -> list[str]:
        """The followed filters, in the order they were followed (canonical query text)."""
        return list(self._follows)

    def __contains__(self, session_id: object) -> bool:
        if not isinstance(session_id, str):
            return False
        try:
            return normalize_session_id(session_id) in self._entries
        except InvalidSessionId:
            return False

    def __len__(self) -> int:
        return len(self._entries)

    def export_json(self) -> str:
        """A JSON array of {"id", "label", "pinned", "added_at"}, in `entries()` order."""
        return json.dumps([e.to_json() for e in self.entries()], indent=2, ensure_ascii=False)

    # ------------------------------------------------------------------ reading

    def load(self) -> list[WatchEntry]:
        """Read the file (missing means empty) into the cache and return `entries()`."""
        with self._mutex:
            self._adopt_legacy()
            self._refresh()
        return self.entries()

    def reload_if_changed(self) -> bool:
        """Re-read if the file changed on disk (one `stat`); True if any entry differs.

        "Differs" covers ids, order, labels and pins: anything the table would show.
        """
        with self._mutex:
            self._adopt_legacy()
            try:
                st = os.stat(self._path)
                sig: _Signature | None = (st.st_ino, st.st_mtime_ns, st.st_size)
            except FileNotFoundError:
                sig = None
            except OSError as err:
                raise WatchlistError(f"cannot read watchlist {self._path}: {_why(err)}") from None
            if sig == self._sig:
                return False
            before = (list(self._entries.values()), self._follows)
            self._refresh()
            return (list(self._entries.values()), self._follows) != before

    # ---------------------------------------------------------------- mutations

    def add(self, ids: Iterable[str], *, label: str | None = None) -> list[str]:
        """Add ids not yet present (at the end, unpinned); returns those actually added."""
        return self.add_labelled(ids, label, relabel=False)[0]

    def add_labelled(
        self, ids: Iterable[str], label: str | None, *, relabel: bool = True
    ) -> tuple[list[str], list[str]]:
        """Add ids not yet present with `label`, and (with `relabel`) give ids already listed
        that label too (None or blank clears it), in one locked write.

        Returns (added, relabelled): relabelled are listed ids whose label actually changed.
        """
        wanted = _normalize_all(ids)  # raises InvalidSessionId before anything is written
        clean = _clean_label(label)
        added: list[str] = []
        relabelled: list[str] = []

        def op(entries: dict[str, WatchEntry]) -> bool:
            now = self._clock()
            for sid in wanted:
                current = entries.get(sid)
                if current is None:
                    entries[sid] = WatchEntry(id=sid, label=clean, pinned=False, added_at=now)
                    added.append(sid)
                elif relabel and current.label != clean:
                    entries[sid] = replace(current, label=clean)  # keeps its position
                    relabelled.append(sid)
            return bool(added or relabelled)

        if wanted:
            self._mutate(op)
        return added, relabelled

    def remove(self, ids: Iterable[str]) -> list[str]:
        """Remove the given ids; returns those that were present (in the order given)."""
        doomed = _normalize_all(ids)
        removed: list[str] = []

        def op(entries: dict[str, WatchEntry]) -> bool:
            for sid in doomed:
                if entries.pop(sid, None) is not None:
                    removed.append(sid)
            return bool(removed)

        if doomed:
            self._mutate(op)
        return removed

    def add_follow(self, query: SessionQuery) -> bool:
        """Keep following `query` across runs; False if it was followed already."""
        text = str(query)

        def op(follows: list[str]) -> bool:
            if text in follows:
                return False
            follows.append(text)
            return True

        return self._mutate_follows(op)

    def remove_follow(self, key: str) -> bool:
        """Stop keeping the filter whose canonical text is `key`; False if it was not kept."""

        def op(follows: list[str]) -> bool:
            if key not in follows:
                return False
            follows.remove(key)
            return True

        return self._mutate_follows(op)

    def set_label(self, session_id: str, label: str | None) -> None:
        """Set or clear (None or blank) a label; `WatchlistError` if the id is not listed."""
        sid = normalize_session_id(session_id)
        clean = _clean_label(label)
        self._mutate(lambda entries: self._update(entries, sid, label=clean))

    def set_pinned(self, session_id: str, pinned: bool) -> None:
        """Pin (sort first) or unpin; `WatchlistError` if the id is not listed."""
        sid = normalize_session_id(session_id)
        self._mutate(lambda entries: self._update(entries, sid, pinned=pinned))

    # ----------------------------------------------------------------- internals

    def _update(self, entries: dict[str, WatchEntry], sid: str, **changes: Any) -> bool:
        current = entries.get(sid)
        if current is None:
            # Checked against the disk, so this also covers another instance removing it.
            raise WatchlistError(f"{sid} is not on the watchlist {self._path}")
        updated = replace(current, **changes)
        if updated == current:
            return False
        entries[sid] = updated  # same key: keeps its insertion position
        return True

    def _warn(self, message: str) -> None:
        # The same dropped entry is seen again on every re-read until a write drops it.
        if message not in self._warned:
            self._warned.add(message)
            self._warnings.append(message)

    def _note_dropped(self, dropped: list[str]) -> None:
        if dropped:
            self._warn(
                f"watchlist file {self._path}: ignored {len(dropped)} invalid "
                f"entr{'y' if len(dropped) == 1 else 'ies'}: {', '.join(dropped)}"
            )

    def _read_disk(self) -> tuple[dict[str, WatchEntry], list[str], list[str], _Signature | None]:
        try:
            # A regular file under the cap only: a symlink to /dev/zero or a FIFO put in its
            # place is an error to report, not a read that never ends. The fstat is of the
            # open fd, so the signature describes exactly the bytes we read.
            raw, st = read_file(self._path, MAX_FILE_BYTES)
        except FileNotFoundError:
            return {}, [], [], None
        except OSError as err:
            raise WatchlistError(f"cannot read watchlist {self._path}: {_why(err)}") from None
        try:
            entries, follows, dropped = _parse(raw)
        except _TooNew as err:
            raise WatchlistError(
                f"watchlist {self._path} was written by a newer agp-tui "
                f"(format version {err.version}); leaving it untouched"
            ) from None
        return entries, follows, dropped, (st.st_ino, st.st_mtime_ns, st.st_size)

    def _read_or_quarantine(self) -> tuple[dict[str, WatchEntry], list[str], list[str], _Signature | None]:
        """`_read_disk`, moving a corrupt file aside. Call with the file lock held."""
        try:
            return self._read_disk()
        except _Corrupt as err:
            self._quarantine(err.reason)
            return {}, [], [], None

    def _refresh(self) -> None:
        try:
            entries, follows, dropped, sig = self._read_disk()
        except _Corrupt:
            # Re-check under the lock: another instance may be fixing or moving it right now,
            # and we must never move aside a good file it has just written.
            with self._locked():
                entries, follows, dropped, sig = self._read_or_quarantine()
        self._note_dropped(dropped)
        self._entries, self._follows, self._sig = entries, follows, sig

    def _quarantine(self, reason: str) -> None:
        stamp = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y%m%dT%H%M%S")
        target = self._path.with_name(f"{self._path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():  # two corruptions within one second: keep both
            target = self._path.with_name(f"{self._path.name}.corrupt-{stamp}-{n}")
            n += 1
        try:
            os.rename(self._path, target)
        except OSError as err:
            raise WatchlistError(
                f"watchlist {self._path} is corrupt ({reason}) and could not be moved aside: {_why(err)}"
            ) from None
        self._fsync_dir()
        self._warn(
            f"watchlist file {self._path} was corrupt ({reason}); moved aside to {target}; starting empty"
        )

    def _ensure_dir(self) -> None:
        try:
            # 0700 whatever the umask: the list says which sessions this user follows.
            make_private_dirs(self._path.parent)
        except OSError as err:
            raise WatchlistError(
                f"cannot create the directory for watchlist {self._path}: {_why(err)}"
            ) from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._ensure_dir()
        try:
            # O_NOFOLLOW: a symlink planted as the lock must not make us create or truncate
            # whatever it points to.
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        except OSError as err:
            raise WatchlistError(f"cannot lock watchlist {self._path}: {_why(err)}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as err:
                raise WatchlistError(f"cannot lock watchlist {self._path}: {_why(err)}") from None
            yield
        finally:
            os.close(fd)  # closing the only fd on this open file releases the flock

    def _mutate(self, op: Callable[[dict[str, WatchEntry]], bool]) -> None:
        """Read-modify-write under the file lock; `op` edits the dict, True if it changed."""
        with self._mutex:
            self._adopt_legacy()  # before our lock: it takes that lock itself
            self._mutate_locked(op, None)

    def _mutate_follows(self, op: Callable[[list[str]], bool]) -> bool:
        """`_mutate` for the followed filters; True if `op` changed them."""
        changed: list[bool] = []

        def record(follows: list[str]) -> bool:
            changed.append(op(follows))
            return changed[-1]

        with self._mutex:
            self._adopt_legacy()
            self._mutate_locked(None, record)
        return any(changed)

    def _mutate_locked(self, op: Callable[[dict[str, WatchEntry]], bool] | None,
                       follows_op: Callable[[list[str]], bool] | None) -> None:
        with self._locked():
            if not self._swept:
                self._sweep_debris()
            entries, follows, dropped, sig = self._read_or_quarantine()
            self._note_dropped(dropped)
            # Cache what is on disk first, so a failing op or write still leaves us current.
            self._entries, self._follows, self._sig = dict(entries), list(follows), sig
            if (op is not None and op(entries)) or (follows_op is not None and follows_op(follows)):
                self._sig = self._write(entries, follows)
                self._entries, self._follows = entries, follows

    def _adopt_legacy(self) -> None:
        """Merge the legacy file into ours and rename it `.migrated`. Call with `_mutex` held.

        Once done, later calls cost nothing; a missing legacy file costs one stat. A failure
        (say a read-only data dir) is a warning, not an error: our own file is still read,
        and the next use tries again.
        """
        legacy = self._legacy
        if self._adopted or legacy is None:
            return
        if legacy.exists():
            try:
                self._merge_legacy(legacy)
            except WatchlistError as err:
                self._warn(f"{err}; {legacy} is not merged into {self._path} yet")
                return
        self._adopted = True

    def _merge_legacy(self, legacy: Path) -> None:
        old = Watchlist(legacy, clock=self._clock)
        # Lock order: ours, then the legacy file's. Older versions take only the latter,
        # and every adopter takes both in this order, so nobody waits in a cycle.
        with self._locked(), old._locked():
            try:
                # a corrupt one is moved aside
                theirs, their_follows, dropped, sig = old._read_or_quarantine()
            except WatchlistError as err:  # too new or unreadable: leave it where it is
                self._warn(f"{err}; its sessions were not merged into {self._path}")
                return
            old._note_dropped(dropped)
            for message in old.take_warnings():
                self._warn(message)
            if sig is None:
                return  # another process adopted it first, or it was corrupt
            old._sweep_debris()
            ours, our_follows, ours_dropped, _ = self._read_or_quarantine()
            self._note_dropped(ours_dropped)
            merged = dict(ours)
            for sid, entry in theirs.items():
                merged.setdefault(sid, entry)  # ours win: they are the newer edits
            follows = our_follows + [f for f in their_follows if f not in our_follows]
            if merged != ours or follows != our_follows:
                self._write(merged, follows)  # durable before the legacy file goes away
            done = legacy.with_name(legacy.name + ".migrated")
            try:
                os.replace(legacy, done)
            except OSError as err:
                # Everything is merged already; merging again next time changes nothing.
                self._warn(f"cannot move {legacy} aside after merging it into {self._path}: {_why(err)}")
                return
            self._fsync_dir()

    def _temp_prefix(self) -> str:
        return f".{self._path.name}."

    def _sweep_debris(self) -> None:
        """Delete temp files of writers that died mid-write. Call with the file lock held.

        Only a lock holder creates temp files, so while we hold it none can be in use.
        """
        self._swept = True
        prefix = self._temp_prefix()
        try:
            names = [e.name for e in os.scandir(self._path.parent)
                     if e.name.startswith(prefix) and e.name.endswith(".tmp")]
        except OSError:
            return  # an unreadable directory will fail the write itself, with a clear message
        for name in names:
            with contextlib.suppress(OSError):
                os.unlink(self._path.parent / name)

    def _write(self, entries: dict[str, WatchEntry], follows: list[str]) -> _Signature:
        doc: dict[str, Any] = {"version": FORMAT_VERSION, "sessions": [e.to_json() for e in entries.values()]}
        if follows:  # absent when none: files stay as older versions wrote them
            doc["follows"] = follows
        data = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        parent = self._path.parent
        try:
            # mkstemp creates the file 0600: a watchlist is private to its user.
            fd, tmp_name = tempfile.mkstemp(dir=parent, prefix=self._temp_prefix(), suffix=".tmp")
        except OSError as err:
            raise WatchlistError(f"cannot save watchlist {self._path}: {_why(err)}") from None
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
                st = os.fstat(f.fileno())  # rename keeps inode, mtime and size
            os.replace(tmp_name, self._path)
        except BaseException as err:
            # Whatever went wrong (disk full, Ctrl-C), the old file is intact; leave no debris.
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            if isinstance(err, OSError):
                raise WatchlistError(f"cannot save watchlist {self._path}: {_why(err)}") from None
            raise
        self._fsync_dir()
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _fsync_dir(self) -> None:
        # Makes the rename itself durable; some filesystems refuse fsync on a directory,
        # and by then the data is already safely in place, so that is not an error.
        with contextlib.suppress(OSError):
            dfd = os.open(self._path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
