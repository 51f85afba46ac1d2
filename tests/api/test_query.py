"""SessionQuery: the text of a followed filter, parsed the same way everywhere."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agp_tui.api.query import QueryError, SessionQuery

NOW = datetime(2026, 6, 11, 12, 0, tzinfo=UTC).timestamp()
PARENT = "6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20"


def test_every_key_parses_into_list_filters() -> None:
    q = SessionQuery.parse(f"group:nightly agent:h/a,h/b status:running,idle parent:{PARENT} since:2h", NOW)
    assert q.filters() == {
        "group_id": "nightly", "agent": ("h/a", "h/b"), "status": ("running", "idle"),
        "parent_session_id": PARENT, "created_after": datetime(2026, 6, 11, 10, 0, tzinfo=UTC),
    }
    assert not q.empty


def test_text_form_round_trips() -> None:
    q = SessionQuery.parse("STATUS:running agent:h/a agent:h/b group:g1 since:2026-06-11T08:00Z", NOW)
    assert str(q) == "group:g1 agent:h/a,h/b status:running since:2026-06-11T08:00:00Z"
    assert SessionQuery.parse(str(q), NOW) == q


@pytest.mark.parametrize(("text", "says"), [
    ("", "empty filter"),
    ("grup:x", "did you mean group:"),
    ("nightly", "is not a filter"),
    ("status:runing", "did you mean running"),
    ("group:a group:b", "give it once"),
    ("parent:nope", "parent:"),
    ("since:yesterday", "neither an age"),
    ("group:", "give a value"),
    ("status:", "give a value"),
    ("agent:,", "give a value"),
    ("group:a\x1b[2J", "control characters"),
    ("group:" + "x" * 2000, "at most"),
])
def test_bad_filters_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(QueryError, match=says.replace("(", r"\(")):
        SessionQuery.parse(text, NOW)


def test_describe_is_for_people() -> None:
    q = SessionQuery.parse("group:nightly status:failed", NOW)
    assert q.describe() == "group nightly; status failed"
