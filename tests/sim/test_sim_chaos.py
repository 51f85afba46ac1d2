"""Chaos: the spec parser, and each failure kind as a client sees it."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from sim_helpers import AUTH, make_world

from agp_tui.api.retry import parse_retry_after
from agp_tui.sim import Chaos, ChaosSpecError, RealClock, SimServer, World, parse_chaos, sim_main
from agp_tui.sim.chaos import ChaosSwitch, describe


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


# -- latency spikes, fractional Retry-After, `off` -------------------------------------------


def test_spike_and_fraction_keys_parse_and_describe_round_trips() -> None:
    c = parse_chaos("spike=0.02,spike_ms=3000,5xx=0.1,retry_after=0.25,seed=4")
    assert (c.spike, c.spike_ms, c.retry_after_s) == (0.02, 3000, 0.25)
    assert c.enabled and parse_chaos(describe(c)) == c
    assert not Chaos(spike=0.5).enabled  # a spike of 0 ms is no trouble at all
    assert parse_chaos("off") == Chaos() and describe(Chaos()) == "off"
    with pytest.raises(ChaosSpecError):
        parse_chaos("spike=1.5")
    with pytest.raises(ChaosSpecError):
        parse_chaos("spike_ms=-1")


async def test_spikes_delay_some_requests_up_to_spike_ms() -> None:
    switch = ChaosSwitch(Chaos(spike=1.0, spike_ms=300, seed=2))
    async with (
        SimServer(make_world(sessions=2), chaos=switch.chaos) as srv,
        aiohttp.ClientSession(headers=AUTH) as http,
    ):
        waits = []
        for _ in range(6):
            started = time.monotonic()
            async with http.get(f"{srv.base_url}/sessions/quota") as r:
                assert r.status == 200
            waits.append(time.monotonic() - started)
        assert srv.chaos_switch is not None and srv.chaos_switch.injected["spike"] == 6
    # uniform(0, 300 ms): some wait noticeably, none much past the maximum.
    assert max(waits) > 0.05 and max(waits) < 2, waits


async def test_503_and_429_carry_the_fractional_retry_after() -> None:
    async with chaotic(Chaos(error_5xx=1.0, retry_after_s=0.25, seed=1)) as (srv, http):
        seen = set()
        for _ in range(30):
            async with http.get(f"{srv.base_url}/sessions/quota") as r:
                if r.status == 503:
                    seen.add(r.headers["Retry-After"])
        assert seen == {"0.25"}
    async with (
        chaotic(Chaos(rate_429=1.0, retry_after_s=0.25)) as (srv, http),
        http.get(f"{srv.base_url}/sessions/quota") as r,
    ):
        assert r.status == 429 and parse_retry_after(r.headers["Retry-After"]) == 0.25


# -- switching chaos while the server runs ----------------------------------------------------


async def test_chaos_is_switched_on_and_off_at_run_time() -> None:
    async with chaotic(Chaos()) as (srv, http):
        quota = f"{srv.base_url}/sessions/quota"
        async with http.get(quota) as r:
            assert r.status == 200
        async with http.post(f"{srv.origin}/_sim/chaos", json={"chaos": "5xx=1,seed=3"}) as r:
            assert r.status == 200
            body = await r.json()
            assert body["enabled"] and body["chaos"] == "5xx=1,seed=3"
        for _ in range(5):
            async with http.get(quota) as r:
                assert r.status in (502, 503, 504)
        # The simulator's own routes are the harness's back door: never chaotic.
        async with http.get(f"{srv.origin}/_sim/truth") as r:
            assert r.status == 200
        async with http.get(f"{srv.origin}/_sim/chaos") as r:
            report = await r.json()
            assert report["injected"] == {"requests": 5, "5xx": 5}
        async with http.post(f"{srv.origin}/_sim/chaos", json={"chaos": "off"}) as r:
            assert (await r.json())["enabled"] is False
        for _ in range(5):
            async with http.get(quota) as r:
                assert r.status == 200


async def test_chaos_control_is_refused_when_asked_wrong() -> None:
    async with chaotic(Chaos()) as (srv, http):
        async with http.post(f"{srv.origin}/_sim/chaos", json={"chaos": "5xx=7"}) as r:
            assert r.status == 422 and "5xx" in (await r.json())["detail"]
        async with http.post(f"{srv.origin}/_sim/chaos", json={"spec": "5xx=0.1"}) as r:
            assert r.status == 422
        async with aiohttp.ClientSession() as anonymous, \
                anonymous.post(f"{srv.origin}/_sim/chaos", json={"chaos": "drop=1"}) as r:
            assert r.status == 401  # same key as every other route
        assert not srv.chaos.enabled
    # Started without chaos: no middleware, so it cannot be switched on later.
    async with (
        SimServer(make_world(sessions=1)) as srv,
        aiohttp.ClientSession(headers=AUTH) as http,
        http.post(f"{srv.origin}/_sim/chaos", json={"chaos": "5xx=1"}) as r,
    ):
        assert r.status == 409 and "--chaos" in (await r.json())["detail"]


# -- freezing world time ----------------------------------------------------------------------


def test_real_clock_freezes_and_thaws_without_a_jump() -> None:
    real = [100.0]
    clock = RealClock(speed=10, real=lambda: real[0])
    real[0] = 101.0
    assert clock.now() == 10.0
    clock.freeze()
    real[0] = 105.0
    assert clock.frozen and clock.now() == 10.0 and clock.real_delay(1) == float("inf")
    clock.thaw()
    assert not clock.frozen and clock.now() == 10.0  # the frozen span never happened
    real[0] = 106.0
    assert clock.now() == 20.0 and clock.real_delay(5) == 0.5


async def test_clock_route_freezes_the_world() -> None:
    world = World(seed=3, sessions=10, speed=50.0, arrival_interval_s=0)
    async with SimServer(world) as srv, aiohttp.ClientSession(headers=AUTH) as http:
        async with http.post(f"{srv.origin}/_sim/clock", json={"frozen": True}) as r:
            assert r.status == 200 and (await r.json())["frozen"] is True
        async with http.get(f"{srv.origin}/_sim/truth") as r:
            before = await r.json()
        await asyncio.sleep(0.2)  # 10 world seconds, were the clock running
        async with http.get(f"{srv.origin}/_sim/truth") as r:
            after = await r.json()
        assert after["frozen"] and after["now"] == before["now"]
        assert after["sessions"] == before["sessions"]
        async with http.post(f"{srv.origin}/_sim/clock", json={"frozen": False}) as r:
            assert (await r.json())["frozen"] is False
        await asyncio.sleep(0.1)
        async with http.get(f"{srv.origin}/_sim/truth") as r:
            assert (await r.json())["now"] > after["now"]
        async with http.post(f"{srv.origin}/_sim/clock", json={"frozen": "yes"}) as r:
            assert r.status == 422
    async with (
        SimServer(make_world(sessions=1)) as srv,
        aiohttp.ClientSession(headers=AUTH) as http,
        http.post(f"{srv.origin}/_sim/clock", json={"frozen": True}) as r,
    ):
        assert r.status == 409  # a manual clock already moves only when told


def test_sim_help_documents_spikes_and_run_time_control(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        sim_main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "spike_ms" in text and "/_sim/chaos" in text and "/_sim/clock" in text and "'off'" in text
