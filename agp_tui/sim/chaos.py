"""Chaos: the failures a real AGP deployment shows a client, injected on purpose.

Off by default. Each request rolls once (seeded) and gets at most one failure kind, so
rates add up simply and a soak run at `5xx=0.05` sees about 5% 5xx responses. Latency is
separate from that roll: every request waits `latency` plus `uniform(0, jitter)` ms, and a
`spike` fraction of requests waits a further `uniform(0, spike_ms)` ms on top ("latency
spikes up to 3 s" is `spike=0.02,spike_ms=3000`). All durations are real time: against a
simulator run at `--speed X`, divide them by X (and `retry_after` too, which may be a
fraction of a second: clients parse `Retry-After: 0.1` as a number) to keep them
proportionate to the sped-up world.

Chaos can change while the server runs (`ChaosSwitch`, behind `POST /_sim/chaos`), so a
soak can check how a client recovers once the trouble stops. Routes under `/_sim/` (the
simulator's own control and ground-truth routes) are never touched by chaos: they are the
test harness's back door, not the API under test.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from dataclasses import asdict, dataclass, fields
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

KEYS = {
    "latency": "latency_ms",
    "jitter": "jitter_ms",
    "spike": "spike",
    "spike_ms": "spike_ms",
    "5xx": "error_5xx",
    "429": "rate_429",
    "malformed": "malformed",
    "drop": "drop",
    "retry_after": "retry_after_s",
    "seed": "seed",
}
RATES = ("error_5xx", "rate_429", "malformed", "drop")
CONTROL_PREFIX = "/_sim/"
OFF_WORDS = frozenset({"off", "none", "0"})
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
    spike: float = 0.0  # rate of requests that also wait uniform(0, spike_ms)
    spike_ms: float = 0.0
    error_5xx: float = 0.0  # rate of 502/503/504 (503 carries Retry-After: retry_after_s)
    rate_429: float = 0.0  # rate of 429 with Retry-After: retry_after_s
    malformed: float = 0.0  # rate of 200 responses with a truncated JSON body
    drop: float = 0.0  # rate of connections closed without any response
    retry_after_s: float = 1.0
    seed: int = 0

    @property
    def enabled(self) -> bool:
        return bool(
            self.latency_ms or self.jitter_ms or (self.spike and self.spike_ms)
            or any(getattr(self, r) for r in RATES)
        )

    def __post_init__(self) -> None:
        for name in (*RATES, "spike"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ChaosSpecError(f"chaos rate {name}={getattr(self, name)} must be in 0..1")
        if sum(getattr(self, r) for r in RATES) > 1.0:
            raise ChaosSpecError("chaos rates (5xx + 429 + malformed + drop) add up to more than 1")
        if min(self.latency_ms, self.jitter_ms, self.spike_ms, self.retry_after_s) < 0:
            raise ChaosSpecError("chaos latency, jitter, spike_ms and retry_after must be >= 0")

    def retry_after_header(self) -> str:
        """Whole seconds as HTTP writes them; a fraction only when one was asked for."""
        return f"{self.retry_after_s:g}"


def parse_chaos(spec: str) -> Chaos:
    """`latency=50,jitter=20,spike=0.02,spike_ms=3000,5xx=0.05,429=0.02,malformed=0.01,
    drop=0.01,retry_after=2,seed=7`; `off` (or an empty spec) is no chaos."""
    if spec.strip().lower() in OFF_WORDS:
        return Chaos()
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


def describe(chaos: Chaos) -> str:
    """The spec back in `--chaos` form (only the keys that differ from no chaos)."""
    if not chaos.enabled:
        return "off"
    default = Chaos()
    names = {v: k for k, v in KEYS.items()}
    return ",".join(
        f"{names[f.name]}={getattr(chaos, f.name):g}"
        for f in fields(Chaos) if getattr(chaos, f.name) != getattr(default, f.name)
    )


class ChaosSwitch:
    """The chaos in force, changeable while the server runs, and what it injected so far.

    `injected` counts by kind: `requests` (every request chaos saw, control routes not
    included), `5xx`, `429`, `malformed`, `drop`, `spike`.
    """

    def __init__(self, chaos: Chaos | None = None) -> None:
        self.chaos = chaos or Chaos()
        self.rng = random.Random(self.chaos.seed)
        self.injected: Counter[str] = Counter()

    def set(self, chaos: Chaos) -> None:
        self.chaos = chaos
        self.rng = random.Random(chaos.seed)

    def snapshot(self) -> dict[str, Any]:
        return {"chaos": describe(self.chaos), "enabled": self.chaos.enabled,
                "settings": asdict(self.chaos), "injected": dict(self.injected)}

    async def get(self, request: web.Request) -> web.Response:
        return web.json_response(self.snapshot())

    async def post(self, request: web.Request) -> web.Response:
        """`{"chaos": "5xx=0.1,..."}` or `{"chaos": "off"}`; answers like GET."""
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"detail": "expected a JSON body"}, status=422)
        spec = body.get("chaos") if isinstance(body, dict) else None
        if not isinstance(spec, str):
            return web.json_response({"detail": 'expected {"chaos": "<spec>"}'}, status=422)
        try:
            self.set(parse_chaos(spec))
        except ChaosSpecError as e:
            return web.json_response({"detail": str(e)}, status=422)
        return web.json_response(self.snapshot())


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(body).encode(), content_type="application/json", headers=headers
    )


def chaos_middleware(switch: Chaos | ChaosSwitch) -> Middleware:
    """Inject the switch's current chaos (read per request, so changes apply at once)."""
    if isinstance(switch, Chaos):
        switch = ChaosSwitch(switch)
    state = switch

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        chaos = state.chaos
        if not chaos.enabled or request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        rng, injected = state.rng, state.injected
        injected["requests"] += 1
        delay_ms = chaos.latency_ms + (rng.uniform(0, chaos.jitter_ms) if chaos.jitter_ms else 0.0)
        if chaos.spike and rng.random() < chaos.spike:
            injected["spike"] += 1
            delay_ms += rng.uniform(0, chaos.spike_ms)
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)
        roll = rng.random()
        if roll < chaos.drop:
            injected["drop"] += 1
            if request.transport is not None:
                request.transport.close()  # the client sees a disconnect, no status line
            return web.Response(status=499)
        roll -= chaos.drop
        if roll < chaos.error_5xx:
            injected["5xx"] += 1
            code = rng.choice((502, 503, 504))
            headers = {"Retry-After": chaos.retry_after_header()} if code == 503 else None
            return _json(code, UPSTREAM[code], headers)
        roll -= chaos.error_5xx
        if roll < chaos.rate_429:
            injected["429"] += 1
            return _json(429, {"detail": "Too many requests"}, {"Retry-After": chaos.retry_after_header()})
        roll -= chaos.rate_429
        response = await handler(request)
        if roll < chaos.malformed:
            injected["malformed"] += 1
            body = response.body if isinstance(response, web.Response) else None
            raw = bytes(body) if isinstance(body, bytes | bytearray) and body else b'{"status": '
            return web.Response(
                status=200, body=raw[: max(1, len(raw) // 2)], content_type="application/json"
            )
        return response

    return middleware
