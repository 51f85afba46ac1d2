"""Redactor: every spelling of the key goes, and bodies that cannot hold one pass untouched."""

from __future__ import annotations

import base64
import json

import pytest

from agp_tui.api.redact import REDACTED, Redactor

KEY = "hk-live-3b7d4e219c550a8d7e4b1f20"


def escaped(text: str) -> str:
    return "".join(f"\\u{ord(c):04X}" for c in text)  # uppercase hex: case does not hide it


@pytest.mark.parametrize("body", [
    f'{{"error": "bad header Bearer {KEY}"}}',
    f'{{"error": "bad header Bearer {KEY.upper()}"}}',
    f'{{"error": "{escaped(KEY)}"}}',
    f'{{"error": "{KEY[:5]}{escaped(KEY[5:9])}{KEY[9:]}"}}',  # mixed
    "https://x.example/?k=" + "".join(f"%{b:02x}" for b in KEY.encode()),
    json.dumps({"echo": base64.b64encode(f"Authorization: Bearer {KEY}".encode()).decode()}),
])
def test_every_spelling_is_redacted(body: str) -> None:
    out = Redactor(KEY).scrub_bytes(body.encode())
    assert REDACTED.encode() in out
    assert KEY.lower().encode() not in out.lower()


def test_a_body_without_the_key_is_returned_as_it_is() -> None:
    page = json.dumps({"items": [{"id": f"id-{i}", "first_message": {"message": "50% off \\u00e9"}}
                                 for i in range(100)]}).encode()
    red = Redactor(KEY)
    assert red.scrub_bytes(page) is page or red.scrub_bytes(page) == page
    plain = b'{"items": [{"id": "a", "status": "running"}], "page": 1, "total": 1}'
    assert red.scrub_bytes(plain) is plain  # no escape anywhere, no key: not even scanned
