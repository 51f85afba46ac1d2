"""Pure pieces of steering and discovery: escape sequences, error wording, query parsing, costs."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from agp_tui.api.errors import (
    AuthError,
    BadResponse,
    NotFound,
    RateLimited,
    RequestRejected,
    ServerError,
    Unreachable,
)
from agp_tui.monitor.view import Rollup
from agp_tui.ui import osc
from agp_tui.ui.discovery import DiscoverQuery, QueryError, page_count, parse_since, parse_statuses
from agp_tui.ui.format import dollars
from agp_tui.ui.steering import Outcome, pause_or_resume, plain_error, summarize
from agp_tui.ui.widgets.detail import cost_text, rollup_cost_text

TMUX = {"TMUX": "/tmp/tmux-1000/default,123,0"}
SID = "6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20"


# -- escape sequences -------------------------------------------------------------------------


def test_osc52_is_base64_of_the_text_and_ends_with_bel() -> None:
    seq = osc.osc52(SID)
    assert seq == f"\x1b]52;c;{base64.b64encode(SID.encode()).decode()}\x07"
    assert base64.b64decode(seq[7:-1]).decode() == SID
    # Anything at all can be copied: base64 carries no control character to the terminal.
    nasty = "a\x1b]2;pwned\x07b"
    payload = osc.osc52(nasty)[7:-1]
    assert "\x1b" not in payload and base64.b64decode(payload).decode() == nasty


def test_copy_sequence_inside_tmux_sends_plain_and_passthrough() -> None:
    plain = osc.osc52("abc")
    assert osc.copy_sequence("abc", {}) == plain
    both = osc.copy_sequence("abc", TMUX)
    assert both == plain + "\x1bPtmux;\x1b\x1b]52;c;YWJj\x07\x1b\\"


def test_tmux_wrap_doubles_inner_escapes() -> None:
    assert osc.tmux_wrap("\x1b]9;hi\x07") == "\x1bPtmux;\x1b\x1b]9;hi\x07\x1b\\"
    assert osc.for_terminal("\x1b]9;hi\x07", {}) == "\x1b]9;hi\x07"
    assert osc.for_terminal("\x1b]9;hi\x07", TMUX) == osc.tmux_wrap("\x1b]9;hi\x07")
    assert osc.for_terminal("x", {"TMUX": ""}) == "x"


def test_desktop_notifications_osc9_and_osc777() -> None:
    assert osc.osc9("agp-tui: ✔ 1a2b done") == "\x1b]9;agp-tui: ✔ 1a2b done\x07"
    assert osc.osc9("4;1 looks like a progress code") == "\x1b]9; 4;1 looks like a progress code\x07"
    assert osc.osc777("a;b", "c;d") == "\x1b]777;notify;a,b;c;d\x07"
    assert osc.desktop_kind({}) == "osc9"
    assert osc.desktop_kind({"VTE_VERSION": "7600"}) == "osc777"
    assert osc.desktop_kind({"TERM": "foot"}) == "osc777"
    assert osc.desktop_kind({"TERM": "rxvt-unicode-256color"}) == "osc777"
    assert osc.desktop_notification("agp-tui", "done", {}) == "\x1b]9;agp-tui: done\x07"
    assert osc.desktop_notification("agp-tui", "done", {"VTE_VERSION": "1"}) == \
        "\x1b]777;notify;agp-tui;done\x07"
    assert osc.desktop_notification("agp-tui", "done", TMUX) == \
        "\x1bPtmux;\x1b\x1b]9;agp-tui: done\x07\x1b\\"
    assert osc.bell() == "\x07"


def test_server_text_cannot_escape_a_notification() -> None:
    hostile = "x\x1b]0;owned\x07\x1b\\\x9c\u202eevil\n" + "y" * 500
    seq = osc.desktop_notification("agp-tui", hostile, {})
    inner = seq[len("\x1b]9;"):-1]
    assert seq.startswith("\x1b]9;") and seq.endswith("\x07")
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F or ch == "\u202e" for ch in inner)
    assert len(inner) <= osc.NOTIFY_LIMIT + len("agp-tui: ")
    seq777 = osc.osc777(hostile, hostile)
    assert seq777.count("\x1b") == 1 and seq777.count("\x07") == 1
    assert seq777.startswith("\x1b]777;notify;x]0,owned\\evil yyy")  # no ";" in the title field


def test_safe_url_and_local_display() -> None:
    url = f"https://platform.eu.hcompany.ai/agent-view/{SID}"
    assert osc.safe_url(url) == url
    for bad in ("javascript:alert(1)", "file:///etc/passwd", "https://x/\x1b]8;;", "https://a b",
                "http://", None, 42, "https://x/" + "a" * 3000):
        assert osc.safe_url(bad) is None, bad
    assert osc.has_local_display({"DISPLAY": ":0"}, "linux")
    assert osc.has_local_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not osc.has_local_display({}, "linux")
    assert osc.has_local_display({}, "darwin")
    assert not osc.has_local_display({"DISPLAY": ":0", "SSH_CONNECTION": "1 2 3 4"}, "linux")
    assert not osc.has_local_display({"SSH_TTY": "/dev/pts/1"}, "darwin")


# -- steering answers ---------------------------------------------------------------------------


def test_pause_toggles_by_status() -> None:
    assert pause_or_resume("running") == "pause"
    assert pause_or_resume("awaiting_tool_results") == "pause"
    assert pause_or_resume("paused") == "resume"
    assert pause_or_resume("completed") == "pause"  # the API says why not (409)
    assert pause_or_resume(None) == "pause"


@pytest.mark.parametrize(
    ("exc", "verb", "words"),
    [
        (NotFound("Session not found", status=404), "pause", "session not found (404)"),
        (RequestRejected("Session is not running", status=409), "pause",
         "session is not running — nothing to pause (409)"),
        (RequestRejected("Session is not running", status=409), "resume",
         "session is not running — nothing to resume (409)"),
        (RequestRejected("Invalid message format", status=400), "message",
         "the session cannot take this now: Invalid message format (400)"),
        (RequestRejected("body.x: bad", status=422), "message", "request refused: body.x: bad (422)"),
        (RateLimited("Too many requests", retry_after=7), "pause", "rate limited, retry in 7s (429)"),
        (RateLimited("Too many requests"), "pause", "rate limited, retry shortly (429)"),
        (AuthError("Unauthorized", status=401), "cancel", "API key refused (401)"),
        (AuthError("Forbidden", status=403), "cancel", "this API key may not do that (403)"),
        (ServerError("Upstream", status=503, retry_after=1), "pause", "server error, retry in 1s (503)"),
        (Unreachable("connection refused"), "pause", "server unreachable: connection refused"),
        (BadResponse("not JSON"), "pause", "the server's answer made no sense"),
    ],
)
def test_errors_in_plain_words(exc: Exception, verb: str, words: str) -> None:
    assert plain_error(verb, exc).startswith(words)


def test_plain_error_keeps_server_words_literal() -> None:
    text = plain_error("message", RequestRejected("[bold]x\x1b[2J\ny", status=400))
    assert "\x1b" not in text and "\n" not in text and "[bold]x" in text


def test_summaries() -> None:
    one = summarize([Outcome("pause", SID)])
    assert one == ("pause", "6f1c2a9e: accepted — paused", "information")
    many = summarize([Outcome("pause", SID), Outcome("resume", "b" * 8),
                      Outcome("pause", "c" * 8, NotFound("x", status=404))])
    assert many[0] == "pause / resume" and many[2] == "warning"
    assert many[1].splitlines() == ["2 of 3 accepted", "cccccccc: session not found (404)"]
    assert summarize([Outcome("cancel", SID, NotFound("x"))])[2] == "error"


# -- discovery queries --------------------------------------------------------------------------


def test_statuses_parse_with_suggestions() -> None:
    assert parse_statuses(" running, IDLE idle ") == ("running", "idle")
    assert parse_statuses("") == ()
    with pytest.raises(QueryError, match="did you mean running"):
        parse_statuses("runing")


def test_since_ages_and_iso() -> None:
    now = datetime(2026, 6, 11, 12, 0, tzinfo=UTC).timestamp()
    assert parse_since("1h", now) == datetime(2026, 6, 11, 11, 0, tzinfo=UTC)
    assert parse_since("2d", now) == datetime(2026, 6, 9, 12, 0, tzinfo=UTC)
    assert parse_since("90s", now) == datetime(2026, 6, 11, 11, 58, 30, tzinfo=UTC)
    assert parse_since("1w", now) == datetime(2026, 6, 4, 12, 0, tzinfo=UTC)
    assert parse_since("2026-06-11T09:00:00Z", now) == datetime(2026, 6, 11, 9, 0, tzinfo=UTC)
    assert parse_since("2026-06-11T09:00+02:00", now) == datetime(2026, 6, 11, 7, 0, tzinfo=UTC)
    assert parse_since("", now) is None
    with pytest.raises(QueryError, match="neither an age"):
        parse_since("yesterday", now)


def test_query_params_and_pages() -> None:
    q = DiscoverQuery.parse("running idle", "h/a, h/b h/a", " nightly ", "1h", 7200.0)
    params = q.params()
    assert params["status"] == ("running", "idle") and params["agent"] == ("h/a", "h/b")
    assert params["group_id"] == "nightly" and params["size"] == 50 and params["page"] == 1
    assert params["created_after"] == datetime.fromtimestamp(3600, UTC)
    assert DiscoverQuery().params() == {"page": 1, "size": 50}
    assert "status running/idle" in q.describe() and DiscoverQuery().describe() == "all sessions"
    assert (page_count(0), page_count(50), page_count(51), page_count(183)) == (1, 1, 2, 4)


# -- cost ---------------------------------------------------------------------------------------


def test_dollars_and_cost_labels() -> None:
    assert [dollars(x) for x in (None, 0.0, 0.0123, 1.5, 12.345, 1234.4, 56_000)] == \
        ["—", "$0.0000", "$0.0123", "$1.50", "$12.35", "$1234", "$56k"]
    assert all(len(dollars(x)) <= 7 for x in (0.99999, 99.999, 9999.4, 1e9))
    assert cost_text(0.0123) == "$0.0123 (API figure)"
    assert cost_text(None) == "— (API figure, not known yet)"
    assert rollup_cost_text(Rollup(sessions=4, cost=0.5, cost_sessions=4)) == "$0.5000 (API figure)"
    assert rollup_cost_text(Rollup(sessions=4, cost=0.5, cost_sessions=3)) == \
        "$0.5000 over 3 of 4 sessions (API figure)"
    assert rollup_cost_text(Rollup(sessions=4)) == "— (API figure, not known yet)"
