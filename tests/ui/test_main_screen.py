"""Pilot tests of the main screen at 80x24 and 200x50: rows, keys, cursor stability, strings."""

from __future__ import annotations

import os
from typing import Any

import pytest
from helpers import Clock, add_tree, cell_text, frame, running, sid, table_of, wait_for
from textual import events
from textual.command import CommandList
from textual.widgets import Input
from ui_world import HOSTILE_AGENT, standard_world

from agp_tui.sim.fake_backend import FakeBackend
from agp_tui.ui.modals import AddSessionsModal, ConfirmRemoveModal, PasteInput
from agp_tui.ui.screens.help import KEY_HELP, HelpScreen
from agp_tui.ui.screens.main import MainScreen
from agp_tui.ui.screens.tree import TreeScreen

SIZES = [(80, 24), (200, 50)]


@pytest.mark.parametrize("size", SIZES)
async def test_rows_show_status_symbols_and_literal_strings(fake: FakeBackend, clock: Clock,
                                                            size: tuple[int, int]) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, size) as (app, _pilot):
        table = table_of(app)
        assert table.shown_ids() == ids
        assert cell_text(app, sid(1), "status").strip() == "● running"
        assert cell_text(app, sid(2), "status").strip() == "✘ failed"
        assert cell_text(app, sid(3), "status").strip() == "◔ idle"
        assert cell_text(app, sid(4), "status").strip() == "? exploded"
        assert cell_text(app, sid(5), "status").strip() == "✔ completed"
        assert cell_text(app, sid(6), "status").strip().startswith("❚❚ paused")
        assert cell_text(app, sid(1), "id").strip() == sid(1)[:8]
        assert cell_text(app, sid(3), "input").strip() == "1.2M"
        agent = table.get_cell(sid(2), "agent")
        assert agent.plain.strip().startswith(HOSTILE_AGENT[: table.columns["agent"].width - 2])  # type: ignore[index]
        assert not [s for s in agent.spans if "red" in str(s.style)]
        if size[0] >= 120:
            err = cell_text(app, sid(2), "error")
            assert "\x1b" not in err and "\x07" not in err and "\n" not in err
            assert err.strip().startswith("red alert on line two")
            assert "error" in table.column_keys and "reasoning" in table.column_keys
        else:
            assert "error" not in table.column_keys
        # Rendering the whole screen with hostile strings in it does not raise or lose text.
        svg = app.export_screenshot()
        assert "bold red" not in svg.replace("[bold red]", "")


async def test_cursor_and_scroll_survive_refreshes(fake: FakeBackend, clock: Clock) -> None:
    ids = [fake.pin(n, steps=n, usage=[("holo3-1-35b-a3b", 100 * n, 10, 0)]).id for n in range(1, 61)]
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        table = table_of(app)
        table.move_cursor(row=27)
        await pilot.press("down", "down", "down")
        chosen = table.selected_id
        assert chosen == ids[30]
        scroll = table.scroll_y
        assert scroll > 0
        before = table.cells_updated
        for n in (1, 2, 31, 45):  # change rows above, at and below the cursor
            fake.set(sid(n), steps=fake.get(sid(n)).steps + 5)
        clock.advance(3)
        app.engine.refresh()
        await wait_for(pilot, lambda: app.engine.view(sid(45)).steps == 50)  # type: ignore[union-attr]
        await frame(pilot)
        assert table.selected_id == chosen and table.cursor_row == 30
        assert table.scroll_y == scroll
        assert cell_text(app, sid(31), "steps").strip() == "36"
        # Only changed cells were written: at most the four steps cells plus the "upd" ages
        # that moved (rows never drawn get theirs when they are: lazily).
        assert 1 <= table.cells_updated - before <= 4 + 60
        assert [cell_text(app, sid(n), "steps").strip() for n in (1, 2, 45)] == ["6", "7", "50"]


async def test_timer_renders_without_help(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        fake.set(sid(1), steps=99)
        app.engine.refresh([sid(1)])
        await wait_for(pilot, lambda: cell_text(app, sid(1), "steps").strip() == "99", timeout=3)


async def test_add_valid_and_invalid_ids(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    fake.pin(7, agent="late/arrival", status="pending")
    fake.pin(8, agent="late/other", status="running")
    async with running(fake, clock, ids[:2], (80, 24)) as (app, pilot):
        await pilot.press("a")
        assert isinstance(app.screen, AddSessionsModal)
        # Nothing valid: the dialog stays open and names the rejected tokens.
        await pilot.press(*"nope", "enter")
        assert isinstance(app.screen, AddSessionsModal)
        assert "not session ids: 'nope'" in str(app.screen.query_one("#add-error").render())
        box = app.screen.query_one(PasteInput)
        box.value = ""
        # A multi-line paste with a URL, a bare id, a comma and garbage.
        pasted = f"https://platform.eu.hcompany.ai/agent-view/{sid(7)}\n{sid(8)}, junk\n"
        box.post_message(events.Paste(pasted))
        await pilot.pause()
        assert "junk" in box.value and sid(8) in box.value
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.engine.watched_ids()[-2:] == [sid(7), sid(8)]
        notes = [n.message for n in app._notifications]
        assert any("watching 2 new sessions" in m and "'junk'" in m for m in notes), notes
        await wait_for(pilot, lambda: sid(8) in table_of(app).shown_ids(), timeout=3)
        await frame(pilot)
        assert table_of(app).selected_id == sid(7)


async def test_add_cancel(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        await pilot.press("a", "escape")
        assert isinstance(app.screen, MainScreen)
        assert app.engine.watched_ids() == ids


async def test_remove_with_confirm_and_cancel(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        table = table_of(app)
        await pilot.press("down")
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmRemoveModal)
        assert [v.id for v in app.screen.sessions] == [sid(2)]
        await pilot.press("n")
        assert sid(2) in app.engine.watched_ids()
        # Marked rows win over the highlighted one.
        await pilot.press("space", "down", "down", "space")
        assert table.marked == {sid(2), sid(4)}
        assert cell_text(app, sid(2), "id").startswith(" *")
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmRemoveModal)
        listed = str(app.screen.query_one("#remove-list").render())
        assert sid(2)[:8] in listed and sid(4)[:8] in listed and HOSTILE_AGENT in listed
        await pilot.press("y")
        await pilot.pause()
        assert app.engine.watched_ids() == [sid(1), sid(3), sid(5), sid(6)]
        assert table.shown_ids() == [sid(1), sid(3), sid(5), sid(6)]
        assert not table.marked


async def test_filter_terms_and_escape(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        table = table_of(app)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"status:running")
        assert table.shown_ids() == [sid(1)]
        app.screen.query_one("#filter", Input).value = "-status:completed -status:failed"
        await pilot.pause()
        assert table.shown_ids() == [sid(1), sid(3), sid(4), sid(6)]
        app.screen.query_one("#filter", Input).value = "agent:surfer"
        await pilot.pause()
        assert table.shown_ids() == [sid(1), sid(5)]
        app.screen.query_one("#filter", Input).value = "error:environment"
        await pilot.pause()
        assert table.shown_ids() == [sid(2)]
        await pilot.press("enter")  # keeps the filter, back to the table
        assert app.focused is table and table.shown_ids() == [sid(2)]
        assert "filter: error:environment" in str(app.screen.query_one("#modeline").render())
        await pilot.press("escape")
        assert table.shown_ids() == ids
        # esc inside the filter box clears and closes it too.
        await pilot.press("slash", *"acme")
        assert table.shown_ids() == [sid(3), sid(4), sid(6)]
        await pilot.press("escape")
        assert table.shown_ids() == ids and app.focused is table
        assert not app.screen.query_one("#filter", Input).has_class("-shown")


async def test_problems_only(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        await pilot.press("exclamation_mark")
        assert table_of(app).shown_ids() == [sid(2), sid(3)]  # failed, idle (waiting on you)
        await pilot.press("exclamation_mark")
        assert table_of(app).shown_ids() == ids


async def test_sort_cycles_and_reverses(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        table = table_of(app)
        await pilot.press("down", "down")  # on session 3
        keys = []
        while table.sort_key != "steps":
            await pilot.press("s")
            keys.append(table.sort_key)
        assert keys[:4] == ["id", "agent", "status", "steps"]
        steps = [app.engine.view(s).steps for s in table.shown_ids()]  # type: ignore[union-attr]
        assert steps == sorted(steps)
        assert table.selected_id == sid(3)  # the cursor follows its session
        assert "▲" in str(table.columns["steps"].label)  # type: ignore[index]
        await pilot.press("S")
        steps = [app.engine.view(s).steps for s in table.shown_ids()]  # type: ignore[union-attr]
        assert steps == sorted(steps, reverse=True)
        assert table.selected_id == sid(3)
        assert "sort: steps ▼" in str(app.screen.query_one("#modeline").render())


async def test_enter_opens_tree_and_escape_returns(fake: FakeBackend, clock: Clock, monkeypatch: Any) -> None:
    ids = standard_world(fake)
    add_tree(fake, 3, [2, 2])
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        calls: list[tuple[str, str]] = []
        engine = app.engine
        real_open, real_close = engine.open_tree, engine.close_tree
        monkeypatch.setattr(engine, "open_tree", lambda r: (calls.append(("open", r)), real_open(r))[1])
        monkeypatch.setattr(engine, "close_tree", lambda r: (calls.append(("close", r)), real_close(r))[1])
        await pilot.press("down", "down", "enter")
        assert isinstance(app.screen, TreeScreen)
        assert calls == [("open", sid(3))]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert calls == [("open", sid(3)), ("close", sid(3))]
        assert table_of(app).selected_id == sid(3)


async def test_refresh_selection_and_all(fake: FakeBackend, clock: Clock, monkeypatch: Any) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        calls: list[list[str] | None] = []
        monkeypatch.setattr(app.engine, "refresh",
                            lambda ids=None: calls.append(None if ids is None else list(ids)))
        await pilot.press("r")
        await pilot.press("down", "space", "down", "space", "r")
        await pilot.press("R")
        assert calls == [[sid(1)], [sid(2), sid(3)], None]


async def test_detail_toggle_and_content(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        screen = app.screen
        assert screen.has_class("-detail-hidden")  # 24 rows: the table gets the room
        await pilot.press("i")
        assert not screen.has_class("-detail-hidden")
        await pilot.press("down")
        await frame(pilot)
        info = str(screen.query_one("#detail-info").render())
        assert sid(2) in info and HOSTILE_AGENT in info and "environment_error" in info
        assert "\x1b" not in info and "\x07" not in info
        await pilot.press("i")
        assert screen.has_class("-detail-hidden")


async def test_help_lists_every_key(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        documented = {k for _, k, _ in KEY_HELP}
        for binding in MainScreen.BINDINGS:
            key = binding.key if isinstance(binding, tuple) is False else binding[0]  # type: ignore[union-attr]
            shown = {"slash": "/", "exclamation_mark": "!", "escape": "esc"}.get(key, key)
            assert any(shown in d.split(" ") for d in documented), key
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_quit_closes_the_engine(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        await pilot.press("q")
        await pilot.pause()
        assert not app.engine.started
        assert app.return_code == 0


@pytest.mark.parametrize("after", ["t", "enter", "l", "question_mark", "a"])
async def test_keys_typed_behind_q_do_nothing(fake: FakeBackend, clock: Clock, after: str) -> None:
    """`q` then `t` in one burst (a fast hand, SSH's queued input): the trajectory screen was
    pushed while the app exited, never composed, and its mount crashed the app."""
    ids = standard_world(fake)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        for key, char in (("q", "q"), (after, "?" if after == "question_mark" else after[:1])):
            app.post_message(events.Key(key, char if len(key) == 1 or key == "question_mark" else None))
        await pilot.pause()
        await pilot.pause()
        assert app.return_code == 0 and not app.engine.started


async def test_palette_jumps_to_a_session(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        await pilot.press("slash", *"surfer", "enter")  # session 6 is filtered out
        assert sid(6) not in table_of(app).shown_ids()
        await pilot.press("ctrl+p")
        await pilot.press(*"shopper")
        await wait_for(pilot, lambda: app.screen.query_one(CommandList).option_count > 0, timeout=3)
        await pilot.pause(0.1)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert table_of(app).selected_id == sid(6)


async def test_what_is_painted_follows_the_data_through_cursor_moves(fake: FakeBackend, clock: Clock) -> None:
    """Changed rows' cached renders are dropped; unchanged ones are reused (SessionTable
    keeps DataTable's render caches across data updates): the screen never shows old data."""
    ids = [fake.pin(n, steps=n, usage=[("holo3-1-35b-a3b", 100 * n, 10, 0)]).id for n in range(1, 41)]
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):

        def painted_steps(n: int) -> str:
            lines = [strip.text for strip in app.screen._compositor.render_strips()]
            line = next(ln for ln in lines if sid(n)[:8] in ln)
            return line.split()[line.split().index(sid(n)[:8]) + 4]  # after id, agent, glyph, status

        await pilot.press("down", "down")
        for round_ in range(1, 4):
            for n in (1, 3, 5):
                fake.set(sid(n), steps=100 * round_ + n)
            clock.advance(3)
            app.engine.refresh()
            await wait_for(pilot, lambda r=round_: app.engine.view(sid(5)).steps == 100 * r + 5)  # type: ignore[union-attr]
            await frame(pilot)
            await pilot.press("up" if round_ % 2 else "down")  # re-render the cursor rows from cache
            await frame(pilot)
            assert [painted_steps(n) for n in (1, 2, 3, 5)] == [str(100 * round_ + 1), "2",
                                                                 str(100 * round_ + 3), str(100 * round_ + 5)]


async def test_rows_are_drawn_exactly_as_datatable_drew_them(fake: FakeBackend, clock: Clock) -> None:
    """The table used to be a DataTable: every character of every line, and its colours and
    attributes, are what a DataTable shows for the same cells, columns, cursor and focus
    (the standard world, hostile strings included, at 80 and 200 columns)."""
    from textual.geometry import Region
    from textual.strip import Strip
    from textual.widgets import DataTable

    def cells(strips: list[Strip]) -> list[list[tuple[str, str]]]:
        return [[(ch, str(seg.style.clear_meta_and_links() if seg.style else None))
                 for seg in strip for ch in seg.text] for strip in strips]

    ids = standard_world(fake)
    for width, height in ((80, 24), (200, 50)):
        async with running(fake, clock, ids, (width, height)) as (app, pilot):
            table = table_of(app)
            await pilot.press("down")
            shown_width = table.size.width
            region = Region(0, 0, shown_width, table.row_count + 1)
            ours = cells(table.render_lines(region))
            reference: DataTable[object] = DataTable(cursor_type="row", cell_padding=0, id="reference")
            await app.main.query_one("#body").mount(reference, before=table)
            reference.styles.height = "1fr"
            table.display = False
            for slot in table.slots:
                reference.add_column(slot.label, key=slot.key, width=slot.width)
            for key in table.shown_ids():
                reference.add_row(*(table.get_cell(key, s.key) for s in table.slots), key=key)
            reference.focus()
            reference.move_cursor(row=table.cursor_row)
            await pilot.pause()
            assert reference.size.width == shown_width
            theirs = cells(reference.render_lines(region))
            assert len(ours) == len(ids) + 1 and all(len(line) == shown_width for line in ours)
            for y, (a, b) in enumerate(zip(ours, theirs, strict=True)):
                assert a == b, f"line {y}: " + "".join(c for c, _ in a)



async def test_help_describes_every_column_from_the_registry(fake: FakeBackend, clock: Clock) -> None:
    from rich.console import Console
    from textual.widgets import Static

    from agp_tui.ui.widgets.columns import COLUMNS

    ids = standard_world(fake)
    async with running(fake, clock, ids, (120, 50)) as (app, pilot):
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=100, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
        console.print(app.screen.query_one("#help-columns", Static).content)
        text = " ".join(console.export_text().split())
        for col in COLUMNS:
            assert col.label.split()[0] in text and " ".join(col.help.split()) in text, col.key
