"""Gateway behaviour: bearer-key auth and FastAPI-shaped errors for unknown routes.

The real API sits behind a gateway that rejects bad keys before the app sees them, with
a `{"message": ...}` body instead of the app's `{"detail": ...}`; clients must handle
both, so the simulator reproduces the split.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Iterable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from agp_tui.sim.validation import Invalid

# Reads of a shared session work without a key (documented "optional auth").
PUBLIC_READ = re.compile(r"^/api/v2/sessions/([^/]+)(?:/status|/changes|/events)?$")


class HttpError(Exception):
    """An error response raised from deep inside a handler (404, 409, 400...)."""

    def __init__(self, status: int, detail: object, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


def json_response(status: int, body: object, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(body).encode(), content_type="application/json", headers=headers
    )


def auth_middleware(keys: Iterable[str], is_shared: Callable[[str], bool]) -> Middleware:
    accepted = [k.encode() for k in keys]

    def key_ok(header: str) -> bool:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        given = token.strip().encode()
        # compare_digest on every key: no early exit that would leak which prefix matched.
        return any([hmac.compare_digest(given, k) for k in accepted])

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        header = request.headers.get("Authorization")
        if header is None and request.method == "GET":
            m = PUBLIC_READ.match(request.path)
            if m and m.group(1) != "quota" and is_shared(m.group(1)):
                return await handler(request)
        if header is None or not key_ok(header):
            return json_response(401, {"message": "Unauthorized"}, {"WWW-Authenticate": "Bearer"})
        return await handler(request)

    return middleware


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """422s raised by parsing, and aiohttp's own 404/405 re-shaped as FastAPI would send them."""
    try:
        return await handler(request)
    except Invalid as e:
        return json_response(422, {"detail": e.errors})
    except HttpError as e:
        return json_response(e.status, {"detail": e.detail}, e.headers)
    except web.HTTPNotFound:
        return json_response(404, {"detail": "Not Found"})
    except web.HTTPMethodNotAllowed as e:
        return json_response(
            405, {"detail": "Method Not Allowed"}, {"Allow": ", ".join(sorted(e.allowed_methods))}
        )
