"""Short ids: the first characters of a session id, as the dashboard and `watch` show them.

A short id names a session on the profile's watchlist: those are the only ids known here
without asking the server, and the API has no lookup by prefix. It needs at least
`MIN_DIGITS` hex digits (case and hyphens do not matter) and must match exactly one
watched id; otherwise nothing is sent and the message says which watched ids it matched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

MIN_DIGITS = 6
SHOWN_MATCHES = 5  # ids listed when a short id is ambiguous

_CANDIDATE = re.compile(r"[0-9a-f][0-9a-f-]*", re.IGNORECASE)


def _digits(text: str) -> str:
    return text.replace("-", "").lower()


def is_short_id(token: str) -> bool:
    """Whether `token` has the shape of a short id (the watchlist decides what it names)."""
    return bool(_CANDIDATE.fullmatch(token)) and MIN_DIGITS <= len(_digits(token)) < 32


class ShortIds:
    """Resolves short ids against the watched ids, read on first use only (most commands
    are given full ids, and need not touch the watchlist file at all)."""

    def __init__(self, watched: Callable[[], Sequence[str]]) -> None:
        self._load = watched
        self._ids: list[tuple[str, str]] | None = None  # (digits, canonical id)

    def matches(self, token: str) -> list[str]:
        if not is_short_id(token):
            return []
        if self._ids is None:
            self._ids = [(_digits(sid), sid) for sid in self._load()]
        want = _digits(token)
        return [sid for digits, sid in self._ids if digits.startswith(want)]

    def resolve(self, token: str) -> str | None:
        """The one watched id starting with `token`, or None (see `why`)."""
        found = self.matches(token)
        return found[0] if len(found) == 1 else None

    def why(self, token: str) -> str:
        """Why `token` names no single session: it matches none, or several."""
        found = self.matches(token)
        if not found:
            return (f"no watched session starts with {token} (a short id names a session on the "
                    "profile's watchlist; give the full id otherwise)")
        listed = ", ".join(found[:SHOWN_MATCHES])
        more = f" and {len(found) - SHOWN_MATCHES} more" if len(found) > SHOWN_MATCHES else ""
        return f"{token} matches {len(found)} watched sessions: {listed}{more}; give more characters"


def resolver(short: ShortIds | None) -> Callable[[str], str | None]:
    """`short.resolve`, or a resolver that knows no short id."""
    return short.resolve if short is not None else (lambda _token: None)
