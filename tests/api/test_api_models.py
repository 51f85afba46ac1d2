"""The documented example payloads parse to the right values; reading is tolerant by design."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone

import pytest
from api_payloads import (
    CHANGES_200,
    EVENTS_PAGE,
    LIST_PAGE,
    QUOTA,
    SESSION_CREATED,
    SESSION_RETRIEVED,
    SID,
    STATUS_FAILED,
    STATUS_RUNNING,
    reply,
)

from agp_tui.api import (
    AgpClient,
    BadResponse,
    Changes,
    Event,
    Metrics,
    ModelCost,
    ModelUsage,
    Page,
    Quota,
    Session,
    SessionStatus,
    SessionSummary,
    UserMessage,
)
from agp_tui.api.models import parse_time
from agp_tui.api.status import is_known, is_settled, is_terminal, is_waiting_on_user
from agp_tui.sim.fake_backend import FakeBackend


def t(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- the documented examples --------------------------------------------------------------


def test_status_running_example() -> None:
    st = SessionStatus.from_json(STATUS_RUNNING)
    assert st.status == "running"
    assert st.steps == 7
    assert (st.error, st.error_code, st.outcome) == (None, None, None)
    assert st.usage_per_model == (ModelUsage("holo3-1-35b-a3b", 12400, 890, 0),)
    assert st.usage_per_model[0].cached_tokens is None
    assert st.usage_per_model[0].total_tokens == 13290
    assert st.subagent_session_ids == ()
    assert (st.terminal, st.settled, st.waiting_on_user) == (False, False, False)


def test_status_failed_example() -> None:
    st = SessionStatus.from_json(STATUS_FAILED)
    assert st.status == "failed"
    assert st.error == "Browser environment failed to start"
    assert st.error_code == "environment_error"
    assert st.outcome is None
    assert st.steps == 0
    assert st.usage_per_model == ()
    assert st.terminal and st.settled and not st.waiting_on_user


def test_session_create_example() -> None:
    s = Session.from_json(SESSION_CREATED)
    assert s.id == SID
    assert isinstance(s.status, SessionStatus)
    assert s.status.status == "pending"
    assert s.status.steps == 0
    assert s.agent == "h/web-surfer-flash"
    assert s.first_message == UserMessage("Top 3 stories on Hacker News?", "user", ())
    assert s.group_id == "nightly-batch-7"
    assert s.parent_session_id is None
    assert s.agent_view_url == f"https://platform.eu.hcompany.ai/agent-view/{SID}"
    assert s.latest_answer is None
    assert s.created_at == t(2026, 6, 11, 9, 12, 3)
    assert s.started_at is None and s.finished_at is None


def test_session_retrieve_example() -> None:
    s = Session.from_json(SESSION_RETRIEVED)
    assert s.status.status == "completed"
    assert s.status.outcome == "success"
    assert s.status.steps == 12
    assert s.status.usage_per_model == (ModelUsage("holo3-1-35b-a3b", 24800, 1420, 0),)
    assert s.status.terminal
    assert s.latest_answer == "1. ... 2. ... 3. ..."
    assert s.started_at == t(2026, 6, 11, 9, 12, 6)
    assert s.finished_at == t(2026, 6, 11, 9, 13, 15)
    assert s.finished_at - s.created_at == timedelta(seconds=72)


async def test_list_page_example(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(200, LIST_PAGE))
    page = await client.list_sessions(size=100)
    assert (page.page, page.total, page.has_more) == (1, 1, False)
    (item,) = page.items
    assert isinstance(item, SessionSummary)
    assert item.id == SID
    assert item.agent == "h/web-surfer-flash"
    assert item.status == "running"
    assert item.agent_view_url == f"https://platform.eu.hcompany.ai/agent-view/{SID}"
    assert item.first_message == UserMessage("Top 3 stories on Hacker News?")
    assert item.created_at == t(2026, 6, 11, 9, 12, 3)
    assert item.started_at == t(2026, 6, 11, 9, 12, 6)
    assert item.finished_at is None


async def test_changes_200_example(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(200, CHANGES_200))
    ch = await client.get_changes(SID, 10, wait_for_seconds=20)
    assert isinstance(ch, Changes)
    assert ch.status == "running"
    assert ch.from_index == 10 and ch.next_index == 12
    assert ch.started_at == t(2026, 6, 11, 9, 12, 6)
    assert ch.finished_at is None
    assert (ch.error, ch.error_code, ch.answer, ch.outcome) == (None, None, None, None)
    m = ch.metrics
    assert m.steps == 2
    assert m.total_cost == pytest.approx(0.0093874)
    assert m.input_cost == pytest.approx(0.0084664)
    assert m.output_cost == pytest.approx(0.000921)
    assert m.reasoning_cost == 0.0
    assert m.cost_per_model == (ModelCost("holo3-122b-a10b", 21166, 307, 0, 0.0093874),)
    first, second = ch.new_events
    assert (first.type, first.data, first.kind) == ("AgentStartedEvent", {}, None)
    assert first.timestamp == t(2026, 6, 11, 9, 12, 6)
    assert second.type == "AgentEvent"
    assert second.kind == "policy_event"
    assert second.data["content"] == "Opening Hacker News"
    assert second.data["tool_reqs"][0]["tool_name"] == "navigate"
    assert second.timestamp == t(2026, 6, 11, 9, 12, 9)


def test_changes_terminal_page() -> None:
    raw = {"status": "completed", "finished_at": "2026-06-11T09:13:15Z", "answer": {"stories": ["a", "b"]},
           "outcome": "success", "error_code": None,
           "new_events": [
               {"type": "AgentEvent", "data": {"kind": "answer_event", "answer": "1. ..."},
                "timestamp": "2026-06-11T09:13:14Z"},
               {"type": "AgentCompletionEvent", "data": {"reason": "finished"},
                "timestamp": "2026-06-11T09:13:15Z"},
           ]}
    ch = Changes.from_json(raw, 7)
    assert ch.answer == {"stories": ["a", "b"]}
    assert ch.outcome == "success"
    assert ch.finished_at == t(2026, 6, 11, 9, 13, 15)
    assert [e.kind for e in ch.new_events] == ["answer_event", None]
    assert ch.next_index == 9
    assert ch.metrics == Metrics()


def test_quota_example() -> None:
    q = Quota.from_json(QUOTA)
    assert q == Quota(scope="user", limit=10, active=3, available=7)


def test_quota_without_available_computes_it() -> None:
    assert Quota.from_json({"scope": "org", "limit": 10, "active": 4}).available == 6
    assert Quota.from_json({"limit": 3, "active": 5}).available == 0
    assert Quota.from_json({"limit": 3, "active": 5}).scope == "user"


def test_events_example_metrics_update() -> None:
    (raw,) = EVENTS_PAGE["items"]
    ev = Event.from_json(raw)
    assert ev.type == "MetricsUpdateEvent"
    assert ev.timestamp == t(2026, 6, 11, 9, 12, 20)
    assert ev.kind is None
    m = Metrics.from_json(ev.data["metrics"])
    assert m.steps == 3
    assert m.cost_per_model == ()
    assert m.input_cost == pytest.approx(0.01)
    assert m.output_cost == pytest.approx(0.001)
    assert m.reasoning_cost == 0.0
    assert m.total_cost == pytest.approx(0.011)


# -- tolerance ----------------------------------------------------------------------------


def test_unknown_status_strings_are_kept() -> None:
    st = SessionStatus.from_json({"status": "hibernating", "steps": 2})
    assert st.status == "hibernating"
    assert not (st.terminal or st.settled or st.waiting_on_user)
    assert not is_known("hibernating")
    assert not is_terminal("hibernating") and not is_settled("hibernating")
    assert not is_waiting_on_user("hibernating")
    summary = SessionSummary.from_json({"id": SID, "status": "hibernating", "created_at": None})
    assert summary.status == "hibernating"
    assert Changes.from_json({"status": "hibernating"}, 0).status == "hibernating"
    session = Session.from_json({**SESSION_CREATED, "status": {"status": "hibernating"}})
    assert session.status.status == "hibernating"


def test_extra_fields_are_ignored() -> None:
    extra = {"brand_new": {"nested": [1, 2]}, "anonymized_at": None, "x-debug": True}
    st = SessionStatus.from_json({**STATUS_RUNNING, **extra})
    assert st == SessionStatus.from_json(STATUS_RUNNING)
    session = copy.deepcopy(SESSION_RETRIEVED)
    session.update(extra)
    session["status"]["queue_position"] = 3
    session["request"]["delete_after_min"] = 60
    session["status"]["usage_per_model"][0]["cache_hit_ratio"] = 0.5
    assert Session.from_json(session) == Session.from_json(SESSION_RETRIEVED)
    item = {**LIST_PAGE["items"][0], **extra}
    assert SessionSummary.from_json(item) == SessionSummary.from_json(LIST_PAGE["items"][0])
    changes = copy.deepcopy(CHANGES_200)
    changes.update(extra)
    changes["metrics"]["cache_cost"] = 0.5
    changes["metrics"]["cost_per_model"][0]["input_cost"] = 0.008
    assert Changes.from_json(changes, 0) == Changes.from_json(CHANGES_200, 0)
    assert Quota.from_json({**QUOTA, **extra}) == Quota.from_json(QUOTA)


def test_missing_optional_fields() -> None:
    st = SessionStatus.from_json({"status": "pending"})
    assert st == SessionStatus("pending", None, None, None, 0, (), ())
    summary = SessionSummary.from_json({"id": SID, "status": "queued", "created_at": "2026-06-11T09:12:03Z"})
    assert summary.agent is None and summary.first_message is None and summary.agent_view_url is None
    assert summary.started_at is None and summary.finished_at is None
    session = Session.from_json({"id": SID, "status": {"status": "queued"}})
    assert session.agent is None and session.first_message is None and session.created_at is None
    assert session.latest_answer is None and session.agent_view_url is None
    ch = Changes.from_json({"status": "running"}, 3)
    assert ch.new_events == () and ch.next_index == 3 and ch.metrics == Metrics()
    usage = ModelUsage.from_json({"name": "m", "input_tokens": 5})
    assert (usage.output_tokens, usage.reasoning_tokens, usage.cached_tokens) == (0, 0, None)
    cost = ModelCost.from_json({"name": "m"})
    assert cost.total_cost is None and cost.input_tokens == 0
    assert Metrics.from_json({"steps": 1, "total_cost": None}).total_cost is None


def test_session_status_is_an_object_and_summary_status_a_string() -> None:
    session = Session.from_json(SESSION_RETRIEVED)
    assert isinstance(session.status, SessionStatus) and session.status.status == "completed"
    summary = SessionSummary.from_json(LIST_PAGE["items"][0])
    assert isinstance(summary.status, str) and summary.status == "running"


def test_status_shapes_swapped_are_tolerated() -> None:
    session = Session.from_json({**SESSION_CREATED, "status": "running"})
    assert session.status == SessionStatus("running")
    summary = SessionSummary.from_json({**LIST_PAGE["items"][0], "status": {"status": "idle", "steps": 3}})
    assert summary.status == "idle"
    with pytest.raises(BadResponse):
        SessionSummary.from_json({**LIST_PAGE["items"][0], "status": {"steps": 3}})


@pytest.mark.parametrize(("agent", "name"), [
    ("h/web-surfer-flash", "h/web-surfer-flash"),
    ({"name": "my-manager", "model": {"name": "holo3"}, "subagents": [{"name": "fast-searcher"}]},
     "my-manager"),
    ({"model": "holo3"}, None),
    (None, None),
    (42, None),
])
def test_agent_as_string_or_inline_object(agent: object, name: str | None) -> None:
    raw = copy.deepcopy(SESSION_CREATED)
    raw["request"]["agent"] = agent
    assert Session.from_json(raw).agent == name


def test_request_messages_forms() -> None:
    raw = copy.deepcopy(SESSION_CREATED)
    raw["request"]["messages"] = "Just a string task"
    assert Session.from_json(raw).first_message == UserMessage("Just a string task")
    raw["request"]["messages"] = {"type": "user_message", "message": "one", "caller_id": "bot",
                                  "images": ["data:image/png;base64,AAA", 5]}
    assert Session.from_json(raw).first_message == UserMessage("one", "bot", ("data:image/png;base64,AAA",))
    raw["request"]["messages"] = []
    assert Session.from_json(raw).first_message is None
    raw["request"]["messages"] = None
    assert Session.from_json(raw).first_message is None
    raw["request"]["parent_session_id"] = SID
    assert Session.from_json(raw).parent_session_id == SID


def test_cached_tokens_kept_when_present() -> None:
    raw = {"status": "running", "usage_per_model": [
        {"name": "a", "input_tokens": 100, "output_tokens": 10, "reasoning_tokens": 5, "cached_tokens": 60},
        {"name": "b", "input_tokens": 1, "output_tokens": 1, "reasoning_tokens": 1, "cached_tokens": None},
        {"name": "c", "input_tokens": 1, "output_tokens": 1, "reasoning_tokens": 1},
        {"name": "d", "input_tokens": 1, "output_tokens": 1, "reasoning_tokens": 1, "cached_tokens": 0},
    ]}
    a, b, c, d = SessionStatus.from_json(raw).usage_per_model
    assert a.cached_tokens == 60
    assert a.total_tokens == 115  # cached tokens are part of input, never added again
    assert b.cached_tokens is None and c.cached_tokens is None
    assert d.cached_tokens == 0


def test_counts_tolerate_floats_and_reject_bools() -> None:
    usage = [{"name": "m", "input_tokens": True, "output_tokens": "9"}]
    st = SessionStatus.from_json({"status": "running", "steps": 12.0, "usage_per_model": usage})
    assert st.steps == 12
    assert st.usage_per_model[0].input_tokens == 0 and st.usage_per_model[0].output_tokens == 0
    assert SessionStatus.from_json({"status": "running", "steps": 2.5}).steps == 0


def test_subagent_ids_kept_and_junk_dropped() -> None:
    st = SessionStatus.from_json({"status": "running", "subagent_session_ids": [SID, 5, None, "child-2"]})
    assert st.subagent_session_ids == (SID, "child-2")


@pytest.mark.parametrize(("data", "kind"), [
    ({"kind": "policy_event", "content": "x"}, "policy_event"),
    ({"id": "e1", "run_id": "r1", "step_parts": [], "event": {"kind": "answer_event", "answer": "42"}},
     "answer_event"),
    ({"kind": "flow_event", "event": {"kind": "answer_event"}}, "flow_event"),  # data.kind wins
    ({"kind": 3, "event": {"kind": "tool_result"}}, "tool_result"),
    ({"event": "answer_event"}, None),
    ({}, None),
])
def test_agent_event_kind(data: dict[str, object], kind: str | None) -> None:
    ev = Event.from_json({"type": "AgentEvent", "data": data, "timestamp": "2026-06-11T09:12:09Z"})
    assert ev.kind == kind


def test_unknown_event_types_and_odd_envelopes() -> None:
    ev = Event.from_json({"type": "DelayAgentStartEvent", "data": {"delay_s": 3}, "timestamp": "nope"})
    assert ev.type == "DelayAgentStartEvent" and ev.data == {"delay_s": 3} and ev.timestamp is None
    bare = Event.from_json({"data": ["not", "a", "mapping"]})
    assert bare.type == "?" and bare.data == {} and bare.kind is None


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-06-11T09:12:03Z", t(2026, 6, 11, 9, 12, 3)),
    ("2026-06-11T09:12:03.250000Z", datetime(2026, 6, 11, 9, 12, 3, 250000, tzinfo=UTC)),
    ("2026-06-11T11:12:03+02:00", datetime(2026, 6, 11, 11, 12, 3, tzinfo=timezone(timedelta(hours=2)))),
    ("2026-06-11T09:12:03.123Z", datetime(2026, 6, 11, 9, 12, 3, 123000, tzinfo=UTC)),
    ("yesterday", None),
    ("", None),
    (None, None),
    (1718097123, None),
])
def test_parse_time(text: object, expected: datetime | None) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(("page", "size", "total", "more"), [
    (1, 10, 0, False), (1, 10, 10, False), (1, 10, 11, True), (2, 10, 21, True), (3, 10, 21, False),
])
def test_page_has_more(page: int, size: int, total: int, more: bool) -> None:
    assert Page(items=(), page=page, total=total, size=size).has_more is more


async def test_list_page_without_total_or_page(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(200, {"items": LIST_PAGE["items"] * 2}))
    page = await client.list_sessions(page=4, size=5)
    assert (page.page, page.total, page.size) == (4, 2, 5)
    assert len(page.items) == 2


def test_models_are_frozen() -> None:
    st = SessionStatus.from_json(STATUS_RUNNING)
    with pytest.raises(AttributeError):
        st.status = "failed"  # type: ignore[misc]
