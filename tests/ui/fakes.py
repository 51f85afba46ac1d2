"""A scripted fake of the AGP API behind `httpx.MockTransport`, plus a hand-driven clock.

Tests build sessions with `FakeAgp.session(...)`, change them between polls, and switch
the whole server into `auth` (401), `offline` (connection refused) or `error` (500) mode.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from agp_tui.api import AgpClient, RetryPolicy
from agp_tui.monitor.engine import Engine, EngineSettings

BASE = "https://agp.test/api/v2"
KEY = "hk-test-ui-0000000000000000"
T0 = 1_781_168_400.0  # 2026-06-11 09:00:00 UTC: every fixture's "now"
ISO_T0 = "2026-06-11T09:00:00Z"


class Clock:
    """A wall clock that only moves when a test says so."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def sid(n: int) -> str:
    """A stable, readable session id: sid(1) == '00000001-0000-4000-8000-000000000001'."""
    return str(uuid.UUID(f"{n:08x}-0000-4000-8000-{n:012x}"))


def iso(minutes_before_t0: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(T0 - minutes_before_t0 * 60, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeSession:
    id: str
    agent: str = "h/web-surfer-flash"
    status: str = "running"
    steps: int = 0
    usage: list[tuple[str, int, int, int]] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    parent: str | None = None
    error: str | None = None
    error_code: str | None = None
    outcome: str | None = None
    message: str = "Find the three top stories on Hacker News"
    created: str = ISO_T0
    started: str | None = None
    finished: str | None = None
    cost: float | None = None  # metrics.total_cost on /changes (None: a model is unpriced)
    events: int = 3  # how many events the session has (/events total, /changes cursor)
    cached: dict[str, int] = field(default_factory=dict)  # model -> cached_tokens, when reported

    def status_json(self) -> dict[str, Any]:
        return {
            "status": self.status, "error": self.error, "error_code": self.error_code,
            "outcome": self.outcome, "steps": self.steps,
            "usage_per_model": [
                {"name": n, "input_tokens": i, "output_tokens": o, "reasoning_tokens": r,
                 **({"cached_tokens": self.cached[n]} if n in self.cached else {})}
                for n, i, o, r in self.usage
            ],
            "subagent_session_ids": list(self.children),
        }

    def changes_json(self, from_index: int, include_events: bool) -> dict[str, Any]:
        new = [{"type": "MetricsUpdateEvent", "data": {"metrics": {"steps": self.steps}},
                "timestamp": self.created} for _ in range(max(self.events - from_index, 0))]
        return {
            "status": self.status, "started_at": self.started, "finished_at": self.finished,
            "error": self.error, "error_code": self.error_code, "answer": None, "outcome": self.outcome,
            "metrics": {
                "steps": self.steps, "total_cost": self.cost,
                "cost_per_model": [
                    {"name": n, "input_tokens": i, "output_tokens": o, "reasoning_tokens": r}
                    for n, i, o, r in self.usage
                ],
            },
            "new_events": new if include_events else [],
        }

    def url(self) -> str:
        return f"https://platform.eu.hcompany.ai/agent-view/{self.id}"

    def session_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "request": {
                "agent": self.agent,
                "messages": [{"type": "user_message", "message": self.message, "images": [],
                              "caller_id": "user"}],
                "parent_session_id": self.parent,
            },
            "status": self.status_json(),
            "agent_view_url": self.url(),
            "latest_answer": None,
            "created_at": self.created, "started_at": self.started, "finished_at": self.finished,
        }

    def summary_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "agent": self.agent, "status": self.status, "agent_view_url": self.url(),
            "first_message": {"type": "user_message", "message": self.message, "images": [],
                              "caller_id": "user"},
            "created_at": self.created, "started_at": self.started, "finished_at": self.finished,
        }


class FakeAgp:
    def __init__(self) -> None:
        self.sessions: dict[str, FakeSession] = {}
        self.mode = "ok"  # ok | auth | offline | error
        self.quota = {"scope": "user", "limit": 10, "active": 3, "available": 7}
        self.requests: list[httpx.Request] = []
        self.hold: set[str] = set()  # session ids whose requests wait for `release`
        self.release = asyncio.Event()

    def session(self, n_or_id: int | str, **kw: Any) -> FakeSession:
        s_id = sid(n_or_id) if isinstance(n_or_id, int) else n_or_id
        s = FakeSession(id=s_id, **kw)
        self.sessions[s_id] = s
        return s

    def tree(self, root: int | str, fanout: list[int], *, start: int = 1000, **kw: Any) -> list[str]:
        """Give `root` a tree of children: fanout[0] children each with fanout[1] ... Returns all ids."""
        root_id = sid(root) if isinstance(root, int) else root
        made: list[str] = []
        counter = [start]
        level = [root_id]
        for depth, width in enumerate(fanout):
            nxt: list[str] = []
            for parent in level:
                for _ in range(width):
                    counter[0] += 1
                    n = counter[0]
                    child = self.session(
                        n, agent=f"sub/agent-d{depth + 1}", status="completed" if n % 3 == 0 else "running",
                        steps=n % 17, usage=[("holo3-1-35b-a3b", 1000 * (n % 50), 90 * (n % 11), 0)],
                        parent=parent,
                    )
                    self.sessions[parent].children.append(child.id)
                    nxt.append(child.id)
                    made.append(child.id)
            level = nxt
        return made

    # -- transport ------------------------------------------------------------------

    async def handle(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.removeprefix("/api/v2").strip("/").split("/")
        if len(parts) >= 2 and parts[1] in self.hold:
            await self.release.wait()
        response = self(request)
        if response.status_code == 204 and parts[-1] == "changes":
            # A long-poll with nothing new: hold it a little (the real server holds up to
            # wait_for_seconds); the engine cancels it when it wants fresh data.
            wait = float(request.url.params.get("wait_for_seconds", "0"))
            await asyncio.sleep(min(wait, 1.0))
        return response

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.mode == "offline":
            raise httpx.ConnectError("connection refused", request=request)
        if self.mode == "auth":
            return httpx.Response(401, json={"message": "Unauthorized"})
        if self.mode == "error":
            return httpx.Response(500, json={"detail": "Internal error"})
        path = request.url.path.removeprefix("/api/v2")
        if path == "/sessions/quota":
            return httpx.Response(200, json=self.quota)
        if path == "/sessions":
            return self._list(request)
        parts = path.strip("/").split("/")
        if len(parts) >= 2 and parts[0] == "sessions":
            s = self.sessions.get(parts[1])
            if s is None:
                return httpx.Response(404, json={"detail": "Session not found."})
            if len(parts) == 2:
                return httpx.Response(200, content=json.dumps(s.session_json()))
            if parts[2] == "status":
                return httpx.Response(200, content=json.dumps(s.status_json()))
            if parts[2] == "events":
                return httpx.Response(200, json={"items": [], "page": 1, "total": s.events})
            if parts[2] == "changes":
                start = int(request.url.params.get("from_index", "0"))
                if start >= s.events:
                    return httpx.Response(204, headers={"ETag": str(start)})
                events = request.url.params.get("include_events", "true") == "true"
                return httpx.Response(200, content=json.dumps(s.changes_json(start, events)))
        return httpx.Response(404, json={"detail": "Not Found"})

    def _list(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        items = list(self.sessions.values())
        if "parent_session_id" in params:
            items = [s for s in items if s.parent == params["parent_session_id"]]
        statuses = params.get_list("status")
        if statuses:
            items = [s for s in items if s.status in statuses]
        page, size = int(params.get("page", 1)), int(params.get("size", 20))
        chunk = items[(page - 1) * size: page * size]
        return httpx.Response(200, json={"items": [s.summary_json() for s in chunk], "page": page,
                                         "total": len(items)})


def make_engine(fake: FakeAgp, clock: Clock, **settings: Any) -> Engine:
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake.handle))
    client = AgpClient(BASE, KEY, http=http, retry=RetryPolicy.off())
    defaults: dict[str, Any] = {"sweep": False, "seed": 7, "max_rps": 1000.0, "max_in_flight": 16,
                                "stale_after": 30.0, "housekeeping_interval": 0.05}
    defaults.update(settings)
    return Engine(client, None, EngineSettings(**defaults), wall=clock)

