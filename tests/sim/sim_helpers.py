"""Helpers shared by the simulator tests (a module, not conftest, so tests can import it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDict

from agp_tui.sim import DEMO_API_KEY, ManualClock, SimServer, World

EPOCH = 1_781_000_000.0  # 2026-06-09: fixed so rendered timestamps are reproducible
AUTH = {"Authorization": f"Bearer {DEMO_API_KEY}"}
Params = dict[str, Any] | list[tuple[str, str]] | None


@dataclass
class Reply:
    status: int
    body: Any
    headers: CIMultiDict[str]  # case-insensitive, like HTTP
    text: str


@dataclass
class Sim:
    server: SimServer
    world: World
    http: aiohttp.ClientSession

    async def call(
        self, method: str, path: str, *, params: Params = None, json: Any = None, headers: Any = None
    ) -> Reply:
        async with self.http.request(
            method,
            self.server.base_url + path,
            params=params,
            json=json,
            headers=AUTH if headers is None else headers,
        ) as r:
            text = await r.text()
            body = await r.json(content_type=None) if text else None
            return Reply(r.status, body, CIMultiDict(r.headers), text)

    async def get(self, path: str, params: Params = None, **kw: Any) -> Reply:
        return await self.call("GET", path, params=params, **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> Reply:
        return await self.call("POST", path, json=json, **kw)

    async def delete(self, path: str, **kw: Any) -> Reply:
        return await self.call("DELETE", path, **kw)

    def running_top_level(self) -> list[str]:
        return [s.id for s in self.world.all_sessions() if s.parent_id is None and s.status == "running"]


def make_world(seed: int = 3, sessions: int = 40, **kw: Any) -> World:
    kw.setdefault("arrival_interval_s", 0)
    return World(seed=seed, sessions=sessions, clock=ManualClock(), start_epoch=EPOCH, **kw)
