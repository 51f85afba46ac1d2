"""Every client call puts the right method, path, query and headers on the wire."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from api_payloads import (
    BASE,
    CHANGES_200,
    KEY,
    LIST_PAGE,
    QUOTA,
    SESSION_CREATED,
    SID,
    SID2,
    STATUS_RUNNING,
    assert_request,
    reply,
)

from agp_tui import __version__
from agp_tui.api import AgpClient, Changes, HttpxBackend
from agp_tui.api.backend import RawResponse
from agp_tui.sim.fake_backend import Call, FakeBackend

PREFIX = "/api/v2"


def summary(i: int, status: str = "running") -> dict[str, object]:
    return {"id": f"00000000-0000-4000-8000-{i:012d}", "status": status,
            "created_at": "2026-06-11T09:12:03Z", "agent": f"agent-{i}"}


def paged(total: int) -> object:
    """A handler serving `total` summaries, honouring the request's page and size."""

    def handler(request: Call) -> RawResponse:
        page = int(request.url.params["page"])
        size = int(request.url.params["size"])
        start = (page - 1) * size
        items = [summary(i) for i in range(start, min(start + size, total))]
        return reply(200, {"items": items, "page": page, "total": total})

    return handler


# -- reads --------------------------------------------------------------------------------


async def test_get_status(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(200, STATUS_RUNNING))
    st = await client.get_status(SID.upper())
    assert_request(server.last, "GET", f"{PREFIX}/sessions/{SID}/status")
    assert st.status == "running"
    assert st.steps == 7


async def test_standard_headers(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(200, STATUS_RUNNING))
    await client.get_status(SID)
    assert server.last.headers["accept"] == "application/json"
    assert server.last.headers["user-agent"] == f"agp-tui/{__version__}"
    assert server.last.url.host == "127.0.0.1"  # where the base URL points, nowhere else
    assert server.last.url.port == httpx.URL(server.base_url).port


async def test_trailing_slash_in_base_url(make_client, server: FakeBackend) -> None:
    server.queue(reply(200, STATUS_RUNNING))
    await make_client(server.base_url + "/").get_status(SID)
    assert server.last.url.path == f"{PREFIX}/sessions/{SID}/status"


async def test_no_key_means_no_authorization_header(make_client, server: FakeBackend) -> None:
    server.queue(reply(200, STATUS_RUNNING))
    await make_client(key=None).get_status(SID)
    assert "authorization" not in server.last.headers


async def test_get_session(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(200, SESSION_CREATED))
    session = await client.get_session(SID)
    assert_request(server.last, "GET", f"{PREFIX}/sessions/{SID}")
    assert session.id == SID
    assert session.status.status == "pending"


async def test_get_quota(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(200, QUOTA))
    quota = await client.get_quota()
    assert_request(server.last, "GET", f"{PREFIX}/sessions/quota")
    assert (quota.limit, quota.active, quota.available) == (10, 3, 7)


async def test_list_sessions_defaults(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(200, LIST_PAGE))
    page = await client.list_sessions()
    assert_request(server.last, "GET", f"{PREFIX}/sessions", [("page", "1"), ("size", "10")])
    assert page.size == 10
    assert [s.id for s in page.items] == [SID]


async def test_list_sessions_every_filter_on_the_wire(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(200, {"items": [], "page": 3, "total": 0}))
    paris = timezone(timedelta(hours=2))
    await client.list_sessions(
        status=["running", "idle"],
        agent=["h/web-surfer-flash", "my-agent"],
        group_id="nightly-batch-7",
        parent_session_id=SID,
        search="hacker news",
        owner="organization",
        schedule_id=SID2,
        created_after=datetime(2026, 6, 11, 9, 0, tzinfo=UTC),
        created_before=datetime(2026, 6, 12, 8, 30, 15, tzinfo=paris),
        finished_after="2026-06-10T00:00:00Z",  # strings pass through untouched
        finished_before=datetime(2026, 6, 13, 0, 0, 0, 500000, tzinfo=UTC),
        sort="-created_at",
        page=3,
        size=500,
    )
    req = server.last
    assert_request(req, "GET", f"{PREFIX}/sessions", req.url.params.multi_items())
    params = req.url.params
    assert params.get_list("status") == ["running", "idle"]
    assert params.get_list("agent") == ["h/web-surfer-flash", "my-agent"]
    assert params["size"] == "100"  # clamped to the server's cap
    assert params["page"] == "3"
    assert params["group_id"] == "nightly-batch-7"
    assert params["parent_session_id"] == SID
    assert params["search"] == "hacker news"
    assert params["owner"] == "organization"
    assert params["schedule_id"] == SID2
    assert params["sort"] == "-created_at"
    assert params["created_after"] == "2026-06-11T09:00:00+00:00"
    assert params["created_before"] == "2026-06-12T08:30:15+02:00"
    assert params["finished_after"] == "2026-06-10T00:00:00Z"
    assert params["finished_before"] == "2026-06-13T00:00:00.500000+00:00"
    # Every parsed datetime round-trips to the value given.
    assert datetime.fromisoformat(params["created_before"]) == datetime(2026, 6, 12, 6, 30, 15, tzinfo=UTC)
    # Nothing else went on the wire; the raw query really repeats the plain keys.
    assert sorted({k for k, _ in params.multi_items()}) == sorted({
        "page", "size", "status", "agent", "group_id", "parent_session_id", "search", "owner",
        "schedule_id", "sort", "created_after", "created_before", "finished_after", "finished_before",
    })
    raw_query = req.url.query.decode()
    assert "status=running&status=idle" in raw_query
    assert "status%5B%5D" not in raw_query and "status[]" not in raw_query


@pytest.mark.parametrize(("size", "sent"), [(0, "1"), (-5, "1"), (1, "1"), (100, "100"), (101, "100")])
async def test_list_sessions_size_clamped(
    client: AgpClient, server: FakeBackend, size: int, sent: str
) -> None:
    server.queue(reply(200, {"items": [], "page": 1, "total": 0}))
    page = await client.list_sessions(size=size)
    assert server.last.url.params["size"] == sent
    assert page.size == int(sent)


async def test_list_sessions_page_at_least_one(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(200, {"items": [], "page": 1, "total": 0}))
    await client.list_sessions(page=0)
    assert server.last.url.params["page"] == "1"


async def test_list_sessions_page_fields(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(200, {"items": [summary(0), summary(1)], "page": 2, "total": 7}))
    page = await client.list_sessions(page=2, size=2)
    assert (page.page, page.total, page.size) == (2, 7, 2)
    assert page.has_more  # 2*2 < 7
    server.queue(reply(200, {"items": [summary(6)], "page": 4, "total": 7}))
    last = await client.list_sessions(page=4, size=2)
    assert not last.has_more  # 4*2 >= 7


async def test_iter_sessions_walks_all_pages(client: AgpClient, server: FakeBackend) -> None:
    server.fail(paged(5))
    got = [s.id async for s in client.iter_sessions(size=2, status=["running"])]
    assert got == [summary(i)["id"] for i in range(5)]
    # Pages 1..3, then has_more is false (3*2 >= 5): no fourth request.
    assert [r.url.params["page"] for r in server.requests] == ["1", "2", "3"]
    for r in server.requests:
        assert r.url.params["size"] == "2"
        assert r.url.params.get_list("status") == ["running"]


async def test_iter_sessions_default_size_is_the_cap(client: AgpClient, server: FakeBackend) -> None:
    server.fail(paged(3))
    got = [s async for s in client.iter_sessions()]
    assert len(got) == 3
    assert [r.url.params["size"] for r in server.requests] == ["100"]


async def test_iter_sessions_stops_on_empty_page(client: AgpClient, server: FakeBackend) -> None:
    # A server whose total overstates what it has: an empty page ends the walk.
    server.queue(reply(200, {"items": [summary(0)], "page": 1, "total": 50}),
                reply(200, {"items": [], "page": 2, "total": 50}))
    got = [s async for s in client.iter_sessions(size=1)]
    assert len(got) == 1
    assert len(server.requests) == 2


@pytest.mark.parametrize(("limit", "size", "pages"), [(3, 2, 2), (2, 2, 1), (1, 10, 1), (4, 2, 2)])
async def test_iter_sessions_honours_limit(
    client: AgpClient, server: FakeBackend, limit: int, size: int, pages: int
) -> None:
    server.fail(paged(50))
    got = [s.id async for s in client.iter_sessions(limit=limit, size=size)]
    assert got == [summary(i)["id"] for i in range(limit)]
    assert len(server.requests) == pages  # never fetches a page it will not use


async def test_iter_sessions_limit_zero_makes_no_request(client: AgpClient, server: FakeBackend) -> None:
    server.fail(paged(50))
    assert [s async for s in client.iter_sessions(limit=0)] == []
    assert server.requests == []


async def test_list_children(client: AgpClient, server: FakeBackend) -> None:
    server.fail(paged(150))
    children = await client.list_children(SID.upper())
    assert len(children) == 150
    assert len(server.requests) == 2
    for i, r in enumerate(server.requests, start=1):
        assert_request(r, "GET", f"{PREFIX}/sessions",
                       [("page", str(i)), ("size", "100"), ("parent_session_id", SID)])


# -- /changes -----------------------------------------------------------------------------


async def test_get_changes_defaults(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(200, CHANGES_200))
    changes = await client.get_changes(SID)
    assert_request(server.last, "GET", f"{PREFIX}/sessions/{SID}/changes",
                   [("from_index", "0"), ("wait_for_seconds", "0"), ("include_events", "true")])
    assert isinstance(changes, Changes)
    assert changes.from_index == 0
    assert changes.next_index == 2


async def test_get_changes_cursor_clamp_and_flags(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(200, CHANGES_200))
    changes = await client.get_changes(SID, 40, wait_for_seconds=60, include_events=False, limit=5)
    assert_request(server.last, "GET", f"{PREFIX}/sessions/{SID}/changes",
                   [("from_index", "40"), ("wait_for_seconds", "25"), ("include_events", "false"),
                    ("limit", "5")])
    assert changes is not None
    assert changes.from_index == 40
    assert changes.next_index == 42


async def test_get_changes_long_poll_outlives_the_client_timeout(server: FakeBackend) -> None:
    server.queue(reply(204), reply(204))
    client = server.client(timeout=15.0)  # in-process: the deadline the client hands its backend
    await client.get_changes(SID, wait_for_seconds=25)
    assert server.last.timeout is not None and server.last.timeout > 25
    await client.get_changes(SID, wait_for_seconds=0)
    assert server.last.timeout == pytest.approx(15.0)


async def test_get_changes_negative_values_clamped(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(200, CHANGES_200))
    changes = await client.get_changes(SID, -3, wait_for_seconds=-1)
    assert server.last.url.params["from_index"] == "0"
    assert server.last.url.params["wait_for_seconds"] == "0"
    assert changes is not None and changes.from_index == 0


async def test_get_changes_204_is_none(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(204, headers={"ETag": "12"}))
    assert await client.get_changes(SID, 12, wait_for_seconds=20) is None
    assert server.last.url.params["from_index"] == "12"


async def test_get_changes_empty_200_is_read_as_nothing_new(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(200, text=""))
    assert await client.get_changes(SID, 3) is None


# -- actions ------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "suffix"), [
    ("pause", "/pause"), ("resume", "/resume"), ("force_answer", "/force_answer"),
])
async def test_post_actions(client: AgpClient, server: FakeBackend, call: str, suffix: str) -> None:
    server.queue(reply(202))
    assert await getattr(client, call)(SID.upper()) is None
    assert_request(server.last, "POST", f"{PREFIX}/sessions/{SID}{suffix}")
    assert server.last.content == b""


async def test_cancel_is_delete(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(204))
    assert await client.cancel(SID) is None
    assert_request(server.last, "DELETE", f"{PREFIX}/sessions/{SID}")
    assert server.last.content == b""


async def test_send_message_json_body(client: AgpClient, server: FakeBackend) -> None:
    server.queue(reply(202))
    text = 'Stop & summarise "so far" — ünïcödé\nsecond line'
    assert await client.send_message(SID, text) is None
    req = server.last
    assert_request(req, "POST", f"{PREFIX}/sessions/{SID}/messages")
    assert req.headers["content-type"] == "application/json"
    assert json.loads(req.content) == {"type": "user_message", "message": text}


# -- lifecycle ----------------------------------------------------------------------------


async def test_context_manager_leaves_an_injected_httpx_client_open(server: FakeBackend) -> None:
    http = httpx.AsyncClient()
    async with AgpClient(server.base_url, KEY, http=http) as client:
        server.queue(reply(202))
        await client.pause(SID)
    assert not http.is_closed
    await http.aclose()


async def test_owned_httpx_backend_is_closed() -> None:
    backend = HttpxBackend()
    async with AgpClient(BASE, KEY, backend=backend):
        pass
    assert backend._client.is_closed
