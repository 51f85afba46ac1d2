"""Totals over a subagent tree, each session counted once even if an id repeats."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from agp_tui.api.models import ModelUsage, SessionStatus
from agp_tui.monitor.view import Rollup


def walk_tree(
    root: str, children: Callable[[str], tuple[str, ...]], *, max_depth: int | None = None
) -> Iterator[str]:
    """Every id reachable from `root` (itself included), once, depth-first, cycle-safe;
    with `max_depth`, none more than that many levels below `root`."""
    seen: set[str] = set()
    stack = [(root, 0)]
    while stack:
        sid, depth = stack.pop()
        if sid in seen:
            continue
        seen.add(sid)
        yield sid
        if max_depth is None or depth < max_depth:
            stack.extend((c, depth + 1) for c in reversed(children(sid)))


def rollup(
    root: str,
    status_of: Callable[[str], SessionStatus | None],
    cost_of: Callable[[str], float | None] = lambda _: None,
) -> Rollup:
    """Sum steps, tokens per model and known costs over the tree under `root`."""

    def kids(sid: str) -> tuple[str, ...]:
        st = status_of(sid)
        return st.subagent_session_ids if st else ()

    sessions = steps = 0
    unknown = cost_sessions = 0
    cost = 0.0
    statuses: dict[str, int] = {}
    models: dict[str, list[int]] = {}
    # Only models that reported cached tokens get a sum: for the others it stays None,
    # "not reported", which is not the same as none cached.
    cached: dict[str, int] = {}
    for sid in walk_tree(root, kids):
        sessions += 1
        c = cost_of(sid)
        if c is not None:
            cost += c
            cost_sessions += 1
        st = status_of(sid)
        if st is None:
            unknown += 1
            continue
        steps += st.steps
        statuses[st.status] = statuses.get(st.status, 0) + 1
        for u in st.usage_per_model:
            acc = models.setdefault(u.name, [0, 0, 0])
            acc[0] += u.input_tokens
            acc[1] += u.output_tokens
            acc[2] += u.reasoning_tokens
            if u.cached_tokens is not None:
                cached[u.name] = cached.get(u.name, 0) + u.cached_tokens
    per_model = tuple(
        ModelUsage(name, i, o, r, cached.get(name)) for name, (i, o, r) in sorted(models.items())
    )
    return Rollup(
        sessions=sessions,
        steps=steps,
        input_tokens=sum(m.input_tokens for m in per_model),
        output_tokens=sum(m.output_tokens for m in per_model),
        reasoning_tokens=sum(m.reasoning_tokens for m in per_model),
        per_model=per_model,
        statuses=statuses,
        unknown=unknown,
        cost=cost,
        cost_sessions=cost_sessions,
    )
