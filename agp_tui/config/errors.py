"""The one error the config layer raises: a single line naming where, which key, and why."""

from __future__ import annotations

_MAX_SHOWN = 80


def shown(value: object) -> str:
    """`repr(value)` cut to one short line, for echoing what the user wrote."""
    text = repr(value)
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 1] + "…"
    return text


class ConfigError(Exception):
    """A configuration problem the user can fix.

    `where` is a file path or the flag/env var the bad value came from, `key` the full dotted
    key (or None), `problem` what is wrong. `str()` is always exactly one line, so the CLI can
    print it after "agp-tui: " with no traceback.
    """

    def __init__(
        self, where: str, key: str | None, problem: str, *, line: int | None = None
    ) -> None:
        self.where = where
        self.key = key
        self.problem = problem
        self.line = line  # set for TOML syntax errors
        super().__init__(where, key, problem)

    def __str__(self) -> str:
        parts = [self.where, self.key, self.problem] if self.key else [self.where, self.problem]
        return " ".join(": ".join(parts).split())

    @classmethod
    def expected(
        cls, where: str, key: str | None, expectation: str, value: object, *, secret: bool = False
    ) -> ConfigError:
        """`{where}: {key}: expected {expectation}, got {value!r}`; secrets show only their type."""
        got = f"<{type(value).__name__}, hidden>" if secret else shown(value)
        return cls(where, key, f"expected {expectation}, got {got}")
