"""Fuzzed models and strings into every formatter the TUI and the headless commands use.

Never an exception; every string a terminal receives is free of escapes, controls, bidi,
zero-width characters and lone surrogates; every cell and line is bounded in width.
"""

from __future__ import annotations

import io
import json
import math
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from fuzz_payloads import (
    HOSTILE_PIECES,
    floats,
    fuzz_settings,
    ints,
    session_payload,
    status_payload,
    summary_payload,
    texts,
)
from hypothesis import example, given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.style import Style as RichStyle

from agp_tui.api.errors import BadResponse, NotFound
from agp_tui.api.models import MAX_COUNT, ModelUsage, Session, SessionStatus, SessionSummary
from agp_tui.headless import output
from agp_tui.headless.lines import LineWriter
from agp_tui.headless.shapes import session_json, summary_json
from agp_tui.monitor.history import TokenHistory
from agp_tui.monitor.view import SessionView
from agp_tui.ui import format as fmt
from agp_tui.ui import notify, osc
from agp_tui.ui.sparkline import blocks_per_model, spark
from agp_tui.ui.text import DEFAULT_MAX, literal, safe_text, truncate_cells
from agp_tui.ui.widgets.cells import rates_text
from agp_tui.ui.widgets.columns import (
    SORT_KEYS,
    RowContext,
    error_text,
    layout,
    render_cell,
    sort_value,
)

T0 = 1_781_168_400.0


def terminal_safe(s: str) -> bool:
    """Nothing a terminal would act on or that hides or reorders text; encodable as UTF-8."""
    return all(unicodedata.category(ch) not in ("Cc", "Cf", "Cs") for ch in s)


def no_zalgo(s: str, most: int = 4) -> bool:
    run = 0
    for ch in s:
        run = run + 1 if unicodedata.category(ch) in ("Mn", "Me") else 0
        if run > most:
            return False
    return True


big_text = st.one_of(texts, st.tuples(st.sampled_from(HOSTILE_PIECES), st.integers(1, 4000)).map(
    lambda p: p[0] * p[1]), st.just("A" * 100_000), st.just("\u0301" * 50_000 + "x"))


@fuzz_settings(200)
@given(big_text, st.one_of(st.none(), st.integers(-3, 300)))
def test_safe_text_is_inert_and_bounded(value: str, max_len: int | None) -> None:
    out = safe_text(value, max_len)
    assert terminal_safe(out) and no_zalgo(out)
    assert cell_len(out) <= (DEFAULT_MAX if max_len is None else max(max_len, 0))
    text = literal(value, max_len)
    assert text.plain == out and not text.spans  # a Text, never markup: no style came from it
    assert truncate_cells(out, 10) == truncate_cells(truncate_cells(out, 10), 10)
    out.encode("utf-8")


# Ages come from times parse_time accepts (1970..9000), so at most ~2.2e11 s either way.
ages = st.one_of(st.none(), st.floats(-3e11, 3e11),
                 st.sampled_from([float("nan"), float("inf"), -float("inf")]))


@fuzz_settings(200)
@given(st.one_of(ints, floats), ages)
def test_number_formatters_never_raise(n: int | float, seconds: Any) -> None:
    assert len(fmt.human_count(n)) <= 7
    cost = fmt.dollars(n)
    assert len(cost) <= 8 and "nan" not in cost.lower() and "inf" not in cost.lower()
    for f in (fmt.duration, fmt.table_duration, fmt.long_duration):
        assert len(f(seconds)) <= 16
    assert len(fmt.human_rate(n)) <= 9


@fuzz_settings(150)
@given(st.lists(floats, max_size=80),
       st.one_of(st.none(), st.integers(1, 64)))
def test_sparklines_never_raise(values: list[float], width: int | None) -> None:
    out = spark(values, width)
    assert set(out) <= set("▁▂▃▄▅▆▇█")
    assert len(out) == (width if width else len(values))
    assert blocks_per_model(40, max(len(values), 1), 4) >= 2


@fuzz_settings(150)
@given(texts)
def test_labels_are_short_and_inert(value: str) -> None:
    for out, most in ((fmt.short_id(value), 8), (fmt.short_model(value), 5),
                      (fmt.status_label(value), 42)):
        assert terminal_safe(out) and cell_len(out) <= most and len(out) <= 64


# Long enough to pass CLEAN_LIMIT, short enough to keep the folder fast.
medium_text = st.one_of(texts, st.tuples(st.sampled_from(HOSTILE_PIECES), st.integers(1, 300)).map(
    lambda p: p[0] * p[1]), st.just("A" * 3000), st.just("界" * 1500))


def views(draw: st.DrawFn) -> tuple[SessionView, TokenHistory]:
    status = draw(st.one_of(st.none(), status_payload.map(_parse_status)))
    session = draw(st.one_of(st.none(), session_payload.map(_parse_session)))
    view = SessionView(
        id=draw(texts), label=draw(st.one_of(st.none(), texts)), status=status,
        agent=session.agent if session else draw(st.one_of(st.none(), medium_text)),
        first_message=session.first_message if session else None,
        agent_view_url=session.agent_view_url if session else None,
        created_at=session.created_at if session else None,
        started_at=session.started_at if session else None,
        last_ok_at=draw(st.one_of(st.none(), st.floats(T0 - 1e6, T0))),
        error_kind=draw(st.one_of(st.none(), texts)), error_message=draw(st.one_of(st.none(), medium_text)),
        not_found=draw(st.booleans()), stale=draw(st.booleans()),
        cost=draw(st.one_of(st.none(), floats)),
    )
    history = TokenHistory(buckets=12, bucket_seconds=1.0)
    for i, st_ in enumerate(draw(st.lists(status_payload.map(_parse_status), max_size=4))):
        if st_ is not None:
            history.observe(T0 - 10 + i, st_.usage_per_model)
    return view, history


def _parse_status(payload: Any) -> SessionStatus | None:
    try:
        return SessionStatus.from_json(payload)
    except BadResponse:
        return None


def _parse_session(payload: Any) -> Session | None:
    try:
        return Session.from_json(payload)
    except BadResponse:
        return None


def _style_of(_name: str) -> RichStyle:
    return RichStyle()


@fuzz_settings(120)
@given(st.composite(views)(), st.sampled_from([80, 120, 200]), st.booleans())
def test_table_cells_are_inert_and_fit_their_column(vh: tuple[SessionView, TokenHistory], width: int,
                                                    marked: bool) -> None:
    view, history = vh
    row = RowContext(view, history, T0, marked, _style_of)
    for col in layout(width):
        cell = render_cell(col, row)
        assert terminal_safe(cell.plain), (col.key, cell.plain)
        assert cell.cell_len <= col.width + 2, (col.key, cell.cell_len, col.width)
    for key in SORT_KEYS:
        sort_value(key, view, history, 0)
    error_text(view)


@fuzz_settings(120)
@given(st.composite(views)(), texts)
def test_notifications_are_inert_and_bounded(vh: tuple[SessionView, TokenHistory], new: str) -> None:
    view, _ = vh
    text = notify.describe(view, view.id, new)
    assert terminal_safe(text) and len(text) <= 100
    for env in ({}, {"TMUX": "1"}, {"VTE_VERSION": "7000"}):
        # The server's error text, with a tail that tries every way out of an OSC string.
        body = text + (view.error_message or "") + "\x07\x1b\\\x9c\ud800\u202e]9;pwned"
        seq = osc.desktop_notification("agp-tui", body, env)
        body = seq.removeprefix("\x1bPtmux;").removesuffix("\x1b\\")
        body = body.replace("\x1b\x1b", "\x1b")
        # Exactly one OSC, opened at the start and closed by the final BEL: nothing inside
        # can end it early or start another.
        assert body.startswith("\x1b]") and body.endswith("\x07")
        inner = body[2:-1]
        assert terminal_safe(inner) and len(inner) <= 2 * osc.NOTIFY_LIMIT + 32


# -- headless -----------------------------------------------------------------------------------

@fuzz_settings(150)
@given(big_text, st.integers(0, 200))
def test_clean_and_cut_are_inert_and_bounded(value: str, width: int) -> None:
    cleaned = output.clean(value)
    assert terminal_safe(cleaned) and no_zalgo(cleaned) and len(cleaned) <= output.CLEAN_LIMIT
    assert output.clean(cleaned) == cleaned  # idempotent: table() cleans again safely
    assert output.cell_width(output.cut(cleaned, width)) <= max(width, 1)
    assert output.dash(value) == (cleaned if cleaned.strip() else "-")


def _no_constants(name: str) -> Any:
    raise AssertionError(f"{name} is not JSON")


def _round_trip(value: Any) -> None:
    for indent in (2, None):
        text = output.json_text(value, indent=indent)
        json.loads(text, parse_constant=_no_constants)  # strict JSON: no NaN or Infinity
        assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in text if ch != "\n")
        text.encode("utf-8")
        assert json.loads(text) == _finite(value)  # exact strings; NaN/Infinity are not JSON


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


@fuzz_settings(100)
@given(st.one_of(session_payload, summary_payload), st.booleans())
@example({"id": "\U000e0041\ud800\u202e\x9b", "status": "running", "latest_answer": [float("nan")],
          "agent_view_url": "\U0001f642\U000e007f"}, False)
def test_headless_json_shapes_are_valid_and_round_trip(payload: Any, tty: bool) -> None:
    try:
        session = Session.from_json(payload)
    except BadResponse:
        session = None
    try:
        summary = SessionSummary.from_json(payload)
    except BadResponse:
        summary = None
    shaped = session_json("x", session, None if session else NotFound("gone \x1b[2J"))
    _round_trip(shaped)
    if session is not None:
        assert shaped["agent"] == session.agent  # server strings pass through exactly
    if summary is not None:
        _round_trip(summary_json(summary))


@fuzz_settings(60)
@given(st.lists(st.lists(medium_text, min_size=3, max_size=3), max_size=4), st.booleans(),
       st.integers(20, 200))
def test_headless_tables_are_inert_and_bounded(rows: list[list[str]], tty: bool, width: int) -> None:
    style = output.Style(tty=tty, color=False, width=width)
    lines = output.table(["id", "agent", "message"], rows, style, fit=[(2, 10), (1, 8)])
    for line in lines:
        assert terminal_safe(line.replace("\t", ""))
        # Each cell is at most CLEAN_LIMIT characters, padded to at most twice that in cells.
        assert len(line) <= 3 * 2 * output.CLEAN_LIMIT + 4


@fuzz_settings(60)
@given(st.composite(views)(), st.booleans(), st.booleans(), texts, texts)
def test_watch_lines_are_inert_bounded_and_valid_json(vh: tuple[SessionView, TokenHistory], tty: bool,
                                                      as_json: bool, kind: str, message: str) -> None:
    view, _ = vh
    buf = io.StringIO()
    real = output.sys.stdout
    output.sys.stdout = buf  # `out()` writes to sys.stdout at call time
    try:
        w = LineWriter(output.Style(tty=tty, color=tty, width=100), as_json=as_json, clock=lambda: T0)
        w.status(view, view.status_text if view.status else None, kind, T0)
        w.progress(view)
        w.error(view, kind, message)
        w.children(view, (view.id, kind))
        w.stale(view, 31.0)
        w.connection(kind, message)
        w.done({view.id: kind}, 1)
    finally:
        output.sys.stdout = real
    for line in buf.getvalue().splitlines():
        if as_json:
            json.loads(line)
            assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in line)
        else:
            # Colour is the only escape: SGR sequences the writer itself adds.
            plain = re.sub(r"\x1b\[[0-9;]*m", "", line)
            assert terminal_safe(plain), plain[:200]
            assert len(plain) <= 8 * output.CLEAN_LIMIT


def test_iso_and_local_time_take_any_parsed_time() -> None:
    for value in ("9000-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "2026-06-11T09:00:00+14:00"):
        parsed = SessionSummary.from_json({"id": "x", "status": "running", "created_at": value}).created_at
        assert parsed is not None
        assert output.iso(parsed) and output.local_time(parsed)
    assert output.iso(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00Z"
    assert ModelUsage("m", MAX_COUNT, MAX_COUNT, MAX_COUNT).total_tokens == 3 * MAX_COUNT


def test_sparkline_labels_align_by_cells() -> None:
    """Wide model names take two cells a character: labels are padded by cells, not length."""
    history = TokenHistory(buckets=12, bucket_seconds=1.0)
    for i in range(3):
        history.observe(T0 - 3 + i, [ModelUsage("holo-界界", 100 * i), ModelUsage("m-ab", 50 * i)])
    styles = {"cell--dim": RichStyle(color="red"), "cell--spark": RichStyle(color="blue")}
    text = rates_text(history, 40, T0, lambda name: styles.get(name, RichStyle()))
    labels = [text.plain[span.start:span.end] for span in text.spans if span.style == styles["cell--dim"]]
    assert len(labels) == 2 and cell_len(labels[0]) == cell_len(labels[1]), labels
