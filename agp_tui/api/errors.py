"""The small family of errors a user can meet, each with a title fit for a status line.

Messages never contain the API key: the client never puts it anywhere but the
Authorization header, and nothing here formats request headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class AgpError(Exception):
    """Base of every error the API layer raises; `str()` is one plain line."""

    title = "AGP error"
    retryable = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return f"{self.title}: {self.message}"


class AuthError(AgpError):
    """401 (missing or invalid key) or 403 (key not allowed to do this)."""

    title = "Authentication failed"


class NotFound(AgpError):
    title = "Not found"


class RequestRejected(AgpError):
    """400, 409, 422 and other 4xx: the server understood and said no."""

    title = "Request rejected"


class RateLimited(AgpError):
    title = "Rate limited"
    retryable = True

    def __init__(self, message: str, *, status: int = 429, retry_after: float | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ServerError(AgpError):
    """5xx; 502/503/504 are worth retrying, honouring `Retry-After` when sent."""

    title = "Server error"

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after
        self.retryable = status in (502, 503, 504)


class Unreachable(AgpError):
    """Transport failures: DNS, refused or dropped connections, timeouts."""

    title = "Server unreachable"
    retryable = True


class BadResponse(AgpError):
    """The server answered, but not with JSON of the documented shape."""

    title = "Bad response"


class InsecureTransport(AgpError):
    """Refusing to send a key in clear text to a host that is not this machine."""

    title = "Insecure connection refused"


def detail_text(body: object) -> str:
    """The human part of an error body: `{"detail": str | [...]}` or the gateway's `{"message"}`."""
    if not isinstance(body, Mapping):
        return ""
    detail: Any = body.get("detail")
    if detail is None:
        detail = body.get("message")
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):  # FastAPI 422: flatten to "body.agent: Field required; ..."
        parts = []
        for item in detail:
            if isinstance(item, Mapping):
                raw_loc = item.get("loc")  # a list by the spec; anything else is not a path
                loc = ".".join(str(p) for p in raw_loc if p is not None) if isinstance(raw_loc, list) else ""
                msg = str(item.get("msg", "invalid"))
                parts.append(f"{loc}: {msg}" if loc else msg)
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return "" if detail is None else str(detail)


_REASONS = {
    400: "Bad request",
    401: "Missing or invalid API key",
    403: "This key is not allowed to do that",
    404: "Not found",
    409: "Conflict",
    422: "Invalid request",
    429: "Too many requests",
    502: "Upstream error",
    503: "Service temporarily unavailable",
    504: "Upstream timeout",
}


def error_for_status(status: int, body: object, retry_after: float | None) -> AgpError:
    """Map an HTTP error answer to the family above."""
    text = detail_text(body) or _REASONS.get(status, f"HTTP {status}")
    if status in (401, 403):
        return AuthError(text, status=status)
    if status == 404:
        return NotFound(text, status=status)
    if status == 429:
        return RateLimited(text, retry_after=retry_after)
    if status >= 500:
        return ServerError(text, status=status, retry_after=retry_after)
    return RequestRejected(text, status=status)
