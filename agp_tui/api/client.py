"""The async AGP v2 client: typed calls over one injected backend.

One client per base URL. It never logs, never prints and never formats its headers, so
the key cannot leak through it; it only ever travels as `Authorization: Bearer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from agp_tui import __version__
from agp_tui.api.backend import AiohttpBackend, Backend, HttpxBackend, Params, RawResponse
from agp_tui.api.errors import AgpError, BadResponse, InsecureTransport, error_for_status
from agp_tui.api.ids import normalize_session_id
from agp_tui.api.models import Changes, Event, Page, Quota, Session, SessionStatus, SessionSummary
from agp_tui.api.retry import RetryPolicy, parse_retry_after
from agp_tui.api.secret import AuthHeaders, Secret

if TYPE_CHECKING:
    import httpx

MAX_PAGE_SIZE = 100  # GET /sessions rejects size > 100 with 422
LONG_POLL_CAP = 25  # seconds; the documented server cap for wait_for_seconds
EVENTS_PAGE_MAX = 200  # the documented largest `size` of an `/events` page


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _iso(value: datetime | str) -> str:
    return value.isoformat() if isinstance(value, datetime) else value


def _decode(resp: RawResponse) -> Any:
    try:
        return json.loads(resp.body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nesting too deep
        snippet = resp.body[:40].decode("utf-8", "replace")
        raise BadResponse(
            f"HTTP {resp.status} body is not JSON: {snippet!r}", status=resp.status
        ) from None


class AgpClient:
    """Typed calls of the AGP v2 session API.

    `backend` (or an `httpx.AsyncClient` as `http`) is injected; by default a fast aiohttp
    backend is made. `retry` applies to idempotent GETs only.
    """

    def __init__(
        self,
        base_url: str,
        api_key: Secret | str | None = None,
        *,
        backend: Backend | None = None,
        http: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 15.0,
        allow_insecure_http: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AgpError(f"base URL {self.base_url!r} is not an http(s) URL")
        key = Secret(api_key) if isinstance(api_key, str) else api_key
        if (key and parts.scheme == "http" and not allow_insecure_http
                and not is_loopback_host(parts.hostname)):
            raise InsecureTransport(
                f"refusing to send the API key over plain http to {parts.hostname}; "
                "use https, or pass --allow-insecure-http if you really mean it"
            )
        if backend is None:
            backend = HttpxBackend(http) if http is not None else AiohttpBackend()
        self._backend = backend
        self._retry = retry if retry is not None else RetryPolicy()
        self._timeout = timeout
        # The key stays wrapped until a backend reads the header to send it (see AuthHeaders).
        self._headers = AuthHeaders(
            {"Accept": "application/json", "User-Agent": f"agp-tui/{__version__}"}, key
        )
        self._key_bytes = key.reveal().encode() if key else b""

    def __repr__(self) -> str:
        return f"AgpClient({self.base_url!r})"

    async def __aenter__(self) -> AgpClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._backend.aclose()

    # -- transport ------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Params = (),
        json_body: object | None = None,
        timeout: float | None = None,
    ) -> RawResponse:
        policy = self._retry
        may_retry = policy.enabled and method == "GET"
        deadline = time.monotonic() + policy.max_total
        attempt = 0
        while True:
            retry_after: float | None = None
            try:
                resp = await self._backend.request(
                    method, self.base_url + path, params=params, headers=self._headers,
                    json_body=json_body, timeout=timeout or self._timeout,
                )
            except AgpError as exc:  # Unreachable from the backend
                err: AgpError = exc
            else:
                if self._key_bytes and self._key_bytes in resp.body:
                    # A server or proxy quoting the key back must not carry it into errors or views.
                    resp = RawResponse(resp.status, resp.headers,
                                       resp.body.replace(self._key_bytes, b"[redacted]"))
                if resp.status < 400:
                    return resp
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                body: object = None
                with contextlib.suppress(ValueError, UnicodeDecodeError, RecursionError):
                    body = json.loads(resp.body) if resp.body else None
                err = error_for_status(resp.status, body, retry_after)
            attempt += 1
            if not (may_retry and err.retryable and attempt < policy.attempts):
                raise err
            delay = policy.delay(attempt - 1, retry_after)
            if time.monotonic() + delay > deadline:
                raise err
            await asyncio.sleep(delay)

    async def _get_json(self, path: str, params: Params = ()) -> Any:
        return _decode(await self._request("GET", path, params=params))

    @staticmethod
    def _session_path(session_id: str, suffix: str = "") -> str:
        return f"/sessions/{normalize_session_id(session_id)}{suffix}"

    # -- reads ----------------------------------------------------------------------

    async def get_status(self, session_id: str) -> SessionStatus:
        """`GET /sessions/{id}/status`: the cheap call to poll."""
        return SessionStatus.from_json(await self._get_json(self._session_path(session_id, "/status")))

    async def get_session(self, session_id: str) -> Session:
        return Session.from_json(await self._get_json(self._session_path(session_id)))

    async def get_quota(self) -> Quota:
        return Quota.from_json(await self._get_json("/sessions/quota"))

    @staticmethod
    def _list_params(page: int, size: int, filters: dict[str, Any]) -> list[tuple[str, str]]:
        size = max(1, min(size, MAX_PAGE_SIZE))
        params: list[tuple[str, str]] = [("page", str(max(page, 1))), ("size", str(size))]
        for key, value in filters.items():
            if value is None:
                continue
            if key in ("status", "agent"):  # repeatable keys
                params += [(key, v) for v in value]
            else:
                params.append((key, _iso(value)))
        return params

    async def _list_page(self, page: int, size: int, filters: dict[str, Any]) -> tuple[list[Any], int, int]:
        data = await self._get_json("/sessions", self._list_params(page, size, filters))
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise BadResponse("GET /sessions: expected an object with an items list")
        items: list[Any] = data["items"]
        total = data.get("total")
        got_page = data.get("page")
        return (items, got_page if isinstance(got_page, int) else page,
                total if isinstance(total, int) else len(items))

    async def list_sessions(
        self,
        *,
        status: Sequence[str] = (),
        agent: Sequence[str] = (),
        group_id: str | None = None,
        parent_session_id: str | None = None,
        search: str | None = None,
        owner: str | None = None,
        schedule_id: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        finished_after: datetime | str | None = None,
        finished_before: datetime | str | None = None,
        sort: str | None = None,
        page: int = 1,
        size: int = 10,
    ) -> Page[SessionSummary]:
        """One page of `GET /sessions`; `size` is clamped to the server's cap of 100."""
        filters = {k: v for k, v in locals().items() if k not in ("self", "page", "size")}
        items, got_page, total = await self._list_page(page, size, filters)
        return Page(
            items=tuple(SessionSummary.from_json(i) for i in items), page=got_page, total=total,
            size=max(1, min(size, MAX_PAGE_SIZE)),
        )

    async def list_session_states(
        self, *, page: int = 1, size: int = MAX_PAGE_SIZE, **filters: Any
    ) -> Page[tuple[str, str, str | None]]:
        """`GET /sessions` reduced to (id, status, created_at text) triples: the engine's
        sweeps read only these, and skipping the full models is most of a page's parsing."""
        items, got_page, total = await self._list_page(page, size, filters)
        pairs: list[tuple[str, str, str | None]] = []
        for item in items:
            if not isinstance(item, dict):
                raise BadResponse("GET /sessions: expected objects in items")
            sid, status = item.get("id"), item.get("status")
            if isinstance(status, dict):
                status = status.get("status")
            if not isinstance(sid, str) or not isinstance(status, str):
                raise BadResponse("GET /sessions: an item lacks a string id or status")
            created = item.get("created_at")
            pairs.append((sid, status, created if isinstance(created, str) else None))
        return Page(items=tuple(pairs), page=got_page, total=total, size=max(1, min(size, MAX_PAGE_SIZE)))

    async def iter_sessions(
        self, *, limit: int | None = None, size: int = MAX_PAGE_SIZE, **filters: Any
    ) -> AsyncIterator[SessionSummary]:
        """Every session matching `filters`, page after page, up to `limit` items."""
        page, seen = 1, 0
        while limit is None or seen < limit:  # never fetch a page that will not be used
            result = await self.list_sessions(page=page, size=size, **filters)
            for item in result.items:
                yield item
                seen += 1
                if limit is not None and seen >= limit:
                    return
            if not result.items or not result.has_more:
                return
            page += 1

    async def list_children(self, parent_session_id: str) -> list[SessionSummary]:
        """The labelled roster of a manager's subagent sessions (all pages)."""
        parent = normalize_session_id(parent_session_id)
        return [s async for s in self.iter_sessions(parent_session_id=parent)]

    async def get_events(
        self, session_id: str, *, page: int = 1, size: int = 50, newest_first: bool = False,
    ) -> tuple[list[Event], int]:
        """One page of `/events` and the session's event count (`total`).

        In ascending order, page p holds events [(p - 1) * size, p * size); with
        `newest_first`, page 1 holds the last `size` events, newest first.
        """
        params = [("page", str(max(page, 1))), ("size", str(max(1, min(size, EVENTS_PAGE_MAX))))]
        if newest_first:
            params.append(("sort", "-timestamp"))
        data = await self._get_json(self._session_path(session_id, "/events"), params)
        if not isinstance(data, dict) or not isinstance(data.get("total"), int):
            raise BadResponse("GET /sessions/{id}/events: expected an object with an integer total")
        items = data.get("items")
        if not isinstance(items, list):
            raise BadResponse("GET /sessions/{id}/events: expected a list of items")
        events = []
        for raw in items:
            try:
                events.append(Event.from_json(raw))
            except BadResponse:
                events.append(Event(type="?", data={}, timestamp=None))  # keep the indices right
        return events, max(int(data["total"]), 0)

    async def count_events(self, session_id: str) -> int:
        """How many events the session has: the `/changes` cursor that skips its history."""
        data = await self._get_json(
            self._session_path(session_id, "/events"), [("page", "1"), ("size", "1")]
        )
        if not isinstance(data, dict) or not isinstance(data.get("total"), int):
            raise BadResponse("GET /sessions/{id}/events: expected an object with an integer total")
        return int(data["total"])

    async def get_changes(
        self,
        session_id: str,
        from_index: int = 0,
        *,
        wait_for_seconds: int = 0,
        include_events: bool = True,
        limit: int | None = None,
    ) -> Changes | None:
        """`/changes` past the cursor; None means 204, nothing new (normal, even when terminal)."""
        wait = max(0, min(wait_for_seconds, LONG_POLL_CAP))
        params: list[tuple[str, str]] = [
            ("from_index", str(max(from_index, 0))),
            ("wait_for_seconds", str(wait)),
            ("include_events", "true" if include_events else "false"),
        ]
        if limit is not None:
            params.append(("limit", str(limit)))
        resp = await self._request(
            "GET", self._session_path(session_id, "/changes"), params=params,
            timeout=self._timeout + wait,
        )
        if resp.status == 204 or not resp.body:
            return None
        return Changes.from_json(_decode(resp), max(from_index, 0))

    # -- actions (never retried: they are not idempotent GETs) ------------------------

    async def pause(self, session_id: str) -> None:
        await self._request("POST", self._session_path(session_id, "/pause"))

    async def resume(self, session_id: str) -> None:
        await self._request("POST", self._session_path(session_id, "/resume"))

    async def force_answer(self, session_id: str) -> None:
        await self._request("POST", self._session_path(session_id, "/force_answer"))

    async def cancel(self, session_id: str) -> None:
        """`DELETE /sessions/{id}`: the session becomes `interrupted`, children too."""
        await self._request("DELETE", self._session_path(session_id))

    async def send_message(self, session_id: str, message: str) -> None:
        body = {"type": "user_message", "message": message}
        await self._request("POST", self._session_path(session_id, "/messages"), json_body=body)
