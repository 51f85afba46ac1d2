"""The session table on Textual's Line API: drawn as DataTable drew it, sorted stably by
session id, the cursor kept on its session, Home/End, header clicks, widths, scrollbar."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import Clock, cell_text, frame, running, sid, table_of, wait_for
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import DataTable, Input
from ui_world import standard_world

from agp_tui.sim.fake_backend import FakeBackend
from agp_tui.ui.app import AgpApp
from agp_tui.ui.widgets.columns import COLUMNS, layout
from agp_tui.ui.widgets.session_table import SessionTable


def many(fake: FakeBackend, n: int = 60, steps: Any = None) -> list[str]:
    """`n` running sessions; steps n (or `steps(n)`)."""
    return [fake.pin(i, agent=f"acme/agent-{i % 7}", steps=steps(i) if steps else i,
                     usage=[("holo3-1-35b-a3b", 100 * i, 10, 0)]).id for i in range(1, n + 1)]


def screen_cells(app: AgpApp, region: Region) -> list[list[tuple[str, str]]]:
    """Characters and their styles (mouse metadata aside) inside `region` of the screen."""
    strips: list[Strip] = app.screen._compositor.render_strips()
    out = []
    for strip in strips[region.y: region.bottom]:
        cells = [(ch, str(seg.style.clear_meta_and_links() if seg.style else None))
                 for seg in strip for ch in seg.text]
        out.append(cells[region.x: region.right])
    return out


async def as_datatable(app: AgpApp, pilot: Pilot[Any], table: SessionTable) -> list[list[tuple[str, str]]]:
    """The same cells in a real DataTable in the table's place, same cursor, scroll and focus."""
    reference: DataTable[object] = DataTable(cursor_type="row", cell_padding=0, id="reference")
    await app.main.query_one("#body").mount(reference, before=table)
    reference.styles.height = "1fr"
    reference.styles.scrollbar_size_vertical = 1  # what #sessions had while it was a DataTable
    region, cursor, scroll = table.region, table.cursor_row, table.scroll_y
    table.display = False
    for slot in table.slots:
        reference.add_column(slot.label, key=slot.key, width=slot.width)
    for key in table.shown_ids():
        reference.add_row(*(table.get_cell(key, s.key) for s in table.slots), key=key)
    reference.focus()
    await pilot.pause()
    reference.move_cursor(row=cursor, scroll=False)
    reference.scroll_to(y=scroll, animate=False)
    await pilot.pause()
    assert reference.region == region and reference.scroll_y == scroll
    return screen_cells(app, region)


@pytest.mark.parametrize(("rows", "size", "keys"), [
    ("standard", (80, 24), ["down"]),
    ("standard", (200, 50), ["down"]),
    ("many", (80, 24), ["pagedown", "pagedown", "down", "down"]),  # scrolled: the scrollbar shows
    ("many", (120, 40), ["end", "up"]),
])
async def test_drawn_exactly_as_datatable_drew_it(fake: FakeBackend, clock: Clock, rows: str,
                                                  size: tuple[int, int], keys: list[str]) -> None:
    """Every character on screen, its colours and attributes, the cursor bar and the
    scrollbar are what the DataTable this table replaced showed for the same cells."""
    ids = standard_world(fake) if rows == "standard" else many(fake)
    async with running(fake, clock, ids, size) as (app, pilot):
        table = table_of(app)
        await pilot.press(*keys)
        await frame(pilot)
        ours = screen_cells(app, table.region)
        assert table.scrollbar_shown == (rows == "many")
        theirs = await as_datatable(app, pilot, table)
        for y, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert a == b, f"line {y}: ours {''.join(c for c, _ in a)!r}"


async def test_sorting_is_stable_by_session_id(fake: FakeBackend, clock: Clock) -> None:
    """Rows with equal values keep watchlist order, sorted up or down, through data updates
    and re-sorts; the order never depends on what was on screen before."""
    ids = many(fake, 12, steps=lambda i: i % 3)  # steps 1, 2, 0, 1, 2, 0 ...
    async with running(fake, clock, ids, (100, 30)) as (app, pilot):
        table = table_of(app)
        table.sort_by("steps")
        by_steps = sorted(ids, key=lambda s: (int(s[:8], 16) % 3, ids.index(s)))
        assert table.shown_ids() == by_steps
        table.reverse_sort()
        assert table.shown_ids() == sorted(ids, key=lambda s: (-(int(s[:8], 16) % 3), ids.index(s)))
        table.reverse_sort()
        for round_ in range(3):  # updates that move nothing's sort value: nothing moves
            for n in (2, 5, 9):
                fake.set(sid(n), usage=[("holo3-1-35b-a3b", 1000 * round_ + n, 10, 0)])
            clock.advance(3)
            app.engine.refresh()
            await wait_for(pilot, lambda r=round_: "1.0k" in cell_text(app, sid(2), "input") if r else True)
            await frame(pilot)
            assert table.shown_ids() == by_steps
        for _ in range(len(COLUMNS) + 1):  # once round every sort key, back to steps
            await pilot.press("s")
            if table.sort_key == "steps":
                break
        assert table.sort_key == "steps" and table.shown_ids() == by_steps
        table.sort_by("id")
        assert table.shown_ids() == sorted(ids)


async def test_cursor_stays_on_its_session_across_resorts_and_filters(
    fake: FakeBackend, clock: Clock,
) -> None:
    ids = many(fake, 60)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        table = table_of(app)
        await pilot.press("pagedown", "down", "down")
        chosen, line = table.selected_id, table.cursor_row - table.top_row
        assert chosen is not None and table.top_row > 0
        await pilot.press("S")  # reversed watchlist order: the session moves, the cursor follows
        assert table.selected_id == chosen
        assert table.shown_ids() == ids[::-1]
        assert table.cursor_row - table.top_row == line  # and it stays on its screen line
        await pilot.press("s", "s")  # by id, then by agent
        assert table.sort_key == "agent" and table.selected_id == chosen
        assert table.cursor_row - table.top_row == line
        # A filter that keeps it: still on it. One that hides it: on a neighbour; cleared: back
        # on the neighbour, not on a stale row index.
        agent = app.engine.view(chosen).agent  # type: ignore[union-attr]
        box = app.main.query_one("#filter", Input)
        box.value = f"agent:{agent}"
        await frame(pilot)
        assert all(app.engine.view(s).agent == agent for s in table.shown_ids())  # type: ignore[union-attr]
        assert table.selected_id == chosen
        box.value = ""
        await frame(pilot)
        assert table.selected_id == chosen and len(table.shown_ids()) == 60
        box.value = f"-agent:{agent}"
        await frame(pilot)
        neighbour = table.selected_id
        assert neighbour is not None and neighbour != chosen
        assert app.engine.view(neighbour).agent != agent  # type: ignore[union-attr]
        await pilot.press("escape")
        await frame(pilot)
        assert table.selected_id == neighbour and len(table.shown_ids()) == 60


async def test_home_and_end_go_to_the_first_and_last_row(fake: FakeBackend, clock: Clock) -> None:
    ids = many(fake, 60)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        table = table_of(app)
        await pilot.press("end")
        assert table.selected_id == ids[-1] and table.cursor_row == 59
        assert table.top_row == table.max_scroll_y and ids[-1] in table.visible_ids()
        await pilot.press("home")
        assert table.selected_id == ids[0] and table.top_row == 0
        await pilot.press("pagedown")
        page = table.page_rows
        assert table.cursor_row == page and table.top_row == page
        await pilot.press("pageup")
        assert table.cursor_row == 0 and table.top_row == 0
        await pilot.press("up")  # at the top: nothing moves, nothing breaks
        assert table.cursor_row == 0


async def test_clicking_a_header_sorts_by_it_and_again_reverses(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        table = table_of(app)
        steps = table.columns["steps"]
        await pilot.click(SessionTable, offset=(steps.x + 2, 0))
        assert table.sort_key == "steps" and not table.sort_reverse
        assert "stp▲" in table.columns["steps"].label.plain
        shown = [app.engine.view(s).steps for s in table.shown_ids()]  # type: ignore[union-attr]
        assert shown == sorted(shown)
        assert "sort: steps ▲" in str(app.screen.query_one("#modeline").render())
        await pilot.click(SessionTable, offset=(steps.x + 2, 0))
        assert table.sort_reverse and "stp▼" in table.columns["steps"].label.plain
        assert "sort: steps ▼" in str(app.screen.query_one("#modeline").render())
        await pilot.click(SessionTable, offset=(table.columns["agent"].x + 1, 0))
        assert table.sort_key == "agent" and not table.sort_reverse


@pytest.mark.parametrize("width", [80, 120, 200])
async def test_widths_follow_the_terminal(fake: FakeBackend, clock: Clock, width: int) -> None:
    """Every status word whole from 80 columns, the longest from 160; sparklines and
    errors take what is left; the columns fill the width less the scrollbar's cell."""
    ids = standard_world(fake)
    fake.pin(7, agent="acme/slow", status="timed_out", steps=2)
    fake.pin(8, agent="acme/tools", status="awaiting_tool_results", steps=2)
    async with running(fake, clock, [*ids, sid(7), sid(8)], (width, 30)) as (app, _pilot):
        table = table_of(app)
        placed = {p.key: p.width for p in layout(width)}
        assert table.column_keys == list(placed)
        assert sum(s.width for s in table.slots) == width - 1
        assert {k: s.width - 1 for k, s in table.columns.items()} == placed
        assert cell_text(app, sid(7), "status").strip() == "⌛ timed_out"
        waiting = cell_text(app, sid(8), "status").strip()
        assert waiting == ("◔ awaiting_tool_results" if width >= 160 else "◔ awaiting_t…")
        assert ("error" in table.column_keys) == (width >= 118)
        assert ("cost" in table.column_keys) == (width >= 108)
        if width == 200:
            assert placed["rate"] > 30 and placed["error"] > 20


async def test_a_resize_lays_the_columns_out_again_in_place(fake: FakeBackend, clock: Clock) -> None:
    ids = standard_world(fake)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        table = table_of(app)
        await pilot.press("down", "down")
        await pilot.resize_terminal(200, 50)
        await frame(pilot)
        assert table.column_keys == [p.key for p in layout(200)]
        assert table.selected_id == sid(3) and table.shown_ids() == ids
        assert cell_text(app, sid(2), "error").strip().startswith("red alert")
        await pilot.resize_terminal(80, 24)
        await frame(pilot)
        assert "error" not in table.column_keys and table.selected_id == sid(3)


async def test_mouse_clicks_and_the_scrollbar(fake: FakeBackend, clock: Clock) -> None:
    ids = many(fake, 60)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        table = table_of(app)
        await pilot.click(SessionTable, offset=(5, 4))  # line 4: the fourth row
        assert table.selected_id == ids[3]
        bar_x = table.size.width - 1
        await pilot.click(SessionTable, offset=(bar_x, table.size.height - 1))  # below the thumb
        assert table.top_row > 0 and table.selected_id == ids[3]  # a page down; the cursor stays
        top = table.top_row
        await pilot.click(SessionTable, offset=(bar_x, 0))  # above the thumb: back up
        assert table.top_row < top
        # Drag the thumb to the bottom.
        await pilot.mouse_down(SessionTable, offset=(bar_x, 0))
        await pilot.hover(SessionTable, offset=(bar_x, table.size.height - 1))
        await pilot.mouse_up(SessionTable, offset=(bar_x, table.size.height - 1))
        await pilot.pause()
        assert table.top_row == table.max_scroll_y


async def test_a_layout_pass_does_not_repaint_the_table(fake: FakeBackend, clock: Clock) -> None:
    """A toast (or a header label changing width) lays the screen out again; the table and
    its scrollbar are not redrawn for it: nothing of them is resent over SSH."""
    ids = many(fake, 60)
    async with running(fake, clock, ids, (80, 24)) as (app, pilot):
        table = table_of(app)
        await frame(pilot)
        await pilot.pause(0.1)
        assert table.scrollbar_shown and table.scrollbar_size_vertical == 0  # Textual's bar: no cells
        drawn: list[int] = []
        render_line = table.render_line

        def counting(y: int) -> Strip:
            drawn.append(y)
            return render_line(y)

        table.render_line = counting  # type: ignore[method-assign]
        app.notify("a toast", timeout=0.2)
        await pilot.pause(0.5)  # shown and gone: two layout passes
        assert drawn == [] or set(drawn) <= set(range(table.size.height - 5, table.size.height))
