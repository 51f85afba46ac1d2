"""A small AGP server that misbehaves on purpose, one `mode` per attack (issue 18).

It speaks just enough of the v2 session routes for `status`, `ls`, `tree`, `watch` and the
engine: GET /sessions, /sessions/quota, /sessions/{id}, /status, /changes, /events. In the
"ok" mode every answer is small and well-formed (the idle baseline); each other mode makes
the routes it concerns hostile, the rest staying "ok". Loopback only, on its own event
loop in a daemon thread, so the code under test can run anywhere (a subprocess, the
test's own loop). Every request is logged with its time, so tests can measure rates.

Bounded itself: the endless and trickling bodies stop when the client goes away (or after
`MAX_STREAM_S`), the big ones are generated as they are sent, never held in memory.
"""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import threading
import time
import urllib.parse
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aiohttp import web

KEY = "hk-hostile-7f3a9c2e5b1d4068a2c4e6f8"
MB = 1024 * 1024
MAX_STREAM_S = 30.0  # no hostile body outlives this, whatever the client does


def sid(n: int) -> str:
    return str(uuid.UUID(int=n, version=4))


def number(session_id: str) -> int:
    """`sid`'s inverse for small numbers (version 4 sets bits above the 62 low ones)."""
    return uuid.UUID(session_id).int & ((1 << 62) - 1)


ROOT = sid(1)
ROOT_HEX = ROOT  # the id the tests ask about
EVIL_URL = f"https://platform.eu.hcompany.ai.evil.example/agent-view/{ROOT}"


def key_forms(key: str = KEY) -> dict[str, str]:
    """The spellings of a key a server could quote back: raw, JSON-escaped, percent-encoded,
    base64 (of the whole Authorization header, as a debugging proxy would show it)."""
    return {
        "raw": key,
        "json-escaped": "".join(f"\\u{ord(c):04x}" for c in key),
        "percent-encoded": urllib.parse.quote(key, safe="").replace("-", "%2D"),
        "base64": base64.b64encode(f"Bearer {key}".encode()).decode(),
    }


@cache
def gzip_bomb(megabytes: int = 1024) -> bytes:
    """A gzip body of about `megabytes` / 1000 MB that inflates to `megabytes` MB of zeros.

    Built in well under a second: after a full flush every megabyte of zeros compresses
    to the same bytes, so the stream is one block repeated (with a correct trailer).
    """
    zeros = bytes(MB)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc, (megabytes * MB) & 0xFFFFFFFF)
    return header + first + block * (megabytes - 1) + c.flush() + trailer


def status_json(children: list[str] | None = None, status: str = "running") -> dict[str, Any]:
    return {"status": status, "error": None, "error_code": None, "outcome": None, "steps": 3,
            "usage_per_model": [{"name": "holo3-1-35b-a3b", "input_tokens": 1200,
                                 "output_tokens": 90, "reasoning_tokens": 0}],
            "subagent_session_ids": children or []}


def summary_json(session_id: str, agent: str = "h/web-surfer", status: str = "running") -> dict[str, Any]:
    return {"id": session_id, "agent": agent, "status": status,
            "created_at": "2026-11-28T10:00:00Z", "started_at": "2026-11-28T10:00:01Z",
            "finished_at": None, "agent_view_url": f"https://platform.eu.hcompany.ai/agent-view/{session_id}",
            "first_message": {"type": "user_message", "message": "Find the top 3 stories"}}


@dataclass
class Hostile:
    """`mode` picks the attack; `opts` tune it (see each handler)."""

    mode: str = "ok"
    opts: dict[str, Any] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    log: list[tuple[float, str]] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._answers = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v2"

    def set(self, mode: str, **opts: Any) -> Hostile:
        self.mode, self.opts = mode, opts
        return self

    def rate(self, kind: str | None = None, since: float = 0.0) -> float:
        """Requests per second (of this kind of route) from `since` to now."""
        now = time.monotonic()
        times = [t for t, k in self.log if t >= since and (kind is None or k == kind)]
        return len(times) / max(now - since, 1e-9)

    # -- the routes -----------------------------------------------------------------

    def _note(self, kind: str) -> None:
        self.hits[kind] += 1
        self.log.append((time.monotonic(), kind))

    @staticmethod
    def _unauthorized(request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") == f"Bearer {KEY}":
            return None
        return web.json_response({"message": "Unauthorized"}, status=401)

    async def _hostile_body(self, request: web.Request, kind: str) -> web.StreamResponse | None:
        """The body-level attacks, on whatever route asked; None in other modes."""
        mode = self.mode
        if mode == "big":  # a declared 200 MB answer, generated as sent
            return await self._stream(request, total=self.opts.get("mb", 200) * MB, declared=True)
        if mode == "endless":  # chunked, never ends
            return await self._stream(request, total=None, declared=False)
        if mode == "gzip":
            body = gzip_bomb(self.opts.get("mb", 1024))
            return web.Response(body=body, headers={"Content-Encoding": "gzip",
                                                    "Content-Type": "application/json"})
        if mode == "containers":  # 4 MB of `[[],[],...]`: tiny on the wire, huge once parsed
            n = self.opts.get("n", 1_300_000)
            return web.Response(body=b"[" + b"[]," * n + b"[]]", content_type="application/json")
        if mode == "trickle":  # headers, then a byte a second
            resp = web.StreamResponse(headers={"Content-Type": "application/json"})
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            start = time.monotonic()
            try:
                while time.monotonic() - start < MAX_STREAM_S:
                    await resp.write(b" ")
                    await asyncio.sleep(1.0)
            except (ConnectionError, RuntimeError):
                pass
            return resp
        return None

    async def _stream(self, request: web.Request, *, total: int | None, declared: bool) -> web.StreamResponse:
        headers = {"Content-Type": "application/json"}
        if declared and total is not None:
            headers["Content-Length"] = str(total)
        resp = web.StreamResponse(headers=headers)
        if not declared:
            resp.enable_chunked_encoding()
        await resp.prepare(request)
        chunk = b'{"pad": "' + b"x" * (256 * 1024 - 12) + b'", '
        sent, start = 0, time.monotonic()
        try:
            while (total is None or sent < total) and time.monotonic() - start < MAX_STREAM_S:
                piece = chunk if total is None else chunk[: total - sent]
                await resp.write(piece)
                sent += len(piece)
        except (ConnectionError, RuntimeError):
            pass  # the client hung up: that is what a capped client does
        return resp

    def _children(self, session_id: str) -> list[str]:
        mode, o = self.mode, self.opts
        if mode == "deep":  # a chain: session k names k+1, `depth` levels
            k = number(session_id)
            return [sid(k + 1)] if k < o.get("depth", 2000) else []
        if mode == "children" and session_id == ROOT:  # `n` fresh subagents on every answer
            self._answers += 1
            base = 10_000_000 * self._answers
            return [sid(base + i) for i in range(o.get("n", 50_000))]
        if mode == "pages" and session_id == ROOT:
            return [sid(2)]
        return []

    def _error(self, kind: str = "") -> web.Response | None:
        mode = self.mode
        if mode == "echo":  # the key quoted back in an error, in one spelling or all
            forms = key_forms()
            form = self.opts.get("form")
            shown = forms[form] if form else " / ".join(forms.values())
            body = json.dumps({"detail": f"key {shown} is not allowed to read this"}, ensure_ascii=True)
            # json.dumps would re-escape our backslashes: write the escaped form as sent.
            body = body.replace("\\\\u", "\\u")
            return web.Response(status=403, body=body.encode(), content_type="application/json")
        if mode == "stale" and self.hits["session"] and not (kind == "session" and self.hits[kind] == 1):
            # One good answer (the first Session), then a 503 asking for an hour's patience.
            return web.json_response({"detail": "Service temporarily unavailable"}, status=503,
                                     headers={"Retry-After": "3600"})
        return None

    async def get_session(self, request: web.Request) -> web.StreamResponse:
        self._note("session")
        if (refused := self._unauthorized(request)) is not None:
            return refused
        sid_ = request.match_info["id"]
        hostile = await self._hostile_body(request, "session")
        if hostile is not None:
            return hostile
        err = self._error("session")
        if err is not None:
            return err
        body = summary_json(sid_)
        body["status"] = status_json(self._children(sid_))
        body["request"] = {"agent": "h/web-surfer", "messages": [{"message": "Find the top 3 stories"}]}
        body["latest_answer"] = None
        if self.mode == "evil_url":
            body["agent_view_url"] = EVIL_URL
        return web.json_response(body)

    async def get_status(self, request: web.Request) -> web.StreamResponse:
        self._note("status")
        if (refused := self._unauthorized(request)) is not None:
            return refused
        hostile = await self._hostile_body(request, "status")
        if hostile is not None:
            return hostile
        err = self._error()
        if err is not None:
            return err
        return web.json_response(status_json(self._children(request.match_info["id"])))

    async def list_sessions(self, request: web.Request) -> web.StreamResponse:
        self._note("list")
        if (refused := self._unauthorized(request)) is not None:
            return refused
        hostile = await self._hostile_body(request, "list")
        if hostile is not None:
            return hostile
        err = self._error()
        if err is not None:
            return err
        page = int(request.query.get("page", "1"))
        size = int(request.query.get("size", "10"))
        if self.mode == "pages":  # `total` of 10^12: fresh ids on every page, or the same page
            first = 1000 + (page - 1) * size if self.opts.get("fresh", True) else 1000
            items = [summary_json(sid(first + i)) for i in range(size)]
            return web.json_response({"items": items, "page": page, "total": 10**12})
        parent = request.query.get("parent_session_id")
        if parent is not None and self.mode != "pages":  # a parent's children, as its status names them
            kids = self._children(parent) if self.mode == "deep" else []
            return web.json_response({"items": [summary_json(k) for k in kids] if page == 1 else [],
                                      "page": page, "total": len(kids)})
        if page > 1:
            return web.json_response({"items": [], "page": page, "total": 1})
        return web.json_response({"items": [summary_json(ROOT)], "page": 1, "total": 1})

    async def changes(self, request: web.Request) -> web.StreamResponse:
        self._note("changes")
        if (refused := self._unauthorized(request)) is not None:
            return refused
        mode = self.mode
        err = self._error()
        if err is not None:
            return err
        cursor = int(request.query.get("from_index", "0"))
        empty = {"status": "running", "new_events": [], "metrics": {"steps": 3, "cost_per_model": [],
                                                                    "total_cost": 0.01}}
        if mode == "early204":  # "nothing new" at once, instead of holding the request
            return web.Response(status=204, headers={"ETag": str(cursor)})
        if mode == "early200":  # a 200 without events, at once
            return web.json_response(empty)
        if mode == "children":  # a server without /changes: followed by /status polls
            return web.json_response({"detail": "Not Found"}, status=404)
        if mode == "early_events":  # a 200 with one (made-up) event, at once, every time
            event = {"type": "AgentEvent", "data": {"kind": "step"}, "timestamp": "2026-11-28T10:00:02Z"}
            return web.json_response({**empty, "new_events": [event]})
        wait = min(float(request.query.get("wait_for_seconds", "0")), 25.0)
        await asyncio.sleep(wait)  # a well-behaved server holds the long-poll
        return web.Response(status=204, headers={"ETag": str(cursor)})

    async def events(self, request: web.Request) -> web.Response:
        self._note("events")
        if (refused := self._unauthorized(request)) is not None:
            return refused
        err = self._error()
        if err is not None:
            return err
        return web.json_response({"items": [], "page": 1, "total": 5})

    async def quota(self, request: web.Request) -> web.Response:
        self._note("quota")
        if (refused := self._unauthorized(request)) is not None:
            return refused
        err = self._error("quota")
        if err is not None:
            return err
        return web.json_response({"scope": "user", "limit": 10, "active": 1, "available": 9})

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> Hostile:
        app = web.Application()
        p = "/api/v2/sessions"
        app.add_routes([
            web.get(p, self.list_sessions), web.get(f"{p}/quota", self.quota),
            web.get(f"{p}/{{id}}", self.get_session), web.get(f"{p}/{{id}}/status", self.get_status),
            web.get(f"{p}/{{id}}/changes", self.changes), web.get(f"{p}/{{id}}/events", self.events),
        ])
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

        self._thread = threading.Thread(target=run, daemon=True, name="hostile-server")
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the hostile server did not start")
        return self

    def stop(self) -> None:
        async def down() -> None:
            if self._runner is not None:
                await self._runner.cleanup()
            # Bodies still trickling to a client that is gone: end them, quietly.
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(down(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
