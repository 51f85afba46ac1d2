"""Session ids are UUIDs; checking them before they reach a URL path keeps paths honest."""

from __future__ import annotations

import re
import uuid

from agp_tui.api.errors import AgpError


class InvalidSessionId(AgpError, ValueError):
    title = "Invalid session id"


_SPLIT = re.compile(r"[\s,;]+")
# uuid.UUID() alone also takes "+" and "_" (silently yielding another id) and hyphens anywhere.
_UUID = re.compile(r"\{?[0-9a-f]{8}(-?)[0-9a-f]{4}\1[0-9a-f]{4}\1[0-9a-f]{4}\1[0-9a-f]{12}\}?", re.IGNORECASE)


_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normalize_session_id(raw: str) -> str:
    """The canonical lower-case hyphenated form, or `InvalidSessionId` saying why."""
    if _CANONICAL.fullmatch(raw):  # the hot path: every poll builds a URL from an id
        return raw
    text = raw.strip()
    try:
        if not _UUID.fullmatch(text):
            raise ValueError(text)
        return str(uuid.UUID(text))
    except (ValueError, AttributeError, TypeError):
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise InvalidSessionId(
            f"{shown!r} is not a session id (expected a UUID such as "
            "6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20)"
        ) from None


def parse_session_ids(text: str) -> tuple[list[str], list[str]]:
    """Split pasted text (spaces, commas, newlines) into (valid ids, rejected tokens).

    Agent View URLs are accepted too: the id is their last path segment.
    Duplicates are dropped, order kept.
    """
    ids: list[str] = []
    bad: list[str] = []
    for token in _SPLIT.split(text):
        if not token:
            continue
        # Agent View URLs: drop ?query and #fragment, then take the last path segment.
        candidate = re.split(r"[?#]", token, maxsplit=1)[0].rstrip("/").rsplit("/", 1)[-1]
        try:
            sid = normalize_session_id(candidate)
        except InvalidSessionId:
            bad.append(token)
            continue
        if sid not in ids:
            ids.append(sid)
    return ids, bad
