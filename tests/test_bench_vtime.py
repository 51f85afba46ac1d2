"""The benchmarks' virtual-time loop: timers skip ahead, loopback I/O in-process still flows."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from aiohttp import web

from agp_tui.bench.vtime import run_virtual


def test_an_hour_of_sleeping_takes_no_real_time() -> None:
    async def main() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        await asyncio.gather(asyncio.sleep(3600), asyncio.sleep(1800))
        return loop.time(), time.monotonic()

    start = time.monotonic()
    virtual, end = run_virtual(main())
    assert virtual == 3600.0
    assert end - start < 1.0


def test_an_in_process_server_answers_while_time_skips() -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()

        async def slow(request: web.Request) -> web.Response:
            await asyncio.sleep(20)  # a held long-poll, say
            return web.json_response({"t": loop.time()})

        app = web.Application()
        app.add_routes([web.get("/slow", slow)])
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            async with aiohttp.ClientSession() as http:
                answers = []
                for _ in range(3):
                    async with http.get(f"http://127.0.0.1:{port}/slow") as r:
                        answers.append((await r.json())["t"])
                return answers
        finally:
            await runner.cleanup()

    start = time.monotonic()
    answers = run_virtual(main())
    assert answers == [20.0, 40.0, 60.0]  # exactly the held seconds, no real waiting
    assert time.monotonic() - start < 5.0
