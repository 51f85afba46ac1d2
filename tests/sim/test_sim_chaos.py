"""Chaos: the spec parser, and each failure kind as a client sees it."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from sim_helpers import AUTH, make_world

from agp_tui.sim import Chaos, ChaosSpecError, SimServer, parse_chaos


@asynccontextmanager
async def chaotic(chaos: Chaos) -> AsyncIterator[tuple[SimServer, aiohttp.ClientSession]]:
    async with (
        SimServer(make_world(sessions=5), chaos=chaos) as srv,
        aiohttp.ClientSession(headers=AUTH) as http,
    ):
        yield srv, http


def test_parse_chaos_spec() -> None:
    c = parse_chaos("latency=50, jitter=10,5xx=0.05,429=0.02,malformed=0.01,drop=0.01,retry_after=3,seed=9")
    assert c == Chaos(
        latency_ms=50,
        jitter_ms=10,
        error_5xx=0.05,
        rate_429=0.02,
        malformed=0.01,
        drop=0.01,
        retry_after_s=3,
        seed=9,
    )
    assert c.enabled and not Chaos().enabled and not parse_chaos("").enabled


@pytest.mark.parametrize("spec", ["foo=1", "5xx=abc", "5xx=2", "latency", "5xx=0.6,429=0.6", "latency=-5"])
def test_bad_chaos_spec_is_one_clear_line(spec: str) -> None:
    with pytest.raises(ChaosSpecError) as e:
        parse_chaos(spec)
    assert "\n" not in str(e.value) and str(e.value)


async def test_5xx_with_retry_after_on_503() -> None:
    async with chaotic(Chaos(error_5xx=1.0, seed=1)) as (srv, http):
        codes: Counter[int] = Counter()
        for _ in range(30):
            async with http.get(f"{srv.base_url}/sessions") as r:
                codes[r.status] += 1
                body = await r.json()
                assert isinstance(body["detail"], str)
                if r.status == 503:
                    assert r.headers["Retry-After"] == "1"
        assert set(codes) == {502, 503, 504}


async def test_429_with_retry_after() -> None:
    async with (
        chaotic(Chaos(rate_429=1.0, retry_after_s=3)) as (srv, http),
        http.get(f"{srv.base_url}/sessions/quota") as r,
    ):
        assert r.status == 429 and r.headers["Retry-After"] == "3"
        assert "detail" in await r.json()


async def test_malformed_json_body() -> None:
    async with chaotic(Chaos(malformed=1.0)) as (srv, http), http.get(f"{srv.base_url}/sessions") as r:
        assert r.status == 200 and r.content_type == "application/json"
        with pytest.raises(json.JSONDecodeError):
            json.loads(await r.text())


async def test_dropped_connection() -> None:
    async with chaotic(Chaos(drop=1.0)) as (srv, http):
        with pytest.raises(aiohttp.ClientConnectionError):
            async with http.get(f"{srv.base_url}/sessions") as r:
                await r.read()


async def test_added_latency() -> None:
    async with chaotic(Chaos(latency_ms=200, jitter_ms=50)) as (srv, http):
        started = time.monotonic()
        async with http.get(f"{srv.base_url}/sessions/quota") as r:
            assert r.status == 200
        assert 0.2 <= time.monotonic() - started < 2


async def test_mixed_rates_show_every_kind_and_some_successes() -> None:
    chaos = Chaos(error_5xx=0.2, rate_429=0.2, malformed=0.2, drop=0.2, seed=3)
    async with chaotic(chaos) as (srv, http):
        kinds: Counter[str] = Counter()
        for _ in range(80):
            try:
                async with http.get(f"{srv.base_url}/sessions/quota") as r:
                    text = await r.text()
                    if r.status >= 500:
                        kinds["5xx"] += 1
                    elif r.status == 429:
                        kinds["429"] += 1
                    else:
                        try:
                            json.loads(text)
                            kinds["ok"] += 1
                        except json.JSONDecodeError:
                            kinds["malformed"] += 1
            except aiohttp.ClientConnectionError:
                kinds["drop"] += 1
        assert set(kinds) == {"5xx", "429", "malformed", "drop", "ok"}, kinds


def test_chaos_off_adds_no_middleware() -> None:
    assert len(SimServer(make_world(sessions=1)).make_app().middlewares) == 2
    assert len(SimServer(make_world(sessions=1), chaos=Chaos(drop=0.1)).make_app().middlewares) == 3
