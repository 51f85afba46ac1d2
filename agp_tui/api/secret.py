"""A string that never shows itself: the API key travels only in the Authorization header."""

from __future__ import annotations

from collections.abc import Iterator, Mapping


class Secret:
    """Wraps a secret value so that repr(), str(), f-strings and logs print it redacted."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The raw value; call only where it is put on the wire."""
        return self._value

    def redacted(self) -> str:
        """A hint that tells keys apart without leaking them: `hk-…9f3a`."""
        v = self._value
        if len(v) <= 8:
            return "****"
        return f"{v[:3]}…{v[-4:]}"

    def __repr__(self) -> str:
        return f"Secret({self.redacted()!r})"

    __str__ = redacted

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> str | tuple[object, ...]:
        # Pickling would write the key somewhere; refuse loudly instead.
        raise TypeError("Secret cannot be pickled")


class AuthHeaders(Mapping[str, str]):
    """Request headers whose `Authorization` is built from a `Secret` only when it is read.

    The client hands this to the backend instead of a dict: a plain dict holding
    `Bearer <key>` would be printed by anything that shows locals (Rich tracebacks with
    `show_locals=True`, which Textual uses for crashes; debuggers; `repr` in a log line).
    Iterating yields the real value, which is what the HTTP libraries do to send it.
    """

    __slots__ = ("_key", "_plain")

    def __init__(self, plain: Mapping[str, str], key: Secret | None) -> None:
        self._plain = dict(plain)
        self._key = key if key else None

    def __getitem__(self, name: str) -> str:
        if self._key is not None and name == AUTHORIZATION:
            return f"Bearer {self._key.reveal()}"
        return self._plain[name]

    def __iter__(self) -> Iterator[str]:
        yield from self._plain
        if self._key is not None:
            yield AUTHORIZATION

    def __len__(self) -> int:
        return len(self._plain) + (self._key is not None)

    def __repr__(self) -> str:
        shown = dict(self._plain)
        if self._key is not None:
            shown[AUTHORIZATION] = f"Bearer {self._key.redacted()}"
        return f"AuthHeaders({shown!r})"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("AuthHeaders cannot be pickled")


AUTHORIZATION = "Authorization"
