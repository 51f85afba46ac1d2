"""API regions and base-URL normalisation: every accepted spelling becomes `scheme://host/…/api/v2`."""

from __future__ import annotations

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
