"""Where bytes meet the network: one tiny interface, two implementations.

The client is written against `Backend`, so tests inject the simulator in-process
(`agp_tui.sim.fake_backend.FakeBackend`), while the engine's hot polling path uses
`AiohttpBackend`: measured here, a status poll costs ~0.4 ms of CPU through bare aiohttp
against 2-5 ms through httpx.
Both backends turn every transport failure into `Unreachable`, and both bound what one
request may cost, whatever the server does: `timeout` is a total deadline (connect, headers
and the whole body: a server trickling a byte a second is cut off like a silent one), and
the body is read raw and decoded by `BodyReader`, which refuses more than `max_body`
decoded bytes (see `agp_tui.api.body`).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from agp_tui.api.body import DEFAULT_MAX_BODY, BodyReader
from agp_tui.api.errors import Unreachable

if TYPE_CHECKING:  # imported lazily: each costs 70-170 ms, and headless startup counts
    import ssl

    import aiohttp
    import httpx

Params = Sequence[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class RawResponse:
    status: int
    headers: Mapping[str, str]  # case-insensitive in both backends
    body: bytes


class Backend(Protocol):
    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Params,
        headers: Mapping[str, str],
        json_body: object | None,
        timeout: float,
    ) -> RawResponse: ...

    async def aclose(self) -> None: ...


def _describe(exc: BaseException, url: str) -> str:
    """`ConnectError: All connection attempts failed (api.example:443)`: the library's words,
    plus where we were going when they do not say (httpx's often do not)."""
    text = str(exc).strip()
    msg = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:  # a malformed port
        return msg
    if not host or host in msg:
        return msg
    return f"{msg} ({host}:{port})" if port else f"{msg} ({host})"


def _too_slow(timeout: float, url: str) -> Unreachable:
    return Unreachable(_describe(TimeoutError(f"no complete answer within {round(timeout, 1):g} s"), url))


@functools.cache
def _verified_tls() -> ssl.SSLContext:
    """httpx's own default context (SSL_CERT_FILE / SSL_CERT_DIR, else certifi), made once a
    process: httpx builds a new one for every client, loading the whole CA bundle each time
    (~40 ms of CPU here), which a process that opens many clients (tests, benches) repeats."""
    import httpx

    return httpx.create_ssl_context()


class HttpxBackend:
    """Backend over an `httpx.AsyncClient`; closes it only if it created it."""

    def __init__(self, client: httpx.AsyncClient | None = None, *,
                 max_body: int = DEFAULT_MAX_BODY) -> None:
        import httpx

        self._owned = client is None
        self._client = client if client is not None else httpx.AsyncClient(verify=_verified_tls())
        self.max_body = max_body

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Params,
        headers: Mapping[str, str],
        json_body: object | None,
        timeout: float,
    ) -> RawResponse:
        import httpx

        try:
            async with asyncio.timeout(timeout):
                async with self._client.stream(
                    method, url, params=list(params), headers=dict(headers),
                    json=json_body, timeout=timeout,
                ) as resp:
                    if resp.is_stream_consumed:
                        # An in-memory transport (MockTransport) answered with bytes it had
                        # already: nothing arrives over a network, httpx decoded them.
                        reader = BodyReader(None, self.max_body, status=resp.status_code)
                        reader.feed(resp.content)
                    else:
                        reader = BodyReader(
                            resp.headers.get("Content-Encoding"), self.max_body,
                            status=resp.status_code, content_length=resp.headers.get("Content-Length"),
                        )
                        # Raw bytes: httpx's own decoders would inflate a gzip bomb unbounded.
                        async for chunk in resp.aiter_raw():
                            reader.feed(chunk)
                    return RawResponse(resp.status_code, resp.headers, reader.finish())
        except TimeoutError:
            raise _too_slow(timeout, url) from None
        except httpx.HTTPError as exc:  # transport, timeout, redirects: all 'unreachable'
            raise Unreachable(_describe(exc, url)) from None

    async def aclose(self) -> None:
        if self._owned:
            await self._client.aclose()


class AiohttpBackend:
    """Backend over one `aiohttp.ClientSession`, created lazily inside the running loop."""

    def __init__(self, session: aiohttp.ClientSession | None = None, *, limit: int = 64,
                 max_body: int = DEFAULT_MAX_BODY) -> None:
        self._owned = session is None
        self._session = session
        self._limit = limit
        self.max_body = max_body
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def _timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        import aiohttp

        cached = self._timeouts.get(seconds)
        if cached is None:
            cached = self._timeouts[seconds] = aiohttp.ClientTimeout(total=seconds)
        return cached

    def _get_session(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._limit),
                # Raw bodies: BodyReader inflates them under the size cap.
                auto_decompress=False,
            )
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Params,
        headers: Mapping[str, str],
        json_body: object | None,
        timeout: float,
    ) -> RawResponse:
        import aiohttp

        session = self._get_session()
        try:
            async with asyncio.timeout(timeout):
                # Never follows redirects: the key must not travel to wherever one points.
                async with session.request(
                    method, url, params=list(params) or None, headers=headers, json=json_body,
                    timeout=self._timeout(timeout), allow_redirects=False, auto_decompress=False,
                ) as resp:
                    try:
                        reader = BodyReader(
                            resp.headers.get("Content-Encoding"), self.max_body,
                            status=resp.status, content_length=resp.headers.get("Content-Length"),
                        )
                        async for chunk in resp.content.iter_any():
                            reader.feed(chunk)
                    except BaseException:
                        resp.close()  # the rest is never read: drop the connection, not pool it
                        raise
                    return RawResponse(resp.status, resp.headers, reader.finish())
        except TimeoutError:
            raise _too_slow(timeout, url) from None
        except aiohttp.ClientError as exc:
            raise Unreachable(_describe(exc, url)) from None

    async def aclose(self) -> None:
        if self._owned and self._session is not None and not self._session.closed:
            await self._session.close()
