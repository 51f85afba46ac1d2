"""The shared request budget: in-flight cap, rate limit, priority order, cancellation."""

import asyncio

import pytest

from agp_tui.monitor.budget import BACKGROUND, FOCUS, URGENT, PurposeCounts, RequestBudget

# A fast-forwarding loop (looptime): sleeps and timeouts take no real time.
pytestmark = pytest.mark.looptime


async def test_in_flight_cap_is_never_exceeded() -> None:
    budget = RequestBudget(max_in_flight=3, max_rps=1000)
    peak = 0

    async def job() -> None:
        nonlocal peak
        async with budget.slot():
            peak = max(peak, budget.in_flight)
            await asyncio.sleep(0.01)

    await asyncio.gather(*(job() for _ in range(20)))
    assert peak == 3
    assert budget.in_flight == 0
    assert budget.granted == 20


async def test_rate_limit_spreads_requests() -> None:
    budget = RequestBudget(max_in_flight=100, max_rps=50)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for _ in range(75):  # 50 from the initial burst, 25 more at 50/s
        async with budget.slot():
            pass
    assert loop.time() - start == pytest.approx(0.5, abs=0.002)  # the 75th token is due at 0.5 s


async def test_priority_order_when_saturated() -> None:
    budget = RequestBudget(max_in_flight=1, max_rps=1000)
    order: list[str] = []
    await budget.acquire()  # hold the only slot

    async def job(name: str, priority: int) -> None:
        async with budget.slot(priority):
            order.append(name)

    tasks = [asyncio.create_task(job(n, p)) for n, p in
             [("bg", BACKGROUND), ("focus", FOCUS), ("urgent", URGENT), ("bg2", BACKGROUND)]]
    await asyncio.sleep(0.01)
    budget.release()
    await asyncio.gather(*tasks)
    assert order == ["urgent", "focus", "bg", "bg2"]


async def test_cancelled_waiter_gives_back_nothing_and_blocks_nobody() -> None:
    budget = RequestBudget(max_in_flight=1, max_rps=1000)
    await budget.acquire()
    waiter = asyncio.create_task(budget.acquire())
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    budget.release()
    await asyncio.wait_for(budget.acquire(), 1.0)
    assert budget.in_flight == 1


def test_invalid_settings_rejected() -> None:
    with pytest.raises(ValueError):
        RequestBudget(max_in_flight=0)
    with pytest.raises(ValueError):
        RequestBudget(max_rps=0)


async def test_promote_moves_a_queued_waiter_ahead() -> None:
    budget = RequestBudget(max_in_flight=1, max_rps=1000)
    order: list[str] = []
    await budget.acquire()  # hold the only slot

    async def job(name: str, priority: int, key: str | None = None) -> None:
        async with budget.slot(priority, key=key):
            order.append(name)

    tasks = [asyncio.create_task(job(f"bg{i}", BACKGROUND, key=f"k{i}")) for i in range(5)]
    tasks.append(asyncio.create_task(job("focus", FOCUS)))
    await asyncio.sleep(0.01)
    budget.promote("k3", URGENT)
    budget.promote("missing", URGENT)  # nothing queued under that key: no effect
    assert budget.waiting == 6
    budget.release()
    await asyncio.gather(*tasks)
    assert order == ["bg3", "focus", "bg0", "bg1", "bg2", "bg4"]
    assert budget.in_flight == 0 and budget.granted == 7


async def test_a_listener_hears_each_kept_grant_once_by_purpose() -> None:
    """How benchmarks count requests: by the purpose each asks under, summing to `granted`;
    a waiter cancelled before it was served is not a request."""
    budget = RequestBudget(max_in_flight=1, max_rps=1000)
    counts = budget.on_grant = PurposeCounts()
    await budget.acquire(purpose="poll:focus")  # served at once
    queued = asyncio.create_task(budget.acquire(BACKGROUND, purpose="quota"))
    dropped = asyncio.create_task(budget.acquire(purpose="sweep"))
    await asyncio.sleep(0.01)
    dropped.cancel()
    with pytest.raises(asyncio.CancelledError):
        await dropped
    budget.release()
    await queued  # served after a wait
    budget.release()
    async with budget.slot(FOCUS, purpose="poll:focus"):
        pass
    assert counts == {"poll:focus": 2, "quota": 1}
    assert sum(counts.values()) == budget.granted == 3
