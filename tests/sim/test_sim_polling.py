"""The documented polling loop (GET /status every interval until terminal) against a fast world."""

from __future__ import annotations

import asyncio

import aiohttp
from sim_helpers import AUTH, EPOCH

from agp_tui.sim import RealClock, SimServer, World
from agp_tui.sim.catalog import TERMINAL


async def test_status_polling_loop_runs_to_completion() -> None:
    world = World(seed=8, sessions=10, clock=RealClock(speed=400), start_epoch=EPOCH, arrival_interval_s=0)
    async with SimServer(world) as srv, aiohttp.ClientSession(headers=AUTH) as http:
        async with http.post(
            f"{srv.base_url}/sessions",
            json={"agent": "h/web-surfer", "messages": "Summarise the ECB statement"},
        ) as r:
            assert r.status == 201
            sid = (await r.json())["id"]
        seen: list[str] = []
        steps: list[int] = []
        for _ in range(400):  # bounded: ~20 s at most, a few seconds in practice
            async with http.get(f"{srv.base_url}/sessions/{sid}/status") as r:
                assert r.status == 200
                body = await r.json()
            if not seen or seen[-1] != body["status"]:
                seen.append(body["status"])
            steps.append(body["steps"])
            if body["status"] in TERMINAL:
                break
            await asyncio.sleep(0.05)
        assert seen[-1] in TERMINAL, seen
        assert seen[0] in ("pending", "running")
        assert steps == sorted(steps)
        async with http.get(
            f"{srv.base_url}/sessions/{sid}/changes", params={"from_index": "0", "include_events": "false"}
        ) as r:
            final = await r.json()
        assert final["status"] == seen[-1] and final["finished_at"]
        if seen[-1] == "completed":
            assert final["answer"] is not None and final["outcome"] is not None
