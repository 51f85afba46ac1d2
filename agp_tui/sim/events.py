"""Event records and their JSON rendering, plus the cost roll-up shared with `/changes`.

A busy world holds hundreds of thousands of events, so a stored event is a 3-tuple and
bulky payloads (policy steps, metrics snapshots) are small references rendered to JSON
only when a client actually reads them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from agp_tui.sim import catalog
from agp_tui.sim.clock import iso

EMPTY: dict[str, Any] = {}  # shared payload of RequestStartEvent / AgentStartedEvent


class Event(NamedTuple):
    t: float
    type: str
    data: object  # a JSON-ready dict, or a PolicyRef / MetricsRef rendered on read


@dataclass(frozen=True, slots=True)
class PolicyRef:
    step: int
    note: int
    tool: int
    reasoning: bool
    manager: bool


@dataclass(frozen=True, slots=True)
class ObservationRef:
    """What a web agent saw after a step: the page of the site it is on."""

    step: int
    note: int


# (model name, input, output, reasoning) in first-use order.
UsageRow = tuple[str, int, int, int]


@dataclass(frozen=True, slots=True)
class MetricsRef:
    steps: int
    usage: tuple[Any, ...]  # flat (name, input, output, reasoning, name, ...) snapshot


def usage_rows(flat: list[Any] | tuple[Any, ...]) -> list[UsageRow]:
    return [(flat[i], flat[i + 1], flat[i + 2], flat[i + 3]) for i in range(0, len(flat), 4)]


def _cost(tokens: int, per_million: float) -> float:
    return round(tokens * per_million / 1_000_000, 7)


def metrics(steps: int, usage: Iterable[UsageRow]) -> dict[str, Any]:
    """The `Metrics` object; totals are null as soon as one model is unpriced (per the API)."""
    per_model: list[dict[str, Any]] = []
    totals = [0.0, 0.0, 0.0]
    priced = True
    for name, tin, tout, treason in usage:
        spec = catalog.MODELS.get(name)
        price = spec.price if spec is not None else None
        row: dict[str, Any] = {
            "name": name,
            "input_tokens": tin,
            "output_tokens": tout,
            "reasoning_tokens": treason,
        }
        if price is None:
            priced = False
            row.update(input_cost=None, output_cost=None, reasoning_cost=None, total_cost=None)
        else:
            costs = (_cost(tin, price[0]), _cost(tout, price[1]), _cost(treason, price[2]))
            totals = [a + b for a, b in zip(totals, costs, strict=True)]
            row.update(
                input_cost=costs[0],
                output_cost=costs[1],
                reasoning_cost=costs[2],
                total_cost=round(sum(costs), 7),
            )
        per_model.append(row)
    if not priced:
        return {
            "steps": steps,
            "cost_per_model": per_model,
            "input_cost": None,
            "output_cost": None,
            "reasoning_cost": None,
            "total_cost": None,
        }
    return {
        "steps": steps,
        "cost_per_model": per_model,
        "input_cost": round(totals[0], 7),
        "output_cost": round(totals[1], 7),
        "reasoning_cost": round(totals[2], 7),
        "total_cost": round(sum(totals), 7),
    }


def _tool_args(tool: str, step: int) -> dict[str, Any]:
    site = catalog.SITES[step % len(catalog.SITES)]
    match tool:
        case "navigate":
            return {"url": f"https://{site}"}
        case "click":
            return {"x": 120 + (step * 37) % 900, "y": 80 + (step * 53) % 600}
        case "type":
            return {"text": catalog.ANSWER_WORDS[step % len(catalog.ANSWER_WORDS)]}
        case "scroll":
            return {"direction": "down", "amount": 3}
        case "search":
            return {"query": catalog.ANSWER_WORDS[(step * 7) % len(catalog.ANSWER_WORDS)]}
        case _:
            return {}


def _policy(ref: PolicyRef) -> dict[str, Any]:
    notes = catalog.MANAGER_NOTES if ref.manager else catalog.STEP_NOTES
    site = catalog.SITES[ref.step % len(catalog.SITES)]
    tool = catalog.TOOLS[ref.tool]
    reasoning = catalog.REASONING_NOTES[ref.note % len(catalog.REASONING_NOTES)]
    return {
        "kind": "policy_event",
        "reasoning_content": reasoning if ref.reasoning else None,
        "content": notes[ref.note % len(notes)].format(site=site),
        "tool_reqs": [{"tool_name": tool, "args": _tool_args(tool, ref.step), "id": f"t{ref.step}"}],
        "validation_errors": [],
    }


def _observation(ref: ObservationRef) -> dict[str, Any]:
    site = catalog.SITES[ref.step % len(catalog.SITES)]
    title = catalog.PAGE_TITLES[(ref.step + ref.note) % len(catalog.PAGE_TITLES)]
    words = catalog.ANSWER_WORDS
    text = (f"{title}\n\n" + "\n".join(f"- {words[(ref.step + i) % len(words)]}" for i in range(4)))
    return {
        "kind": "observation_event",
        "type": "web",
        "text": text,
        "image": None,
        "metadata": {"url": f"https://{site}/", "title": title},
    }


def render(event: Event, epoch: float) -> dict[str, Any]:
    data = event.data
    if isinstance(data, PolicyRef):
        data = _policy(data)
    elif isinstance(data, ObservationRef):
        data = _observation(data)
    elif isinstance(data, MetricsRef):
        data = {"metrics": metrics(data.steps, usage_rows(data.usage))}
    return {"type": event.type, "data": data, "timestamp": iso(epoch + event.t)}
