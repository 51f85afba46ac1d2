"""Raw escape sequences to the terminal the dashboard draws on, through public Textual API.

The bell, desktop notifications (OSC 9 / 777) and the tmux-wrapped clipboard copy are
bytes Textual has no method for. Textual builds its driver from `App.get_driver_class()`
with the documented `Driver(app, debug=..., mouse=..., size=...)` constructor; the class
`TerminalWriter.driver_class` returns is that driver, which hands itself to the writer when
built, so `write()` goes through the driver's public `write` / `flush`, in order with the
frames. Under `run_test` (headless) there is no such driver: tests `attach` a recorder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.driver import Driver


class TerminalWriter:
    def __init__(self) -> None:
        self._write: Callable[[str], None] | None = None
        self._flush: Callable[[], None] | None = None

    def attach(self, write: Callable[[str], None], flush: Callable[[], None] | None = None) -> None:
        """Where `write` sends its bytes from now on."""
        self._write, self._flush = write, flush

    def detach(self) -> None:
        self._write = self._flush = None

    @property
    def attached(self) -> bool:
        return self._write is not None

    def write(self, data: str) -> None:
        """Send `data` now (nothing when no terminal is attached)."""
        if self._write is None or not data:
            return
        self._write(data)
        if self._flush is not None:
            self._flush()

    def driver_class(self, base: type[Driver]) -> type[Driver]:
        """`base`, which attaches itself to this writer when the app builds it."""
        writer = self

        class AttachedDriver(base):  # type: ignore[valid-type,misc]
            def __init__(self, app: Any, **kwargs: Any) -> None:
                super().__init__(app, **kwargs)
                writer.attach(self.write, self.flush)

        AttachedDriver.__name__ = AttachedDriver.__qualname__ = f"Attached{base.__name__}"
        return AttachedDriver
