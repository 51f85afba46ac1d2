"""Notifications: once per transition, only for watched sessions, never for the first status seen;
bell and desktop notifications are bytes through the driver, tmux-wrapped inside tmux."""

from __future__ import annotations

from helpers import Clock, add_tree, running, sid, wait_for
from simapp import Recorder

from agp_tui.monitor.events import StatusChanged
from agp_tui.monitor.view import SessionView
from agp_tui.sim.fake_backend import FakeBackend
from agp_tui.ui.notify import Notifier, NotifyOptions
from agp_tui.ui.screens.tree import TreeScreen


def finished(rec: Recorder) -> list[str]:
    return [m for t, m, _ in rec.toasts if t in ("session finished", "session needs you")]


async def change(app: object, fake: FakeBackend, n: int, status: str) -> None:
    fake.set(sid(n), status=status)
    app.engine.refresh([sid(n)])  # type: ignore[attr-defined]


async def test_toast_once_per_transition_and_not_for_the_first_status(
    fake: FakeBackend, clock: Clock,
) -> None:
    fake.pin(1, agent="h/web-surfer-flash", status="running")
    fake.pin(2, agent="[b]acme[/b]\x1b[31m", status="completed")  # first seen finished: no toast
    async with running(fake, clock, [sid(1), sid(2)]) as (app, pilot):
        rec = Recorder(app)
        await pilot.pause(0.1)
        assert finished(rec) == []
        await change(app, fake, 1, "idle")
        await wait_for(pilot, lambda: len(finished(rec)) == 1)
        assert finished(rec) == ["◔ 00000001 h/web-surfer-flash is waiting for your message"]
        assert rec.toasts[-1][2] == "warning"
        # The same status polled again is no transition: nothing more.
        app.engine.refresh([sid(1)])
        await pilot.pause(0.2)
        assert len(finished(rec)) == 1
        await change(app, fake, 1, "running")  # not a status that needs anyone
        await wait_for(pilot, lambda: app.engine.view(sid(1)).status_text == "running")  # type: ignore[union-attr]
        await change(app, fake, 1, "failed")
        await wait_for(pilot, lambda: len(finished(rec)) == 2)
        assert finished(rec)[-1] == "✘ 00000001 h/web-surfer-flash failed" and rec.toasts[-1][2] == "error"
        assert rec.written == []  # no bell, no desktop notification by default
        assert app.notifier.fired == [(sid(1), "idle"), (sid(1), "failed")]


async def test_bell_and_desktop_notification_bytes(fake: FakeBackend, clock: Clock) -> None:
    fake.pin(1, agent="h/web-surfer-flash", status="running")
    options = NotifyOptions(toast=False, bell=True, desktop=True)
    async with running(fake, clock, [sid(1)], notify=options) as (app, pilot):
        rec = Recorder(app)
        await change(app, fake, 1, "completed")
        await wait_for(pilot, lambda: bool(rec.written))
        assert rec.written == ["\x07\x1b]9;agp-tui: ✔ 00000001 h/web-surfer-flash completed\x07"]
        assert finished(rec) == []  # toast off


async def test_desktop_notification_inside_tmux_and_vte(fake: FakeBackend, clock: Clock) -> None:
    fake.pin(1, agent="h/web-surfer-flash", status="running")
    env = {"TMUX": "/tmp/tmux-1000/default,1,0", "VTE_VERSION": "7600"}
    options = NotifyOptions(toast=False, desktop=True)
    async with running(fake, clock, [sid(1)], notify=options, env=env) as (app, pilot):
        rec = Recorder(app)
        await change(app, fake, 1, "timed_out")
        await wait_for(pilot, lambda: bool(rec.written))
        inner = "\x1b]777;notify;agp-tui;⌛ 00000001 h/web-surfer-flash timed out\x07"
        assert rec.written == ["\x1bPtmux;" + inner.replace("\x1b", "\x1b\x1b") + "\x1b\\"]


async def test_tree_only_children_do_not_notify(fake: FakeBackend, clock: Clock) -> None:
    fake.pin(1, agent="acme/manager", status="running")
    kids = add_tree(fake, 1, [2], status="running")
    async with running(fake, clock, [sid(1)], size=(100, 30)) as (app, pilot):
        rec = Recorder(app)
        await pilot.press("enter")
        assert isinstance(app.screen, TreeScreen)
        await wait_for(pilot, lambda: all((v := app.engine.view(k)) is not None and v.status is not None
                                          for k in kids))
        fake.set(kids[0], status="completed")
        app.engine.refresh(kids)
        await wait_for(pilot, lambda: app.engine.view(kids[0]).status_text == "completed")  # type: ignore[union-attr]
        await pilot.pause(0.1)
        assert finished(rec) == [] and app.notifier.fired == []
        await change(app, fake, 1, "completed")  # the watched parent does
        await wait_for(pilot, lambda: len(finished(rec)) == 1)


def test_notifier_dedupes_and_filters() -> None:
    toasts: list[tuple[str, str, str]] = []
    written: list[str] = []
    n = Notifier(NotifyOptions(bell=True), toast=lambda *a: toasts.append(a), write=written.append, env={})
    view = SessionView("s1", agent="a")
    assert not n.on_status(StatusChanged("s1", None, "running", 1.0), view)  # first status
    ev = StatusChanged("s1", "running", "completed", 2.0)
    assert n.on_status(ev, view)
    assert not n.on_status(ev, view)  # the same event twice: one toast
    assert len(toasts) == 1 and written == ["\x07"]
    assert not n.on_status(StatusChanged("s1", "completed", "running", 3.0), view)  # not notable
    assert n.on_status(StatusChanged("s1", "running", "completed", 4.0), view)  # a new transition
    child = SessionView("c1", agent="a", watched=False)
    assert not n.on_status(StatusChanged("c1", "running", "failed", 5.0), child)
    assert not n.on_status(StatusChanged("gone", "running", "failed", 5.0), None)
    quiet = Notifier(NotifyOptions(toast=False), toast=lambda *a: toasts.append(a), write=written.append,
                     env={})
    assert not quiet.on_status(ev, view)
    n.forget(("s1",))
    assert "s1" not in n._last and "s1" not in n._sent


def test_a_name_of_combining_marks_keeps_the_notification_short() -> None:
    """60 cells of `é` with three accents each are 240 characters (found by tests/fuzz)."""
    from agp_tui.monitor.view import SessionView
    from agp_tui.ui.notify import describe

    view = SessionView(id="6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20", agent="é\u0301\u0301\u0301" * 20)
    assert len(describe(view, view.id, "completed")) <= 100
    # A long name and an unknown status of 30 characters (found by tests/fuzz too).
    view = SessionView(id="0000000", agent="A" * 500)
    assert len(describe(view, view.id, "[bold]x[/bold]" * 5)) <= 100
