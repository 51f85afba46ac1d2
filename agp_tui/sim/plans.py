"""Plans: how a session's life is shaped, composed from ScriptBuilder segments.

`first_run` writes a fresh session's whole script; `follow_up` and `forced_answer` write
the new future after a steering action. The fate mix (about three in four complete, the
rest fail, time out or get cancelled) is tuned so a few dozen sessions on screen show
every status a monitoring client must handle.
"""

from __future__ import annotations

import math
import random

from agp_tui.sim import catalog
from agp_tui.sim.catalog import AgentSpec
from agp_tui.sim.script import MAX_DEPTH, Profile, ScriptBuilder, pick
from agp_tui.sim.ticks import Active, ChildSpec, Flow, Tick

WORKER_FATES: tuple[tuple[str, float], ...] = (
    ("completed", 0.77),
    ("environment_error", 0.05),
    ("no_answer", 0.04),
    ("internal", 0.03),
    ("answer_validation", 0.01),
    ("timed_out", 0.06),
    ("interrupted", 0.04),
)
# No scripted "interrupted" for managers: a cancel cascades to the children, which a
# script cannot do; a real cancel (DELETE) does cascade.
MANAGER_FATES: tuple[tuple[str, float], ...] = (
    ("completed", 0.88),
    ("internal", 0.07),
    ("timed_out", 0.05),
)
WAITING_NOTE = 2  # catalog.MANAGER_NOTES: "Waiting for subagent results"


def top_level_profile(rng: random.Random, agent: AgentSpec | None = None) -> Profile:
    if agent is None:
        agents = catalog.TOP_LEVEL_AGENTS
        agent = rng.choices(agents, [a.weight for a in agents])[0]
    interactive = rng.random() < 0.15
    return Profile(
        agent=agent,
        depth=0,
        step_s=rng.uniform(2.5, 9.0),
        idle_timeout_s=rng.choice((60, 120, 300, 600)) if interactive else None,
    )


def child_profile(rng: random.Random, spec: ChildSpec) -> Profile:
    agent = catalog.KNOWN_AGENTS[spec.agent]
    return Profile(
        agent=agent,
        depth=spec.depth,
        step_s=rng.uniform(2.0, 7.0),
        idle_timeout_s=None,  # subagents report back once; they never wait for a user
        budget_s=spec.budget_s,
        episodes=False,
    )


def first_run(rng: random.Random, profile: Profile, t0: float, *, may_queue: bool) -> tuple[str, list[Tick]]:
    """Initial status and the whole script of a session created at `t0`."""
    b = ScriptBuilder(rng, profile, t0, 0)
    status = "pending"
    queued_for = None
    if may_queue and rng.random() < 0.03:
        status, queued_for = "queued", rng.uniform(5, 90)
    b.provision(queued_for)
    if profile.agent.role == "manager" and profile.depth < MAX_DEPTH:
        _manager_body(b)
    else:
        _worker_body(b)
    return status, b.ticks


def _planned_steps(b: ScriptBuilder) -> int:
    median = b.p.median_steps
    cap = max(90, round(median * 7.5))  # a long tail, bounded
    steps = min(max(int(b.rng.lognormvariate(math.log(median), 0.75)), 2), cap)
    if b.p.budget_s is not None:
        fits = int(b.p.budget_s * b.rng.uniform(0.5, 0.95) / b.p.step_s)
        steps = max(1, min(steps, fits))
    return steps


def _worker_body(b: ScriptBuilder) -> None:
    fate = pick(b.rng, WORKER_FATES)
    steps = _planned_steps(b)
    if fate == "answer_validation" and not b.p.agent.structured:
        fate = "internal"  # only answer_format agents can fail validation
    if fate == "completed":
        b.run(steps)
        b.answer()
        b.settle()
    elif fate == "environment_error":
        b.run(b.rng.randint(0, 2))  # environments fail early, usually before any real work
        b.fail("failed", fate)
    elif fate == "timed_out":
        b.run(steps)
        b.fail("timed_out", None)
    elif fate == "interrupted":
        b.run(b.rng.randint(1, steps))
        b.fail("interrupted", None)
    else:
        b.run(b.rng.randint(1, steps))
        b.fail("failed", fate)


def _manager_body(b: ScriptBuilder) -> None:
    rng = b.rng
    b.run(rng.randint(1, 3))
    depth = b.p.depth
    fan_out = rng.randint(2, 8) if depth == 0 else rng.randint(1, 4 if depth == 1 else 3)
    own_budget = b.p.budget_s if b.p.budget_s is not None else rng.uniform(180, 1500)
    children_done = b.spawn(fan_out, own_budget * 0.6)
    # Check in on the children until they should all be done: slow, cheap steps.
    while b.t < children_done and not b.limits_hit():
        b.step(note=WAITING_NOTE, pace=rng.uniform(2.0, 4.0))
    fate = pick(rng, MANAGER_FATES)
    b.run(rng.randint(1, 3))
    if fate == "completed":
        b.answer()
        b.settle()
    elif fate == "timed_out":
        b.fail(fate, None)
    else:
        b.fail("failed", fate)


def follow_up(
    rng: random.Random, profile: Profile, t: float, steps_done: int, *, restart: bool
) -> list[Tick]:
    """The future after a user message woke an idle session or restarted a terminal one."""
    b = ScriptBuilder(rng, profile, t, steps_done)
    if restart:
        b.provision()  # terminal sessions are re-provisioned with their prior history
    else:
        b.ticks.append(Active(b.t, "running"))
    b.run(rng.randint(2, 8))
    b.answer()
    b.settle()
    return b.ticks


def forced_answer(
    rng: random.Random, profile: Profile, t: float, steps_done: int, *, after: float
) -> list[Tick]:
    """The agent answers from what it has on its next step, `after` seconds from now."""
    b = ScriptBuilder(rng, profile, t, steps_done)
    b.ticks.append(Flow(b.t, "force_answer", "user"))
    b.wait(after)
    b.step()
    b.answer(pick(rng, (("partial", 0.6), ("success", 0.4))))
    b.settle()
    return b.ticks
