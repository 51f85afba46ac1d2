"""A string that never shows itself: the API key travels only in the Authorization header."""

from __future__ import annotations


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
