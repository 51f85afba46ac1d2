"""Pure helpers of the UI: safe_text, formatting, sparklines, the filter language, column layout."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from agp_tui.api.models import SessionStatus
from agp_tui.monitor.view import SessionView
from agp_tui.ui.filtering import is_problem, parse_filter
from agp_tui.ui.format import duration, human_count, short_model, status_label
from agp_tui.ui.sparkline import spark
from agp_tui.ui.text import literal, safe_text
from agp_tui.ui.widgets.columns import layout


def test_markup_stays_literal() -> None:
    assert safe_text("[bold red]x[/]") == "[bold red]x[/]"
    text = literal("[bold red]x[/]")
    assert text.plain == "[bold red]x[/]"
    assert not text.spans and not text.style


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\x1b[31mred", "red"),
        ("\x1b[31mred\x1b[0m and \x1b]0;title\x07plain", "red and plain"),
        ("bell\x07", "bell"),
        ("a\nb\r\nc\td", "a b c d"),
        ("\x1b[2J\x1b[Hclear", "clear"),
        ("nul\x00 del\x7f c1\x9b31m", "nul del c1"),
        ("rtl\u202eevil\u2066", "rtlevil"),
        (None, ""),
    ],
)
def test_control_characters_and_escapes_are_removed(raw: str | None, expected: str) -> None:
    assert safe_text(raw) == expected


def test_long_strings_are_cut_to_cells() -> None:
    assert safe_text("x" * 10_000, 20) == "x" * 19 + "…"
    wide = safe_text("漢字" * 50, 11)
    assert cell_len(wide) <= 11 and wide.endswith("…")
    assert safe_text("short", 20) == "short"


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0"), (999, "999"), (1_000, "1.0k"), (12_400, "12k"), (9_940, "9.9k"), (124_000, "124k"),
     (1_240_000, "1.2M"), (12_000_000, "12M"), (3_400_000_000, "3.4G")],
)
def test_human_count(n: int, text: str) -> None:
    assert human_count(n) == text
    assert len(human_count(n)) <= 5


def test_duration_and_labels() -> None:
    assert [duration(s) for s in (5, 59, 60, 3599, 3600, 90_000)] == ["5s", "59s", "1m", "59m", "1h", "1d"]
    assert status_label("running") == "● running"
    assert status_label("exploded") == "? exploded"
    assert status_label("[red]x\x1b[1m") == "? [red]x"
    assert short_model("holo3-122b-a10b") == "122b"
    assert short_model("holo3-1-35b-a3b") == "35b"
    assert short_model("gpt-[x]") == "[x]"


def test_spark_scales_to_max_and_pads() -> None:
    assert spark([0, 1, 2, 4], 4) == "▁▃▅█"
    assert spark([0, 0], 4) == "▁▁▁▁"
    assert spark([5], 3) == "▁▁█"
    assert spark([0.001, 100], 2)[0] == "▂"  # a trickle is never drawn as nothing


def view(status: str | None = "running", **kw: object) -> SessionView:
    st = SessionStatus(status=status, error=kw.pop("error", None)) if status else None  # type: ignore[arg-type]
    return SessionView(id="6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20", status=st, **kw)  # type: ignore[arg-type]


def test_filter_terms() -> None:
    running = view("running", agent="h/web-surfer")
    failed = view("failed", agent="acme/x", error="Browser crashed")
    assert parse_filter("status:running").matches(running)
    assert not parse_filter("status:running").matches(failed)
    assert parse_filter("-status:completed").matches(failed)
    assert not parse_filter("-status:failed").matches(failed)
    assert parse_filter("agent:acme error:crash").matches(failed)
    assert parse_filter("surfer").matches(running) and not parse_filter("surfer").matches(failed)
    assert parse_filter("6f1c2a9e").matches(running)
    assert parse_filter('"browser crashed"').matches(failed)
    assert parse_filter("STATUS:RUNNING").matches(running)
    assert not parse_filter("")
    assert parse_filter('unbalanced "quote').terms  # no exception


def test_problems() -> None:
    assert is_problem(view("failed")) and is_problem(view("timed_out"))
    assert is_problem(view("idle")) and is_problem(view("awaiting_tool_results"))
    assert is_problem(view("running", stale=True)) and is_problem(view(None, not_found=True))
    assert is_problem(view("running", error_kind="ServerError"))
    assert not is_problem(view("running")) and not is_problem(view("completed"))


@pytest.mark.parametrize("width", [80, 100, 120, 160, 200, 300])
def test_layout_fits_the_width(width: int) -> None:
    cols = layout(width)
    used = sum(c.width + 1 for c in cols)
    assert used <= width - 1
    keys = [c.key for c in cols]
    for essential in ("id", "agent", "status", "steps", "input", "output", "rate", "updated"):
        assert essential in keys
    if width >= 120:
        assert {"reasoning", "age", "error"} <= set(keys)
    assert used >= width - 2 or width > 250


def test_layout_at_80_drops_the_least_important() -> None:
    keys = [c.key for c in layout(80)]
    assert "error" not in keys and "reasoning" not in keys
    assert next(c for c in layout(200) if c.key == "rate").width > next(
        c for c in layout(80) if c.key == "rate").width


def test_changed_range_narrows_a_repaint_to_the_characters_that_moved() -> None:
    from rich.text import Text

    from agp_tui.ui.widgets.session_table import _changed_range

    def spark(blocks: str) -> Text:
        t = Text(" 122b ", style="dim")
        t.append(blocks, "yellow")
        return t

    assert _changed_range(spark("▁▁▂▅"), spark("▁▁▂█"), 20) == (9, 10)  # the newest bar only
    assert _changed_range(spark("▁▁▂▅"), spark("▂▅██"), 20) == (6, 10)
    assert _changed_range(spark("▁▁▂▅"), spark("▁▁▂▅"), 20) is None  # nothing to narrow
    # Anything but same-length narrow text in the same styles repaints the whole cell.
    assert _changed_range(spark("▁▁▂▅"), spark("▁▁▂▅▆"), 20) is None
    assert _changed_range(Text(" 好a"), Text(" 好b"), 20) is None
    assert _changed_range(Text(" 12", justify="right"), Text(" 13", justify="right"), 20) is None
    red = Text(" abc")
    red.stylize("red", 1, 2)
    assert _changed_range(Text(" abc"), red, 20) is None
    assert _changed_range(Text(" abcdef"), Text(" abcdeg"), 4) is None  # truncated when drawn
