"""ScriptBuilder: writes a session's future as ticks, one segment at a time.

The builder owns a moving cursor `t` (world seconds) and the session's random stream.
Plans (`plans.py`) compose its segments: start, run N steps, spawn children, answer,
finish. Every random draw goes through `self.rng`, and the rng belongs to the session,
so a session's script depends only on its seed and the actions applied to it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from agp_tui.sim import catalog
from agp_tui.sim.catalog import AgentSpec
from agp_tui.sim.ticks import (
    Active,
    Answer,
    ChildSpec,
    Dispatch,
    Finish,
    Message,
    RunStatus,
    Spawn,
    Start,
    Step,
    Tick,
)

OUTCOMES: tuple[tuple[str, float], ...] = (
    ("success", 0.75),
    ("partial", 0.15),
    ("infeasible", 0.06),
    ("blocked", 0.04),
)


@dataclass(frozen=True, slots=True)
class Profile:
    """Per-session constants drawn once; steering actions reuse them for new segments."""

    agent: AgentSpec
    depth: int
    step_s: float  # typical seconds per step for this session (pages are slow or fast)
    idle_timeout_s: int | None  # set = interactive: idles after each answer
    max_steps: int | None = None
    max_time_s: float | None = None
    budget_s: float | None = None  # children plan to end within this
    episodes: bool = True  # scripted pauses / tool waits (off for API-created sessions)
    median_steps: int = 12  # planned steps are log-normal around this (batch jobs run longer)


def pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    roll = rng.random()
    for value, weight in weighted:
        roll -= weight
        if roll < 0:
            return value
    return weighted[-1][0]


class ScriptBuilder:
    def __init__(self, rng: random.Random, profile: Profile, t: float, steps_done: int) -> None:
        self.rng = rng
        self.p = profile
        self.t = round(t, 3)
        self.ticks: list[Tick] = []
        self.steps = steps_done  # drives context growth: later steps read longer prompts
        self.run_started = t
        self.capped = False  # max_steps / max_time_s forced an early (partial) answer
        self.step_s = profile.step_s
        self.models = _draws(profile.agent.models)
        notes = catalog.MANAGER_NOTES if profile.agent.role == "manager" else catalog.STEP_NOTES
        self.notes_n, self.notes_k = len(notes), len(notes).bit_length()

    def wait(self, seconds: float) -> float:
        self.t = round(self.t + max(seconds, 0.001), 3)
        return self.t

    # -- lifecycle segments -------------------------------------------------------------
    def provision(self, queued_for: float | None = None) -> None:
        """pending (or queued) -> running: dispatch, then a runner boots the environment."""
        self.wait(queued_for if queued_for is not None else self.rng.uniform(0.2, 0.9))
        self.ticks.append(Dispatch(self.t))
        cold = self.rng.random() < 0.05  # cold starts: the environment image was not warm
        self.wait(self.rng.uniform(15, 40) if cold else self.rng.uniform(1.0, 6.0))
        self.ticks.append(Start(self.t))
        self.run_started = self.t

    def step(self, note: int | None = None, pace: float = 1.0) -> None:
        # random.Random's own arithmetic, inlined: uniform(a, b) is a + (b - a) * random(),
        # randint(a, b) is a + randbelow(b - a + 1), randrange(n) is randbelow(n), and
        # randbelow(n) draws getrandbits(n.bit_length()) until the draw is below n. Same
        # draws in the same order, so the same world, at a third of the cost: a
        # 10,000-session world writes a third of a million steps before it can serve.
        rand = self.rng.random
        bits = self.rng.getrandbits
        duration = self.step_s * pace * (0.5 + (1.6 - 0.5) * rand())
        if rand() < 0.05:
            duration *= 3 + (6 - 3) * rand()  # a slow page load or a long tool call
        self.t = round(self.t + max(duration, 0.001), 3)
        steps = self.steps
        usage: list[Any] = []
        reasoned = False
        for name, every, base, growth, r_low, r_n, r_k, o_low, o_n, o_k in self.models:
            if steps % every:
                continue
            tokens = (base + growth * min(steps, 40)) * (0.75 + (1.25 - 0.75) * rand())
            if rand() < 0.08:
                tokens *= 2.5 + (6.0 - 2.5) * rand()  # burst: a huge page or a pasted document
            reasoning = 0
            if r_n:
                r = bits(r_k)
                while r >= r_n:
                    r = bits(r_k)
                reasoning = r_low + r
                reasoned = reasoned or reasoning != 0
            r = bits(o_k)
            while r >= o_n:
                r = bits(o_k)
            usage += (name, int(tokens), o_low + r, reasoning)
        if note is None:
            note = bits(self.notes_k)
            while note >= self.notes_n:
                note = bits(self.notes_k)
        tool = bits(TOOLS_K)
        while tool >= TOOLS_N:
            tool = bits(TOOLS_K)
        self.ticks.append(Step(self.t, tuple(usage), note, tool, reasoned))
        self.steps = steps + 1

    def limits_hit(self) -> bool:
        p = self.p
        over_steps = p.max_steps is not None and self.steps >= p.max_steps
        over_time = p.max_time_s is not None and self.t - self.run_started >= p.max_time_s
        if over_steps or over_time:
            self.capped = True
        return self.capped

    def run(self, count: int) -> None:
        """`count` steps, with the odd scripted pause or client-tool wait in between."""
        rand = self.rng.random
        episodes = self.p.episodes
        limited = self.p.max_steps is not None or self.p.max_time_s is not None
        for _ in range(count):
            if (limited or self.capped) and self.limits_hit():
                return
            self.step()
            if episodes and rand() < 0.012:
                self.pause_episode(self.rng.uniform(15, 180))
            elif episodes and rand() < 0.01:
                self.tool_wait(self.rng.uniform(5, 40))

    def pause_episode(self, seconds: float) -> None:
        self.wait(0.5)
        self.ticks.append(RunStatus(self.t, "paused", "user"))
        self.wait(seconds)
        self.ticks.append(RunStatus(self.t, "running", "user"))

    def tool_wait(self, seconds: float) -> None:
        self.wait(0.3)
        call = f"call_{self.rng.getrandbits(32):08x}"
        self.ticks.append(Active(self.t, "awaiting_tool_results", (("lookup_crm_record", call),)))
        self.wait(seconds)
        self.ticks.append(Active(self.t, "running"))

    def spawn(self, fan_out: int, budget_s: float) -> float:
        """Spawn children a moment apart; returns when the last one should be done."""
        depth = self.p.depth + 1
        choices = [a for a in catalog.SUBAGENTS if a.role == "worker" or depth < MAX_DEPTH]
        weights = [a.weight for a in choices]
        latest = self.t
        for _ in range(fan_out):
            self.wait(self.rng.uniform(0.2, 2.0))
            agent = self.rng.choices(choices, weights)[0]
            task = self.rng.choice(catalog.SUBTASKS).format(
                topic=self.rng.choice(catalog.ANSWER_WORDS), site=self.rng.choice(catalog.SITES)
            )
            budget = round(budget_s * self.rng.uniform(0.4, 1.0), 3)
            seed = self.rng.getrandbits(64)
            self.ticks.append(Spawn(self.t, ChildSpec(seed, agent.name, task, budget, depth)))
            latest = max(latest, self.t + budget)
        return latest

    def message(self, text: str, caller_id: str = "user") -> None:
        self.ticks.append(Message(self.t, text, caller_id))

    def answer(self, outcome: str | None = None) -> None:
        self.wait(self.rng.uniform(0.3, 2.0))
        if outcome is None:
            outcome = "partial" if self.capped else pick(self.rng, OUTCOMES)
        self.ticks.append(Answer(self.t, self.make_answer(), outcome))

    def settle(self) -> None:
        """After an answer: one-shot sessions complete; interactive ones go idle, maybe get a
        follow-up from the user, and complete once a turn goes unanswered for idle_timeout_s
        (the API does not document that final status; `completed` is our choice)."""
        timeout = self.p.idle_timeout_s
        if timeout is None:
            self.wait(0.2)
            self.ticks.append(Finish(self.t, "completed"))
            return
        self.wait(0.1)
        self.ticks.append(Active(self.t, "idle"))
        if self.p.episodes and self.rng.random() < 0.4:
            self.wait(self.rng.uniform(0.1, 0.9) * timeout)
            self.message(self.rng.choice(catalog.FOLLOW_UPS))
            self.ticks.append(Active(self.t, "running"))
            self.run_started = self.t
            self.capped = False
            self.run(self.rng.randint(1, 5))
            self.answer()
            self.wait(0.1)
            self.ticks.append(Active(self.t, "idle"))
        self.wait(timeout)
        self.ticks.append(Finish(self.t, "completed"))

    def fail(self, status: str, code: str | None) -> None:
        self.wait(self.rng.uniform(0.2, 3.0))
        if status == "interrupted":
            self.ticks.append(Finish(self.t, "interrupted"))
        elif status == "timed_out":
            error = self.rng.choice(catalog.ERRORS["timeout"])
            self.ticks.append(Finish(self.t, "timed_out", error, "timeout"))
        else:
            error = self.rng.choice(catalog.ERRORS[code or "internal"])
            self.ticks.append(Finish(self.t, "failed", error, code or "internal"))

    def make_answer(self) -> object:
        rng = self.rng
        words = rng.sample(catalog.ANSWER_WORDS, 3)
        if self.p.agent.structured:
            return {
                "items": words,
                "total": round(rng.uniform(50, 5000), 2),
                "currency": "EUR",
            }
        return rng.choice(catalog.ANSWERS).format(a=words[0], b=words[1], c=words[2], n=rng.randint(3, 40))


TOOLS_N = len(catalog.TOOLS)
TOOLS_K = TOOLS_N.bit_length()
# Per model: name, every, input base and growth, then (low, n, n.bit_length()) of the
# reasoning and output draws (n = 0: no reasoning), for step()'s inlined randint.
ModelDraws = tuple[str, int, int, int, int, int, int, int, int, int]
_DRAWS: dict[tuple[str, ...], tuple[ModelDraws, ...]] = {}


def _draws(models: tuple[str, ...]) -> tuple[ModelDraws, ...]:
    draws = _DRAWS.get(models)
    if draws is None:
        rows = []
        for name in models:
            m = catalog.MODELS[name]
            (r_low, r_high), (o_low, o_high) = m.reasoning, m.output
            r_n = r_high - r_low + 1 if r_high else 0
            o_n = o_high - o_low + 1
            rows.append((name, m.every, m.input_base, m.input_growth,
                         r_low, r_n, r_n.bit_length(), o_low, o_n, o_n.bit_length()))
        draws = _DRAWS[models] = tuple(rows)
    return draws


MAX_DEPTH = 3  # root sessions are depth 0; the deepest subagent runs at depth 3
