"""Steering actions: pause, resume, force_answer, cancel, messages.

Each action first brings the session up to now, then edits the *future* of its script
and applies the immediate effect as a tick at `now`. Nothing already applied is ever
rewritten, so events stay append-only and cursors held by clients stay valid.

Decisions where the API reference is silent:
- pause needs an active run (running / awaiting_tool_results); on a paused session it
  is a no-op 202; on any other status (queued, pending, idle, terminal) it is
  409 {"detail": "Session is not running"}.
- resume on a terminal session is the same 409; on anything not paused it is a no-op.
- force_answer on a terminal session is the same 409; on an idle session (it has just
  answered) it is a no-op; otherwise children get a short grace window to answer first.
- cancel on a terminal session is a no-op (204), and always cascades to descendants.
- a message restarting a terminal session is not quota-gated.
"""

from __future__ import annotations

from dataclasses import replace

from agp_tui.sim import plans
from agp_tui.sim.session import SimSession
from agp_tui.sim.ticks import Active, Dispatch, Finish, Message, RunStatus, Start, Tick
from agp_tui.sim.world import World


class NotRunning(Exception):
    detail = "Session is not running"


def _shift(ticks: list[Tick], delta: float) -> list[Tick]:
    return [replace(t, t=round(t.t + delta, 3)) for t in ticks]


def _sync(world: World, s: SimSession) -> float:
    now = world.now()
    s.advance(now, world.spawn)
    return now


def pause(world: World, s: SimSession) -> None:
    now = _sync(world, s)
    if s.status == "paused":
        return
    if s.status not in ("running", "awaiting_tool_results"):
        raise NotRunning
    s.suspended = s.future()  # the rest of the plan waits, and resumes shifted in time
    s.paused_at = now
    s.paused_from = s.status
    s.replace_future([])
    s.apply(RunStatus(now, "paused", "user"), world.spawn)
    world.edited(s)


def resume(world: World, s: SimSession) -> None:
    now = _sync(world, s)
    if s.terminal:
        raise NotRunning
    if s.status != "paused":
        return  # documented: resuming a running session is a no-op
    if s.suspended is not None:
        future = _shift(s.suspended, now - s.paused_at)
        s.suspended = None
    else:
        # A scripted pause episode: drop its scripted resume and pull the rest forward.
        future = s.future()
        k = next((i for i, t in enumerate(future) if isinstance(t, RunStatus)), None)
        if k is not None:
            future = _shift(future[k + 1 :], now - future[k].t)
    s.replace_future(future)
    s.apply(RunStatus(now, "running", "user"), world.spawn)
    if s.paused_from == "awaiting_tool_results":
        s.status = "awaiting_tool_results"  # a pause keeps the pending tool calls
    s.paused_from = "running"
    world.edited(s)


def cancel(world: World, s: SimSession) -> None:
    """Interrupt `s` and every live descendant, all at the same instant."""
    now = _sync(world, s)
    if not s.terminal:
        s.replace_future([])
        s.inbox.clear()
        s.apply(Finish(now, "interrupted"), world.spawn)
        world.edited(s)
    for child_id in list(s.children):
        child = world.get(child_id)
        if child is not None:
            cancel(world, child)


def force_answer(world: World, s: SimSession, grace: float = 0.0) -> float:
    """Answer on the next step; returns when `s` will have answered (for the parent)."""
    now = _sync(world, s)
    if s.terminal and grace == 0.0:
        raise NotRunning
    if s.terminal or s.status == "idle":
        return now
    # Children first: each gets a short grace window, the parent answers after them.
    answered_by = now
    for child_id in list(s.children):
        child = world.get(child_id)
        if child is not None and not child.terminal:
            window = s.rng.uniform(0.5, 2.0)
            answered_by = max(answered_by, force_answer(world, child, grace=window))
    prefix: list[Tick] = []
    start = now
    if s.status in ("queued", "pending"):
        prefix, start = [Dispatch(now), Start(round(now + 0.5, 3))], round(now + 0.5, 3)
    elif s.status == "paused":
        prefix = [RunStatus(now, "running", "user")]
    elif s.status == "awaiting_tool_results":
        prefix = [Active(now, "running")]  # the agent stops waiting for its tools to answer
    s.suspended = None
    after = max(answered_by - start, 0.0) + (grace or s.rng.uniform(1.0, 3.0))
    ticks = plans.forced_answer(s.rng, s.profile, start, s.steps, after=after)
    s.replace_future(prefix + ticks)
    s.advance(now, world.spawn)  # the force_answer flow event (and prefix) happen now
    world.edited(s)
    return start + after


def send_messages(world: World, s: SimSession, texts: list[str]) -> None:
    now = _sync(world, s)
    status = s.status
    if status in ("queued", "pending"):
        s.inbox.extend(texts)  # buffered until the agent starts
    elif status in ("running", "awaiting_tool_results", "paused"):
        if status == "paused":
            resume(world, s)  # documented: a message auto-resumes a paused session
        for text in texts:
            s.apply(Message(now, text), world.spawn)
    elif status == "idle":
        for text in texts:
            s.apply(Message(now, text), world.spawn)
        s.replace_future(plans.follow_up(s.rng, s.profile, now, s.steps, restart=False))
    else:
        # Terminal: re-provision with the prior history and run a new turn.
        s.status = "pending"
        s.finished_at = None
        s.error = s.error_code = s.outcome = None
        s.inbox.extend(texts)
        s.emit(now, "RequestStartEvent", {})
        s.replace_future(plans.follow_up(s.rng, s.profile, now, s.steps, restart=True))
    world.edited(s)
