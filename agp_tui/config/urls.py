"""API regions and base-URL normalisation: every accepted spelling becomes `scheme://host/…/api/v2`."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from types import MappingProxyType
from urllib.parse import urlsplit

API_PATH = "/api/v2"

REGIONS: Mapping[str, str] = MappingProxyType(
    {
        "eu": "https://agp.eu.hcompany.ai/api/v2",  # the SDK's default region
        "us": "https://agp.hcompany.ai/api/v2",
    }
)
DEFAULT_REGION = "eu"
DEFAULT_BASE_URL = REGIONS[DEFAULT_REGION]

_OTHER_VERSION = re.compile(r"/api/v\d+$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_NOT_SLUG = re.compile(r"[^a-z0-9.]+")


def normalize_base_url(url: str) -> str:
    """`https://host`, `https://host/api/v2` and `https://host/api/v2/` all give `https://host/api/v2`.

    A path prefix (a reverse proxy) is kept: `https://proxy/agp` gives `https://proxy/agp/api/v2`.
    Raises ValueError whose message says what is wrong (scheme, host, port, query, version).
    """
    text = url.strip()
    if not text:
        raise ValueError("the URL is empty")
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise ValueError("the URL contains spaces or control characters")
    if "://" not in text:
        raise ValueError(f"the URL has no scheme; write https://{text}")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"the scheme must be http or https, not {parts.scheme!r}")
    host = parts.hostname
    if not host:
        raise ValueError("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials in the URL are not supported; set the API key instead")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port must be a number from 0 to 65535") from None
    if parts.query or parts.fragment:
        raise ValueError("a base URL takes no query string or fragment")
    path = parts.path.rstrip("/")
    if path.endswith(API_PATH):
        pass
    elif path.endswith("/api"):
        path += "/v2"
    elif _OTHER_VERSION.search(path):
        raise ValueError("only API v2 is supported; use a URL ending in /api/v2 or the host alone")
    else:
        path += API_PATH
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{scheme}://{netloc}{path}"


def server_key(base_url: str) -> str:
    """A short, file-name-safe name for the server behind `base_url`: a readable slug + a hash.

    `https://agp.eu.hcompany.ai/api/v2` gives `agp.eu.hcompany.ai-<8 hex>` and
    `http://127.0.0.1:8765` gives `127.0.0.1-8765-<8 hex>`. Every spelling `normalize_base_url`
    accepts for one server (trailing slash, with or without /api/v2, host case, the default
    port written out) gives the same key; a different scheme, host, port or path prefix gives
    another. The hash is what keeps keys apart; the slug is only there for people reading `ls`.
    Raises ValueError like `normalize_base_url`.
    """
    parts = urlsplit(normalize_base_url(base_url))
    host = parts.hostname or ""
    port = parts.port if parts.port != _DEFAULT_PORTS[parts.scheme] else None
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port is not None else "")
    canonical = f"{parts.scheme}://{netloc}{parts.path}"
    prefix = parts.path.removesuffix(API_PATH)  # a reverse proxy's path, usually empty
    readable = f"{host}-{port}" if port is not None else host
    slug = _NOT_SLUG.sub("-", f"{readable}{prefix}".lower()).strip(".-")[:40].rstrip(".-")
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]
    return f"{slug or 'server'}-{digest}"
