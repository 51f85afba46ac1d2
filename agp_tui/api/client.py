"""The async AGP v2 client: typed calls over one injected backend.

One client per base URL. It never logs, never prints and never formats its headers, so
the key cannot leak through it; it only ever travels as `Authorization: Bearer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import socket
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from agp_tui import __version__
from agp_tui.api.backend import AiohttpBackend, Backend, HttpxBackend, Params, RawResponse
from agp_tui.api.body import ACCEPT_ENCODING
from agp_tui.api.errors import AgpError, BadResponse, InsecureTransport, error_for_status
from agp_tui.api.ids import normalize_session_id
from agp_tui.api.models import Changes, Event, Page, Quota, Session, SessionStatus, SessionSummary
from agp_tui.api.redact import Redactor
from agp_tui.api.retry import RetryPolicy, parse_retry_after
from agp_tui.api.secret import AuthHeaders, Secret

if TYPE_CHECKING:
    import httpx

MAX_PAGE_SIZE = 100  # GET /sessions rejects size > 100 with 422
DEFAULT_MAX_PAGES = 100  # pages one listing reads at most: 10,000 sessions
LONG_POLL_CAP = 25  # seconds; the documented server cap for wait_for_seconds
EVENTS_PAGE_MAX = 200  # the documented largest `size` of an `/events` page


def is_loopback_host(host: str) -> bool:
    """Whether `host` is this machine: a loopback address, or a `localhost` name that
    resolves to loopback addresses only.

    A name is not trusted for what it says: `/etc/hosts` or DNS may send `sim.localhost`
    (or `localhost` itself) elsewhere, and the key would go there in clear text. Names
    that do not claim to be local are never looked up: they are not loopback.
    """
    host = host.strip("[]").lower()
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if host != "localhost" and not host.endswith(".localhost"):
        return False
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False  # unresolvable: nothing to send the key to anyway
    addresses = {str(info[4][0]).split("%", 1)[0] for info in infos}
    try:
        return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)
    except ValueError:
        return False


def _iso(value: datetime | str) -> str:
    return value.isoformat() if isinstance(value, datetime) else value


# Python objects cost 50-70 bytes per JSON `[]` or `{}` of 2-3 bytes: a body under the size
# cap made only of empty containers would still take ~25x its size once parsed. Real answers
# hold a few thousand (100 events or sessions a page).
MAX_JSON_CONTAINERS = 200_000


def _parse_json(body: bytes, status: int) -> Any:
    if body.count(b"[") + body.count(b"{") > MAX_JSON_CONTAINERS:
        raise BadResponse(f"HTTP {status} body holds more than {MAX_JSON_CONTAINERS:,} JSON "
                          "objects and lists", status=status)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nesting too deep
        snippet = body[:40].decode("utf-8", "replace")
        raise BadResponse(
            f"HTTP {status} body is not JSON: {snippet!r}", status=status
        ) from None


@dataclass(slots=True)
class Listing:
    """Sessions read page by page; `truncated` when the page cap stopped a longer listing."""

    items: list[SessionSummary] = field(default_factory=list)
    truncated: bool = False
    pages: int = 0


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
        max_pages: int = DEFAULT_MAX_PAGES,
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
        self._timeout = timeout  # total deadline of one request (long-polls: plus their wait)
        self.max_pages = max_pages
        # The key stays wrapped until a backend reads the header to send it (see AuthHeaders).
        self._headers = AuthHeaders(
            {"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING,
             "User-Agent": f"agp-tui/{__version__}"}, key
        )
        self._redactor = Redactor(key.reveal() if key else None)

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
        limit = timeout or self._timeout
        attempt = 0
        while True:
            retry_after: float | None = None
            # Every try fits in what is left of the retry budget: a call that is retried
            # still ends within `max_total`, whatever each try meets.
            left = deadline - time.monotonic() if may_retry and attempt else limit
            try:
                resp = await self._backend.request(
                    method, self.base_url + path, params=params, headers=self._headers,
                    json_body=json_body, timeout=max(min(limit, left), 0.5),
                )
            except AgpError as exc:  # Unreachable or BadResponse (too large) from the backend
                # A library's message may quote what the server sent (a malformed header).
                exc.message = self._redactor.scrub_text(exc.message)
                err: AgpError = exc
            else:
                # A server or proxy quoting the key back must not carry it into errors or views.
                resp = RawResponse(resp.status, resp.headers, self._redactor.scrub_bytes(resp.body))
                if resp.status < 400:
                    return resp
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                body: object = None
                with contextlib.suppress(AgpError):
                    body = self._json(resp) if resp.body else None
                err = error_for_status(resp.status, body, retry_after)
            attempt += 1
            if not (may_retry and err.retryable and attempt < policy.attempts):
                raise err
            delay = policy.delay(attempt - 1, retry_after)
            if time.monotonic() + delay > deadline:
                raise err
            await asyncio.sleep(delay)

    def _json(self, resp: RawResponse) -> Any:
        """The body as JSON, every string in it scrubbed of the key however it was spelled."""
        doc = _parse_json(resp.body, resp.status)
        # Raw, JSON-escaped, percent-encoded and base64 spellings left the bytes already;
        # decoding can only make one appear when the body held escapes.
        return self._redactor.scrub_json(doc) if b"\\" in resp.body else doc

    async def _get_json(self, path: str, params: Params = ()) -> Any:
        return self._json(await self._request("GET", path, params=params))

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
        self, *, limit: int | None = None, size: int = MAX_PAGE_SIZE,
        max_pages: int | None = None, listing: Listing | None = None,
        page_slot: Callable[[], AbstractAsyncContextManager[object]] | None = None, **filters: Any,
    ) -> AsyncGenerator[SessionSummary, None]:
        """Every session matching `filters`, page after page, up to `limit` items.

        `page * size < total` is the server's word only: a page with nothing new (empty, or
        a repeat of what came before) ends the walk, and so does `max_pages` (default: the
        client's `max_pages`), which sets `listing.truncated` when more was announced.
        A session met twice (it moved between pages while we read) is yielded once.
        `page_slot`, if given, is entered around each page's request (a request budget's
        slot: a caller pacing its requests paces every page, not the walk as a whole).
        """
        cap = max_pages if max_pages is not None else self.max_pages
        page, count = 1, 0
        seen: set[str] = set()
        while limit is None or count < limit:  # never fetch a page that will not be used
            if page > cap:
                if listing is not None:
                    listing.truncated = True
                return
            if page_slot is None:
                result = await self.list_sessions(page=page, size=size, **filters)
            else:
                async with page_slot():
                    result = await self.list_sessions(page=page, size=size, **filters)
            if listing is not None:
                listing.pages = page
            fresh = [item for item in result.items if item.id not in seen]
            for item in fresh:
                seen.add(item.id)
                yield item
                count += 1
                if limit is not None and count >= limit:
                    return
            if not fresh or not result.has_more:
                return
            page += 1

    async def list_all(
        self, *, limit: int | None = None, size: int = MAX_PAGE_SIZE, max_pages: int | None = None,
        **filters: Any,
    ) -> Listing:
        """`iter_sessions` collected, saying whether the page cap cut it short."""
        listing = Listing()
        async for item in self.iter_sessions(limit=limit, size=size, max_pages=max_pages,
                                             listing=listing, **filters):
            listing.items.append(item)
        return listing

    async def list_children(self, parent_session_id: str) -> list[SessionSummary]:
        """The labelled roster of a manager's subagent sessions (all pages, up to the cap)."""
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
        return Changes.from_json(self._json(resp), max(from_index, 0))

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
