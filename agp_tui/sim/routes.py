"""The `/api/v2/sessions` HTTP surface over a World.

Handlers parse (422 first, as FastAPI validates before running the endpoint), look the
session up (404), then delegate to the world or to `steering`. Bodies are the exact
shapes of the API reference; nothing else is added, so strict clients stay happy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

from aiohttp import web

from agp_tui.sim import steering
from agp_tui.sim.catalog import STATUSES
from agp_tui.sim.clock import RealClock
from agp_tui.sim.events import render
from agp_tui.sim.middleware import HttpError, json_response
from agp_tui.sim.session import SimSession
from agp_tui.sim.validation import (
    Invalid,
    QueryReader,
    err,
    message_texts,
    parse_session_id,
    session_request,
)
from agp_tui.sim.world import ListQuery, QuotaExceeded, World

PREFIX = "/api/v2"
MAX_CHANGES_PAGE = 500  # the real server caps /changes pages too; the exact cap is undocumented
IDEMPOTENCY_TTL_S = 24 * 3600.0
OWNERS = ("me", "me-in-organization", "organization", "me-or-organization")
EMPTY_202 = b""


class Api:
    def __init__(self, world: World, *, long_poll_cap: int = 25) -> None:
        self.world = world
        self.long_poll_cap = long_poll_cap
        # (caller key, Idempotency-Key) -> (body fingerprint, stored 201 body, world time)
        self._idempotent: dict[tuple[str, str], tuple[str, bytes, float]] = {}

    def routes(self) -> list[web.RouteDef]:
        s = f"{PREFIX}/sessions"
        return [
            web.get(s, self.list_sessions),
            web.post(s, self.create_session),
            web.get(f"{s}/quota", self.quota),  # before {id}: "quota" is not a session id
            web.get(f"{s}/{{id}}", self.get_session),
            web.delete(f"{s}/{{id}}", self.cancel),
            web.get(f"{s}/{{id}}/status", self.status),
            web.get(f"{s}/{{id}}/changes", self.changes),
            web.get(f"{s}/{{id}}/events", self.events),
            web.post(f"{s}/{{id}}/messages", self.messages),
            web.post(f"{s}/{{id}}/pause", self.pause),
            web.post(f"{s}/{{id}}/resume", self.resume),
            web.post(f"{s}/{{id}}/force_answer", self.force_answer),
            web.post(f"{s}/{{id}}/share", self.share),
            web.delete(f"{s}/{{id}}/share", self.unshare),
            web.get("/_sim/truth", self.truth),
            web.post("/_sim/clock", self.clock_control),
        ]

    async def clock_control(self, request: web.Request) -> web.Response:
        """Not AGP: `{"frozen": true}` stops world time, `false` lets it run on. A soak turns
        chaos off and freezes the world, so "the client agrees with the server" is exact."""
        try:
            body = await request.json()
        except ValueError:
            body = None
        frozen = body.get("frozen") if isinstance(body, dict) else None
        if not isinstance(frozen, bool):
            raise HttpError(422, 'expected {"frozen": true | false}')
        clock = self.world.clock
        if not isinstance(clock, RealClock):
            raise HttpError(409, "this world's clock only moves when told (a manual clock)")
        now = self.world.sync()  # bring every session up to the moment time stops
        if frozen:
            clock.freeze()
        else:
            clock.thaw()
        self.world.notify()  # long-polls waiting on a tick re-read the clock
        return web.json_response({"now": now, "frozen": clock.frozen})

    async def truth(self, request: web.Request) -> web.Response:
        """Not AGP: the simulator's ground truth (status transitions in world time, and how
        world time maps to this machine's monotonic clock), for benchmarks to score against."""
        world = self.world
        now = world.sync()
        clock = world.clock
        body = {
            "now": now,
            "speed": getattr(clock, "speed", None),
            "origin_monotonic": getattr(clock, "origin", None),
            "frozen": getattr(clock, "frozen", False),
            "sessions": {
                sess.id: {"parent": sess.parent_id, "log": sess.status_log}
                for sess in world.all_sessions()
            },
        }
        return web.json_response(body)

    def is_shared(self, raw_id: str) -> bool:
        try:
            s = self.world.get(parse_session_id(raw_id))
        except Invalid:
            return False
        return s is not None and s.shared

    def _session(self, request: web.Request) -> SimSession:
        s = self.world.get(parse_session_id(request.match_info["id"]))
        if s is None:
            raise HttpError(404, "Session not found")
        return s

    # -- reads ---------------------------------------------------------------------------------
    async def list_sessions(self, request: web.Request) -> web.Response:
        q = QueryReader(request.query)
        page = q.int_("page", 1, ge=1) or 1
        size = q.int_("size", 10, ge=1, le=100) or 10
        sort = q.enums("sort", ("created_at", "-created_at"))
        statuses = q.enums("status", STATUSES)
        q.enums("owner", OWNERS)  # scoping is moot: the simulator has one organisation
        query = ListQuery(
            statuses=frozenset(statuses),
            agents=frozenset(request.query.getall("agent", [])),
            group_id=q.str_("group_id"),
            parent_session_id=q.str_("parent_session_id"),
            schedule_id=q.str_("schedule_id"),
            search=q.str_("search"),
            created_after=q.datetime_("created_after"),
            created_before=q.datetime_("created_before"),
            finished_after=q.datetime_("finished_after"),
            finished_before=q.datetime_("finished_before"),
            newest_first=not sort or sort[0] == "-created_at",
            page=page,
            size=size,
        )
        q.done()
        items, total = self.world.query(query)
        epoch = self.world.epoch
        body = b'{"items": [' + b", ".join(s.summary_json(epoch) for s in items) \
            + f'], "page": {page}, "total": {total}}}'.encode()
        return web.Response(body=body, content_type="application/json")

    async def quota(self, request: web.Request) -> web.Response:
        self.world.sync()
        limit, active = self.world.quota_limit, self.world.active_count()
        return json_response(
            200, {"scope": "user", "limit": limit, "active": active, "available": limit - active}
        )

    async def get_session(self, request: web.Request) -> web.Response:
        return json_response(200, self._session(request).full(self.world.epoch))

    async def status(self, request: web.Request) -> web.Response:
        # The hot path: cached bytes unless a tick landed since the last poll.
        body = self._session(request).status_json()
        return web.Response(body=body, content_type="application/json")

    async def changes(self, request: web.Request) -> web.Response:
        q = QueryReader(request.query)
        from_index = q.int_("from_index", 0) or 0
        limit = q.int_("limit", None, ge=0)
        include_events = q.bool_("include_events", True)
        wait = q.int_("wait_for_seconds", 0, ge=0, le=self.long_poll_cap) or 0
        q.done()
        s = self._session(request)  # 404 comes before any waiting
        start = max(0, from_index)  # negative cursors clamp to 0
        if len(s.events) <= start and wait > 0:
            await self._wait_for_events(s, start, wait)
        if len(s.events) <= start:
            return web.Response(status=204, headers={"ETag": str(start)})
        page = MAX_CHANGES_PAGE if limit is None else min(limit, MAX_CHANGES_PAGE)
        return json_response(200, s.changes(start, page, include_events, self.world.epoch))

    async def _wait_for_events(self, s: SimSession, start: int, wait_s: float) -> None:
        """Hold until an event lands past `start`: the session's next scheduled tick, a
        steering action, or a manual clock move, whichever comes first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            s.advance(self.world.now(), self.world.spawn)
            remaining = deadline - loop.time()
            if len(s.events) > start or remaining <= 0:
                return
            delay = min(remaining, self.world.real_delay_until(s.next_t()))
            changed = self.world.changed()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=max(delay, 0.001))

    async def events(self, request: web.Request) -> web.Response:
        q = QueryReader(request.query)
        page = q.int_("page", 1, ge=1) or 1
        size = q.int_("size", 50, ge=1, le=200) or 50
        sort = q.enums("sort", ("timestamp", "-timestamp"))
        type_ = q.str_("type")
        q.done()
        s = self._session(request)
        events = s.events if type_ is None else [e for e in s.events if e.type == type_]
        if sort and sort[0] == "-timestamp":
            events = events[::-1]  # stored in (timestamp, index) order already
        chunk = events[(page - 1) * size : page * size]
        epoch = self.world.epoch
        return json_response(
            200, {"items": [render(e, epoch) for e in chunk], "page": page, "total": len(events)}
        )

    # -- writes --------------------------------------------------------------------------------
    async def create_session(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key")
        if key is not None and not key.strip():
            raise HttpError(422, "Idempotency-Key must not be blank")
        if key is not None and len(key.strip()) > 255:
            raise HttpError(422, "Idempotency-Key must be at most 255 characters")
        body = await _json_body(request)
        slot = (request.headers.get("Authorization", ""), key.strip()) if key else None
        fingerprint = json.dumps(body, sort_keys=True)
        if slot is not None:
            stored = self._idempotent.get(slot)
            if stored is not None and self.world.now() - stored[2] < IDEMPOTENCY_TTL_S:
                if stored[0] != fingerprint:
                    raise HttpError(422, "Idempotency-Key reused with a different request body")
                return web.Response(status=201, body=stored[1], content_type="application/json")
        echo, queue = session_request(body)
        parent_id = echo["parent_session_id"]
        if parent_id is not None:
            try:
                echo["parent_session_id"] = parse_session_id(parent_id)
            except Invalid:
                raise HttpError(404, "Parent session not found") from None
            if self.world.get(echo["parent_session_id"]) is None:
                raise HttpError(404, "Parent session not found")
        try:
            s = self.world.create(echo, queue=queue)
        except QuotaExceeded as e:
            raise HttpError(429, str(e)) from None
        payload = json.dumps(s.full(self.world.epoch)).encode()
        if slot is not None:
            self._idempotent[slot] = (fingerprint, payload, self.world.now())
        return web.Response(status=201, body=payload, content_type="application/json")

    async def messages(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        s = self._session(request)
        texts = message_texts(body)
        if texts is None:
            raise HttpError(400, "Invalid message format")
        steering.send_messages(self.world, s, texts)
        return web.Response(status=202, body=EMPTY_202)

    async def pause(self, request: web.Request) -> web.Response:
        return self._steer(request, steering.pause)

    async def resume(self, request: web.Request) -> web.Response:
        return self._steer(request, steering.resume)

    async def force_answer(self, request: web.Request) -> web.Response:
        return self._steer(request, steering.force_answer)

    def _steer(self, request: web.Request, action: Callable[[World, SimSession], object]) -> web.Response:
        s = self._session(request)
        try:
            action(self.world, s)
        except steering.NotRunning as e:
            raise HttpError(409, e.detail) from None
        return web.Response(status=202, body=EMPTY_202)

    async def cancel(self, request: web.Request) -> web.Response:
        steering.cancel(self.world, self._session(request))
        return web.Response(status=204)

    async def share(self, request: web.Request) -> web.Response:
        s = self._session(request)
        s.shared = True
        return json_response(200, {"share_url": f"/share/api/v1/trajectories/{s.id}"})

    async def unshare(self, request: web.Request) -> web.Response:
        self._session(request).shared = False
        return web.Response(status=204)


async def _json_body(request: web.Request) -> object:
    raw = await request.read()
    try:
        return json.loads(raw)
    except ValueError as e:
        raise Invalid(
            [err("json_invalid", ["body", 0], "JSON decode error", {}, {"error": str(e).split(":")[0]})]
        ) from None
