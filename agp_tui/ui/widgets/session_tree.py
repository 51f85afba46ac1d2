"""The subagent tree: nodes keyed by session id, updated in place, populated lazily.

A node's children are added when it is first expanded (or, for live branches, as soon as
they are known); until the engine has a node's status it holds one "loading" placeholder.
Labels are re-rendered only for sessions a batch names and their ancestors (whose rollups
changed); nodes are never cleared, so expansion and the cursor survive every refresh.

Bounded against any server: nothing here recurses (Textual's own tree building does, so
depth is capped too): a node `max_tree_depth` levels below the root gets a marker leaf
instead of children, and a parent naming more than `max_children` subagents a "+N more"
leaf. Markers are leaves with no session (`data` None, listed in `_markers`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import on
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from agp_tui.monitor.engine import Engine
from agp_tui.monitor.view import SessionView
from agp_tui.ui.format import (
    STATUS_KINDS,
    dollars,
    human_count,
    session_name,
    short_id,
    status_kind,
)
from agp_tui.ui.text import safe_text
from agp_tui.ui.widgets.cells import status_parts
from agp_tui.ui.widgets.columns import field_text

Node = TreeNode[str | None]  # data: the session id, or None for a loading placeholder


class SessionTree(Tree[str | None]):
    COMPONENT_CLASSES = Tree.COMPONENT_CLASSES | {
        *(f"status--{k}" for k in STATUS_KINDS), "node--dim", "node--loading",
    }

    def __init__(self, engine: Engine, root_id: str, *, id: str | None = None) -> None:
        super().__init__(Text(short_id(root_id)), data=root_id, id=id)
        self.engine = engine
        self.root_id = root_id
        self.nodes: dict[str, list[Node]] = {root_id: [self.root]}
        self.auto_expand = True
        self.guide_depth = 3
        self._styles: dict[str, Style] = {}
        self.relabels = 0  # for tests: labels actually re-rendered
        # TreeNode ids of nodes whose first status was seen: live branches auto-expand once.
        self._settled: set[int] = set()
        self._markers: set[int] = set()  # TreeNode ids of "+N more" / depth-limit leaves

    def style_of(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(name, partial=True)
        return style

    # -- labels ----------------------------------------------------------------------------

    def label_for(self, sid: str, room: int = 0) -> Text:
        """A node's label, fitted to `room` cells (0: no limit)."""
        view = self.engine.view(sid)
        if view is None or (view.status is None and not view.error_kind and not view.not_found):
            text = Text(f"◌ loading… {short_id(sid)}", style=self.style_of("node--loading"))
            return text
        full = self._session_label(view, compact=False, name_cells=48)
        if not room or full.cell_len <= room:
            return full
        # Narrow (80 columns, a deep node): short figures first, then a shorter name; the
        # subtree rollup is what a person opened the tree for, so it is kept whole.
        label = self._session_label(view, compact=True, name_cells=48)
        spare = label.cell_len - room
        if spare > 0:
            name = cell_len(safe_text(session_name(view) or "?", 48))
            label = self._session_label(view, compact=True, name_cells=max(name - spare, 12))
        return label

    def _session_label(self, view: SessionView, *, compact: bool, name_cells: int) -> Text:
        """Status symbol, name, short id, figures: the fields the table shows come from its
        column registry (`field_text`), so a node and a row never disagree."""
        symbol, _, kind = status_parts(view)
        st = view.status.status if view.status else None
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(f"{symbol} ", self.style_of(f"status--{kind}"))
        name = field_text("agent", view, self.style_of, name_cells)
        out.append_text(name if name.plain else Text("?"))
        out.append(f"  {short_id(view.id)}", self.style_of("node--dim"))
        if view.not_found:
            out.append("  not found", self.style_of("status--failed"))
        elif st is not None and status_kind(st) == "unknown":
            out.append(f"  {safe_text(st, 24)}")
        tokens = human_count(sum(u.total_tokens for u in view.usage))
        if compact:
            out.append(f"  {view.steps}st {tokens}")
        else:
            steps = f"{view.steps} step{'' if view.steps == 1 else 's'}"
            out.append(f"  {steps}  {tokens} tok")
        if view.cost is not None:
            out.append("  ")
            out.append_text(field_text("cost", view, self.style_of))
        if view.child_ids:
            out.append(f"  {self._rollup_text(view.id, compact)}", self.style_of("node--dim"))
        return out

    def _rollup_text(self, sid: str, compact: bool) -> str:
        r = self.engine.rollup(sid)
        live = sum(n for s, n in r.statuses.items() if status_kind(s) in ("running", "pending"))
        waiting = sum(n for s, n in r.statuses.items() if status_kind(s) == "waiting")
        extra = (f" · {live} live" if live else "") + (f" · {waiting} waiting" if waiting else "")
        if r.cost_sessions:  # the API's figure, over the sessions whose cost is known
            extra += f" · {dollars(r.cost)}" + ("" if r.cost_sessions >= r.sessions else "+")
        if compact:
            return f"⟨{r.sessions}× {r.steps}st {human_count(r.total_tokens)}{extra}⟩"
        return f"⟨{r.sessions} sessions · {r.steps} steps · {human_count(r.total_tokens)} tok{extra}⟩"

    def _room(self, node: Node) -> int:
        """Cells a node's label gets: the width, less its guides and expand icon."""
        width = self.scrollable_content_region.width
        if width <= 0:
            return 0
        depth = sum(1 for _ in self._ancestors(node))
        return max(width - depth * self.guide_depth - 2, 20)

    def on_resize(self) -> None:
        for nodes in self.nodes.values():
            for node in nodes:
                self._relabel(node)

    def _relabel(self, node: Node) -> None:
        sid = node.data
        if sid is None:
            return
        label = self.label_for(sid, self._room(node))
        old = node.label
        if not isinstance(old, Text) or old.plain != label.plain or old.spans != label.spans:
            node.set_label(label)
            self.relabels += 1

    # -- structure ---------------------------------------------------------------------------

    def _ancestors(self, node: Node) -> Iterator[Node]:
        parent = node.parent
        while parent is not None:
            yield parent
            parent = parent.parent

    def _depth(self, node: Node) -> int:
        return sum(1 for _ in self._ancestors(node))

    def is_loading(self, node: Node) -> bool:
        """A placeholder waiting for its parent's status (not a marker leaf)."""
        return node.data is None and node.id not in self._markers

    def populate(self, node: Node) -> None:
        """Give `node` one child per known subagent (or a loading placeholder); live children
        that have subagents of their own open and are populated too (a loop, not recursion)."""
        todo = [(node, self._depth(node))]
        while todo:
            current, depth = todo.pop()
            todo.extend((kid, depth + 1) for kid in self._populate_one(current, depth))

    def _populate_one(self, node: Node, depth: int) -> list[Node]:
        """Fill one node; returns the children that should be populated in turn."""
        sid = node.data
        if sid is None:
            return []
        view = self.engine.view(sid)
        loaded = view is not None and (view.status is not None or view.not_found)
        kids = list(self.engine.children_of(sid)) if loaded else []
        current = list(node.children)
        if not loaded:
            node.allow_expand = True
            if not current:
                node.add_leaf(Text("◌ loading…", style=self.style_of("node--loading")), data=None)
            return []
        too_deep = depth >= self.engine.settings.max_tree_depth
        for child in current:
            if child.data is None or child.data not in kids or too_deep:
                self._forget(child)
                child.remove()
        node.allow_expand = bool(kids)
        if too_deep and kids:
            n = len(kids) + self.engine.more_children(sid)
            self._marker(node, f"⋯ {n:,} subagent{'s' if n != 1 else ''} deeper than "
                               f"{depth} levels, not shown (limits.max_tree_depth)")
            return []
        present = {c.data for c in node.children}
        up = {a.data for a in self._ancestors(node)} | {sid}
        grow: list[Node] = []
        for kid in kids:
            if kid in present or kid in up:  # already there, or a cycle back up the tree
                continue
            label = self.label_for(kid, max(self._room(node) - self.guide_depth, 20))
            child = node.add(label, data=kid, expand=False, allow_expand=self._may_have_children(kid))
            self.nodes.setdefault(kid, []).append(child)
            kid_view = self.engine.view(kid)
            if kid_view is not None and kid_view.status is not None:
                self._settled.add(child.id)
            if self._is_live(kid) and self.engine.children_of(kid):
                child.expand()
                grow.append(child)
        more = self.engine.more_children(sid)
        if more:
            self._marker(node, f"+{more:,} more subagents, not shown (limits.max_children)")
        return grow

    def _marker(self, node: Node, text: str) -> None:
        leaf = node.add_leaf(Text(text, style=self.style_of("node--dim")), data=None)
        self._markers.add(leaf.id)

    def _forget(self, node: Node) -> None:
        """Drop `node` and everything below it from `nodes` (before it is removed)."""
        stack = [node]
        while stack:
            current = stack.pop()
            stack.extend(current.children)
            self._markers.discard(current.id)
            if current.data is not None:
                nodes = self.nodes.get(current.data, [])
                if current in nodes:
                    nodes.remove(current)

    def _may_have_children(self, sid: str) -> bool:
        view = self.engine.view(sid)
        return view is None or view.status is None or bool(view.child_ids)

    def _is_live(self, sid: str) -> bool:
        view = self.engine.view(sid)
        return view is not None and view.status is not None and not view.status.terminal

    @on(Tree.NodeExpanded)
    def _expanded(self, event: Tree.NodeExpanded[str | None]) -> None:
        self.populate(event.node)

    # -- updates -----------------------------------------------------------------------------

    def sync_all(self) -> None:
        self.populate(self.root)
        self.root.expand()
        self.update_sessions(list(self.nodes))

    def update_sessions(self, ids: Iterable[str], children: Iterable[str] = ()) -> None:
        """Relabel these sessions' nodes and their ancestors; grow expanded nodes' children."""
        todo: dict[int, Node] = {}
        grow = set(children)
        for sid in ids:
            for node in list(self.nodes.get(sid, ())):
                todo[id(node)] = node
                for anc in self._ancestors(node):
                    todo[id(anc)] = anc
                if sid in grow or any(self.is_loading(c) for c in node.children) or (
                    node.is_expanded and len(node.children) != self._shown_children(sid)
                ):
                    if node.is_expanded or node is self.root:
                        self.populate(node)
                    else:
                        node.allow_expand = self._may_have_children(sid)
        for node in todo.values():
            self._relabel(node)
            self._auto_expand(node)

    def _shown_children(self, sid: str) -> int:
        """The child nodes a populated node of `sid` has: one per subagent, plus "+N more"."""
        return len(self.engine.children_of(sid)) + (1 if self.engine.more_children(sid) else 0)

    def _auto_expand(self, node: Node) -> None:
        """Open a live branch once, the first time its status is known; later the user decides."""
        sid = node.data
        if sid is None or node.id in self._settled or node is self.root:
            return
        view = self.engine.view(sid)
        if view is None or view.status is None:
            return
        self._settled.add(node.id)
        if not view.status.terminal and view.child_ids and not node.is_expanded:
            node.expand()
            self.populate(node)

    def fold_finished(self) -> int:
        """Collapse every branch whose sessions have all finished; returns how many."""
        folded = 0
        stack = [self.root]
        while stack:
            node = stack.pop()
            for child in node.children:
                if child.data is None or not child.children:
                    continue
                r = self.engine.rollup(child.data)
                done = r.unknown == 0 and all(status_kind(s) in ("completed", "failed", "interrupted")
                                              for s in r.statuses)
                if done:
                    if child.is_expanded:
                        child.collapse()
                        folded += 1
                else:
                    stack.append(child)
        return folded

    def expand_everything(self) -> None:
        """`e`: open every branch (as deep as max_tree_depth allows), with a loop."""
        stack = [(self.root, 0)]
        while stack:
            node, depth = stack.pop()
            if node.data is None:
                continue
            node.expand()
            self._populate_one(node, depth)
            stack.extend((child, depth + 1) for child in node.children)
        self.update_sessions(list(self.nodes))
