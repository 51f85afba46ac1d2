"""FakeBackend: the simulator answering in-process, for tests and virtual-time runs.

A `Backend` (agp_tui.api.backend) whose requests never touch a socket: each one is handed
to the simulator's own aiohttp application (its routes, validation, gateway auth and error
shapes) as an in-memory request, over a `World` that is usually driven by a `ManualClock`.
Engine, UI and headless tests thus see exactly the answers the simulator gives over HTTP,
at the cost of a function call, on any event loop (looptime's virtual one included).
HTTP itself (bytes, encodings, sockets) is what the real backends are tested for, over
loopback against `SimServer`.

Two small hooks cover what a healthy server never does on cue:
- `fail()` adds a fault: a status, a canned `RawResponse`, an exception, or a function of
  the request, for requests of one kind and/or one session, a number of times or until
  `heal()`. Faults are tried in the order they were added (so one-shot faults queue).
- `hold()` makes matching requests wait until an event is set; `delay` adds loop time
  before every answer.
Every request is recorded (`requests`, `calls` by kind, `per_session`, `max_overlap`).

And `pin()` puts a session with chosen state in the World (a fixed id, agent, status,
counters, timestamps) that holds still until the test moves it (`step()`, `set()`): see
`agp_tui.sim.pinned`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from aiohttp.typedefs import Handler, Middleware
from multidict import CIMultiDict

from agp_tui.api.backend import Params, RawResponse, _too_slow
from agp_tui.api.errors import Unreachable
from agp_tui.sim.chaos import CONTROL_PREFIX, UPSTREAM
from agp_tui.sim.pinned import EPOCH, Usage, When, fake_world, pin, set_state, sid_of, step
from agp_tui.sim.routes import PREFIX
from agp_tui.sim.server import DEMO_API_KEY, SimHandle, SimServer, start_in_thread
from agp_tui.sim.session import SimSession
from agp_tui.sim.ticks import Tick
from agp_tui.sim.world import World

__all__ = [  # the pinned-session helpers tests need come from here too
    "EPOCH",
    "FAKE_BASE",
    "Call",
    "FakeBackend",
    "Fault",
    "Patch",
    "Reply",
    "Stall",
    "canned",
    "fake_world",
    "sid_of",
    "status_of",
]

if TYPE_CHECKING:
    import httpx

    from agp_tui.api.client import AgpClient
    from agp_tui.api.retry import RetryPolicy

FAKE_BASE = "https://agp.test/api/v2"  # any host: nothing is resolved
HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "date", "server"})


@dataclass(frozen=True, slots=True)
class Call:
    """One request as the backend received it (read like an `httpx.Request`: `method`,
    `url`, `headers`, `content`)."""

    method: str
    target: str  # the full URL, query included
    path: str  # without the /api/v2 prefix: /sessions/<id>/status
    params: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]  # case-insensitive
    json_body: object | None
    kind: str  # list, create, quota, session, cancel, status, changes, events, messages, ...
    session: str | None
    content: bytes = b""  # the body as sent
    timeout: float | None = None  # the deadline the client gave (in-process only)

    def param(self, name: str, default: str | None = None) -> str | None:
        return next((v for k, v in self.params if k == name), default)

    @property
    def url(self) -> httpx.URL:
        import httpx

        return httpx.URL(self.target)


@dataclass(frozen=True, slots=True)
class Patch:
    """Let the World answer, then edit its JSON body (fields a newer server adds, say)."""

    edit: Callable[[Any], object]


@dataclass(frozen=True, slots=True)
class Stall:
    """Wait this long (loop time), then answer as if this fault were not there: one slow
    answer, where `delay` slows them all."""

    seconds: float


Reply = int | RawResponse | BaseException | Patch | Stall | Callable[[Call], RawResponse | None]


@dataclass(eq=False)
class Fault:
    """Answer matching requests with `reply` instead of the World, `times` times."""

    reply: Reply
    kind: str | None = None
    session: str | None = None
    times: float = math.inf
    headers: Mapping[str, str] = field(default_factory=dict)

    def matches(self, call: Call) -> bool:
        return (self.kind is None or self.kind == call.kind) and (
            self.session is None or self.session == call.session)


def error_body(status: int) -> tuple[dict[str, Any], dict[str, str]]:
    """What the real service sends with a bare status: the gateway's 401, FastAPI's others."""
    if status == 401:
        return {"message": "Unauthorized"}, {"WWW-Authenticate": "Bearer"}
    if status == 429:
        return {"detail": "Too many requests"}, {}
    if status in UPSTREAM:
        return dict(UPSTREAM[status]), {}
    return {"detail": "Not Found" if status == 404 else "Internal Server Error"}, {}


def canned(status: int, body: object = None, headers: Mapping[str, str] | None = None) -> RawResponse:
    """A response with a JSON body (or none, when `body` is None and status is 204/202)."""
    hdrs = dict(headers or {})
    if body is None:
        return RawResponse(status, hdrs, b"")
    hdrs.setdefault("Content-Type", "application/json")
    return RawResponse(status, hdrs, json.dumps(body).encode())


class _Body:
    """The little of aiohttp's StreamReader a handler reads a request body through."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def readany(self) -> bytes:
        data, self._data = self._data, b""
        return data

    async def read(self, n: int = -1) -> bytes:
        return await self.readany()

    def at_eof(self) -> bool:
        return not self._data

    def set_read_chunk_size(self, size: int) -> None:
        pass


def _call(method: str, target: str, path: str, params: tuple[tuple[str, str], ...],
          headers: Mapping[str, str], json_body: object | None, content: bytes,
          timeout: float | None = None) -> Call:
    short = path.removeprefix(PREFIX)
    kind, sid = _kind(method, short)
    return Call(method, target, short, params, CIMultiDict(headers), json_body, kind, sid, content,
                timeout)


def _kind(method: str, path: str) -> tuple[str, str | None]:
    parts = path.strip("/").split("/")
    if parts[:1] != ["sessions"]:
        return "other", None
    if len(parts) == 1:
        return ("create" if method == "POST" else "list"), None
    if parts[1] == "quota" and len(parts) == 2:
        return "quota", None
    if len(parts) == 2:
        return ("cancel" if method == "DELETE" else "session"), parts[1]
    return parts[2], parts[1]


class FakeBackend:
    """A `Backend` over a World, served in-process by the simulator's own routes."""

    def __init__(self, world: World | None = None, *, api_keys: Sequence[str] = (DEMO_API_KEY,),
                 long_poll_cap: int = 25) -> None:
        self.world = world if world is not None else fake_world()
        self.api_keys = tuple(api_keys)
        self.server = SimServer(self.world, api_keys=self.api_keys, long_poll_cap=long_poll_cap)
        self.app = self.server.make_app()
        self.requests: list[Call] = []
        self.calls: Counter[str] = Counter()
        self.per_session: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()
        self.max_overlap = 0
        self.delay = 0.0  # loop seconds before every answer
        self.faults: list[Fault] = []
        self.base_url = FAKE_BASE  # where it answers: a loopback URL once `serve_in_thread` ran
        self.handle: SimHandle | None = None
        self._holds: list[tuple[frozenset[str] | None, asyncio.Event]] = []
        # aiohttp's mocked connection (protocol, transport, writer: a dozen spec'd mocks),
        # made once. Made for each request, it cost 0.8 of the 1 ms a request took, the
        # largest part of the test suite's FakeBackend time. No handler writes through it:
        # the answer is read off the response object.
        template = make_mocked_request("GET", "/", app=self.app)
        self._connection: dict[str, Any] = {
            "protocol": template.protocol, "transport": template.transport, "writer": template.writer}

    # -- the Backend protocol --------------------------------------------------------------
    async def request(self, method: str, url: str, *, params: Params, headers: Mapping[str, str],
                      json_body: object | None, timeout: float) -> RawResponse:
        path = urlsplit(url).path
        target = url + ("?" + urlencode(list(params)) if params else "")
        content = json.dumps(json_body).encode() if json_body is not None else b""
        call = _call(method, target, path, tuple(params), headers, json_body, content, timeout)
        try:
            async with asyncio.timeout(timeout):
                return await self._answer(call, lambda: self._serve(call, path))
        except TimeoutError:
            raise _too_slow(timeout, url) from None

    async def aclose(self) -> None:
        pass

    # -- answering -------------------------------------------------------------------------
    async def _answer(self, call: Call, world: Callable[[], Awaitable[RawResponse]]) -> RawResponse:
        """Record the call, then answer it from the hooks or else from `world()`."""
        self.requests.append(call)
        self.calls[call.kind] += 1
        key = call.session or ""
        if call.session is not None:
            self.per_session[key] += 1
        self.in_flight[key] += 1
        if call.session is not None:
            self.max_overlap = max(self.max_overlap, self.in_flight[key])
        try:
            return await self._hooks(call, world)
        finally:
            self.in_flight[key] -= 1

    async def _hooks(self, call: Call, world: Callable[[], Awaitable[RawResponse]]) -> RawResponse:
        for entry in list(self._holds):
            ids, gate = entry
            if ids is None or call.session in ids:
                await gate.wait()
            if gate.is_set() and entry in self._holds:
                self._holds.remove(entry)
        if self.delay:
            await asyncio.sleep(self.delay)
        for fault in list(self.faults):
            if not fault.matches(call):
                continue
            reply = fault.reply
            if isinstance(reply, Stall):
                self._use(fault)
                await asyncio.sleep(reply.seconds)
                continue
            if isinstance(reply, int):
                body, extra = error_body(reply)
                answer: RawResponse | BaseException | None = canned(reply, body, {**extra, **fault.headers})
            elif isinstance(reply, RawResponse | BaseException):
                answer = reply
            elif isinstance(reply, Patch):
                answer = await world()
                if answer.body:
                    data = json.loads(answer.body)
                    reply.edit(data)
                    answer = RawResponse(answer.status, answer.headers, json.dumps(data).encode())
            else:
                answer = reply(call)
            if answer is None:
                continue  # a function that lets this one through
            self._use(fault)
            if isinstance(answer, BaseException):
                raise answer
            return answer
        return await world()

    def _use(self, fault: Fault) -> None:
        fault.times -= 1
        if fault.times <= 0 and fault in self.faults:
            self.faults.remove(fault)

    async def _serve(self, call: Call, path: str) -> RawResponse:
        target = path + ("?" + urlencode(call.params) if call.params else "")
        headers = {k: v for k, v in call.headers.items()}
        body = call.content
        if call.json_body is not None:
            headers["Content-Type"] = "application/json"
        probe = make_mocked_request(call.method, target, headers=headers, app=self.app, **self._connection)
        match = await self.app.router.resolve(probe)
        request = make_mocked_request(call.method, target, headers=headers, app=self.app,
                                      match_info=dict(match), payload=_Body(body),  # type: ignore[arg-type]
                                      **self._connection)
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]] = match.handler
        for middleware in reversed(self.app.middlewares):
            handler = functools.partial(middleware, handler=handler)
        try:
            response = await handler(request)
        except web.HTTPException as e:
            response = e
        raw = response.body if isinstance(response, web.Response) else None
        data = bytes(raw) if isinstance(raw, bytes | bytearray) else b""
        return RawResponse(response.status, dict(response.headers), data)

    # -- the same hooks over loopback -------------------------------------------------------
    def middleware(self) -> Middleware:
        """The hooks and the records as an aiohttp middleware, for a `SimServer` on a socket
        (`serve_in_thread`): what a test of a separate process or of HTTP itself needs."""

        @web.middleware
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            if request.path.startswith(CONTROL_PREFIX):
                return await handler(request)
            body = await request.read() if request.can_read_body else b""
            try:
                json_body = json.loads(body) if body else None
            except ValueError:
                json_body = None
            call = _call(request.method, str(request.url), request.path, tuple(request.query.items()),
                         request.headers, json_body, body)

            async def world() -> RawResponse:
                resp = await handler(request)
                raw = resp.body if isinstance(resp, web.Response) else None
                return RawResponse(resp.status, dict(resp.headers),
                                   bytes(raw) if isinstance(raw, bytes | bytearray) else b"")

            try:
                raw = await self._answer(call, world)
            except (Unreachable, ConnectionError, TimeoutError):
                if request.transport is not None:
                    request.transport.close()  # the client sees a dropped connection
                return web.Response(status=499)
            headers = {k: v for k, v in raw.headers.items() if k.lower() not in HOP_HEADERS}
            return web.Response(status=raw.status, body=raw.body, headers=headers)

        return middleware

    def serve_in_thread(self) -> SimHandle:
        """Serve this World, with these hooks, on 127.0.0.1 from a daemon thread. The hooks
        then run on that thread's loop: change them through `handle.call`."""
        self.handle = start_in_thread(self.world, api_keys=self.api_keys,
                                      long_poll_cap=self.server.api.long_poll_cap,
                                      middlewares=[self.middleware()])
        self.base_url = self.handle.base_url
        return self.handle

    def name_children(self, sid: str, *ids: str) -> None:
        """The session's status also names these children (ids the World does not have:
        deleted, unreadable, or not ids at all)."""

        def more(data: Any) -> None:
            status_of(data)["subagent_session_ids"].extend(ids)

        for kind in ("status", "session"):
            self.fail(Patch(more), kind=kind, session=sid)

    def plan(self, sid: str, ticks: Sequence[Tick]) -> SimSession:
        """Give a session a future: these ticks apply as the World's clock reaches them."""
        s = self.get(sid)
        s.replace_future(sorted(ticks, key=lambda t: t.t))
        self.world.edited(s)
        return s

    # -- fault injection -------------------------------------------------------------------
    def fail(self, reply: Reply, *, kind: str | None = None, session: str | None = None,
             times: float = math.inf, headers: Mapping[str, str] | None = None) -> Fault:
        """From now on, answer matching requests with `reply` (until `heal`, or `times` uses).

        `reply`: a status (with the body the real service sends with it), a `RawResponse`,
        an exception to raise (`Unreachable(...)` is a refused connection; over loopback, a
        dropped one), a `Patch` of the World's answer, a `Stall`, or a function of the
        `Call` returning a `RawResponse` (or None to let the World answer)."""
        fault = Fault(reply, kind, session, times, dict(headers or {}))
        self.faults.append(fault)
        return fault

    def queue(self, *replies: Reply) -> list[Fault]:
        """Answer the next requests with these, in this order, before any standing fault."""
        faults = [Fault(reply, times=1) for reply in replies]
        standing = next((i for i, f in enumerate(self.faults) if f.times == math.inf), len(self.faults))
        self.faults[standing:standing] = faults
        return faults

    @property
    def last(self) -> Call:
        assert self.requests, "no request was made"
        return self.requests[-1]

    def offline(self) -> Fault:
        """Every request fails as a refused connection does."""
        return self.fail(Unreachable("ConnectError: connection refused (agp.test)"))

    def heal(self, *faults: Fault) -> None:
        """Remove the given faults, or every fault."""
        if not faults:
            self.faults.clear()
        for fault in faults:
            if fault in self.faults:
                self.faults.remove(fault)

    def hold(self, *sessions: str) -> asyncio.Event:
        """Requests about these sessions (every request, if none given) wait until the
        returned event is set."""
        gate = asyncio.Event()
        self._holds.append((frozenset(sessions) if sessions else None, gate))
        return gate

    # -- conveniences ----------------------------------------------------------------------
    def client(self, base_url: str = FAKE_BASE, key: str | None = None, *,
               retry: RetryPolicy | None = None, **kwargs: Any) -> AgpClient:
        """An `AgpClient` on this backend, retries off unless `retry` is given."""
        from agp_tui.api.client import AgpClient
        from agp_tui.api.retry import RetryPolicy

        return AgpClient(base_url, self.api_keys[0] if key is None else key, backend=self,
                         retry=retry if retry is not None else RetryPolicy.off(), **kwargs)

    def pin(self, sid: str | int | None = None, **state: Any) -> SimSession:
        return pin(self.world, sid, **state)

    def get(self, sid: str) -> SimSession:
        s = self.world.get(sid)
        if s is None:
            raise KeyError(sid)
        return s

    def step(self, sid: str, steps: int = 1, usage: Usage = (), *, when: When | None = None) -> SimSession:
        return step(self.world, self.get(sid), steps, usage, when=when)

    def set(self, sid: str, **state: Any) -> SimSession:
        return set_state(self.world, self.get(sid), **state)


def status_of(body: Any) -> Any:
    """The status object in a `/status` body (itself) or a `/session` body (its `status`)."""
    return body["status"] if isinstance(body.get("status"), dict) else body
