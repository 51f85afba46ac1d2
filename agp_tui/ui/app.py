"""The dashboard app and `make_app`, the factory the CLI and the tests share.

Data path: the engine calls our listener on the event loop; the listener only posts an
`EngineChanged` message; its handler only marks the batch dirty; a timer renders the
batch about four times a second inside one `batch_update()`. A failure anywhere on that
path is shown as a notification and logged, never raised out of the app.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Mapping, Sequence

from textual.actions import ActionParseResult
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.driver import Driver
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from agp_tui.monitor.engine import Engine
from agp_tui.monitor.events import EngineEvent, StatusChanged, WatchlistChanged
from agp_tui.monitor.follow import DEFAULT_INTERVAL, AutoFollow, FollowRule, describe_rule
from agp_tui.ui import osc, textual_pinned
from agp_tui.ui.actions import BrowserOpened, SessionActions, SessionKeys, SteerDone
from agp_tui.ui.commands import JumpToSession, Palette, SessionCommands
from agp_tui.ui.notify import Notifier, NotifyOptions
from agp_tui.ui.screens.discover import DiscoverScreen
from agp_tui.ui.screens.group import GroupScreen
from agp_tui.ui.screens.help import HelpScreen
from agp_tui.ui.screens.main import MainScreen
from agp_tui.ui.screens.trajectory import TrajectoryScreen
from agp_tui.ui.screens.tree import TreeScreen
from agp_tui.ui.terminal import TerminalWriter
from agp_tui.ui.text import safe_text
from agp_tui.ui.updates import Batch, EngineChanged

log = logging.getLogger(__name__)

PALETTE_ID = "--command-palette"  # the id Textual's own palette screen has
RENDER_INTERVAL = 0.25  # seconds between frames that carry data (the render rate)
CLOCK_INTERVAL = 1.0  # ages, sparklines and "stale for Ns" move this often


class FollowAdded(Message, bubble=False):
    """Auto-follow put these sessions on the watchlist."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__()
        self.ids = ids


class AgpApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "agp-tui"
    COMMANDS = App.COMMANDS | {JumpToSession, SessionCommands}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        # Not in the footer (full at 80 columns: it cut `q Quit`); `?` and the palette list it.
        Binding("l", "discover", "Discover", show=False),
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        # Reached when a screen's steering key is disabled (read-only) or absent.
        Binding("p", "refused('pause / resume')", show=False),
        Binding("f", "refused('force answer')", show=False),
        Binding("x", "refused('cancel')", show=False),
        Binding("m", "refused('message')", show=False),
    ]

    def __init__(
        self,
        engine: Engine,
        *,
        profile: str = "default",
        region: str = "eu",
        read_only: bool = False,
        theme: str | None = None,
        initial_ids: Sequence[str] = (),
        clock: Callable[[], float] = time.time,
        tick_clock: bool = True,
        notify: NotifyOptions | None = None,
        follow: Sequence[FollowRule] = (),
        follow_interval: float = DEFAULT_INTERVAL,
        discover: bool = False,
        env: Mapping[str, str] | None = None,
        startup_warnings: Sequence[str] = (),
    ) -> None:
        # Before App.__init__, which asks `get_driver_class` for the driver to build.
        self.terminal = TerminalWriter()
        super().__init__()
        self.engine = engine
        self.profile = profile
        self.region = region
        self.read_only = read_only
        # Handed in by the CLI; only what terminal manners need is kept (no API keys in here).
        self.env: Mapping[str, str] = {k: v for k in osc.ENV_KEYS if (v := (env or {}).get(k))}
        self.initial_ids = tuple(initial_ids)
        self.start_on_discover = discover
        self.startup_warnings = tuple(startup_warnings)
        self.actions = SessionActions(self)
        self.notifier = Notifier(notify or NotifyOptions(), toast=self._toast,
                                 write=self.write_terminal, env=self.env)
        self.follow: AutoFollow | None = None
        if follow:
            self.follow = AutoFollow(engine.client, engine.add, follow, follow_interval,
                                     wall=engine.now, on_added=self._followed)
        self.clock = clock
        self.tick_clock = tick_clock  # tests with a frozen clock turn the 1 s tick off
        self._wanted_theme = theme
        self.pending = Batch()
        self._unsubscribe: Callable[[], None] | None = None
        self._last_error: tuple[str, float] = ("", 0.0)
        self.frames = 0  # batches rendered, for tests and benchmarks
        self._engine_closed = False
        self.quitting = False  # `q` was pressed: the keys queued behind it do nothing

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver for this platform, which also carries our own escape sequences
        (`write_terminal`)."""
        return self.terminal.driver_class(super().get_driver_class())

    # -- lifecycle -------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self._wanted_theme:
            if self._wanted_theme in self.available_themes:
                self.theme = self._wanted_theme
            else:
                self.notify(f"unknown theme {self._wanted_theme!r}; using {self.theme}",
                            severity="warning", markup=False)
        self._unsubscribe = self.engine.subscribe(self._on_engine_event)
        self.push_screen(MainScreen())
        for warning in self.startup_warnings:  # printed before the screen took over: unseen
            self.notify(warning, title="Warning", severity="warning", markup=False, timeout=20)
        if self.start_on_discover:
            self.push_screen(DiscoverScreen())
        self.run_worker(self._start_engine(), name="engine-start", exit_on_error=False)
        self.set_interval(RENDER_INTERVAL, self._render_frame, name="render")
        if self.tick_clock:
            self.set_interval(CLOCK_INTERVAL, self._clock_tick, name="clock")

    async def _start_engine(self) -> None:
        await self.engine.start(self.initial_ids)
        self.pending.membership = True
        # What exists now (Textual, the loaded sessions) lives as long as the app. Left in
        # the collector's oldest generation, each full collection rescans it: ~100 ms stalls
        # with 1,000 sessions, landing on keypresses (`python -m agp_tui.bench ui`).
        gc.collect()
        gc.freeze()
        if self.follow is not None and not self._engine_closed:
            self.follow.start()

    async def on_unmount(self) -> None:
        self.terminal.detach()  # the driver is closing: a late toast's bell goes nowhere
        await self.close_engine()

    async def close_engine(self) -> None:
        if self._engine_closed:
            return
        self._engine_closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        try:
            if self.follow is not None:
                await self.follow.stop()
            await self.engine.aclose()
        except Exception:  # closing must never turn a clean quit into a traceback
            log.exception("closing the engine failed")

    async def action_quit(self) -> None:
        self.quitting = True
        await self.close_engine()
        self.exit()

    async def run_action(self, action: str | ActionParseResult, default_namespace: DOMNode | None = None,
                         namespaces: Mapping[str, DOMNode] | None = None) -> bool:
        """Every key binding's action, on every screen, comes through here. Once `q` began
        closing, the keys typed behind it (a burst: `q` then `t`) run nothing: a screen
        pushed while the app exits is never composed, and its mount raised `NoMatches`."""
        if self.quitting:
            return False
        return await super().run_action(action, default_namespace, namespaces)

    # -- engine events -> batches -> frames --------------------------------------------------

    def _on_engine_event(self, event: EngineEvent) -> None:
        """Engine listener: runs inside the engine's code, so it only posts a message."""
        self.post_message(EngineChanged(event))

    def on_engine_changed(self, message: EngineChanged) -> None:
        event = message.event
        self.pending.note(event)
        if isinstance(event, StatusChanged):
            self.notifier.on_status(event, self.engine.view(event.session_id))
        elif isinstance(event, WatchlistChanged) and event.removed:
            self.notifier.forget(event.removed)

    def _toast(self, message: str, title: str, severity: str) -> None:
        self.notify(message, title=title, severity=severity, markup=False,  # type: ignore[arg-type]
                    timeout=8)

    # -- terminal output, steering answers, auto-follow ---------------------------------------

    def write_terminal(self, data: str) -> None:
        """Raw escape sequences (bell, OSC 9/777/52) through the driver, between frames."""
        self.terminal.write(data)

    def copy_text(self, text: str) -> None:
        """OSC 52 through Textual's `copy_to_clipboard` (which also keeps the text for its own
        inputs' paste), and inside tmux once more, wrapped for passthrough: Textual does not
        wrap for tmux (see osc.copy_sequence)."""
        text = osc.clip(text)
        self.copy_to_clipboard(text)
        if osc.in_tmux(self.env):
            self.write_terminal(osc.tmux_wrap(osc.osc52(text)))

    def on_steer_done(self, message: SteerDone) -> None:
        self.actions.done(message.outcomes)

    def on_browser_opened(self, message: BrowserOpened) -> None:
        self.actions.browser_opened(message)

    def _followed(self, ids: list[str]) -> None:
        """AutoFollow's callback (its task): only posts a message."""
        self.post_message(FollowAdded(ids))

    def on_follow_added(self, message: FollowAdded) -> None:
        n = len(message.ids)
        rules = "; ".join(describe_rule(r) for r in self.follow.rules) if self.follow else ""
        self.notify(f"auto-follow: watching {n} new session{'s' if n != 1 else ''} ({rules})",
                    markup=False, timeout=4)
        self.pending.membership = True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Already on the discovery screen: `l` leaves the footer.
        return not (action == "discover" and isinstance(self.screen, DiscoverScreen))

    def action_refused(self, what: str) -> None:
        if self.read_only:
            self.actions.refused(what)

    def _clock_tick(self) -> None:
        self.pending.clock = True

    def _render_frame(self) -> None:
        if not self.pending:
            return
        self.render_now(self.pending.take())

    def render_now(self, batch: Batch | None = None) -> None:
        """Render a batch on the screen in view now (None: re-check everything).

        Only the top full screen (under any dialog) is drawn: a screen covered by another
        redraws everything when it resumes (`refresh_on_resume`). Updating covered screens
        cost more than drawing nothing: each of their repaints made Textual send the whole
        terminal again (a trajectory over the table: 25 KB/s instead of 2 KB/s).
        """
        self.frames += 1
        try:
            with self.batch_update():
                screen = self.view_screen()
                if screen is not None and screen.is_mounted:
                    screen.apply(batch)
        except Exception as exc:  # one bad render must not take the dashboard down
            self.report_error("display update failed", exc)

    def view_screen(self) -> MainScreen | TreeScreen | DiscoverScreen | TrajectoryScreen | GroupScreen | None:
        """The top full screen: what the user sees, under a dialog if one is open."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, MainScreen | TreeScreen | DiscoverScreen | TrajectoryScreen | GroupScreen):
                return screen
        return None

    def refresh_on_resume(self, screen: Screen[None]) -> None:
        """A full screen is in view again: bring it up to date with everything it missed."""
        if screen is not self.view_screen():
            return
        try:
            with self.batch_update():
                self.view_screen().apply(None)  # type: ignore[union-attr]
        except Exception as exc:  # as render_now
            self.report_error("display update failed", exc)

    def report_error(self, what: str, exc: BaseException) -> None:
        log.exception("%s", what, exc_info=exc)
        text = f"{what}: {type(exc).__name__}: {safe_text(str(exc), 300)}"  # may quote the server
        now = time.monotonic()
        if (text, now) != self._last_error and not (
            text == self._last_error[0] and now - self._last_error[1] < 10
        ):
            self._last_error = (text, now)
            self.notify(text, title="Error", severity="error", markup=False, timeout=8)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.report_error(f"background task {event.worker.name!r} failed", event.worker.error)

    # -- navigation ---------------------------------------------------------------------------

    @property
    def main(self) -> MainScreen:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        raise LookupError("the main screen is not mounted")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(read_only=self.read_only))

    def run_session_command(self, action: str) -> None:
        """A palette command: `app.X` is an app action, else the current screen's session action."""
        if action.startswith("app."):
            getattr(self, f"action_{action.removeprefix('app.')}")()
            return
        screen = self.screen
        if isinstance(screen, SessionKeys):
            getattr(screen, f"action_{action}")()  # read-only is checked in SessionActions
        else:
            self.notify("no session to act on here: go back to the table first", severity="warning")

    def action_command_palette(self) -> None:
        """`ctrl+p`: Textual's palette, with paging that survives keys typed ahead.

        Not while one is still attached: a palette dismissed in a burst of keys (its command
        opened a dialog, say) stays a child of the app until it is removed, and a second
        one with the same id raised `DuplicateIds` (tests/ui/test_monkey.py)."""
        if not self.use_command_palette or Palette.is_open(self):  # type: ignore[arg-type]
            return
        if any(child.id == PALETTE_ID for child in self.children):
            return
        self.push_screen(Palette(id=PALETTE_ID))

    def action_discover(self) -> None:
        if any(isinstance(s, DiscoverScreen) for s in self.screen_stack):
            return  # one at a time (`l` from the palette or help above an open discover screen)
        self.push_screen(DiscoverScreen())

    def open_tree(self, session_id: str) -> None:
        if any(isinstance(s, TreeScreen) for s in self.screen_stack):
            return  # one tree at a time (a palette command can ask from above the tree)
        self.push_screen(TreeScreen(session_id))

    def open_trajectory(self, session_id: str) -> None:
        if any(isinstance(s, TrajectoryScreen) for s in self.screen_stack):
            return  # one at a time (two `t`s in a burst, or `t` from the palette above one)
        self.push_screen(TrajectoryScreen(session_id))

    def open_group(self, key: str) -> None:
        """Expand a followed filter: its members in a table of their own."""
        watch = next((g for g in self.engine.groups() if g.key == key), None)
        if watch is None or any(isinstance(s, GroupScreen) for s in self.screen_stack):
            return  # unfollowed meanwhile, or one group screen at a time
        self.push_screen(GroupScreen(watch))

    def jump_to(self, session_id: str) -> None:
        """Command palette target: back to the table, cursor on `session_id`."""
        while len(self.screen_stack) > 1 and not isinstance(self.screen, MainScreen):
            self.pop_screen()
        if not self.main.select(session_id):
            self.notify("that session is no longer watched", severity="warning")


def make_app(
    engine: Engine,
    *,
    profile: str = "default",
    region: str = "eu",
    read_only: bool = False,
    theme: str | None = None,
    initial_ids: Sequence[str] = (),
    clock: Callable[[], float] | None = None,
    tick_clock: bool = True,
    notify: NotifyOptions | None = None,
    follow: Sequence[FollowRule] = (),
    follow_interval: float = DEFAULT_INTERVAL,
    discover: bool = False,
    env: Mapping[str, str] | None = None,
    startup_warnings: Sequence[str] = (),
) -> AgpApp:
    """The dashboard for `engine`; it starts the engine on mount and closes it on the way out.

    `clock` is the wall clock ages are measured with (the engine's, in tests a frozen one).
    `notify` says how finished / waiting sessions are signalled, `follow` are auto-follow
    rules scanned every `follow_interval` seconds, `discover` opens on the discovery screen,
    `env` is the environment (TMUX, SSH_*, DISPLAY, TERM) the CLI hands down;
    `startup_warnings` are shown as toasts once the dashboard is up (e.g. the config error
    a `--demo` started without).
    """
    # The composition root installs the hooks of the one module on Textual's private API
    # (lean writer, crash report without locals, palette guard); on any other Textual
    # release the writer and the guard stand aside with a one-line warning.
    stood_aside = textual_pinned.install(AgpApp, Palette)
    if stood_aside:
        log.warning("%s", stood_aside)
        startup_warnings = (*startup_warnings, stood_aside)
    return AgpApp(
        engine, profile=profile, region=region, read_only=read_only, theme=theme,
        initial_ids=initial_ids, clock=clock or time.time, tick_clock=tick_clock,
        notify=notify, follow=follow, follow_interval=follow_interval, discover=discover, env=env,
        startup_warnings=startup_warnings,
    )
