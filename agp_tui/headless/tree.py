"""`agp-tui tree ID [--depth N] [--json]`: a session and its subagent sessions, with totals.

Each level is fetched concurrently: `GET /status` per node (steps, tokens, child ids) and
one `GET /sessions?parent_session_id=` per parent for the children's agent names. The
walk is cycle-safe (a session met twice is shown once, then marked `repeat`) and stops
`--depth` levels below the root, or `limits.max_tree_depth` levels (nodes whose children
were not fetched are `truncated`). A parent shows its first `limits.max_children`
subagents; the rest are counted (`more_children`). Sessions not read within
`limits.command_timeout` carry that as their lookup error. Nothing here recurses: a tree
thousands of levels deep is walked, printed and turned into JSON with loops.
Totals reuse `agp_tui.monitor.rollup`, so each session counts once.

`--json` prints `{"root": node, "depth": N|null, "rollup": {...}}` where a node is
`{"id", "agent", "status", "steps", "tokens", "error", "error_code", "lookup_error",
"repeat", "truncated", "more_children", "children": [node]}` (see the README).

Exit: 0; 1 if the root (or any node) could not be read (with --json, a root that could not
be read is still printed, its `lookup_error` set); 2 for a malformed id.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass, field, replace
from typing import Any

from agp_tui.api.client import AgpClient
from agp_tui.api.errors import AgpError, Unreachable
from agp_tui.api.models import SessionStatus
from agp_tui.config import Settings
from agp_tui.headless.codes import EXIT_ERROR, EXIT_OK, describe_error, run
from agp_tui.headless.output import Style, clean, dash, err, out, print_json, table
from agp_tui.headless.shapes import lookup_error_json, rollup_json, tokens_of, usage_totals
from agp_tui.headless.targets import resolve_one
from agp_tui.monitor.rollup import rollup
from agp_tui.monitor.view import Rollup
from agp_tui.runtime import make_client

CONCURRENCY = 8


@dataclass(slots=True)
class Node:
    id: str
    depth: int
    agent: str | None = None
    status: SessionStatus | None = None
    error: AgpError | None = None
    repeat: bool = False  # already shown elsewhere in the tree (a cycle, or a shared child)
    truncated: bool = False  # has children below the --depth limit, not fetched
    deep: bool = False  # truncated by limits.max_tree_depth rather than --depth
    more: int = 0  # subagents beyond limits.max_children: counted, not shown
    counted: bool = False  # not a session: the text row that says "+N more"
    children: list[Node] = field(default_factory=list)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    root_id = resolve_one(args.id, settings)
    if isinstance(root_id, int):
        return root_id
    deadline = settings.limits.command_timeout
    return run(lambda: _tree(root_id, settings, args.depth, as_json=args.json), deadline=deadline)


@dataclass(frozen=True, slots=True)
class Caps:
    """How far a walk goes: levels, subagents per parent, seconds in all."""

    depth: int = 50
    children: int = 1000
    within: float | None = None


async def walk(client: AgpClient, root_id: str, max_depth: int | None, caps: Caps | None = None) -> Node:
    """Fetch the tree; the root's own lookup error is raised, the others are kept on nodes."""
    caps = caps or Caps()
    gate = asyncio.Semaphore(CONCURRENCY)
    loop = asyncio.get_running_loop()
    end = loop.time() + caps.within if caps.within is not None else None
    async with asyncio.timeout_at(end):
        session = await client.get_session(root_id)
    root = Node(session.id, 0, agent=session.agent, status=session.status)
    deep = max_depth is None or max_depth > caps.depth
    stop_at = caps.depth if deep else max_depth
    seen = {root.id}
    level = [root]
    unread: list[Node] = []
    try:
        async with asyncio.timeout_at(end):
            await _walk_levels(client, level, seen, stop_at, deep, caps, gate, unread)
    except TimeoutError:
        for node in unread:
            if node.status is None and node.error is None:
                node.error = Unreachable(
                    f"no complete answer within {caps.within:g} s (limits.command_timeout)")
    return root


async def _walk_levels(client: AgpClient, level: list[Node], seen: set[str], stop_at: int | None,
                       deep: bool, caps: Caps, gate: asyncio.Semaphore, unread: list[Node]) -> None:
    while level:
        parents = [n for n in level if n.status and n.status.subagent_session_ids]
        if stop_at is not None and level[0].depth >= stop_at:
            for n in parents:
                n.truncated, n.deep = True, deep
            break

        async def names(parent: Node) -> dict[str, str | None]:
            try:
                async with gate:
                    return {s.id: s.agent for s in await client.list_children(parent.id)}
            except AgpError:
                return {}  # labels are a nicety: the ids come from the status anyway

        labels = await asyncio.gather(*(names(p) for p in parents))
        fresh: list[Node] = []
        for parent, known in zip(parents, labels, strict=True):
            assert parent.status is not None
            ids = list(dict.fromkeys([*parent.status.subagent_session_ids, *known]))
            parent.more = max(len(ids) - caps.children, 0)
            for cid in ids[: caps.children]:
                child = Node(cid, parent.depth + 1, agent=known.get(cid), repeat=cid in seen)
                parent.children.append(child)
                if not child.repeat:
                    seen.add(cid)
                    fresh.append(child)
        unread.extend(fresh)

        async def fill(node: Node) -> None:
            try:
                async with gate:
                    node.status = await client.get_status(node.id)
            except AgpError as exc:
                node.error = exc

        await asyncio.gather(*(fill(n) for n in fresh))
        level = fresh


def statuses(root: Node) -> dict[str, SessionStatus]:
    """Each fetched session's status, its children being those shown (the status's ids plus
    any only the list endpoint named), so the rollup sums exactly the tree printed."""
    found: dict[str, SessionStatus] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if node.status is not None and not node.repeat:
            kids = tuple(c.id for c in node.children) if node.children else node.status.subagent_session_ids
            found[node.id] = replace(node.status, subagent_session_ids=kids)
        stack.extend(node.children)
    return found


def _failed(root: Node) -> list[Node]:
    out, stack = [], [root]
    while stack:
        node = stack.pop()
        if node.error is not None:
            out.append(node)
        stack.extend(node.children)
    return out


async def _tree(root_id: str, settings: Settings, max_depth: int | None, *, as_json: bool) -> int:
    async with make_client(settings, fast=False) as client:  # httpx: ~100 ms lighter to import
        limits = settings.limits
        caps = Caps(limits.max_tree_depth, limits.max_children, limits.command_timeout)
        try:
            root = await walk(client, root_id, max_depth, caps)
        except TimeoutError:
            exc = Unreachable(f"no complete answer within {caps.within:g} s (limits.command_timeout)")
            if not as_json:
                raise exc from None
            root = Node(root_id, 0, error=exc)
        except AgpError as exc:
            if not as_json:
                raise  # one line on stderr, as for every command
            # As `status --json`: a script reading stdout gets the id and why, not nothing.
            root = Node(root_id, 0, error=exc)
    known = statuses(root)
    totals = rollup(root.id, known.get)
    if as_json:
        print_json({"root": node_json(root), "depth": max_depth, "rollup": rollup_json(totals)})
    else:
        _print(root, totals)
    failed = _failed(root)
    for node in failed:
        assert node.error is not None
        err(f"{node.id}: {describe_error(node.error)}")
    return EXIT_ERROR if failed else EXIT_OK


def node_json(root: Node) -> dict[str, Any]:
    """The nested JSON of a tree, built with a loop (each node's dict, then its children's)."""
    def one(node: Node) -> dict[str, Any]:
        st = node.status
        return {
            "id": node.id,
            "agent": node.agent,
            "status": st.status if st else None,
            "steps": st.steps if st else None,
            "tokens": tokens_of(st),
            "error": st.error if st else None,
            "error_code": st.error_code if st else None,
            "lookup_error": lookup_error_json(node.error),
            "repeat": node.repeat,
            "truncated": node.truncated,
            "more_children": node.more,
            "children": [],
        }

    top = one(root)
    stack = [(root, top)]
    while stack:
        node, shaped = stack.pop()
        for child in node.children:
            kid = one(child)
            shaped["children"].append(kid)
            stack.append((child, kid))
    return top


# Indentation stops growing here: past it, a deep node's row would be all guide lines.
MAX_INDENT_LEVELS = 40


def _rows(root: Node, style: Style) -> list[list[str]]:
    """One row per node, depth first, each with its tree guides; a loop, not recursion."""
    rows: list[list[str]] = []
    stack: list[tuple[Node, str, bool, bool]] = [(root, "", True, True)]
    while stack:
        node, prefix, last, top = stack.pop()
        below = _row(node, style, prefix, last, top, rows)
        if node.depth >= MAX_INDENT_LEVELS:
            below = prefix  # the depth column of deeper rows would only be guide lines
        kids = node.children
        if node.more:  # a last row counting what is not shown
            stack.append((Node(f"+{node.more:,} more", node.depth + 1, counted=True), below, True, False))
        for k in range(len(kids) - 1, -1, -1):
            stack.append((kids[k], below, k == len(kids) - 1 and not node.more, False))
    return rows


def _row(node: Node, style: Style, prefix: str, last: bool, top: bool, rows: list[list[str]]) -> str:
    if top:
        lead, below = "", ""
    elif style.tty:
        lead, below = prefix + ("└─ " if last else "├─ "), prefix + ("   " if last else "│  ")
    else:
        lead = below = prefix + "  "
    st = node.status
    if node.counted:  # piped, a comment: `tree | watchlist import` skips it like the totals
        rows.append([lead + ("" if style.tty else "# ") + node.id, "-", "-", "-", "-", "-", "-",
                     "subagents not shown (limits.max_children)"])
        return below
    if node.repeat:
        row = [lead + node.id, dash(node.agent), "-", "-", "-", "-", "-", "repeat: shown above"]
    elif st is None:
        row = [lead + node.id, dash(node.agent), "-", "-", "-", "-", "-", clean(str(node.error))]
    else:
        i, o, r = usage_totals(st.usage_per_model)
        note = dash(st.error) if st.error else "-"
        if node.truncated:
            more = len(st.subagent_session_ids)
            where = "the depth limit (limits.max_tree_depth)" if node.deep else "--depth"
            note = f"{more} subagent{'s' if more != 1 else ''} below {where}"
        row = [lead + node.id, dash(node.agent), dash(st.status), str(st.steps), str(i), str(o), str(r), note]
    rows.append(row)
    return below


def _print(root: Node, totals: Rollup) -> None:
    style = Style.detect()
    rows = _rows(root, style)
    headers = ["ID", "AGENT", "STATUS", "STEPS", "IN", "OUT", "REASONING", "NOTE"]
    fit = ((7, 16), (1, 12), (7, 0), (1, 8))
    for line in table(headers, rows, style, right=frozenset({3, 4, 5, 6}), fit=fit, paint={2: style.status}):
        out(line)
    # Off a terminal, summary lines start with '#' so `tree ... | watchlist import` skips them.
    mark = "" if style.tty else "# "
    states = ", ".join(f"{n} {clean(s)}" for s, n in sorted(totals.statuses.items()))
    unknown = f" ({totals.unknown} not fetched)" if totals.unknown else ""
    out(f"{mark}total: {totals.sessions} sessions{unknown}, {totals.steps} steps, tokens in "
        f"{totals.input_tokens} out {totals.output_tokens} reasoning {totals.reasoning_tokens} "
        f"(total {totals.total_tokens}); {states or 'no status known'}")
    for m in totals.per_model:
        out(f"{mark}  {clean(m.name)}: in {m.input_tokens} out {m.output_tokens} "
            f"reasoning {m.reasoning_tokens}")
