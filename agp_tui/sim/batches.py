"""Batch jobs: many top-level sessions in one group, submitted over time at a steady rate.

People who outgrow a watchlist submit agents in batches (issue 17): 2,000 web-surfers
tagged `group_id="nightly-7"`, posted by a script over a few minutes, most of them running
at once, the last finishing tens of minutes later. A `Batch` describes one such job; a
World given batches creates each session at its submission time (those in the past when
the world starts, the rest as the clock reaches them), so a client watching the group sees
it fill up, run and drain.

`split(10_000, 5)` cuts one big job into groups; `parse_batch` reads the CLI's
`--batch size=2000,rate=10,...` form.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

DEFAULT_AGENT = "h/web-surfer-flash"  # a worker: no subagents, so a group's size is `size`


class BatchSpecError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Batch:
    """`size` one-shot top-level sessions tagged `group_id`.

    start: world time of the first submission (seconds from the world's start; negative =
    submitted before the world started). rate: submissions per world second, Poisson (a
    client posting in a loop). agent: catalog name for every session (None: the usual mix of
    top-level agents, managers included, whose subagents join the group too). steps: median
    planned steps per session (log-normal, like every session; ~6 s a step), so 40 gives
    runs of a few minutes with a tail of tens of minutes.
    """

    group_id: str
    size: int
    start: float = 0.0
    rate: float = 10.0
    agent: str | None = DEFAULT_AGENT
    steps: int = 40

    def __post_init__(self) -> None:
        if self.size < 0:
            raise BatchSpecError(f"size must be >= 0, got {self.size}")
        if not self.rate > 0 or math.isinf(self.rate):
            raise BatchSpecError(f"rate must be a positive number of sessions a second, got {self.rate}")
        if self.steps < 1:
            raise BatchSpecError(f"steps must be >= 1, got {self.steps}")
        if not self.group_id:
            raise BatchSpecError("group_id must not be empty")

    def submissions(self, seed: int) -> Iterator[tuple[float, int]]:
        """(world time, session seed) of each submission, in time order; the same for the
        same world seed whatever else the world holds."""
        rng = random.Random(f"{seed}:batch:{self.group_id}")
        t = self.start
        for _ in range(self.size):
            t += rng.expovariate(self.rate)
            yield round(t, 3), rng.getrandbits(64)


def split(
    total: int,
    groups: int,
    *,
    start: float = 0.0,
    rate: float = 10.0,
    every: float | None = None,
    agent: str | None = DEFAULT_AGENT,
    steps: int = 40,
    prefix: str = "batch",
) -> list[Batch]:
    """`total` sessions in `groups` batches `prefix-1`..`prefix-G` (sizes differ by one at
    most). Batch k starts at `start + k * every`; by default each starts when the one
    before should have finished submitting (size / rate later)."""
    if groups < 1:
        raise BatchSpecError(f"groups must be >= 1, got {groups}")
    base, extra = divmod(total, groups)
    sizes = [base + (k < extra) for k in range(groups)]
    out: list[Batch] = []
    t = start
    for k, size in enumerate(sizes):
        out.append(Batch(f"{prefix}-{k + 1}", size, round(t, 3), rate, agent, steps))
        t += every if every is not None else size / rate
    return out


_KEYS = ("size", "group", "groups", "start", "rate", "every", "agent", "steps")


def parse_batch(spec: str, index: int = 1) -> list[Batch]:
    """`size=2000[,group=ID][,groups=G][,start=S][,rate=R][,every=S][,agent=A|mix][,steps=K]`.

    A bare number is a size. groups=G splits the job into G groups `ID-1`..`ID-G`. The
    group defaults to `batch-<index>`; agent=mix is the usual mix of top-level agents.
    """
    values: dict[str, str] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            key, value = "size", key
        key = key.strip()
        if key not in _KEYS:
            raise BatchSpecError(f"unknown batch key {key!r} in {spec!r} (known: {', '.join(_KEYS)})")
        values[key] = value.strip()
    if "size" not in values:
        raise BatchSpecError(f"a batch needs a size, e.g. size=2000 (got {spec!r})")
    try:
        size = int(values["size"])
        groups = int(values.get("groups", "1"))
        start = float(values.get("start", "0"))
        rate = float(values.get("rate", "10"))
        every = float(values["every"]) if "every" in values else None
        steps = int(values.get("steps", "40"))
    except ValueError as e:
        raise BatchSpecError(f"bad number in batch {spec!r}: {e}") from None
    agent: str | None = values.get("agent", DEFAULT_AGENT)
    if agent == "mix":
        agent = None
    group = values.get("group", f"batch-{index}")
    if groups == 1:
        return [Batch(group, size, start, rate, agent, steps)]
    return split(size, groups, start=start, rate=rate, every=every, agent=agent, steps=steps, prefix=group)

