"""Every config key, declared once: name, type check, default and help live on one dataclass field.

The section dataclasses (`PollSettings`, …) are both the schema the file is validated against
and the values handed to the rest of the app. `Profile` is one `[profiles.NAME]` table.
`config.example.toml` documents each key; a test checks it against `declared_keys()`.
"""

from __future__ import annotations

import difflib
import math
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from dataclasses import Field, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, TypeVar, cast

from agp_tui.api.secret import Secret
from agp_tui.config.errors import ConfigError
from agp_tui.config.follow import FOLLOW_EXPECTS, MIN_INTERVAL, FollowRule, parse_rules
from agp_tui.config.urls import REGIONS, normalize_base_url

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_D = TypeVar("_D", bound="DataclassInstance")


class Invalid(ValueError):
    """A value failed its check; `expects` completes "expected …"."""

    def __init__(self, expects: str) -> None:
        super().__init__(expects)
        self.expects = expects


@dataclass(frozen=True)
class Check:
    """How one key is validated: `expects` for messages, `convert` returns the typed value."""

    expects: str
    convert: Callable[[object], object]

    def __call__(self, value: object) -> object:
        try:
            return self.convert(value)
        except Invalid:
            raise
        except ValueError as exc:  # a converter adds why, e.g. the URL's problem
            raise Invalid(f"{self.expects} ({exc})") from None


def _as_number(value: object, expects: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Invalid(expects)
    return float(value)


def positive(what: str = "a number") -> Check:
    expects = f"{what} > 0"

    def convert(value: object) -> float:
        number = _as_number(value, expects)
        if number <= 0:
            raise Invalid(expects)
        return number

    return Check(expects, convert)


def fraction() -> Check:
    expects = "a number from 0 up to (not including) 1"

    def convert(value: object) -> float:
        number = _as_number(value, expects)
        if not 0 <= number < 1:
            raise Invalid(expects)
        return number

    return Check(expects, convert)


def count(low: int, high: int) -> Check:
    expects = f"an integer from {low} to {high}"

    def convert(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Invalid(expects)
        return value

    return Check(expects, convert)


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise Invalid("true or false")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("a non-empty string")
    return value.strip()


def one_of(*choices: str) -> Check:
    expects = "one of " + ", ".join(f'"{c}"' for c in choices)

    def convert(value: object) -> str:
        if not isinstance(value, str) or value not in choices:
            raise Invalid(expects)
        return value

    return Check(expects, convert)


def _base_url(value: object) -> str:
    if not isinstance(value, str):
        raise Invalid("an http(s) URL string")
    return normalize_base_url(value)  # its ValueError says why


KEY_CHARS = "a key without spaces or control characters"


def api_key_problem(value: str) -> str | None:
    """Why `value` (already stripped) cannot be an API key, or None; never echoes the key."""
    if not value:
        return "a non-empty key"
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return KEY_CHARS
    return None


def _secret(value: object) -> Secret:
    if not isinstance(value, str):
        raise Invalid("a string")
    problem = api_key_problem(value.strip())
    if problem:
        raise Invalid(problem)
    return Secret(value.strip())


def _command(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("a non-empty command line string")
    shlex.split(value)  # unbalanced quotes → ValueError("No closing quotation")
    return value.strip()


def at_least(low: float, what: str) -> Check:
    expects = f"{what} >= {low:g}"

    def convert(value: object) -> float:
        number = _as_number(value, expects)
        if number < low:
            raise Invalid(expects)
        return number

    return Check(expects, convert)


BOOLEAN = Check("true or false", _boolean)
TEXT = Check("a non-empty string", _text)
BASE_URL = Check("an http(s) URL", _base_url)
SECRET = Check("a non-empty string", _secret)
COMMAND = Check("a command line", _command)
FOLLOW_RULES = Check(FOLLOW_EXPECTS, parse_rules)


def declare(help: str, check: Check, *, secret: bool = False) -> dict[str, object]:
    """The metadata declaring a key: one-line help and its check (secret: never echo the value)."""
    return {"help": help, "check": check, "secret": secret}


def section(cls: type[DataclassInstance], help: str) -> dict[str, object]:
    """The metadata declaring a `[profiles.NAME.<field>]` sub-table whose keys are `cls`'s."""
    return {"help": help, "section": cls}


_SECONDS = positive("a number of seconds")


@dataclass(frozen=True)
class PollSettings:
    """Poll cadence per session state, and the global request budget."""

    pending: float = field(
        default=2.0, metadata=declare("seconds between polls of a pending session", _SECONDS)
    )
    running: float = field(
        default=3.0, metadata=declare("seconds between polls of a running session", _SECONDS)
    )
    running_slow: float = field(
        default=15.0,
        metadata=declare("seconds between polls once a session has run for slow_after", _SECONDS),
    )
    slow_after: float = field(
        default=600.0, metadata=declare("seconds of running after which running_slow applies", _SECONDS)
    )
    waiting: float = field(
        default=15.0,
        metadata=declare("seconds between polls of paused / idle / awaiting_tool_results", _SECONDS),
    )
    jitter: float = field(
        default=0.1, metadata=declare("random spread of each interval, as a fraction", fraction())
    )
    max_in_flight: int = field(default=8, metadata=declare("most requests open at once", count(1, 256)))
    max_rps: float = field(
        default=20.0, metadata=declare("most requests per second, all sessions together", positive())
    )


@dataclass(frozen=True)
class HistorySettings:
    """The token-usage ring buffer behind each sparkline: `buckets * bucket_seconds` of history."""

    buckets: int = field(
        default=60, metadata=declare("sparkline buckets kept per model", count(1, 10_000))
    )
    bucket_seconds: float = field(default=10.0, metadata=declare("seconds per bucket", _SECONDS))


@dataclass(frozen=True)
class NotifySettings:
    """How a session finishing or needing attention is signalled."""

    toast: bool = field(default=True, metadata=declare("show a toast inside the app", BOOLEAN))
    bell: bool = field(default=False, metadata=declare("ring the terminal bell", BOOLEAN))
    desktop: bool = field(
        default=False, metadata=declare("desktop notification via OSC 9 / OSC 777", BOOLEAN)
    )


@dataclass(frozen=True)
class LimitsSettings:
    """What one server may cost the client at most, however it answers."""

    max_response_mb: float = field(
        default=4.0,
        metadata=declare("largest response body accepted, in MB after decompression",
                         positive("a number of MB")),
    )
    request_timeout: float = field(
        default=15.0,
        metadata=declare("seconds one request may take in all: connect, headers and body "
                         "(a long-poll gets its wait on top)", _SECONDS),
    )
    command_timeout: float = field(
        default=60.0,
        metadata=declare("seconds `status`, `ls` and `tree` may take in all before giving up",
                         _SECONDS),
    )
    max_list_pages: int = field(
        default=100,
        metadata=declare("pages of GET /sessions one listing reads at most (100 sessions each)",
                         count(1, 10_000)),
    )
    max_children: int = field(
        default=1000,
        metadata=declare("subagents of one session tracked and shown; the rest are counted",
                         count(1, 100_000)),
    )
    max_tree_depth: int = field(
        default=50,
        metadata=declare("levels of subagents below a root that trees walk and show",
                         count(1, 200)),
    )


@dataclass(frozen=True)
class Profile:
    """One `[profiles.NAME]` table, validated; unset optional keys are None."""

    region: str | None = field(
        default=None,
        metadata=declare('API region, shorthand for base_url: "eu" or "us"', one_of(*REGIONS)),
    )
    base_url: str | None = field(
        default=None, metadata=declare("API base URL, the host alone or with /api/v2", BASE_URL)
    )
    api_key: Secret | None = field(
        default=None, metadata=declare("the API key itself (discouraged)", SECRET, secret=True)
    )
    api_key_cmd: str | None = field(
        default=None, metadata=declare("command whose first stdout line is the API key", COMMAND)
    )
    theme: str = field(default="textual-dark", metadata=declare("Textual theme name", TEXT))
    read_only: bool = field(
        default=False, metadata=declare("disable pause / cancel / message actions", BOOLEAN)
    )
    allow_insecure_http: bool = field(
        default=False,
        metadata=declare("allow sending the key over plain http to a non-local host", BOOLEAN),
    )
    follow: tuple[FollowRule, ...] = field(
        default=(),
        metadata=declare("auto-follow rules: watch new sessions matching agent/group_id/status",
                         FOLLOW_RULES),
    )
    follow_interval: float = field(
        default=30.0,
        metadata=declare("seconds between auto-follow scans",
                         at_least(MIN_INTERVAL, "a number of seconds")),
    )
    poll: PollSettings = field(
        default_factory=PollSettings, metadata=section(PollSettings, "poll cadence, in seconds")
    )
    history: HistorySettings = field(
        default_factory=HistorySettings,
        metadata=section(HistorySettings, "token history kept for sparklines"),
    )
    notify: NotifySettings = field(
        default_factory=NotifySettings, metadata=section(NotifySettings, "notifications")
    )
    limits: LimitsSettings = field(
        default_factory=LimitsSettings,
        metadata=section(LimitsSettings, "caps on what a server may cost the client"),
    )


TOP_LEVEL_KEYS: Mapping[str, str] = {
    "default_profile": "profile used when neither --profile nor AGP_PROFILE is given",
    "profiles": "one table per named profile: [profiles.NAME]",
}

# Names end up in file names (watchlist-NAME.json) and in dotted keys, so: no dots or slashes.
PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
PROFILE_NAME_EXPECTS = "a profile name of letters, digits, '_' and '-' (at most 64)"


@dataclass(frozen=True)
class KeyInfo:
    """One declared key, as `declared_keys()` lists it."""

    dotted: str  # relative to a profile, e.g. "poll.pending"
    default: object
    help: str
    check: Check

    @property
    def expects(self) -> str:
        return self.check.expects


def _walk(cls: type[DataclassInstance], prefix: str = "") -> Iterator[tuple[str, Field[Any]]]:
    for f in fields(cls):
        sub = f.metadata.get("section")
        if sub is not None:
            yield from _walk(sub, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", f


def declared_keys() -> tuple[KeyInfo, ...]:
    """Every key a profile may set, in declaration order."""
    return tuple(
        KeyInfo(dotted, f.default, f.metadata["help"], cast(Check, f.metadata["check"]))
        for dotted, f in _walk(Profile)
    )


def _unknown_key(file: str, table: str, key: str, valid: list[str], profile: str) -> ConfigError:
    """`table` is the dotted table the key sits in ("" at top level), `profile` its profile's."""
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    elsewhere = [k for k, _ in _walk(Profile) if k.rsplit(".", 1)[-1] == key]
    if close:
        hint = f"did you mean {table + '.' if table else ''}{close[0]}?"
    elif elsewhere and profile:  # the right name in the wrong table
        hint = f"did you mean {profile}.{elsewhere[0]}?"
    elif elsewhere:
        hint = f"profile settings go in a profile table, e.g. profiles.default.{elsewhere[0]}"
    else:
        hint = "valid keys here: " + ", ".join(valid)
    return ConfigError(file, f"{table}.{key}" if table else key, f"unknown key; {hint}")


def parse_table(
    cls: type[_D],
    table: Mapping[str, object],
    *,
    file: str,
    profile: str,
    rel: str,
    present: set[str],
) -> _D:
    """Validate `table` (the profile `profile`, sub-table `rel`) against `cls`'s fields.

    Adds each key set, dotted relative to the profile (e.g. "poll.pending"), to `present`.
    """
    by_name = {f.name: f for f in fields(cls)}
    values: dict[str, object] = {}
    for key, raw in table.items():
        f = by_name.get(key)
        if f is None:
            raise _unknown_key(file, f"{profile}.{rel}".rstrip("."), key, list(by_name), profile)
        dotted = f"{profile}.{rel}{key}"
        sub = f.metadata.get("section")
        if sub is not None:
            if not isinstance(raw, dict):
                raise ConfigError.expected(file, dotted, f"a table [{dotted}]", raw)
            values[key] = parse_table(
                sub, raw, file=file, profile=profile, rel=f"{rel}{key}.", present=present
            )
            continue
        check = cast(Check, f.metadata["check"])
        try:
            values[key] = check(raw)
        except Invalid as exc:
            raise ConfigError.expected(
                file, dotted, exc.expects, raw, secret=bool(f.metadata["secret"])
            ) from None
        present.add(rel + key)
    return replace(cls(), **values)


def parse_profile(
    table: Mapping[str, object], *, file: str, name: str
) -> tuple[Profile, frozenset[str]]:
    """One `[profiles.NAME]` table → the Profile and the dotted keys it sets."""
    prefix = f"profiles.{name}"
    present: set[str] = set()
    profile = parse_table(Profile, table, file=file, profile=prefix, rel="", present=present)
    if profile.api_key is not None and profile.api_key_cmd is not None:
        raise ConfigError(file, f"{prefix}.api_key_cmd", "set either api_key or api_key_cmd, not both")
    return profile, frozenset(present)


@dataclass(frozen=True)
class ConfigDocument:
    """A validated config file: its profiles in file order, each with the keys it sets."""

    default_profile: str | None = None
    profiles: Mapping[str, tuple[Profile, frozenset[str]]] = field(default_factory=dict)


def parse_document(doc: Mapping[str, object], *, file: str) -> ConfigDocument:
    """Validate a whole parsed TOML document (every profile, not only the one in use)."""
    for key in doc:
        if key not in TOP_LEVEL_KEYS:
            raise _unknown_key(file, "", key, list(TOP_LEVEL_KEYS), "")
    default = doc.get("default_profile")
    if default is not None and not (isinstance(default, str) and PROFILE_NAME.fullmatch(default)):
        raise ConfigError.expected(file, "default_profile", PROFILE_NAME_EXPECTS, default)
    raw_profiles = doc.get("profiles", {})
    if not isinstance(raw_profiles, dict):
        raise ConfigError.expected(file, "profiles", "a table of [profiles.NAME] tables", raw_profiles)
    profiles: dict[str, tuple[Profile, frozenset[str]]] = {}
    for name, table in raw_profiles.items():
        if not PROFILE_NAME.fullmatch(name):
            raise ConfigError.expected(file, f"profiles.{name}", PROFILE_NAME_EXPECTS, name)
        if not isinstance(table, dict):
            raise ConfigError.expected(file, f"profiles.{name}", f"a table [profiles.{name}]", table)
        profiles[name] = parse_profile(table, file=file, name=name)
    return ConfigDocument(default if isinstance(default, str) else None, profiles)
