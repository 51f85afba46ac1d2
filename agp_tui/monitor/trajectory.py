"""The recent events of one followed session, bounded in count and bytes.

Events are keyed by their index in the session's event list (`/changes` `from_index` is a
count of events seen, so the n-th event ever has index n). Events arrive out of order
(a history page fetched while the long-poll delivers new ones) and more than once
(a retried long-poll): `add` keeps each index once and the buffer sorted. When full,
the oldest go first and are counted in `dropped`; they can be fetched again from
`GET /events` pages on demand (`missing_before`).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from agp_tui.api.models import Event

MAX_EVENTS = 400
MAX_BYTES = 2 * 1024 * 1024  # of event payloads, measured as their JSON
# Asked-for older pages may grow a buffer up to these, and no further.
HARD_MAX_EVENTS = 5_000
HARD_MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Indexed:
    index: int
    event: Event
    size: int  # bytes of its JSON, for the byte cap


def event_size(event: Event) -> int:
    try:
        return len(json.dumps(event.data, default=str)) + len(event.type) + 32
    except (TypeError, ValueError, RecursionError):
        return 1024


class EventBuffer:
    """Events [first, next) of a session, at most `max_events` and `max_bytes` of them."""

    def __init__(self, *, max_events: int = MAX_EVENTS, max_bytes: int = MAX_BYTES) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        self._items: list[Indexed] = []
        self._indices: list[int] = []
        self._bytes = 0
        self.dropped = 0  # events let go to stay within the caps
        self.total: int | None = None  # events the session has, when a listing said so
        self.version = 0  # bumped on every change (renderers cache on it)
        self.error: str | None = None  # why the last history read failed, if it did

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Indexed]:
        return iter(self._items)

    @property
    def next_index(self) -> int:
        """One past the newest event held (0 when empty)."""
        return self._indices[-1] + 1 if self._indices else 0

    @property
    def first_index(self) -> int | None:
        return self._indices[0] if self._indices else None

    def missing_before(self) -> int:
        """How many older events exist that are not held (fetchable from `/events`)."""
        first = self.first_index
        if first is None:
            return self.total or 0
        return first

    def add(self, start: int, events: Iterable[Event], *, older: bool = False) -> int:
        """Events `start`, `start + 1`, ...; returns how many were new."""
        added = 0
        for offset, event in enumerate(events):
            index = start + offset
            pos = bisect.bisect_left(self._indices, index)
            if pos < len(self._indices) and self._indices[pos] == index:
                continue  # seen already (a retried or overlapping answer)
            if not older and self._items and index < self._indices[0] and len(self._items) >= self.max_events:
                continue  # older than all we hold, and full: it would go first anyway
            size = event_size(event)
            self._items.insert(pos, Indexed(index, event, size))
            self._indices.insert(pos, index)
            self._bytes += size
            added += 1
        if added:
            self._trim()
            if self.total is not None:
                self.total = max(self.total, self.next_index)
            self.version += 1
        return added

    def add_older(self, start: int, events: list[Event], *, ceiling: int = HARD_MAX_EVENTS) -> int:
        """Older events a person asked for: the caps grow to keep them (up to `ceiling`
        events and `HARD_MAX_BYTES`), instead of dropping them again at once."""
        self.max_events = min(max(self.max_events, len(self) + len(events)), ceiling)
        self.max_bytes = max(self.max_bytes, min(self._bytes + sum(event_size(e) for e in events),
                                                 HARD_MAX_BYTES))
        return self.add(start, events, older=True)

    def _trim(self) -> None:
        while len(self._items) > 1 and (len(self._items) > self.max_events or self._bytes > self.max_bytes):
            gone = self._items.pop(0)
            self._indices.pop(0)
            self._bytes -= gone.size
            self.dropped += 1

    def latest(self) -> Indexed | None:
        return self._items[-1] if self._items else None

    def recent(self, n: int) -> list[Indexed]:
        return self._items[-n:] if n > 0 else []
