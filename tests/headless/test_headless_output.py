"""Units of the shared output module: the sanitizer, tables, JSON escaping, exit-code rules."""

from __future__ import annotations

import json

import pytest

from agp_tui.headless.output import Style, cell_width, clean, cut, iso, json_text, table
from agp_tui.headless.watch import exit_code_for

HOSTILE = [
    "\x1b]0;pwned\x07evil",  # OSC: set the window title
    "\x1b]52;c;cHduZWQ=\x1b\\clip",  # OSC 52: write the clipboard, ST-terminated
    "\x1b[2J\x1b[Hwiped",  # CSI: clear the screen
    "\x1b[?1049h\x1b[?1000halt",  # alternate screen + mouse tracking
    "\x9b31mc1 csi",  # 8-bit CSI
    "\x9d0;title\x9cc1 osc",  # 8-bit OSC
    "\x1bPq#0;2;0;0;0\x1b\\sixel",  # DCS
    "bell\x07 bs\x08 nul\x00 del\x7f",
    "bidi \u202eevil\u202c \u2066iso\u2069",
    "\x1b]8;;http://evil\x07link\x1b]8;;\x07",  # hyperlink
    "unterminated \x1b]0;title-without-end",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_clean_leaves_no_control_characters(text: str) -> None:
    cleaned = clean(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in cleaned), repr(cleaned)
    assert not any(c in cleaned for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert "pwned" not in cleaned and "title" not in cleaned and "\x1b" not in cleaned


def test_clean_keeps_text_and_flattens_lines() -> None:
    assert clean("\x1b]0;pwned\x07evil") == "evil"
    assert clean("\x1b[31mred\x1b[0m alert") == "red alert"
    assert clean("line one\nline two\r\n\tx") == "line one line two x"
    assert clean("café 日本 [bold]x[/]") == "café 日本 [bold]x[/]"  # literal, not markup
    assert clean(None) == ""


def test_cell_width_and_cut() -> None:
    assert cell_width("日本") == 4
    assert cell_width("e\u0301") == 1
    assert cut("abcdef", 4) == "abc…"
    assert cut("abc", 4) == "abc"
    assert cell_width(cut("日本語テキスト", 5)) <= 5


def test_table_piped_is_tab_separated_without_header() -> None:
    lines = table(["ID", "NAME"], [["a", "x y"], ["b", "z"]], Style(tty=False))
    assert lines == ["a\tx y", "b\tz"]


def test_table_on_a_terminal_is_aligned_with_a_header_and_fits() -> None:
    style = Style(tty=True, color=False, width=30)
    lines = table(["ID", "STATUS", "NOTE"], [["abc", "running", "a long note " * 5]], style,
                  fit=((2, 0),))
    assert lines[0].split() == ["ID", "STATUS", "NOTE"]
    assert lines[1].startswith("abc  running  a long")
    assert all(cell_width(line) <= 30 for line in lines)
    assert lines[1].endswith("…")


def test_table_cuts_in_order_and_never_for_nothing() -> None:
    rows = [["x" * 20, "agent-name-long", "note " * 10]]
    lines = table(["ID", "AGENT", "NOTE"], rows, Style(tty=True, width=40), fit=((2, 0), (1, 8)))
    assert all(cell_width(line) <= 40 for line in lines)
    assert lines[1].startswith("x" * 20 + "  agent-n")
    hopeless = table(["ID", "AGENT", "NOTE"], rows, Style(tty=True, width=20), fit=((2, 0), (1, 8)))
    assert "note note note note note note note note note note" in hopeless[1]  # wraps, loses nothing
    right = table(["N", "NAME"], [["7", "a"], ["123", "b"]], Style(tty=True, width=80), right=frozenset({0}))
    assert right[1:] == ["  7  a", "123  b"]


def test_a_clipped_id_column_shrinks_whole_and_the_last_column_keeps_the_rest() -> None:
    sid = "358bbbfd-9af4-4e57-94e0-2cff337b91c5"
    rows = [[sid, "agent", "an error long enough to need cutting somewhere"]]
    wide = table(["ID", "AGENT", "ERROR"], rows, Style(tty=True, width=100), fit=((0, 8), (2, 0)),
                 clip=frozenset({0}))
    assert wide[1].startswith(sid)  # it fits: nothing cut
    lines = table(["ID", "AGENT", "ERROR"], rows, Style(tty=True, width=70), fit=((0, 8), (2, 0)),
                  clip=frozenset({0}))
    assert lines[1] == "358bbbfd  agent  " + rows[0][2]  # no ellipsis on the id, the error whole
    lines = table(["ID", "AGENT", "ERROR"], rows, Style(tty=True, width=40), fit=((0, 8), (2, 0)),
                  clip=frozenset({0}))
    assert lines[1] == "358bbbfd  agent  an error long enough t…" and cell_width(lines[1]) == 40


def test_a_column_named_twice_in_fit_is_not_counted_twice() -> None:
    """Whether the rows can fit is judged on each column's lowest floor, not on the sum of
    its entries: otherwise a hopeless width cuts everything and still overflows."""
    rows = [["a" * 30, "b" * 30]]
    lines = table(["X", "Y"], rows, Style(tty=True, width=20), fit=((1, 20), (1, 10), (1, 0)))
    assert lines[1] == "a" * 30 + "  " + "b" * 30  # 32 columns cannot go: nothing is cut


def test_colour_only_when_asked() -> None:
    assert Style(tty=True, color=True).status("failed") == "\x1b[31mfailed\x1b[0m"
    assert Style(tty=True, color=False).status("failed") == "failed"


def test_detect_honours_no_color_and_pipes() -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    assert Style.detect(Tty(), {"TERM": "xterm-256color"}).color is True  # type: ignore[arg-type]
    assert Style.detect(Tty(), {"NO_COLOR": "1", "TERM": "xterm"}).color is False  # type: ignore[arg-type]
    assert Style.detect(Tty(), {"TERM": "dumb"}).color is False  # type: ignore[arg-type]
    assert Style.detect(Tty(), {"NO_COLOR": "", "TERM": "xterm"}).color is True  # type: ignore[arg-type]


def test_json_text_escapes_what_a_terminal_would_act_on() -> None:
    value = {"agent": "\x1b]0;pwned\x07\u009b31m\u202eevil", "name": "café"}
    text = json_text(value)
    assert json.loads(text) == value  # the exact server string survives
    assert not any(ord(c) < 0x20 and c not in "\n " for c in text)
    assert "\u009b" not in text and "\u202e" not in text
    assert "café" in text  # UTF-8 stays readable


def test_iso() -> None:
    assert iso(0.0) == "1970-01-01T00:00:00Z"
    assert iso(1.25) == "1970-01-01T00:00:01.250Z"
    assert iso(None) is None


@pytest.mark.parametrize(("outcomes", "exit_status", "code"), [
    (["completed", "completed"], True, 0),
    (["completed", "failed"], True, 1),
    (["timed_out", "interrupted", "completed"], True, 3),
    (["interrupted", "idle"], True, 4),
    (["idle", "completed"], True, 5),
    (["not_found", "completed"], True, 1),
    (["failed", "timed_out"], False, 0),
    (["not_found", "completed"], False, 1),
    (["error", "idle"], True, 1),
    (["error"], False, 1),
])
def test_exit_code_rules(outcomes: list[str], exit_status: bool, code: int) -> None:
    assert exit_code_for(outcomes, exit_status=exit_status) == code
