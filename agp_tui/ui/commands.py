"""Command palette provider: jump to a watched session by id or agent."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from agp_tui.ui.format import short_id, status_label
from agp_tui.ui.text import safe_text

if TYPE_CHECKING:
    from agp_tui.ui.app import AgpApp


class JumpToSession(Provider):
    """`ctrl+p`, then type part of an id or an agent name."""

    def _candidates(self) -> list[tuple[str, str, str]]:
        app: AgpApp = self.app  # type: ignore[assignment]
        out = []
        for sid in app.engine.watched_ids():
            view = app.engine.view(sid)
            if view is None:
                continue
            name = safe_text(view.label or view.agent or "", 40)
            status = status_label(view.status.status) if view.status else "? unknown"
            out.append((sid, name, status))
        return out

    async def search(self, query: str) -> Hits:
        app: AgpApp = self.app  # type: ignore[assignment]
        matcher = self.matcher(query)
        for sid, name, status in self._candidates():
            score = max(matcher.match(sid), matcher.match(name))
            if score > 0:
                # Content(...) is literal text: agent names are never read as markup.
                yield Hit(score, Content(f"jump to {short_id(sid)}  {name}  {status}"),
                          partial(app.jump_to, sid), text=f"{sid} {name}")

    async def discover(self) -> Hits:
        app: AgpApp = self.app  # type: ignore[assignment]
        for sid, name, status in self._candidates()[:50]:
            yield DiscoveryHit(Content(f"jump to {short_id(sid)}  {name}  {status}"),
                               partial(app.jump_to, sid), text=f"{sid} {name}")
