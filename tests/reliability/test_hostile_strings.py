"""Hostile strings from the server stay inert and bounded everywhere they are shown.

Every field that comes over the network (agent names, first messages, errors, error codes,
outcomes, model names, statuses, child ids) carries Rich markup, ANSI CSI, OSC 8/52, C1
controls, bidi overrides, zero-width characters, or 100 KB of text. The dashboard (table,
detail pane, tree, a modal, toasts), the terminal notifications (bell, OSC 9/777) and the
headless commands (plain and --json) must show them literally, drop what a terminal would
act on, never create a link, and keep every line bounded.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest

for _folder in ("ui", "headless"):  # the shared fakes and helpers (also set by conftest.py)
    _path = str(Path(__file__).resolve().parents[1] / _folder)
    if _path not in sys.path:
        sys.path.append(_path)

from headless_helpers import KEY, make_env, run_cli, tokens  # noqa: E402
from headless_helpers import sid as hsid  # noqa: E402
from helpers import Clock, frame, running, sid, wait_for  # noqa: E402  # noqa: E402

from agp_tui.headless.output import CLEAN_LIMIT  # noqa: E402
from agp_tui.sim.fake_backend import FakeBackend  # noqa: E402
from agp_tui.ui.app import AgpApp  # noqa: E402
from agp_tui.ui.notify import NotifyOptions  # noqa: E402
from agp_tui.ui.screens.tree import TreeScreen  # noqa: E402

MARKUP = "[bold]x[/bold] [link=https://evil.example]click[/link] [/]"
ESCAPES = "\x1b[31mred\x1b[2J \x1b]52;c;cHduZWQ=\x07 \x1b]8;;http://x\x1b\\lnk\x1b]8;;\x1b\\ \x9b31mC1"
INVISIBLE = "\u202eevil\u202c \u2066iso\u2069 zero\u200bwidth\ufeff"
HOSTILE = f"{MARKUP} {ESCAPES} {INVISIBLE}"
BIG = ("A" * 1000 + "\x1b[2J[bold]") * 100  # ~100 KB


def inert(text: str, *, allow: str = "") -> bool:
    """No control, format (bidi, zero-width) or surrogate code point, except `allow`."""
    return not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") and ch not in allow for ch in text)


# -- the dashboard ------------------------------------------------------------------------------


def screen_lines(app: AgpApp) -> list[str]:
    """What the terminal would be sent for the current screen, as text, after checking that
    no segment carries a hyperlink and no line is wider than the screen."""
    width = app.size.width
    lines = []
    for strip in app.screen._compositor.render_strips():
        assert strip.cell_length <= width
        for seg in strip:
            assert seg.style is None or not seg.style.link, seg
        lines.append("".join(seg.text for seg in strip))
    app.export_screenshot()  # the full render path does not raise either
    return lines


def check_screen(app: AgpApp) -> str:
    lines = screen_lines(app)
    for line in lines:
        assert inert(line), repr(line)
    return "\n".join(lines)


def hostile_world(fake: FakeBackend) -> list[str]:
    kid = fake.pin(10, agent=HOSTILE, status="running", steps=1, parent=sid(1),
                   usage=[(HOSTILE, 10, 1, 0)])
    one = fake.pin(1, agent=HOSTILE, status="running", steps=3, error=HOSTILE, error_code=HOSTILE,
                   outcome=HOSTILE, message=BIG, usage=[(HOSTILE, 5000, 100, 0), (BIG, 10, 1, 0)],
                   children=[kid.id])
    fake.name_children(one.id, "[bold]kid[/]\x1b[2J\u202e")
    two = fake.pin(2, agent=BIG, status="\x1b[2J[bold]weird[/]\u202e", steps=1, error=BIG)
    return [one.id, two.id]


async def test_dashboard_shows_hostile_strings_literally_and_bounded() -> None:
    fake, clock = FakeBackend(), Clock()
    ids = hostile_world(fake)
    written: list[str] = []
    async with running(fake, clock, ids, (160, 40),
                       notify=NotifyOptions(toast=True, bell=True, desktop=True)) as (app, pilot):
        app.notifier._write = written.append  # the bytes the driver would get
        shown = check_screen(app)
        assert "[bold]x[/" in shown  # markup shown as text, in the agent column
        assert "? [bold]w" in shown and "AAAA" in shown
        # Detail pane of session 1: every field, literally.
        await pilot.press("i")
        await frame(pilot)
        info = str(app.screen.query_one("#detail-info").render())
        assert inert(info, allow="\n")
        assert MARKUP in info and "[link=https://evil.example]click[/link]" in info
        assert "red" in info and "evil" in info and "cHduZWQ" not in info  # OSC 52 payload dropped
        assert max(len(line) for line in info.splitlines()) <= 2000  # 100 KB message cut to 300
        check_screen(app)
        # A modal naming the session.
        await pilot.press("d")
        await frame(pilot)
        assert "[bold]x[/" in check_screen(app)
        await pilot.press("escape")
        await frame(pilot)
        # The subagent tree.
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TreeScreen))
        await wait_for(pilot, lambda: app.engine.view(sid(10)) is not None
                       and app.engine.view(sid(10)).status is not None)  # type: ignore[union-attr]
        await frame(pilot)
        tree = check_screen(app)
        assert "[bold]x[/" in tree and "[bold]ki" in tree  # the hostile child id, short
        await pilot.press("escape")
        await frame(pilot)
        # A status change: toast, bell and desktop notification.
        fake.set(sid(1), status="failed")
        app.engine.refresh([sid(1)])
        await wait_for(pilot, lambda: bool(app.notifier.fired))
        await frame(pilot)
        toasts = [n.message for n in app._notifications]
        assert toasts and all(inert(t) and len(t) <= 120 for t in toasts)
        assert any("[bold]x[/bold]" in t for t in toasts)
        assert "[bold]x[/" in check_screen(app)  # the toast, drawn, is literal too
        assert written
        for seq in written:
            bell, osc9 = seq[:1], seq[1:]
            assert bell == "\x07"
            # One OSC 9, opened once and closed once: nothing inside can end it or start another.
            assert osc9.startswith("\x1b]9;") and osc9.endswith("\x07")
            inner = osc9[len("\x1b]9;"):-1]
            assert inert(inner) and len(inner) <= 400 and "[bold]x[/bold]" in inner


# -- headless -----------------------------------------------------------------------------------


@pytest.fixture
def hostile_server() -> Any:
    server = FakeBackend(api_keys=(KEY,))
    handle = server.serve_in_thread()
    try:
        yield server
    finally:
        handle.stop()


def check_plain(out: str) -> None:
    assert inert(out, allow="\n\t"), repr(out[:300])
    for line in out.splitlines():
        assert len(line) <= 12 * CLEAN_LIMIT, len(line)  # a few cleaned fields, never 100 KB


@pytest.mark.parametrize("command", ["status", "tree", "watch", "ls"])
def test_headless_output_is_inert_bounded_and_json_exact(
    hostile_server: FakeBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], command: str,
) -> None:
    env = make_env(tmp_path, monkeypatch).point_at(hostile_server.base_url, KEY)
    root, kid = hsid(1), hsid(2)
    hostile_server.pin(root, agent=HOSTILE, message=BIG, status="completed", steps=3, usage=tokens(500),
                       error=HOSTILE)
    hostile_server.pin(kid, agent=BIG, parent=root, message=HOSTILE, status=HOSTILE, steps=1,
                       usage=tokens(10), error=BIG)
    hostile_server.name_children(root, HOSTILE)
    args: list[str] = [] if command == "ls" else [root]
    extra = ["--interval", "0.1"] if command == "watch" else []
    plain = run_cli(capsys, monkeypatch, env, [command], *args, *extra)
    check_plain(plain.out)
    check_plain(plain.err)
    assert "[bold]x[/bold]" in plain.out  # markup printed as the text it is
    as_json = run_cli(capsys, monkeypatch, env, [command], *args, *extra, "--json")
    check_plain(as_json.err)
    assert inert(as_json.out, allow="\n"), repr(as_json.out[:300])
    values = ([json.loads(line) for line in as_json.out.splitlines() if line.strip()]
              if command == "watch" else [json.loads(as_json.out)])
    text = json.dumps(values)
    # The exact server strings survive the round trip (JSON escaping is the only change).
    assert json.dumps(HOSTILE)[1:-1] in text
    if command in ("tree", "ls"):  # the child's 100 KB agent name / the root's first message
        assert json.dumps(BIG)[1:-1] in text
