"""The tree screen: lazy loading, in-place updates at depth >= 3 with hundreds of nodes, folding."""

from __future__ import annotations

from helpers import ISO_T0, Clock, add_tree, frame, running, sid, table_of, wait_for
from rich.text import Text
from textual.widgets import Tree
from ui_world import standard_world

from agp_tui.sim.fake_backend import FakeBackend
from agp_tui.ui.screens.main import MainScreen
from agp_tui.ui.screens.tree import TreeScreen
from agp_tui.ui.widgets.session_table import SessionTable
from agp_tui.ui.widgets.session_tree import SessionTree


def all_nodes(tree: SessionTree) -> list:  # type: ignore[type-arg]
    out = []
    stack = [tree.root]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(node.children)
    return out


def depth(node: object) -> int:
    d = 0
    while node.parent is not None:  # type: ignore[attr-defined]
        node = node.parent  # type: ignore[attr-defined]
        d += 1
    return d


async def test_three_hundred_nodes_update_in_place(fake: FakeBackend, clock: Clock) -> None:
    root = fake.pin(1, agent="acme/manager", status="running", steps=3,
                    usage=[("holo3-122b-a10b", 5000, 200, 0)])
    made = add_tree(fake, 1, [6, 7, 7])  # 6 + 42 + 294 = 342 descendants, depth 3
    assert len(made) == 342
    async with running(fake, clock, [root.id], (120, 40)) as (app, pilot):
        await pilot.press("enter")
        assert isinstance(app.screen, TreeScreen)
        engine = app.engine
        await wait_for(pilot, lambda: (r := engine.rollup(root.id)).sessions == 343 and r.unknown == 0,
                       timeout=15)
        await frame(pilot)
        tree = app.screen.query_one(SessionTree)
        await pilot.press("e")  # expand everything
        await frame(pilot)
        nodes = all_nodes(tree)
        assert len(nodes) == 343
        assert max(depth(n) for n in nodes) == 3
        assert all("loading" not in n.label.plain for n in nodes)
        rollup_label = tree.root.label.plain
        assert "343 sessions" in rollup_label

        # Pick a deep node, collapse one branch, move the cursor; then the data changes.
        deep = tree.nodes[made[-1]][0]
        branch = tree.nodes[made[0]][0]
        branch.collapse()
        tree.move_cursor(deep)
        await pilot.pause()
        before = {id(n) for n in all_nodes(tree)}
        expanded = {n.data for n in all_nodes(tree) if n.is_expanded}
        fake.set(made[-1], status="failed", steps=99)
        fake.set(made[5], steps=77)
        engine.refresh([made[-1], made[5]])
        await wait_for(pilot, lambda: engine.view(made[-1]).status.status == "failed")  # type: ignore[union-attr]
        await wait_for(pilot, lambda: engine.view(made[5]).steps == 77)  # type: ignore[union-attr]
        relabels = tree.relabels
        await frame(pilot)
        after = all_nodes(tree)
        assert {id(n) for n in after} == before  # nothing was rebuilt
        assert {n.data for n in after if n.is_expanded} == expanded
        assert tree.cursor_node is deep
        assert deep.label.plain.startswith("✘ sub/agent-d3") and "99 steps" in deep.label.plain
        # Only the changed nodes and their ancestors were relabelled.
        assert tree.relabels - relabels <= 2 * 4
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_children_load_lazily_with_placeholders(fake: FakeBackend, clock: Clock) -> None:
    root = fake.pin(1, agent="acme/manager", status="running")
    kids = add_tree(fake, 1, [2, 2])
    gate = fake.hold(*kids[2:])  # grandchildren answer only when released
    async with running(fake, clock, [root.id], (100, 30)) as (app, pilot):
        await pilot.press("enter")
        engine = app.engine
        await wait_for(pilot, lambda: all(engine.view(k) and engine.view(k).status for k in kids[:2]))
        await wait_for(pilot, lambda: all(engine.view(k) is not None for k in kids[2:]))
        await frame(pilot)
        tree = app.screen.query_one(SessionTree)
        child = tree.nodes[kids[0]][0]
        child.expand()
        await frame(pilot)
        labels = [c.label.plain for c in child.children]
        assert labels and all(lbl.startswith("◌ loading… ") for lbl in labels)
        grandchild = child.children[0]
        grandchild.expand()
        await frame(pilot)
        assert [c.label.plain for c in grandchild.children] == ["◌ loading…"]
        gate.set()
        await wait_for(pilot, lambda: all(engine.view(k).status for k in kids[2:]))  # type: ignore[union-attr]
        await frame(pilot)
        assert not any("loading" in c.label.plain for c in child.children)
        assert grandchild.children == [] or all(c.data for c in grandchild.children)
        assert not grandchild.allow_expand  # it turned out to have no subagents


async def test_z_folds_finished_branches(fake: FakeBackend, clock: Clock) -> None:
    root = fake.pin(1, agent="acme/manager", status="running")
    done = fake.pin(2, agent="done/branch", status="completed", parent=root.id)
    live = fake.pin(3, agent="live/branch", status="running", parent=root.id)
    root.children = [done.id, live.id]
    fake.pin(4, agent="done/leaf", status="completed", parent=done.id)
    fake.pin(5, agent="live/leaf", status="running", parent=live.id)
    done.children, live.children = [sid(4)], [sid(5)]
    async with running(fake, clock, [root.id], (100, 30)) as (app, pilot):
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.engine.rollup(root.id).unknown == 0 and
                       app.engine.rollup(root.id).sessions == 5)
        await frame(pilot)
        await pilot.press("e")
        tree = app.screen.query_one(SessionTree)
        assert tree.nodes[done.id][0].is_expanded and tree.nodes[live.id][0].is_expanded
        await pilot.press("z")
        assert not tree.nodes[done.id][0].is_expanded
        assert tree.nodes[live.id][0].is_expanded
        assert tree.root.is_expanded


async def test_mouse_selects_rows_and_nodes(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    add_tree(fake, 1, [3])
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        await pilot.click(SessionTable, offset=(12, 3))  # header is line 0: line 3 is the third row
        assert table_of(app).selected_id == sid(3)
        await pilot.click(SessionTable, offset=(12, 1))
        assert table_of(app).selected_id == sid(1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: all(app.engine.view(k).status for k in app.engine.children_of(sid(1))))  # type: ignore[union-attr]
        await frame(pilot)
        tree = app.screen.query_one(Tree)
        await pilot.click(Tree, offset=(8, 2))
        assert tree.cursor_line == 2


async def test_node_labels_show_what_the_table_row_shows(fake: FakeBackend, clock: Clock) -> None:
    """Status, name and cost of a node come from the table's column registry: the tree and
    the table never disagree, and a change to a column is seen by both."""
    import dataclasses

    import pytest

    from agp_tui.ui.widgets import columns

    root = fake.pin(1, agent="acme/[b]x", status="completed", steps=2, outcome="success",
                    finished=ISO_T0, usage=[("holo3-122b-a10b", 90_000, 4_000, 0)])
    add_tree(fake, 1, [2])
    mp = pytest.MonkeyPatch()
    async with running(fake, clock, [root.id], (160, 40)) as (app, pilot):
        await wait_for(pilot, lambda: app.engine.view(root.id) is not None
                       and app.engine.view(root.id).cost is not None)  # type: ignore[union-attr]
        await frame(pilot)
        table = table_of(app)
        status = table.get_cell(root.id, "status").plain.strip()
        name = table.get_cell(root.id, "agent").plain.strip()
        cost = table.get_cell(root.id, "cost").plain.strip()
        assert status == "✔ completed" and name == "acme/[b]x" and cost
        await pilot.press("enter")
        assert isinstance(app.screen, TreeScreen)
        tree = app.screen.query_one(SessionTree)
        await frame(pilot)
        label = tree.root.label.plain
        assert label.startswith(f"✔ {name}  {root.id[:8]}") and f"  {cost}" in label
        # One place to change a column: the tree follows the registry.
        try:
            shout = dataclasses.replace(columns.BY_KEY["agent"], render=lambda row, w: Text("SHOUT"))
            mp.setitem(columns.BY_KEY, "agent", shout)
            fake.set(root.id, steps=5)
            app.engine.refresh([root.id])
            await wait_for(pilot, lambda: "SHOUT" in tree.root.label.plain)
        finally:
            mp.undo()
