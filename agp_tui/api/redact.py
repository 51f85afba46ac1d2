"""Finding the API key in what a server sends back, in any spelling it can take there.

A proxy or a confused server may quote the request's `Authorization` header in an error
body. Replacing the key's raw bytes is not enough: JSON may spell each character as
`\\u0068`, a URL in a message percent-encodes it (`%68%6B`), a debugging proxy may echo the
header base64-encoded; after decoding, any of these prints the key in full. One pattern
matches every mix of those spellings, character by character, and is applied to the raw
body (so `--json` and error messages never see it) and to every decoded string.
"""

from __future__ import annotations

import base64
import re
from typing import Any

REDACTED = "[redacted]"
_MIN_B64_CORE = 8  # base64 runs shorter than this match too much unrelated text


def _char(ch: str) -> str:
    """A regex for one character as raw text, a JSON escape or percent-encoded UTF-8."""
    options = [re.escape(ch)]
    cp = ord(ch)
    if cp < 0x10000:
        options.append(rf"\\u{cp:04x}")
    else:  # a JSON surrogate pair
        v = cp - 0x10000
        options.append(rf"\\u{0xD800 + (v >> 10):04x}\\u{0xDC00 + (v & 0x3FF):04x}")
    if ch == "/":
        options.append(r"\\/")
    options.append("".join(f"%{b:02x}" for b in ch.encode("utf-8")))
    return "(?:" + "|".join(options) + ")"


def _spelled(text: str) -> str:
    return "".join(_char(ch) for ch in text)


def _base64_cores(secret: bytes) -> list[str]:
    """The base64 characters that depend only on the secret, at each of the 3 alignments
    it can have inside a longer encoded string (standard and URL-safe alphabets)."""
    cores: set[str] = set()
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + secret).decode().rstrip("=")
        start = (0, 2, 3)[pad]  # characters that mix in the bytes before the secret
        end = len(encoded) if (pad + len(secret)) % 3 == 0 else len(encoded) - 4
        core = encoded[start:end]
        if len(core) >= _MIN_B64_CORE:
            cores.add(core)
            cores.add(core.translate(str.maketrans("+/", "-_")))
    return sorted(cores)


class Redactor:
    """Replaces every spelling of one secret with `[redacted]`; inert without a secret."""

    __slots__ = ("_compiled", "_literals", "_pattern")

    def __init__(self, secret: str | None) -> None:
        self._pattern: str | None = None
        self._compiled: tuple[re.Pattern[str], re.Pattern[bytes]] | None = None
        self._literals: tuple[bytes, ...] | None = None
        if not secret:
            return
        cores = _base64_cores(secret.encode())
        forms = [_spelled(secret), *(_spelled(core) for core in cores)]
        self._pattern = "|".join(f"(?:{f})" for f in forms)
        # The forms a body without any escape can hold them in (the pre-check of scrub_bytes).
        self._literals = tuple(f.lower().encode() for f in (secret, *cores)) if secret.isascii() else None

    def _patterns(self) -> tuple[re.Pattern[str], re.Pattern[bytes]]:
        # Compiled on first use (~6 ms, a few % of a headless command's start): most
        # processes never meet a body that needs them (see _may_hold).
        if self._compiled is None:
            assert self._pattern is not None
            # Case-insensitive for the hex digits of escapes; a key's case variants go too.
            self._compiled = (re.compile(self._pattern, re.IGNORECASE),
                              re.compile(self._pattern.encode("utf-8"), re.IGNORECASE))
        return self._compiled

    def _may_hold(self, data: bytes) -> bool:
        """False only when no spelling of the secret can be in `data`. Every spelling but
        the plain one uses `\\uXXXX`, `\\/` or `%XX`: a body with none of those three holds
        the secret (or a base64 core of it) as it is written, which `in` finds far faster
        than the full pattern (~5 ms a 46 KB list page: most of a 10,000-member group's
        CPU)."""
        if self._literals is None:
            return True
        low = data.lower()
        if b"\\u" in low or b"\\/" in low or b"%" in low:
            return True  # an escaped spelling is possible: the full pattern decides
        return any(lit in low for lit in self._literals)

    def scrub_bytes(self, data: bytes) -> bytes:
        if self._pattern is None or not data or not self._may_hold(data):
            return data
        return self._patterns()[1].sub(REDACTED.encode(), data)

    def scrub_text(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._patterns()[0].sub(REDACTED, text)

    def scrub_json(self, doc: Any) -> Any:
        """Every string in a decoded JSON document (keys included), edited in place.

        Iterative: a document nested as deep as the parser allows must not end in a
        RecursionError here.
        """
        if self._pattern is None:
            return doc
        if isinstance(doc, str):
            return self.scrub_text(doc)
        stack: list[Any] = [doc]
        sub = self.scrub_text
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                for i, value in enumerate(node):
                    if isinstance(value, str):
                        node[i] = sub(value)
                    elif isinstance(value, list | dict):
                        stack.append(value)
            elif isinstance(node, dict):
                for key in list(node):
                    value = node[key]
                    if isinstance(value, str):
                        value = node[key] = sub(value)
                    elif isinstance(value, list | dict):
                        stack.append(value)
                    clean = sub(key) if isinstance(key, str) else key
                    if clean != key:
                        del node[key]
                        node[clean] = value
        return doc
