"""Serving a World over real HTTP: `SimServer` (async) and `start_in_thread` (sync callers).

Loopback only unless `allow_remote=True`: the simulator accepts a published demo key, so
exposing it on a network is a deliberate choice, never a default.
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Middleware

from agp_tui.sim.chaos import Chaos, ChaosSwitch, chaos_middleware
from agp_tui.sim.middleware import auth_middleware, error_middleware
from agp_tui.sim.routes import PREFIX, Api
from agp_tui.sim.world import World

DEMO_API_KEY = "hk-demo-0000000000000000"
T = TypeVar("T")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SimServer:
    """`async with SimServer(world=World(...)) as srv:` then talk to `srv.base_url`."""

    def __init__(
        self,
        world: World | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_keys: Iterable[str] = (DEMO_API_KEY,),
        chaos: Chaos | None = None,
        long_poll_cap: int = 25,
        allow_remote: bool = False,
        middlewares: Iterable[Middleware] = (),
    ) -> None:
        if not is_loopback(host) and not allow_remote:
            raise ValueError(f"refusing to bind {host}: pass allow_remote=True to serve off-host")
        self.world = world if world is not None else World()
        self.host, self._port = host, port
        self.api_keys = tuple(api_keys)
        if not self.api_keys:
            raise ValueError("at least one API key is required")
        # Given a Chaos (even `Chaos()`, no trouble yet), the server can switch it at run time
        # through `POST /_sim/chaos`; given none, not even a pass-through layer is added, so
        # /status stays as cheap as it can be.
        self.chaos_switch = ChaosSwitch(chaos) if chaos is not None else None
        self.api = Api(self.world, long_poll_cap=long_poll_cap)
        self.extra_middlewares = tuple(middlewares)  # outermost: a test's hooks (FakeBackend)
        self._runner: web.AppRunner | None = None

    @property
    def chaos(self) -> Chaos:
        """The chaos in force right now."""
        return self.chaos_switch.chaos if self.chaos_switch is not None else Chaos()

    def make_app(self) -> web.Application:
        middlewares: list[Middleware] = list(self.extra_middlewares)
        if self.chaos_switch is not None:
            middlewares.append(chaos_middleware(self.chaos_switch))
        middlewares += [error_middleware, auth_middleware(self.api_keys, self.api.is_shared)]
        app = web.Application(middlewares=middlewares)
        app.add_routes(self.api.routes())
        app.add_routes([web.get("/_sim/chaos", self._chaos_get), web.post("/_sim/chaos", self._chaos_post)])
        return app

    async def _chaos_get(self, request: web.Request) -> web.Response:
        if self.chaos_switch is None:
            return web.json_response({"chaos": "off", "enabled": False, "settings": None, "injected": {}})
        return await self.chaos_switch.get(request)

    async def _chaos_post(self, request: web.Request) -> web.Response:
        if self.chaos_switch is None:
            return web.json_response(
                {"detail": "chaos cannot be switched on: start the simulator with --chaos (--chaos off "
                           "starts without trouble but switchable)"}, status=409)
        return await self.chaos_switch.post(request)

    async def start(self) -> None:
        # A short shutdown grace: long-polls in flight must not hold a test for 60 s.
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def origin(self) -> str:
        """`http://host:port`, the base the official SDK wants (it appends `/api/v2/...`)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def base_url(self) -> str:
        return self.origin + PREFIX

    @property
    def api_key(self) -> str:
        return self.api_keys[0]


class SimHandle:
    """A SimServer running on its own loop in a daemon thread."""

    def __init__(self, server: SimServer, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
        self.server = server
        self._loop = loop
        self._thread = thread

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def origin(self) -> str:
        return self.server.origin

    @property
    def api_key(self) -> str:
        return self.server.api_key

    @property
    def world(self) -> World:
        """Read-only from other threads; mutate through `call`."""
        return self.server.world

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on the server's loop (the World is not thread-safe) and wait."""

        async def run() -> T:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    def advance(self, seconds: float) -> None:
        self.call(self.server.world.advance, seconds)

    def demo_session_ids(self, limit: int = 12) -> list[str]:
        return self.server.world.demo_session_ids(limit)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> SimHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(
    world: World | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    api_keys: Iterable[str] = (DEMO_API_KEY,),
    chaos: Chaos | None = None,
    long_poll_cap: int = 25,
    allow_remote: bool = False,
    middlewares: Iterable[Middleware] = (),
    **world_options: Any,
) -> SimHandle:
    """Start a simulator for sync callers (`--demo`); blocks until it is listening.

    `world_options` build a World when none is given (seed=, sessions=, speed=, ...).
    """
    server = SimServer(
        world if world is not None else World(**world_options),
        host=host,
        port=port,
        api_keys=api_keys,
        chaos=chaos,
        long_poll_cap=long_poll_cap,
        allow_remote=allow_remote,
        middlewares=middlewares,
    )
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start())
        except BaseException as e:  # surfaced to the caller below
            failure.append(e)
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="agp-sim", daemon=True)
    thread.start()
    ready.wait()
    if failure:
        raise failure[0]
    return SimHandle(server, loop, thread)
