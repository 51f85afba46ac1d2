"""Pinned sessions: a session put in a World with exactly the state a test wants.

Its state is built with the World's own ticks (start, steps, answer, finish, pauses), so
its events, metrics and answers agree with its counters; it has no future until a test
moves it (`step`, `set_state`) or plans one (`FakeBackend.plan`). Used by `FakeBackend`.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from typing import Any

from agp_tui.sim.catalog import KNOWN_AGENTS, AgentSpec
from agp_tui.sim.clock import ManualClock, parse_iso
from agp_tui.sim.script import Profile
from agp_tui.sim.session import SimSession
from agp_tui.sim.ticks import Active, Answer, Finish, RunStatus, Start, Step
from agp_tui.sim.world import World, user_message

EPOCH = 1_781_168_400.0  # 2026-06-11 09:00:00 UTC: world time 0 of a default fake world
TERMINAL_FINISH = ("completed", "failed", "timed_out", "interrupted")
Usage = Sequence[tuple[str, int, int, int]]  # (model, input, output, reasoning)
When = float | str  # world seconds (0 = the world's epoch), or an ISO 8601 time


def fake_world(*, epoch: float = EPOCH, sessions: int = 0, seed: int = 0) -> World:
    """A World that holds still: manual clock at 0 (= `epoch`), no arrivals."""
    return World(seed=seed, sessions=sessions, clock=ManualClock(), start_epoch=epoch,
                 arrival_interval_s=0)


def sid_of(n: int) -> str:
    """A stable, readable session id: sid_of(1) == '00000001-0000-4000-8000-000000000001'."""
    return str(uuid.UUID(f"{n:08x}-0000-4000-8000-{n:012x}"))


def pin(world: World, sid: str | int | None = None, *, agent: str | None = "h/web-surfer-flash",
        status: str = "running", steps: int = 0, usage: Usage = (), parent: str | None = None,
        message: str = "Find the three top stories on Hacker News", group: str | None = None,
        created: When | None = None, started: When | None = None, finished: When | None = None,
        error: str | None = None, error_code: str | None = None, outcome: str | None = None,
        answer: object = None, events: int = 0, children: Sequence[str] = ()) -> SimSession:
    """A session with exactly this state, and no future: it changes only when told.

    Times are world seconds (0 = the world's epoch; negative = before) or ISO strings.
    `events` adds that many metrics events on top of what the state implies (a longer
    history to page). `children` adds children among the World's sessions (a cycle, a child
    shared by two parents); a `parent` not in the World yet is not linked. (Ids the World
    does not have: `FakeBackend.name_children`.)"""
    t0 = at(world, created)
    if isinstance(sid, int):
        sid = sid_of(sid)
    sid = sid or str(uuid.uuid4())
    spec = KNOWN_AGENTS.get(agent or "") or AgentSpec(agent or "inline", "worker", (), 0)
    profile = Profile(agent=spec, depth=0, step_s=5.0, idle_timeout_s=None, episodes=False)
    request: dict[str, Any] = {
        "agent": agent, "messages": [user_message(message)], "max_steps": None, "max_time_s": None,
        "idle_timeout_s": None, "group_id": group, "parent_session_id": parent, "overrides": {},
    }
    s = world._register(sid, t0, profile, random.Random(sid), request,
                        "queued" if status == "queued" else "pending", [])
    if started is not None or status not in ("pending", "queued"):
        s.apply(Start(t0 if started is None else at(world, started)), world.spawn)
    t = s.started_at if s.started_at is not None else t0
    _steps(world, s, steps, usage, t)
    for _ in range(events):
        s.emit(t, "MetricsUpdateEvent", {"metrics": {"steps": s.steps}})
    if answer is not None:
        s.apply(Answer(t, answer, outcome or "success"), world.spawn)
    _move(world, s, status, t if finished is None else at(world, finished), error, error_code, outcome)
    s.children.extend(c for c in children if c not in s.children)
    mother = world.get(parent) if parent is not None else None
    if mother is not None and sid not in mother.children:
        mother.children.append(sid)
        mother.touch()
    world.edited(s)
    return s


def at(world: World, when: When | None) -> float:
    """World seconds for a time given either way (None: now)."""
    if when is None:
        return world.now()
    if isinstance(when, str):
        epoch = parse_iso(when)
        if epoch is None:
            raise ValueError(f"not an ISO 8601 time: {when!r}")
        return epoch - world.epoch
    return when


def step(world: World, s: SimSession, steps: int = 1, usage: Usage = (), *,
         when: When | None = None) -> SimSession:
    """The agent takes `steps` steps (now, or `when`); the first carries `usage` (added to
    the totals)."""
    _steps(world, s, steps, usage, at(world, when))
    world.edited(s)
    return s


def set_state(world: World, s: SimSession, *, status: str | None = None, steps: int | None = None,
              usage: Usage | None = None, error: str | None = None, error_code: str | None = None,
              outcome: str | None = None, when: When | None = None) -> SimSession:
    """Move a session to this state (now, or `when`): more steps are taken as steps, a new
    status as the tick that makes it (an unknown status is simply set), usage totals are
    replaced."""
    now = at(world, when)
    if steps is not None and steps > s.steps:
        _steps(world, s, steps - s.steps, (), now)
    elif steps is not None:
        s.steps = steps
    if usage is not None:
        s.usage = [x for row in usage for x in row]
    if status is not None and status != s.status:
        _move(world, s, status, now, error, error_code, outcome)
    else:
        s.error = error if error is not None else s.error
        s.error_code = error_code if error_code is not None else s.error_code
        s.outcome = outcome if outcome is not None else s.outcome
    world.edited(s)
    return s


def _steps(world: World, s: SimSession, n: int, usage: Usage, t: float) -> None:
    for i in range(n):
        rows = tuple(x for m, a, b, c in usage for x in (m, a, b, c)) if i == 0 else ()  # flat
        s.apply(Step(t, rows, note=s.steps % 7, tool=s.steps % 5, reasoning=False), world.spawn)
    if n == 0 and usage:
        for m, a, b, c in usage:
            s.usage.extend((m, a, b, c))


def _move(world: World, s: SimSession, status: str, t: float, error: str | None,
          error_code: str | None, outcome: str | None) -> None:
    if status == s.status:
        pass
    elif status == "running" and s.started_at is None:
        s.apply(Start(t), world.spawn)
    elif status in TERMINAL_FINISH:
        s.apply(Finish(t, status, error, error_code), world.spawn)  # type: ignore[arg-type]
    elif status in ("paused", "running") and s.status in ("paused", "running"):
        s.apply(RunStatus(t, status, "user"), world.spawn)  # type: ignore[arg-type]
    elif status in ("idle", "awaiting_tool_results", "running"):
        s.apply(Active(t, status), world.spawn)  # type: ignore[arg-type]
    else:  # a status the World has no tick for (an API newer than this client): just so
        s.status = status
        s.status_log.append((t, status))
    if error is not None or error_code is not None:
        s.error, s.error_code = error, error_code
    if outcome is not None:
        s.outcome = outcome
