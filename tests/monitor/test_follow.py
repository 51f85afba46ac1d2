"""Auto-follow: rules become `GET /sessions` scans whose new matches are added once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from agp_tui.api import AgpClient, RetryPolicy
from agp_tui.api.errors import RateLimited
from agp_tui.api.models import SessionSummary
from agp_tui.config import FollowRule
from agp_tui.monitor.follow import OVERLAP, AutoFollow, Rule, describe_rule
from agp_tui.sim import DEMO_API_KEY, SimServer, World

# A fast-forwarding loop (looptime): sleeps and timeouts take no real time.
pytestmark = pytest.mark.looptime

T0 = 1_800_000_000.0


def summary(n: int, created: float, *, agent: str = "h/web-surfer", status: str = "running",
            group: str | None = None) -> tuple[SessionSummary, str | None]:
    sid = f"{n:08x}-0000-4000-8000-{n:012x}"
    return SessionSummary(id=sid, status=status, agent=agent,
                          created_at=datetime.fromtimestamp(created, UTC)), group


@dataclass
class FakeLister:
    """`iter_sessions` over a list, honouring the filters AutoFollow sends (strict bounds)."""

    items: list[tuple[SessionSummary, str | None]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail: Exception | None = None

    async def iter_sessions(self, *, limit: int | None = None, size: int = 100,
                            **filters: Any) -> AsyncIterator[SessionSummary]:
        self.calls.append({"limit": limit, "size": size, **filters})
        if self.fail is not None:
            raise self.fail
        after: datetime = filters["created_after"]
        hits = [s for s, group in self.items
                if s.created_at is not None and s.created_at > after
                and (not filters.get("agent") or s.agent in filters["agent"])
                and (not filters.get("status") or s.status in filters["status"])
                and (filters.get("group_id") is None or group == filters["group_id"])]
        hits.sort(key=lambda s: s.created_at or after, reverse=filters.get("sort") == "-created_at")
        for s in hits[:limit]:
            yield s


class Adder:
    def __init__(self) -> None:
        self.watched: list[str] = []
        self.calls: list[list[str]] = []

    def __call__(self, ids: list[str]) -> list[str]:
        self.calls.append(list(ids))
        new = [i for i in ids if i not in self.watched]
        self.watched += new
        return new


class Wall:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


async def test_new_sessions_of_an_agent_are_added_once_and_old_ones_never() -> None:
    wall, add = Wall(), Adder()
    fake = FakeLister([summary(1, T0 - 3600), summary(2, T0 - 60, agent="other/agent")])
    follow = AutoFollow(fake, add, [Rule(agent="h/web-surfer")], wall=wall, limit=50)
    assert await follow.scan_once() == []  # sessions from before the start are not followed
    call = fake.calls[0]
    assert call["agent"] == ("h/web-surfer",) and call["sort"] == "created_at"
    assert call["created_after"] == datetime.fromtimestamp(T0 - OVERLAP, UTC)
    assert call["limit"] == 50 and "status" not in call and "group_id" not in call

    fake.items += [summary(3, T0 + 10), summary(4, T0 + 11, agent="other/agent"),
                   summary(5, T0 + 12, status="completed")]
    wall.now = T0 + 30
    first = await follow.scan_once()
    assert first == [summary(3, 0)[0].id, summary(5, 0)[0].id]
    # The cursor moved to the newest creation seen (minus the overlap re-read).
    assert fake.calls[-1]["created_after"] == datetime.fromtimestamp(T0 - OVERLAP, UTC)
    assert await follow.scan_once() == []
    assert fake.calls[-1]["created_after"] == datetime.fromtimestamp(T0 + 12 - OVERLAP, UTC)
    # Removed by the user: the id is not offered again.
    add.watched.clear()
    assert await follow.scan_once() == []
    assert add.calls == [[summary(3, 0)[0].id, summary(5, 0)[0].id]]


async def test_status_rules_catch_sessions_that_reach_the_status_later() -> None:
    wall, add = Wall(), Adder()
    pending, _ = summary(7, T0 + 5, status="pending")
    fake = FakeLister([(pending, "nightly")])
    follow = AutoFollow(fake, add, [Rule(group_id="nightly", status=("running",))], wall=wall)
    assert await follow.scan_once() == []
    call = fake.calls[0]
    assert (call["group_id"], call["status"], call["sort"]) == ("nightly", ("running",), "-created_at")
    fake.items = [(SessionSummary(id=pending.id, status="running", agent=pending.agent,
                                  created_at=pending.created_at), "nightly")]
    assert await follow.scan_once() == [pending.id]
    # Status rules keep looking back to the start: the bound does not move.
    assert fake.calls[-1]["created_after"] == datetime.fromtimestamp(T0 - OVERLAP, UTC)


async def test_a_burst_larger_than_the_limit_is_caught_up_over_scans() -> None:
    wall, add = Wall(), Adder()
    fake = FakeLister([summary(n, T0 + n * 10) for n in range(1, 8)])
    follow = AutoFollow(fake, add, [Rule(agent="h/web-surfer")], wall=wall, limit=3)
    seen: list[str] = []
    for _ in range(4):
        seen += await follow.scan_once()
    assert seen == [summary(n, 0)[0].id for n in range(1, 8)]


async def test_every_rule_field_must_match_and_errors_do_not_stop_scans() -> None:
    wall, add = Wall(), Adder()
    errors: list[Exception] = []
    fake = FakeLister([summary(1, T0 + 1, group="g"), summary(2, T0 + 2, group="h")])
    rules = [FollowRule(agent="h/web-surfer", group_id="g"), FollowRule(group_id="h", status=("idle",))]
    follow = AutoFollow(fake, add, rules, wall=wall, on_error=errors.append)
    assert await follow.scan_once() == [summary(1, 0)[0].id]
    fake.fail = RateLimited("Too many requests", retry_after=2)
    assert await follow.scan_once() == []
    assert isinstance(follow.last_error, RateLimited) and len(errors) == 2
    fake.fail = None
    fake.items.append(summary(3, T0 + 3, group="g"))
    assert await follow.scan_once() == [summary(3, 0)[0].id]
    assert follow.last_error is None
    assert describe_rule(rules[1]) == "group h, status idle"
    assert describe_rule(Rule()) == "every session"


async def test_start_scans_periodically_and_stop_ends_the_task() -> None:
    wall, add = Wall(), Adder()
    fake = FakeLister([summary(1, T0 + 1)])
    added: list[list[str]] = []
    follow = AutoFollow(fake, add, [Rule(agent="h/web-surfer")], 0.02, wall=wall, on_added=added.append)
    follow.start()
    assert follow.running
    for _ in range(100):
        if follow.scans >= 3:
            break
        await asyncio.sleep(0.01)
    assert follow.scans >= 3 and added == [[summary(1, 0)[0].id]]
    await follow.stop()
    assert not follow.running
    # No rules: nothing to do, no task.
    idle = AutoFollow(fake, add, [], wall=wall)
    idle.start()
    assert not idle.running


async def test_against_the_simulator_created_sessions_are_followed() -> None:
    world = World(seed=3, sessions=6, arrival_interval_s=0)
    async with SimServer(world) as srv:
        client = AgpClient(srv.base_url, DEMO_API_KEY, retry=RetryPolicy.off())
        add = Adder()
        rules = [FollowRule(group_id="nightly"), FollowRule(agent="acme/special")]
        follow = AutoFollow(client, add, rules, interval=60)
        try:
            assert await follow.scan_once() == []  # the six sessions predate auto-follow
            headers = {"Authorization": f"Bearer {srv.api_key}"}
            async with httpx.AsyncClient(base_url=srv.base_url, headers=headers) as http:
                made = []
                for body in ({"agent": "h/web-surfer-flash", "messages": "a", "group_id": "nightly"},
                             {"agent": "acme/special", "messages": "b"},
                             {"agent": "h/web-surfer-flash", "messages": "c"}):
                    resp = await http.post("/sessions", json=body)
                    assert resp.status_code == 201, resp.text
                    made.append(resp.json()["id"])
            added = await follow.scan_once()
            assert sorted(added) == sorted(made[:2])
            assert await follow.scan_once() == []
        finally:
            await client.aclose()
