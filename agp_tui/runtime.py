"""Wiring shared by the dashboard and the headless commands: Settings → client → engine.

Kept free of textual so the headless commands start fast. The engine is imported only by
the functions that build one: `status`, `ls`, `tree` and `events` need a client alone, and
the monitor engine (~75 ms of imports, its parts and their dependencies) is not theirs to
pay for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from agp_tui.api.backend import AiohttpBackend, Backend, HttpxBackend
from agp_tui.api.body import MB
from agp_tui.api.client import AgpClient
from agp_tui.api.retry import RetryPolicy
from agp_tui.config import REGIONS, Settings

if TYPE_CHECKING:
    from agp_tui.monitor.engine import Engine, EngineSettings


class NoApiKey(Exception):
    def __str__(self) -> str:
        return (
            "no API key: pass --api-key, set H_API_KEY or HAI_API_KEY, add api_key_cmd to your "
            "profile, or run `hai login`; `agp-tui --demo` needs none"
        )


def region_label(base_url: str) -> str:
    """`eu` / `us` for the documented hosts, else the host itself (a simulator, a proxy)."""
    normalized = base_url.rstrip("/")
    for name, url in REGIONS.items():
        if url.rstrip("/") == normalized:
            return name
    parts = urlsplit(base_url)
    return parts.netloc or base_url


def make_client(
    settings: Settings, *, retry: RetryPolicy | None = None, fast: bool = True
) -> AgpClient:
    """`fast` picks aiohttp (cheapest per request, for polling); otherwise httpx, whose
    import is ~100 ms lighter, which is what a one-shot headless command wants."""
    if settings.api_key is None:
        raise NoApiKey()
    limits = settings.limits
    max_body = round(limits.max_response_mb * MB)
    backend: Backend = AiohttpBackend(max_body=max_body) if fast else HttpxBackend(max_body=max_body)
    return AgpClient(
        settings.base_url, settings.api_key, backend=backend, retry=retry,
        allow_insecure_http=settings.allow_insecure_http, timeout=limits.request_timeout,
        max_pages=limits.max_list_pages,
    )


def engine_settings(settings: Settings, **overrides: object) -> EngineSettings:
    from agp_tui.monitor.cadence import Cadence
    from agp_tui.monitor.engine import EngineSettings

    p, h = settings.poll, settings.history
    cadence = Cadence(
        pending=p.pending, running=p.running, running_slow=p.running_slow,
        slow_after=p.slow_after, waiting=p.waiting, jitter=p.jitter,
    )
    base = EngineSettings(
        cadence=cadence, max_in_flight=p.max_in_flight, max_rps=p.max_rps,
        history_buckets=h.buckets, bucket_seconds=h.bucket_seconds,
        max_children=settings.limits.max_children, max_tree_depth=settings.limits.max_tree_depth,
    )
    if overrides:
        from dataclasses import replace

        base = replace(base, **overrides)  # type: ignore[arg-type]
    return base


def make_engine(
    settings: Settings, *, persist: bool = True, **overrides: object
) -> Engine:
    """An engine on the profile's watchlist (or an in-memory one when `persist` is False).

    The engine polls on its own schedule, so the client's own retries are off.
    """
    from agp_tui.monitor.engine import Engine
    from agp_tui.monitor.watchlist import Watchlist

    client = make_client(settings, retry=RetryPolicy.off())
    watchlist = (
        Watchlist(settings.watchlist_path, legacy=settings.legacy_watchlist_path) if persist else None
    )
    return Engine(client, watchlist, engine_settings(settings, **overrides))
