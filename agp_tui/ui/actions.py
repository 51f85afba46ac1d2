"""Session actions: steer (pause/resume, force answer, cancel, message), copy, open.

Workers fetch, handlers mutate: a worker only calls the client and posts `SteerDone`;
the app's handler shows the answer and asks the engine to poll the sessions now, so the
row shows the new status on the next poll. Read-only mode refuses every steering action
here, whatever the path (key, palette, test), and the screens dim the keys in the footer.
"""

from __future__ import annotations

import sys
import webbrowser
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from textual.binding import Binding
from textual.message import Message

from agp_tui.api.errors import AgpError
from agp_tui.api.ids import agent_view_hosts
from agp_tui.monitor.view import SessionView
from agp_tui.ui import osc
from agp_tui.ui.action_modals import ConfirmCancelModal, LinkModal, MessageModal
from agp_tui.ui.format import short_id
from agp_tui.ui.steering import (
    CANCEL,
    FORCE,
    MESSAGE,
    Outcome,
    pause_or_resume,
    summarize,
)

if TYPE_CHECKING:
    from agp_tui.ui.app import AgpApp

STEER = Binding.Group("Steer")
# Shared by every screen that shows sessions; `help.py` documents each key.
ACTION_BINDINGS = [
    Binding("p", "pause_resume", "Pause/resume", group=STEER),
    Binding("f", "force_answer", "Force answer", group=STEER),
    Binding("x", "cancel_sessions", "Cancel", group=STEER),
    Binding("m", "message", "Message", group=STEER),
    Binding("c", "copy_id", "Copy id", show=False),
    Binding("C", "copy_url", "Copy URL", show=False),
    Binding("o", "open_url", "Open", show=False),
]
# Screen actions that change sessions; in read-only mode their keys are dimmed and refused.
STEERING_ACTIONS = {
    "pause_resume": "pause / resume",
    "force_answer": "force answer",
    "cancel_sessions": "cancel",
    "message": "message",
}


class SteerDone(Message, bubble=False):
    """The API's answers to one steering action, one `Outcome` per session."""

    def __init__(self, outcomes: list[Outcome]) -> None:
        super().__init__()
        self.outcomes = outcomes


class BrowserOpened(Message, bubble=False):
    def __init__(self, url: str, ok: bool, error: str | None = None) -> None:
        super().__init__()
        self.url = url
        self.ok = ok
        self.error = error


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


class SessionActions:
    """Owned by the app; screens hand it the ids their keys act on."""

    def __init__(self, app: AgpApp) -> None:
        self.app = app
        self.open_browser: Callable[[str], bool] = webbrowser.open
        self.platform = sys.platform

    # -- guards ---------------------------------------------------------------------------

    def refused(self, what: str) -> bool:
        """True (and says so) when read-only mode forbids `what`."""
        if not self.app.read_only:
            return False
        self.app.notify(f"read-only: {what} is disabled (--read-only or read_only in the profile)",
                        title="Read-only", severity="warning", markup=False, timeout=4)
        return True

    def _views(self, ids: Sequence[str]) -> list[SessionView]:
        engine = self.app.engine
        return [v if (v := engine.view(s)) is not None else SessionView(s) for s in ids]

    def _nothing(self, ids: Sequence[str]) -> bool:
        if ids:
            return False
        self.app.notify("no session highlighted", severity="warning", timeout=3)
        return True

    # -- steering -------------------------------------------------------------------------

    def pause_resume(self, ids: Sequence[str]) -> None:
        if self.refused("pause / resume") or self._nothing(ids):
            return
        plan = [(pause_or_resume(v.status.status if v.status else None), v.id) for v in self._views(ids)]
        self._start(plan)

    def force_answer(self, ids: Sequence[str]) -> None:
        if self.refused("force answer") or self._nothing(ids):
            return
        self._start([(FORCE, s) for s in ids])

    def cancel(self, ids: Sequence[str]) -> None:
        if self.refused("cancel") or self._nothing(ids):
            return
        wanted = list(ids)

        def confirmed(yes: bool | None) -> None:
            if yes and not self.refused("cancel"):
                self._start([(CANCEL, s) for s in wanted])

        self.app.push_screen(ConfirmCancelModal(self._views(wanted)), confirmed)

    def message(self, ids: Sequence[str]) -> None:
        if self.refused("message") or self._nothing(ids):
            return
        wanted = list(ids)

        def written(text: str | None) -> None:
            if text and not self.refused("message"):
                self._start([(MESSAGE, s) for s in wanted], text)

        self.app.push_screen(MessageModal(self._views(wanted)), written)

    def _start(self, plan: list[tuple[str, str]], text: str | None = None) -> None:
        self.app.run_worker(self._steer(plan, text), name="steer", group="steer",
                            exit_on_error=False)

    async def _steer(self, plan: list[tuple[str, str]], text: str | None) -> None:
        """Worker: one call per session, in order; never touches a widget."""
        client = self.app.engine.client
        calls = {
            "pause": client.pause, "resume": client.resume, FORCE: client.force_answer,
            CANCEL: client.cancel,
        }
        outcomes: list[Outcome] = []
        for verb, sid in plan:
            try:
                if verb == MESSAGE:
                    await client.send_message(sid, text or "")
                else:
                    await calls[verb](sid)
            except AgpError as exc:
                outcomes.append(Outcome(verb, sid, exc))
            else:
                outcomes.append(Outcome(verb, sid))
        self.app.post_message(SteerDone(outcomes))

    def done(self, outcomes: Sequence[Outcome]) -> None:
        """Handler side: tell the user, then poll the sessions (and known subagents) now."""
        if not outcomes:
            return
        title, text, severity = summarize(outcomes)
        self.app.notify(text, title=title, severity=severity, markup=False,  # type: ignore[arg-type]
                        timeout=4 if severity == "information" else 8)
        ids = [o.session_id for o in outcomes]
        if any(o.verb in (CANCEL, FORCE) for o in outcomes):
            ids += self._descendants(ids)  # cancel and force answer cascade to children
        self.app.engine.refresh(ids)

    def _descendants(self, roots: Iterable[str]) -> list[str]:
        engine = self.app.engine
        seen: set[str] = set(roots)
        todo = list(seen)
        out: list[str] = []
        while todo:
            for child in engine.children_of(todo.pop()):
                if child not in seen:
                    seen.add(child)
                    out.append(child)
                    todo.append(child)
        return out

    # -- copy and open ----------------------------------------------------------------------

    def copy_ids(self, ids: Sequence[str]) -> None:
        if self._nothing(ids):
            return
        self.app.copy_text("\n".join(ids))
        what = short_id(ids[0]) if len(ids) == 1 else _plural(len(ids), "id")
        self.app.notify(f"copied {what}", timeout=2, markup=False)

    def _urls(
        self, ids: Sequence[str], known: Mapping[str, str | None] | None
    ) -> tuple[list[str], list[str], list[str]]:
        """Checked Agent View URLs of `ids` (from `known`, else the engine), the ids without
        one, and the hosts of URLs refused for leading off the platform."""
        urls, missing, foreign = [], [], []
        allowed = agent_view_hosts(self.app.engine.client.base_url)
        for view in self._views(ids):
            raw = known.get(view.id) if known is not None and view.id in known else view.agent_view_url
            url = osc.safe_url(raw)
            if url is None:
                missing.append(view.id)
                continue
            host = (urlsplit(url).hostname or "").lower()
            if host not in allowed:
                foreign.append(host)  # the server's word is not enough to open or paste it
            else:
                urls.append(url)
        return urls, missing, foreign

    def _refuse_foreign(self, foreign: list[str], what: str) -> None:
        allowed = ", ".join(sorted(agent_view_hosts(self.app.engine.client.base_url)))
        self.app.notify(f"not {what}: the server's Agent View URL leads to "
                        f"{osc.clean(foreign[0], 80)}, not {allowed}",
                        title="Link refused", severity="warning", markup=False, timeout=8)

    def copy_urls(self, ids: Sequence[str], known: Mapping[str, str | None] | None = None) -> None:
        if self._nothing(ids):
            return
        urls, missing, foreign = self._urls(ids, known)
        if foreign:
            self._refuse_foreign(foreign, "copied" if not urls else f"copied ({len(foreign)} of them)")
        if not urls:
            if not foreign:
                self.app.notify(f"no Agent View URL known for {short_id(missing[0])} yet",
                                severity="warning", markup=False, timeout=4)
            return
        self.app.copy_text("\n".join(urls))
        note = f" ({len(missing)} without a URL)" if missing else ""
        self.app.notify(f"copied {'the URL' if len(urls) == 1 else _plural(len(urls), 'URL')}{note}",
                        timeout=2, markup=False)

    def open_url(self, ids: Sequence[str], known: Mapping[str, str | None] | None = None) -> None:
        if self._nothing(ids):
            return
        urls, missing, foreign = self._urls(ids[:1], known)
        if foreign:
            self._refuse_foreign(foreign, "opened")
            return
        if not urls:
            self.app.notify(f"no Agent View URL known for {short_id(missing[0])} yet",
                            severity="warning", markup=False, timeout=4)
            return
        url = urls[0]
        if osc.has_local_display(self.app.env, self.platform):
            self.app.run_worker(lambda: self._open_in_browser(url), name="open-url",
                                group="open-url", thread=True, exit_on_error=False)
        else:
            self.show_link(url, "No local display (SSH, or no DISPLAY): copied to the clipboard. "
                                "Click the link if your terminal supports links.")

    def _open_in_browser(self, url: str) -> None:
        """Thread worker: `webbrowser.open` may block while it starts a browser."""
        try:
            ok = bool(self.open_browser(url))
        except Exception as exc:  # a broken browser setup is an answer, not a crash
            self.app.post_message(BrowserOpened(url, False, f"{type(exc).__name__}: {exc}"))
            return
        self.app.post_message(BrowserOpened(url, ok))

    def browser_opened(self, message: BrowserOpened) -> None:
        if message.ok:
            self.app.notify("opened the Agent View in your browser", timeout=3)
        else:
            self.show_link(message.url, "No browser could be started: copied to the clipboard.")

    def show_link(self, url: str, note: str) -> None:
        self.app.copy_text(url)
        self.app.push_screen(LinkModal(url, note))


class SessionKeys:
    """Mixin for screens that show sessions: the actions behind `ACTION_BINDINGS`.

    A screen provides `action_targets()` (marked rows, else the highlighted one).
    """

    if TYPE_CHECKING:

        @property
        def agp(self) -> AgpApp: ...

    def action_targets(self) -> list[str]:
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # None: shown dimmed in the footer and not run; the key then reaches the app's
        # fallback binding, which says "read-only".
        if action in STEERING_ACTIONS and self.agp.read_only:
            return None
        return True

    def action_pause_resume(self) -> None:
        self.agp.actions.pause_resume(self.action_targets())

    def action_force_answer(self) -> None:
        self.agp.actions.force_answer(self.action_targets())

    def action_cancel_sessions(self) -> None:
        self.agp.actions.cancel(self.action_targets())

    def action_message(self) -> None:
        self.agp.actions.message(self.action_targets())

    def action_copy_id(self) -> None:
        self.agp.actions.copy_ids(self.action_targets())

    def action_copy_url(self) -> None:
        self.agp.actions.copy_urls(self.action_targets())

    def action_open_url(self) -> None:
        self.agp.actions.open_url(self.action_targets())
