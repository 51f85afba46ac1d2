"""The tree screen: the highlighted session's subagents, live, with rollups per branch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static, Tree

from agp_tui.ui.actions import ACTION_BINDINGS, SessionKeys
from agp_tui.ui.closing import ClosesOnce, is_closed
from agp_tui.ui.format import session_name, short_id
from agp_tui.ui.screens.main import TALL_ENOUGH
from agp_tui.ui.text import literal
from agp_tui.ui.updates import Batch
from agp_tui.ui.widgets.detail import DetailPane
from agp_tui.ui.widgets.footer import KeysFooter
from agp_tui.ui.widgets.session_tree import SessionTree

if TYPE_CHECKING:
    from agp_tui.ui.app import AgpApp


class TreeScreen(ClosesOnce, SessionKeys, Screen[None]):
    # Focused as soon as it is composed, before anything else can take the focus (an input
    # box comes first in some screens): every focus change rebuilds the footer.
    AUTO_FOCUS = "#tree"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("z", "fold", "Fold"),
        Binding("e", "expand_all", "Expand"),
        Binding("i", "toggle_detail", "Detail", show=False),
        Binding("t", "trajectory", "Trajectory"),
        *ACTION_BINDINGS,
    ]

    def __init__(self, root_id: str) -> None:
        super().__init__(id="tree-screen")
        self.root_id = root_id
        self.detail_wanted: bool | None = None
        self._focus_key: tuple[int, str | None] = (0, None)
        self._opened = False  # the engine was asked to open the tree (closed on unmount)

    @property
    def agp(self) -> AgpApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        app = self.agp
        self._update_layout(update=False)  # styled once, with its layout: no restyle at mount
        view = app.engine.view(self.root_id)
        title = Text(f"subagent tree of {short_id(self.root_id)}  ", style="bold")
        if session_name(view):
            title.append_text(literal(session_name(view), 60))
        yield Static(title, id="tree-title")
        yield SessionTree(app.engine, self.root_id, id="tree")
        yield DetailPane(app.engine, app.clock, id="tree-detail")
        yield KeysFooter()

    @property
    def session_tree(self) -> SessionTree:
        return self.query_one(SessionTree)

    def on_mount(self) -> None:
        if is_closed(self):
            return
        self._opened = True
        self.agp.engine.open_tree(self.root_id)
        tree = self.session_tree
        tree.sync_all()
        detail = self.query_one(DetailPane)
        detail.show_tree_hint = False
        detail.show(self.root_id)
        self._update_layout()

    def on_unmount(self) -> None:
        if self._opened:
            self.agp.engine.close_tree(self.root_id)

    def on_resize(self, event: events.Resize) -> None:
        self._update_layout()

    def _update_layout(self, *, update: bool = True) -> None:
        shown = self.detail_wanted if self.detail_wanted is not None else self.size.height >= TALL_ENOUGH
        self.set_class(not shown, "-detail-hidden", update=update)

    def on_screen_resume(self) -> None:
        self.agp.refresh_on_resume(self)  # frames skip a covered screen: catch up

    def apply(self, batch: Batch | None) -> None:
        tree = self.session_tree
        if batch is None:
            tree.update_sessions(list(tree.nodes))
        else:
            tree.update_sessions(batch.sessions, batch.children)
        detail = self.query_one(DetailPane)
        if batch is None or batch.clock or batch.touches(detail.session_id):
            detail.refresh_view()
        self._report_focus()

    def _report_focus(self) -> None:
        if not self.is_current:
            return
        tree = self.session_tree
        node = tree.cursor_node
        key = (len(tree.nodes), node.data if node is not None else None)
        if key != self._focus_key:
            self._focus_key = key
            self.agp.engine.set_focus([s for s, nodes in tree.nodes.items() if nodes], key[1])

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[str | None]) -> None:
        if is_closed(self):
            return
        if event.node.data is not None:
            self.query_one(DetailPane).show(event.node.data)
        self._report_focus()

    def action_targets(self) -> list[str]:
        node = self.session_tree.cursor_node
        return [node.data] if node is not None and node.data is not None else []

    def action_trajectory(self) -> None:
        targets = self.action_targets()
        if targets:
            self.agp.open_trajectory(targets[0])

    def action_back(self) -> None:
        self.dismiss()

    def action_fold(self) -> None:
        n = self.session_tree.fold_finished()
        self.notify(f"folded {n} finished branch{'es' if n != 1 else ''}", timeout=2)

    def action_expand_all(self) -> None:
        self.session_tree.expand_everything()

    def action_toggle_detail(self) -> None:
        self.detail_wanted = self.has_class("-detail-hidden")
        self._update_layout()
