"""The dashboard app and `make_app`, the factory the CLI and the tests share.

Data path: the engine calls our listener on the event loop; the listener only posts an
`EngineChanged` message; its handler only marks the batch dirty; a timer renders the
batch about four times a second inside one `batch_update()`. A failure anywhere on that
path is shown as a notification and logged, never raised out of the app.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from agp_tui.monitor.engine import Engine
from agp_tui.monitor.events import EngineEvent
from agp_tui.ui.commands import JumpToSession
from agp_tui.ui.screens.help import HelpScreen
from agp_tui.ui.screens.main import MainScreen
from agp_tui.ui.screens.tree import TreeScreen
from agp_tui.ui.updates import Batch, EngineChanged

log = logging.getLogger(__name__)

RENDER_INTERVAL = 0.25  # seconds between frames that carry data (the render rate)
CLOCK_INTERVAL = 1.0  # ages, sparklines and "stale for Ns" move this often


class AgpApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "agp-tui"
    COMMANDS = App.COMMANDS | {JumpToSession}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
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
    ) -> None:
        super().__init__()
        self.engine = engine
        self.profile = profile
        self.region = region
        self.read_only = read_only
        self.initial_ids = tuple(initial_ids)
        self.clock = clock
        self.tick_clock = tick_clock  # tests with a frozen clock turn the 1 s tick off
        self._wanted_theme = theme
        self.pending = Batch()
        self._unsubscribe: Callable[[], None] | None = None
        self._last_error: tuple[str, float] = ("", 0.0)
        self.frames = 0  # batches rendered, for tests and benchmarks
        self._closed = False

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
        self.run_worker(self._start_engine(), name="engine-start", exit_on_error=False)
        self.set_interval(RENDER_INTERVAL, self._render_frame, name="render")
        if self.tick_clock:
            self.set_interval(CLOCK_INTERVAL, self._clock_tick, name="clock")

    async def _start_engine(self) -> None:
        await self.engine.start(self.initial_ids)
        self.pending.membership = True

    async def on_unmount(self) -> None:
        await self.close_engine()

    async def close_engine(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        try:
            await self.engine.aclose()
        except Exception:  # closing must never turn a clean quit into a traceback
            log.exception("closing the engine failed")

    async def action_quit(self) -> None:
        await self.close_engine()
        self.exit()

    # -- engine events -> batches -> frames --------------------------------------------------

    def _on_engine_event(self, event: EngineEvent) -> None:
        """Engine listener: runs inside the engine's code, so it only posts a message."""
        self.post_message(EngineChanged(event))

    def on_engine_changed(self, message: EngineChanged) -> None:
        self.pending.note(message.event)

    def _clock_tick(self) -> None:
        self.pending.clock = True

    def _render_frame(self) -> None:
        if not self.pending:
            return
        self.render_now(self.pending.take())

    def render_now(self, batch: Batch | None = None) -> None:
        """Render a batch on every live screen now (None: re-check everything)."""
        self.frames += 1
        try:
            with self.batch_update():
                for screen in self.screen_stack:
                    if isinstance(screen, MainScreen | TreeScreen) and screen.is_mounted:
                        screen.apply(batch)
        except Exception as exc:  # one bad render must not take the dashboard down
            self.report_error("display update failed", exc)

    def report_error(self, what: str, exc: BaseException) -> None:
        log.exception("%s", what, exc_info=exc)
        text = f"{what}: {type(exc).__name__}: {exc}"
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
            self.push_screen(HelpScreen())

    def open_tree(self, session_id: str) -> None:
        self.push_screen(TreeScreen(session_id))

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
) -> AgpApp:
    """The dashboard for `engine`; it starts the engine on mount and closes it on the way out.

    `clock` is the wall clock ages are measured with (the engine's, in tests a frozen one).
    """
    return AgpApp(
        engine, profile=profile, region=region, read_only=read_only, theme=theme,
        initial_ids=initial_ids, clock=clock or time.time, tick_clock=tick_clock,
    )
