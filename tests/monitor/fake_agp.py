"""A scriptable in-memory AGP for engine tests, served through httpx.MockTransport."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from agp_tui.api import AgpClient, RetryPolicy

BASE = "http://127.0.0.1:9/api/v2"
KEY = "hk-test-engine-key-0001"


@dataclass
class FakeSession:
    id: str
    status: str = "running"
    steps: int = 0
    tokens: int = 0
    children: list[str] = field(default_factory=list)
    agent: str = "h/web-surfer-flash"
    parent: str | None = None
    created_at: str = "2026-11-28T10:00:00Z"
    started_at: str | None = None
    finished_at: str | None = None
    events: int = 0  # events so far; /changes serves them
    cost: float | None = 0.01

    def changes_json(self, from_index: int) -> dict[str, Any]:
        usage = self.status_json()["usage_per_model"]
        return {
            "status": self.status, "error": None, "error_code": None, "answer": None, "outcome": None,
            "metrics": {"steps": self.steps, "total_cost": self.cost,
                        "cost_per_model": [{**u, "total_cost": self.cost} for u in usage]},
            "new_events": [{"type": "MetricsUpdateEvent", "data": {}, "timestamp": "2026-11-28T10:00:00Z"}
                           for _ in range(max(self.events - from_index, 0))],
        }

    def status_json(self) -> dict[str, Any]:
        usage = [{"name": "holo3-1-35b-a3b", "input_tokens": self.tokens,
                  "output_tokens": self.tokens // 10, "reasoning_tokens": 0}] if self.tokens else []
        return {"status": self.status, "error": None, "error_code": None, "outcome": None,
                "steps": self.steps, "usage_per_model": usage,
                "subagent_session_ids": list(self.children)}

    def summary_json(self) -> dict[str, Any]:
        return {"id": self.id, "agent": self.agent, "status": self.status,
                "created_at": self.created_at, "first_message": None}


class FakeAgp:
    def __init__(self, delay: float = 0.0) -> None:
        self.sessions: dict[str, FakeSession] = {}
        self.calls: Counter[str] = Counter()
        self.per_session: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()
        self.max_overlap = 0
        self.delay = delay
        self.force: dict[str, tuple[int, dict[str, str]]] = {}  # session id -> (status, headers)
        self.auth_ok = True
        self.list_works = True
        self.bumped = asyncio.Event()

    def bump(self, s: FakeSession, *, steps: int = 1, tokens: int = 500) -> None:
        """The agent takes a step: counters grow, and an event wakes long-polls."""
        s.steps += steps
        s.tokens += tokens
        s.events += 1
        self.bumped.set()
        self.bumped = asyncio.Event()

    def add(self, **kw: Any) -> FakeSession:
        s = FakeSession(id=str(uuid.uuid4()), **kw)
        self.sessions[s.id] = s
        if s.parent:
            self.sessions[s.parent].children.append(s.id)
        return s

    def client(self) -> AgpClient:
        transport = httpx.MockTransport(self.handle)
        return AgpClient(BASE, KEY, http=httpx.AsyncClient(transport=transport), retry=RetryPolicy.off())

    async def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v2")
        parts = path.strip("/").split("/")
        kind = "list" if path == "/sessions" else "quota" if path == "/sessions/quota" else (
            parts[2] if len(parts) > 2 else "session")
        self.calls[kind] += 1
        if not self.auth_ok:
            return httpx.Response(401, json={"message": "Unauthorized"})
        if kind == "quota":
            active = sum(1 for s in self.sessions.values() if s.status in ("pending", "running"))
            return httpx.Response(200, json={"scope": "user", "limit": 10, "active": active,
                                             "available": 10 - active})
        if kind == "list":
            if not self.list_works:
                return httpx.Response(503, json={"detail": "nope"})
            return self._list(request)
        sid = parts[1]
        self.per_session[sid] += 1
        self.in_flight[sid] += 1
        self.max_overlap = max(self.max_overlap, self.in_flight[sid])
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if sid in self.force:
                code, headers = self.force[sid]
                return httpx.Response(code, json={"detail": "forced"}, headers=headers)
            s = self.sessions.get(sid)
            if s is None:
                return httpx.Response(404, json={"detail": "Session not found"})
            if kind == "status":
                return httpx.Response(200, json=s.status_json())
            if kind == "events":
                return httpx.Response(200, json={"items": [], "page": 1, "total": s.events})
            if kind == "changes":
                return await self._changes(s, request)
            return httpx.Response(200, json={
                "id": s.id, "status": s.status_json(), "created_at": s.created_at,
                "started_at": s.started_at, "finished_at": s.finished_at,
                "request": {"agent": s.agent, "messages": "hello", "parent_session_id": s.parent},
                "agent_view_url": f"https://platform.eu.hcompany.ai/agent-view/{s.id}",
            })
        finally:
            self.in_flight[sid] -= 1

    async def _changes(self, s: FakeSession, request: httpx.Request) -> httpx.Response:
        q = request.url.params
        start = int(q.get("from_index", 0))
        wait = float(q.get("wait_for_seconds", 0))
        if s.events <= start and wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.bumped.wait(), wait)
        if s.events <= start:
            return httpx.Response(204, headers={"ETag": str(start)})
        body = s.changes_json(start)
        if q.get("include_events") == "false":
            body["new_events"] = []
        return httpx.Response(200, json=body)

    def _list(self, request: httpx.Request) -> httpx.Response:
        q = request.url.params
        items = list(self.sessions.values())
        if q.get("parent_session_id"):
            items = [s for s in items if s.parent == q["parent_session_id"]]
        statuses = q.get_list("status")
        if statuses:
            items = [s for s in items if s.status in statuses]
        page, size = int(q.get("page", 1)), int(q.get("size", 10))
        chunk = items[(page - 1) * size: page * size]
        return httpx.Response(200, content=json.dumps(
            {"items": [s.summary_json() for s in chunk], "page": page, "total": len(items)}))
