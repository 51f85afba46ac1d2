"""The streaming pieces on their own: ordered_map, JsonArray, StreamTable."""

from __future__ import annotations

import asyncio
import io
import json
import random
from collections.abc import AsyncIterator

import pytest

from agp_tui.api.errors import ServerError
from agp_tui.headless.output import JsonArray, StreamTable, Style, json_text, table
from agp_tui.headless.stream import Window, ordered_map


async def _numbers(n: int, *, fail_after: int | None = None,
                   read: list[int] | None = None) -> AsyncIterator[int]:
    for i in range(n):
        if fail_after is not None and i == fail_after:
            raise ServerError("page 3 failed", status=503)
        if read is not None:
            read.append(i)
        yield i


async def _slow_square(i: int, running: list[int], peak: list[int]) -> int:
    running[0] += 1
    peak[0] = max(peak[0], running[0])
    try:
        await asyncio.sleep(random.Random(i).uniform(0, 0.003))
        return i * i
    finally:
        running[0] -= 1


def test_results_keep_source_order_with_bounded_work_in_flight() -> None:
    running, peak, read = [0], [0], []
    window = Window(12)

    async def main() -> list[int]:
        out = []
        async for value in ordered_map(_numbers(500, read=read), lambda i: _slow_square(i, running, peak),
                                       concurrency=4, window=window):
            out.append(value)
            # The source is read only as far as the window reaches past what was printed.
            assert len(read) <= len(out) + window.size
        return out

    assert asyncio.run(main()) == [i * i for i in range(500)]
    assert peak[0] <= 4
    assert 4 <= window.high_water <= 12


def test_a_failing_source_is_raised_after_the_results_read_before_it() -> None:
    got: list[int] = []

    async def main() -> None:
        async for value in ordered_map(_numbers(100, fail_after=30), lambda i: _slow_square(i, [0], [0]),
                                       concurrency=3, window=Window(8)):
            got.append(value)

    with pytest.raises(ServerError, match="page 3 failed"):
        asyncio.run(main())
    assert got == [i * i for i in range(30)]


def test_leaving_early_cancels_the_lookups_still_running() -> None:
    started: list[int] = []
    cancelled: list[int] = []

    async def slow(i: int) -> int:
        started.append(i)
        try:
            await asyncio.sleep(0 if i == 0 else 10)
        except asyncio.CancelledError:
            cancelled.append(i)
            raise
        return i

    async def main() -> None:
        results = ordered_map(_numbers(50), slow, concurrency=4, window=Window(6))
        async for value in results:
            assert value == 0
            break
        await results.aclose()

    asyncio.run(main())
    assert sorted(cancelled) == sorted(set(started) - {0})


NESTED = {"id": "x", "n": [1, {"b": None}], "s": "a\nb\u202e"}


@pytest.mark.parametrize("values", [[], [{"a": 1}], [NESTED, 2, "t"]])
def test_json_array_writes_what_print_json_writes(values: list[object],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.StringIO()
    monkeypatch.setattr("sys.stdout", buffer)
    array = JsonArray()
    for value in values:
        array.add(value)
    array.close()
    assert buffer.getvalue() == json_text(values) + "\n"
    assert json.loads(buffer.getvalue()) == values


ROWS = [["3f2a", "running", "a\tb"], ["77", "completed-but-long", "-"], ["0", "x", "\x1b[31mred"]]


@pytest.mark.parametrize("style", [Style(tty=False), Style(tty=True, width=40)])
def test_stream_table_prints_what_table_prints(style: Style, monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.StringIO()
    monkeypatch.setattr("sys.stdout", buffer)
    rows = StreamTable(["ID", "STATUS", "NOTE"], style, fit=((1, 6),))
    for row in ROWS:
        rows.add(row)
    rows.close()
    assert buffer.getvalue().splitlines() == table(["ID", "STATUS", "NOTE"], ROWS, style, fit=((1, 6),))


def test_stream_table_on_a_terminal_keeps_the_widths_of_its_first_rows(
        monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.StringIO()
    monkeypatch.setattr("sys.stdout", buffer)
    rows = StreamTable(["ID", "STATUS"], Style(tty=True, width=80), sample=2)
    for row in [["a", "running"], ["b", "idle"], ["c", "awaiting_tool_results"], ["d", "failed"]]:
        rows.add(row)
    rows.close()
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "ID  STATUS"
    assert lines[1:3] == ["a   running", "b   idle"]
    assert lines[3] == "c   awaiting_tool_results"  # the last column is never cut
    assert lines[4] == "d   failed"
