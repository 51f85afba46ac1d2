"""The AGP v2 API layer: models, errors and the async client. Never imports textual."""

from agp_tui.api.backend import AiohttpBackend, Backend, HttpxBackend, RawResponse
from agp_tui.api.client import AgpClient, is_loopback_host
from agp_tui.api.errors import (
    AgpError,
    AuthError,
    BadResponse,
    InsecureTransport,
    NotFound,
    RateLimited,
    RequestRejected,
    ServerError,
    Unreachable,
)
from agp_tui.api.ids import InvalidSessionId, normalize_session_id, parse_session_ids
from agp_tui.api.models import (
    Changes,
    Event,
    Metrics,
    ModelCost,
    ModelUsage,
    Page,
    Quota,
    Session,
    SessionStatus,
    SessionSummary,
    UserMessage,
)
from agp_tui.api.retry import RetryPolicy, parse_retry_after
from agp_tui.api.secret import Secret

__all__ = [
    "AgpClient", "AgpError", "AiohttpBackend", "AuthError", "Backend", "BadResponse", "Changes",
    "Event", "HttpxBackend", "InsecureTransport", "InvalidSessionId", "Metrics", "ModelCost",
    "ModelUsage", "NotFound", "Page", "Quota", "RateLimited", "RawResponse", "RequestRejected",
    "RetryPolicy", "Secret", "ServerError", "Session", "SessionStatus", "SessionSummary",
    "Unreachable", "UserMessage", "is_loopback_host", "normalize_session_id",
    "parse_retry_after", "parse_session_ids",
]
