"""`c` / `C` copy through OSC 52 (tmux-wrapped inside tmux); `o` opens a browser only with a display."""

from __future__ import annotations

import base64

from helpers import Clock, running, sid, table_of, wait_for
from rich.style import Style
from rich.text import Text
from simapp import Recorder
from textual.widgets import Static
from ui_world import standard_world

from agp_tui.sim.fake_backend import FakeBackend
from agp_tui.ui import osc
from agp_tui.ui.action_modals import LinkModal
from agp_tui.ui.screens.main import MainScreen

TMUX = {"TMUX": "/tmp/tmux-1000/default,42,0", "DISPLAY": ":0"}


def url_of(n: int) -> str:
    return f"https://platform.eu.hcompany.ai/agent-view/{sid(n)}"


def osc52_payloads(written: list[str]) -> list[str]:
    out = []
    for chunk in written:
        for part in chunk.split("\x1b]52;c;")[1:]:
            out.append(base64.b64decode(part.split("\x07")[0]).decode())
    return out


async def test_copy_id_and_url_write_osc52(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids) as (app, pilot):
        rec = Recorder(app)
        table_of(app).select(sid(3))
        await pilot.press("c")
        assert rec.written == [osc.osc52(sid(3))]
        assert app.clipboard == sid(3)
        await pilot.press("C")
        assert rec.written[-1] == osc.osc52(url_of(3))
        assert rec.has("copied 00000003") and rec.has("copied the URL")
        # Marked rows: every id, one per line.
        await pilot.press("space", "down", "space", "c")
        assert osc52_payloads(rec.written)[-1] == f"{sid(3)}\n{sid(4)}"
        assert rec.has("copied 2 ids")


async def test_copy_inside_tmux_is_wrapped_for_passthrough(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, env=TMUX) as (app, pilot):
        rec = Recorder(app)
        await pilot.press("c")
        plain = osc.osc52(sid(1))
        assert "".join(rec.written) == plain + "\x1bPtmux;" + plain.replace("\x1b", "\x1b\x1b") + "\x1b\\"


async def test_open_uses_the_browser_when_there_is_a_display(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, env={"DISPLAY": ":0"}) as (app, pilot):
        rec = Recorder(app)
        opened: list[str] = []
        app.actions.open_browser = lambda url: opened.append(url) or True
        await pilot.press("o")
        await wait_for(pilot, lambda: rec.has("opened the Agent View"))
        assert opened == [url_of(1)]
        assert isinstance(app.screen, MainScreen) and rec.written == []
        # A browser that cannot start: the link is shown and copied instead.
        app.actions.open_browser = lambda url: False
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, LinkModal))
        assert osc52_payloads(rec.written) == [url_of(1)]


async def test_open_over_ssh_shows_an_osc8_link_and_copies_it(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    env = {"DISPLAY": "localhost:10.0", "SSH_CONNECTION": "10.0.0.2 50000 10.0.0.1 22"}
    async with running(fake, clock, ids, env=env) as (app, pilot):
        rec = Recorder(app)
        opened: list[str] = []
        app.actions.open_browser = lambda url: opened.append(url) or True
        await pilot.press("o")
        assert isinstance(app.screen, LinkModal)
        text = app.screen.query_one("#link-url", Static).content
        assert isinstance(text, Text) and text.plain == url_of(1)
        assert isinstance(text.style, Style) and text.style.link == url_of(1)  # OSC 8 when rendered
        assert opened == [] and osc52_payloads(rec.written) == [url_of(1)]
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_no_url_yet_is_a_warning(fake: FakeBackend, clock: Clock) -> None:
    fake.pin(1)
    ghost = sid(99)  # not on the server: the view never gets a URL
    async with running(fake, clock, [sid(1), ghost]) as (app, pilot):
        rec = Recorder(app)
        table_of(app).select(ghost)
        await pilot.press("C", "o")
        assert len([t for t in rec.texts() if "no Agent View URL known for 00000063" in t]) == 2
        assert rec.written == [] and isinstance(app.screen, MainScreen)
