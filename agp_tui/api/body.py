"""Reading a response body with a size cap that holds after decompression.

Both backends hand us the *raw* bytes as they arrive and we decode them here, instead of
letting the HTTP library inflate them: a library's decoder has no output limit, so a 4 MB
gzip bomb became 4 GB before anything could count it. `zlib`'s `max_length` stops each
inflate step one byte past what we may still accept, so memory stays near the cap whatever
the compression ratio, and an endless chunked body stops at the cap instead of at
`MemoryError`.
"""

from __future__ import annotations

import zlib

from agp_tui.api.errors import BadResponse

MB = 1024 * 1024
DEFAULT_MAX_BODY = 4 * MB  # a /status answer is ~1 KB, a 100-item page ~100 KB
# Sent with every request: the encodings decoded here, and no other (no br, no zstd).
ACCEPT_ENCODING = "gzip, deflate"


def too_large(limit: int, status: int | None = None) -> BadResponse:
    return BadResponse(f"response larger than {limit / MB:g} MB (limits.max_response_mb)",
                       status=status)


class BodyReader:
    """Collects one response body: `feed` raw chunks, then `finish` for the decoded bytes.

    Raises `BadResponse` as soon as the decoded size passes `limit`, or the encoding is one
    we did not ask for, or the compressed stream is corrupt.
    """

    __slots__ = ("_chunks", "_decoder", "_deflate", "_limit", "_size", "_started", "_status")

    def __init__(self, encoding: str | None, limit: int, *, status: int | None = None,
                 content_length: str | None = None) -> None:
        self._limit = limit
        self._status = status
        self._chunks: list[bytes] = []
        self._size = 0
        self._started = False
        self._deflate = False  # may still turn out to be raw deflate (no zlib header)
        enc = (encoding or "").strip().lower()
        if enc in ("", "identity"):
            self._decoder: zlib._Decompress | None = None
            # A declared length past the cap needs no reading at all.
            if content_length is not None and content_length.strip().isdigit() \
                    and int(content_length) > limit:
                raise too_large(limit, status)
        elif enc in ("gzip", "x-gzip"):
            self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif enc == "deflate":
            self._decoder = zlib.decompressobj()
            self._deflate = True
        else:
            raise BadResponse(f"unsupported Content-Encoding {enc[:40]!r} (asked for {ACCEPT_ENCODING})",
                              status=status)

    def _keep(self, data: bytes) -> None:
        if not data:
            return
        self._size += len(data)
        if self._size > self._limit:
            self._chunks.clear()  # nothing of it will be used: give the memory back now
            raise too_large(self._limit, self._status)
        self._chunks.append(data)

    def _inflate(self, data: bytes) -> None:
        d = self._decoder
        assert d is not None
        while data:
            # One byte more than we may accept: enough to know the cap was passed.
            out = d.decompress(data, self._limit - self._size + 1)
            self._keep(out)
            data = d.unconsumed_tail
            if d.eof:
                return  # trailing bytes after the stream (a second gzip member): ignored

    def feed(self, chunk: bytes) -> None:
        if self._decoder is None:
            self._keep(chunk)
            return
        first, self._started = not self._started, True
        try:
            self._inflate(chunk)
        except zlib.error:
            if first and self._deflate:
                # "deflate" is zlib-wrapped by the RFC, but some servers send it raw.
                self._deflate = False
                self._decoder = zlib.decompressobj(-zlib.MAX_WBITS)
                self._chunks.clear()
                self._size = 0
                self.feed(chunk)
                return
            raise BadResponse("the compressed response body is corrupt", status=self._status) from None

    def finish(self) -> bytes:
        if self._decoder is not None:
            try:
                self._keep(self._decoder.flush())
            except zlib.error:
                raise BadResponse("the compressed response body is corrupt", status=self._status) from None
        body = b"".join(self._chunks)
        self._chunks.clear()
        return body
