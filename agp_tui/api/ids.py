"""Session ids are UUIDs; checking them before they reach a URL path keeps paths honest."""

from __future__ import annotations

import ipaddress
import re
import uuid
from urllib.parse import urlsplit

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


# Agent View pages live on H Company's platform hosts; loopback serves the simulator.
_PLATFORM_DOMAIN = "hcompany.ai"


def _platform_host(netloc: str) -> bool:
    try:
        host = urlsplit("//" + netloc).hostname or ""
    except ValueError:  # e.g. an unbalanced "[" in what was pasted
        return False
    if host == _PLATFORM_DOMAIN or host.endswith("." + _PLATFORM_DOMAIN):
        return True
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# The platform host whose Agent View pages each API host's sessions link to.
_PLATFORM_OF_API = {"agp.eu.hcompany.ai": "platform.eu.hcompany.ai",
                    "agp.hcompany.ai": "platform.hcompany.ai"}


def agent_view_hosts(base_url: str) -> frozenset[str]:
    """The hosts an Agent View URL from this API may point to, to be opened or copied.

    The URL comes from the server: one that leads elsewhere (a look-alike domain, an
    intranet page) must not be opened on its word. A region's API links to its own
    platform; a simulator or a proxy in front of the API, to either of H's platforms.
    """
    try:
        host = (urlsplit(base_url).hostname or "").lower()
    except ValueError:
        host = ""
    platform = _PLATFORM_OF_API.get(host)
    return frozenset({platform}) if platform else frozenset(_PLATFORM_OF_API.values())


def session_id_from_token(token: str) -> str:
    """A session id, or the id in an Agent View URL (its last path segment).

    A URL on another host is refused even when it ends in a UUID: a link pasted from
    somewhere else is not a session the user meant, and its id would be a guess.
    Raises `InvalidSessionId`.
    """
    text = token.strip()
    if "/" in text:
        scheme, sep, rest = text.partition("://")
        host = (rest if sep else text).split("/", 1)[0].rsplit("@", 1)[-1]
        if (sep and scheme.lower() not in ("http", "https")) or (
            (sep or "." in host) and not _platform_host(host)
        ):
            shown = text if len(text) <= 60 else text[:57] + "..."
            raise InvalidSessionId(
                f"{shown!r} is not an Agent View URL (expected a link on {_PLATFORM_DOMAIN})"
            )
    # Agent View URLs: drop ?query and #fragment, then take the last path segment.
    candidate = re.split(r"[?#]", text, maxsplit=1)[0].rstrip("/").rsplit("/", 1)[-1]
    return normalize_session_id(candidate)


def parse_session_ids(text: str) -> tuple[list[str], list[str]]:
    """Split pasted text (spaces, commas, newlines) into (valid ids, rejected tokens).

    Agent View URLs are accepted too: the id is their last path segment.
    Duplicates are dropped, order kept.
    """
    ids: dict[str, None] = {}  # ordered, and O(1) per duplicate check: pastes can be huge
    bad: list[str] = []
    for token in _SPLIT.split(text):
        if not token:
            continue
        try:
            sid = session_id_from_token(token)
        except InvalidSessionId:
            bad.append(token)
            continue
        ids.setdefault(sid)
    return list(ids), bad
