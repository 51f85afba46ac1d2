"""Command palette providers: jump to a watched session; run a session action."""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.command import CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from agp_tui.ui.actions import STEERING_ACTIONS
from agp_tui.ui.closing import ClosesOnce
from agp_tui.ui.format import session_name, short_id, status_label
from agp_tui.ui.text import safe_text

if TYPE_CHECKING:
    from agp_tui.ui.app import AgpApp

log = logging.getLogger(__name__)


class JumpToSession(Provider):
    """`ctrl+p`, then type part of an id or an agent name."""

    def _candidates(self) -> list[tuple[str, str, str]]:
        app: AgpApp = self.app  # type: ignore[assignment]
        out = []
        for sid in app.engine.watched_ids():
            view = app.engine.view(sid)
            if view is None:
                continue
            name = safe_text(session_name(view), 60)
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


# (title, what it does, screen action or app action) for the palette's action commands.
_SESSION_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Pause / resume", "pause running sessions, resume paused ones (p)", "pause_resume"),
    ("Force answer", "ask the sessions to answer now with what they have (f)", "force_answer"),
    ("Cancel sessions", "cancel the sessions and their subagents, after asking (x)", "cancel_sessions"),
    ("Send a message", "write a message to the sessions (m)", "message"),
    ("Copy session id", "copy the id to the clipboard with OSC 52 (c)", "copy_id"),
    ("Copy Agent View URL", "copy the Agent View link (C)", "copy_url"),
    ("Open Agent View", "open the Agent View in a browser, or show the link (o)", "open_url"),
    ("Discover sessions", "browse the organisation's sessions and add them (l)", "app.discover"),
)


class SessionCommands(Provider):
    """The session actions, for the marked sessions or the highlighted one."""

    def _commands(self) -> list[tuple[str, str, str]]:
        app: AgpApp = self.app  # type: ignore[assignment]
        out = []
        for title, help_text, action in _SESSION_COMMANDS:
            if action in STEERING_ACTIONS and app.read_only:
                title += " (read-only: disabled)"
            out.append((title, help_text, action))
        return out

    def _run(self, action: str) -> None:
        app: AgpApp = self.app  # type: ignore[assignment]
        app.run_session_command(action)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, action), help=help_text)

    async def discover(self) -> Hits:
        for title, help_text, action in self._commands():
            yield DiscoveryHit(title, partial(self._run, action), help=help_text)


class Palette(ClosesOnce, CommandPalette):
    """Textual's command palette, made to survive a fast hand (found by tests/ui/test_monkey.py).

    Two selections in one burst (`enter enter`) both reach Textual's handler: `ClosesOnce`
    keeps the second from closing the screen below. And Textual 8.2's `OptionList` pages
    through a line map it builds only once laid out with a non-zero size: `pagedown` as
    the palette opened (keys typed ahead, a tiny terminal) raised `KeyError`.
    """

    BINDINGS = [
        Binding("pagedown", "page('page_down')", "Next page", show=False),
        Binding("pageup", "page('page_up')", "Previous page", show=False),
    ]

    def action_page(self, action: str) -> None:
        commands = self.query_one(CommandList)
        if commands.option_count == 0 or commands.scrollable_content_region.height <= 0:
            return  # nothing laid out to page through yet
        try:
            getattr(commands, f"action_{action}")()
        except KeyError:  # the line map is still behind the options: nothing to page yet
            log.debug("palette %s before its list was laid out", action)
