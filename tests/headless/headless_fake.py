"""A tiny scripted AGP server over real HTTP, for what the simulator does not do on purpose.

Cycles in a subagent tree, a status script that advances one entry per poll, hostile
strings in any field, and request counting. Runs on its own loop in a daemon thread so
the code under test can run `asyncio.run` in the main thread (or in a subprocess).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

KEY = "hk-headless-fake-0001"


def sid(n: int) -> str:
    return str(uuid.UUID(int=n, version=4))


@dataclass
class Snap:
    """One point of a session's script."""

    status: str = "running"
    steps: int = 0
    tokens: int = 0
    error: str | None = None
    cached: int | None = None  # sent as the model's cached_tokens when set (not in the v2 schema)


@dataclass
class FakeSession:
    id: str
    agent: str | None = "h/web-surfer-flash"
    script: list[Snap] = field(default_factory=lambda: [Snap()])
    children: list[str] = field(default_factory=list)
    parent: str | None = None
    message: str = "Find the top 3 stories"
    polls: int = 0
    answer: object = None  # only on /changes: this server is older than `latest_answer`

    @property
    def now(self) -> Snap:
        return self.script[min(self.polls, len(self.script) - 1)]

    def status_json(self) -> dict[str, Any]:
        s = self.now
        usage = [{"name": "holo3-1-35b-a3b", "input_tokens": s.tokens, "output_tokens": s.tokens // 10,
                  "reasoning_tokens": 0}] if s.tokens else []
        if usage and s.cached is not None:
            usage[0]["cached_tokens"] = s.cached
        return {"status": s.status, "error": s.error, "error_code": "internal" if s.error else None,
                "outcome": None, "steps": s.steps, "usage_per_model": usage,
                "subagent_session_ids": list(self.children)}

    def summary_json(self) -> dict[str, Any]:
        return {"id": self.id, "agent": self.agent, "status": self.now.status,
                "created_at": "2026-11-28T10:00:00Z", "started_at": None, "finished_at": None,
                "first_message": {"type": "user_message", "message": self.message}}

    def full_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status_json(), "created_at": "2026-11-28T10:00:00Z",
                "request": {"agent": self.agent, "messages": [{"message": self.message}],
                            "parent_session_id": self.parent},
                "agent_view_url": None, "latest_answer": None}


class FakeServer:
    def __init__(self) -> None:
        self.sessions: dict[str, FakeSession] = {}
        self.calls: Counter[str] = Counter()
        self.status_code: int | None = None  # force every answer to this HTTP status
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self.port = 0

    def add(self, session: FakeSession) -> FakeSession:
        self.sessions[session.id] = session
        return session

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v2"

    # -- handlers -------------------------------------------------------------------

    def _check(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {KEY}":
            return web.json_response({"message": "Unauthorized"}, status=401)
        if self.status_code is not None:
            return web.json_response({"detail": "forced"}, status=self.status_code)
        return None

    def _session(self, request: web.Request) -> FakeSession | web.Response:
        s = self.sessions.get(request.match_info["id"])
        return s if s is not None else web.json_response({"detail": "Session not found"}, status=404)

    async def get_session(self, request: web.Request) -> web.Response:
        self.calls["session"] += 1
        bad = self._check(request)
        s = bad or self._session(request)
        if isinstance(s, web.Response):
            return s
        body = s.full_json()
        s.polls += 1
        return web.json_response(body)

    async def get_status(self, request: web.Request) -> web.Response:
        self.calls["status"] += 1
        bad = self._check(request)
        s = bad or self._session(request)
        if isinstance(s, web.Response):
            return s
        body = s.status_json()
        s.polls += 1
        return web.json_response(body)

    async def list_sessions(self, request: web.Request) -> web.Response:
        self.calls["list"] += 1
        bad = self._check(request)
        if bad:
            return bad
        parent = request.query.get("parent_session_id")
        statuses = request.query.getall("status", [])
        items = [s for s in self.sessions.values()
                 if (parent is None or s.parent == parent) and (not statuses or s.now.status in statuses)]
        size = int(request.query.get("size", "10"))
        page = int(request.query.get("page", "1"))
        chunk = items[(page - 1) * size: page * size]
        return web.json_response({"items": [s.summary_json() for s in chunk], "page": page,
                                  "total": len(items)})

    async def get_changes(self, request: web.Request) -> web.Response:
        self.calls["changes"] += 1
        bad = self._check(request)
        s = bad or self._session(request)
        if isinstance(s, web.Response):
            return s
        return web.json_response({"status": s.now.status, "answer": s.answer, "new_events": [],
                                  "metrics": {"steps": s.now.steps, "cost_per_model": []}})

    async def quota(self, request: web.Request) -> web.Response:
        bad = self._check(request)
        return bad or web.json_response({"scope": "user", "limit": 10, "active": 1, "available": 9})

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> FakeServer:
        app = web.Application()
        p = "/api/v2/sessions"
        app.add_routes([web.get(p, self.list_sessions), web.get(f"{p}/quota", self.quota),
                        web.get(f"{p}/{{id}}", self.get_session),
                        web.get(f"{p}/{{id}}/status", self.get_status),
                        web.get(f"{p}/{{id}}/changes", self.get_changes)])
        ready = threading.Event()

        async def boot() -> None:
            self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.port = self._runner.addresses[0][1]

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(boot())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True, name="headless-fake")
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        async def down() -> None:
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(down(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
