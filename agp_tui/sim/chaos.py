"""Chaos: the failures a real AGP deployment shows a client, injected on purpose.

Off by default. Each request rolls once (seeded) and gets at most one failure kind, so
rates add up simply and a soak run at `5xx=0.05` sees about 5% 5xx responses.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, fields
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

KEYS = {
    "latency": "latency_ms",
    "jitter": "jitter_ms",
    "5xx": "error_5xx",
    "429": "rate_429",
    "malformed": "malformed",
    "drop": "drop",
    "retry_after": "retry_after_s",
    "seed": "seed",
}
RATES = ("error_5xx", "rate_429", "malformed", "drop")
UPSTREAM = {
    502: {"detail": "Upstream error"},
    503: {"detail": "Upstream temporarily unavailable while consuming command"},
    504: {"detail": "Upstream timeout while consuming command"},
}


class ChaosSpecError(ValueError):
    """A bad `--chaos` spec; the message is one line meant for the terminal."""


@dataclass(frozen=True, slots=True)
class Chaos:
    latency_ms: float = 0.0  # added to every request
    jitter_ms: float = 0.0  # plus uniform(0, jitter_ms)
    error_5xx: float = 0.0  # rate of 502/503/504 (503 carries Retry-After: 1)
    rate_429: float = 0.0  # rate of 429 with Retry-After: retry_after_s
    malformed: float = 0.0  # rate of 200 responses with a truncated JSON body
    drop: float = 0.0  # rate of connections closed without any response
    retry_after_s: int = 1
    seed: int = 0

    @property
    def enabled(self) -> bool:
        return bool(self.latency_ms or self.jitter_ms or any(getattr(self, r) for r in RATES))

    def __post_init__(self) -> None:
        for name in RATES:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ChaosSpecError(f"chaos rate {name}={getattr(self, name)} must be in 0..1")
        if sum(getattr(self, r) for r in RATES) > 1.0:
            raise ChaosSpecError("chaos rates (5xx + 429 + malformed + drop) add up to more than 1")
        if self.latency_ms < 0 or self.jitter_ms < 0 or self.retry_after_s < 0:
            raise ChaosSpecError("chaos latency, jitter and retry_after must be >= 0")


def parse_chaos(spec: str) -> Chaos:
    """`latency=50,jitter=20,5xx=0.05,429=0.02,malformed=0.01,drop=0.01,retry_after=2,seed=7`."""
    values: dict[str, Any] = {}
    types = {f.name: f.type for f in fields(Chaos)}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key, sep, raw = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in KEYS:
            raise ChaosSpecError(
                f"bad --chaos item {part!r}: expected KEY=VALUE with KEY one of {', '.join(KEYS)}"
            )
        target = KEYS[key]
        try:
            values[target] = int(raw) if types[target] in (int, "int") else float(raw)
        except ValueError:
            raise ChaosSpecError(f"bad --chaos value for {key}: {raw.strip()!r} is not a number") from None
    return Chaos(**values)


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(body).encode(), content_type="application/json", headers=headers
    )


def chaos_middleware(chaos: Chaos) -> Middleware:
    rng = random.Random(chaos.seed)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if chaos.latency_ms or chaos.jitter_ms:
            await asyncio.sleep((chaos.latency_ms + rng.uniform(0, chaos.jitter_ms)) / 1000)
        roll = rng.random()
        if roll < chaos.drop:
            if request.transport is not None:
                request.transport.close()  # the client sees a disconnect, no status line
            return web.Response(status=499)
        roll -= chaos.drop
        if roll < chaos.error_5xx:
            code = rng.choice((502, 503, 504))
            headers = {"Retry-After": "1"} if code == 503 else None
            return _json(code, UPSTREAM[code], headers)
        roll -= chaos.error_5xx
        if roll < chaos.rate_429:
            return _json(429, {"detail": "Too many requests"}, {"Retry-After": str(chaos.retry_after_s)})
        roll -= chaos.rate_429
        response = await handler(request)
        if roll < chaos.malformed:
            body = response.body if isinstance(response, web.Response) else None
            raw = bytes(body) if isinstance(body, bytes | bytearray) and body else b'{"status": '
            return web.Response(
                status=200, body=raw[: max(1, len(raw) // 2)], content_type="application/json"
            )
        return response

    return middleware
