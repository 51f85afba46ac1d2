"""The one-line header: who and where, the connection state, quota, and watch count.

The connection state is a CSS class on its own label (`-live`, `-stale`, `-offline`,
`-auth-error`, `-connecting`); bad states are drawn reversed and bold *and* spelled out
in capitals, so they read the same with NO_COLOR or in 16 colours.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from agp_tui.api.models import Quota
from agp_tui.monitor.events import Connection
from agp_tui.ui.format import duration
from agp_tui.ui.text import literal

CONNECTION_CLASSES = {
    Connection.CONNECTING: "-connecting",
    Connection.LIVE: "-live",
    Connection.STALE: "-stale",
    Connection.OFFLINE: "-offline",
    Connection.AUTH_ERROR: "-auth-error",
}


def connection_words(state: Connection, stale_for: float | None, stale_rows: int = 0) -> str:
    if state is Connection.LIVE:
        # The link answers, but some rows are older than their polling allows: "live"
        # would promise fresh numbers the table does not have (their `upd` shows `!`).
        return f"▲ {stale_rows} STALE" if stale_rows else "● live"
    if state is Connection.CONNECTING:
        return "◌ connecting…"
    if state is Connection.STALE:
        return f"▲ STALE for {duration(stale_for)}" if stale_for is not None else "▲ STALE"
    if state is Connection.OFFLINE:
        return "✘ OFFLINE"
    return "✘ AUTH ERROR: check the API key"


class StatusHeader(Horizontal):
    """`agp-tui  default@eu  ● live  quota 3/10  12 watched  READ-ONLY`."""

    def __init__(self, *, profile: str, region: str, read_only: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self.profile = profile
        self.where = region
        self.read_only = read_only
        self._shown: tuple[object, ...] = ()

    def compose(self) -> ComposeResult:
        title = Text("agp-tui ", style="bold")
        title.append_text(literal(f"{self.profile}@{self.where}", 40))
        yield Static(title, id="hdr-title")
        yield Static("", id="hdr-conn", classes="-connecting")
        yield Static("", id="hdr-quota")
        yield Static("", id="hdr-count")
        yield Static(" READ-ONLY " if self.read_only else "", id="hdr-ro",
                     classes="-on" if self.read_only else "-off")

    def show(
        self, state: Connection, *, stale_for: float | None, detail: str | None,
        quota: Quota | None, watched: int, shown: int, stale_rows: int = 0,
    ) -> None:
        words = connection_words(state, stale_for, stale_rows)
        if state is Connection.LIVE and stale_rows:
            state = Connection.STALE  # drawn as the stale link is: reversed, bold
            detail = f"{stale_rows} sessions not updated as often as they should be (upd column: !)"
        q = f"quota {quota.active}/{quota.limit}" if quota is not None else "quota —"
        count = f"{watched} watched" if shown == watched else f"{shown}/{watched} shown"
        key = (state, words, detail, q, count)
        if key == self._shown:
            return  # redraw nothing when nothing changed (this runs every frame)
        self._shown = key
        conn = self.query_one("#hdr-conn", Static)
        for cls in CONNECTION_CLASSES.values():
            conn.set_class(cls == CONNECTION_CLASSES[state], cls)
        conn.update(Text(f" {words} "))
        conn.tooltip = literal(detail, 200) if detail else None
        self.query_one("#hdr-quota", Static).update(Text(q))
        self.query_one("#hdr-count", Static).update(Text(count))
