"""Canned payloads and request checks shared by the API-layer tests (imported by name:
tests/api is on sys.path). The server is the simulator (`FakeBackend`, served over loopback
by conftest's `server`), which answers with these when a test queues them."""

from __future__ import annotations

import json
import socket
from typing import Any

from agp_tui.api import RetryPolicy
from agp_tui.api.backend import RawResponse
from agp_tui.api.errors import Unreachable
from agp_tui.sim.fake_backend import Call, FakeBackend, Reply, Stall

BASE = "https://agp.test/api/v2"
KEY = "hk-test-5f0c2b7e9a1d4c3b8e6f0a9d"
SID = "6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20"
SID2 = "0b7c1d2e-4f5a-4b6c-8d9e-0f1a2b3c4d5e"

# A retry policy whose waits are a few milliseconds, for tests that let retries happen.
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002, max_total=2.0)

def reply(status: int = 200, body: Any = None, *, headers: dict[str, str] | None = None,
          text: str | None = None, content: bytes | None = None) -> RawResponse:
    """A canned answer: JSON when `body` is given, raw text or bytes when `text` or
    `content` is, else empty."""
    hdrs = dict(headers or {})
    if text is not None or content is not None:
        hdrs.setdefault("Content-Type", "text/plain; charset=utf-8")
        return RawResponse(status, hdrs, content if content is not None else (text or "").encode())
    if body is None:
        return RawResponse(status, hdrs, b"")
    hdrs.setdefault("Content-Type", "application/json")
    return RawResponse(status, hdrs, json.dumps(body).encode())


# Transport failures, for real, over loopback: the server closes the connection without an
# answer; nothing listens on the port; the answer comes after the client's deadline.
TRANSPORT_FAILURES = ("dropped", "refused", "timeout")
CLIENT_TIMEOUT = 0.3  # the client deadline of the "timeout" case
# How long its answer stalls: past the client's shortest try (it waits at least 0.5 s), so
# the deadline always comes first (server and client share the test's loop), and short:
# the server's shutdown waits for the stalled answer, in dozens of tests.
STALL_S = 0.6


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def transport_failure(server: FakeBackend, kind: str) -> tuple[Reply | None, dict[str, Any]]:
    """What to queue (None: nothing, the client goes elsewhere) and the client options that
    make the request fail that way."""
    if kind == "dropped":
        return Unreachable("dropped"), {}
    if kind == "refused":
        return None, {"base_url": f"http://127.0.0.1:{free_port()}/api/v2"}
    return Stall(STALL_S), {"timeout": CLIENT_TIMEOUT}


def assert_request(req: Call, method: str, path: str,
                   params: list[tuple[str, str]] | None = None) -> None:
    """Method, path, exact query (order kept) and the bearer header of one request."""
    assert req.method == method
    assert req.url.path == path
    assert req.url.params.multi_items() == (params or [])
    assert req.headers["authorization"] == f"Bearer {KEY}"


# --- Example payloads copied verbatim from /work/shared/agp-api.md ---------------------

STATUS_RUNNING = {
    "status": "running", "error": None, "error_code": None, "outcome": None, "steps": 7,
    "usage_per_model": [{"name": "holo3-1-35b-a3b", "input_tokens": 12400, "output_tokens": 890,
                         "reasoning_tokens": 0}],
    "subagent_session_ids": [],
}

STATUS_FAILED = {
    "status": "failed", "error": "Browser environment failed to start", "error_code": "environment_error",
    "outcome": None, "steps": 0, "usage_per_model": [], "subagent_session_ids": [],
}

SESSION_CREATED = {
    "id": "6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20",
    "request": {"agent": "h/web-surfer-flash",
                "messages": [{"type": "user_message", "message": "Top 3 stories on Hacker News?",
                              "images": [], "caller_id": "user"}],
                "max_steps": 40, "max_time_s": None, "idle_timeout_s": None,
                "group_id": "nightly-batch-7", "parent_session_id": None, "overrides": {}},
    "status": {"status": "pending", "error": None, "error_code": None, "outcome": None,
               "steps": 0, "usage_per_model": [], "subagent_session_ids": []},
    "agent_view_url": "https://platform.eu.hcompany.ai/agent-view/6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20",
    "latest_answer": None,
    "created_at": "2026-06-11T09:12:03Z", "started_at": None, "finished_at": None,
}

# The retrieve example: "same shape as 6.1 response, e.g. with ..." those fields replaced.
SESSION_RETRIEVED = {
    **SESSION_CREATED,
    "status": {"status": "completed", "error": None, "error_code": None, "outcome": "success", "steps": 12,
               "usage_per_model": [{"name": "holo3-1-35b-a3b", "input_tokens": 24800,
                                    "output_tokens": 1420, "reasoning_tokens": 0}],
               "subagent_session_ids": []},
    "latest_answer": "1. ... 2. ... 3. ...",
    "started_at": "2026-06-11T09:12:06Z",
    "finished_at": "2026-06-11T09:13:15Z",
}

LIST_PAGE = {
    "items": [
        {"id": "6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20", "agent": "h/web-surfer-flash", "status": "running",
         "agent_view_url": "https://platform.eu.hcompany.ai/agent-view/6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20",
         "first_message": {"type": "user_message", "message": "Top 3 stories on Hacker News?", "images": [],
                           "caller_id": "user"},
         "created_at": "2026-06-11T09:12:03Z", "started_at": "2026-06-11T09:12:06Z", "finished_at": None,
         "anonymized_at": None}],
    "page": 1, "total": 1,
}

CHANGES_200 = {
    "status": "running", "started_at": "2026-06-11T09:12:06Z", "finished_at": None,
    "error": None, "error_code": None, "answer": None, "outcome": None,
    "metrics": {"steps": 2, "total_cost": 0.0093874, "input_cost": 0.0084664, "output_cost": 0.000921,
                "reasoning_cost": 0.0,
                "cost_per_model": [{"name": "holo3-122b-a10b", "input_tokens": 21166, "output_tokens": 307,
                                    "reasoning_tokens": 0, "total_cost": 0.0093874}]},
    "new_events": [
        {"type": "AgentStartedEvent", "data": {}, "timestamp": "2026-06-11T09:12:06Z"},
        {"type": "AgentEvent", "data": {"kind": "policy_event", "content": "Opening Hacker News",
                                        "reasoning_content": None,
                                        "tool_reqs": [{"tool_name": "navigate",
                                                       "args": {"url": "https://news.ycombinator.com"},
                                                       "id": "t1"}],
                                        "validation_errors": []},
         "timestamp": "2026-06-11T09:12:09Z"}],
}

QUOTA = {"scope": "user", "limit": 10, "active": 3, "available": 7}

EVENTS_PAGE = {
    "items": [{"type": "MetricsUpdateEvent",
               "data": {"metrics": {"steps": 3, "cost_per_model": [], "input_cost": 0.01,
                                    "output_cost": 0.001, "reasoning_cost": 0.0, "total_cost": 0.011}},
               "timestamp": "2026-06-11T09:12:20Z"}],
    "page": 1, "total": 27,
}
