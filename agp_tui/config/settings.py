"""Resolve the effective settings: CLI flag > env > profile > default, recording each one's source."""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from agp_tui.api.secret import Secret
from agp_tui.config.apikey import (
    API_KEY_CMD_TIMEOUT,
    HAI_KEY_VAR,
    checked_key,
    read_dotenv_value,
    run_key_command,
)
from agp_tui.config.errors import ConfigError
from agp_tui.config.follow import FollowRule
from agp_tui.config.paths import CONFIG_FILE_NAME as _CONFIG_FILE_NAME
from agp_tui.config.paths import (
    config_dir_with_source,
    data_dir_with_source,
    hai_env_path,
)
from agp_tui.config.schema import (
    ConfigDocument,
    HistorySettings,
    LimitsSettings,
    NotifySettings,
    PollSettings,
    Profile,
    declared_keys,
    parse_document,
)
from agp_tui.config.urls import DEFAULT_BASE_URL, REGIONS, normalize_base_url, server_key
from agp_tui.safefile import MB, read_file

DEFAULT_PROFILE = "default"
MAX_CONFIG_BYTES = 1 * MB
ENV_BASE_URL = "AGP_BASE_URL"
ENV_PROFILE = "AGP_PROFILE"
KEY_ENV_VARS = ("H_API_KEY", "HAI_API_KEY")  # in lookup order, after --api-key

_DEFAULTS = Profile()
# profile keys that feed base_url / api_key rather than being settings of their own
_RESOLVED_ELSEWHERE = frozenset({"region", "base_url", "api_key", "api_key_cmd"})


@dataclass(frozen=True)
class CliOverrides:
    """The global command-line options that override the config file and env."""

    config_path: Path | None = None  # --config PATH
    profile: str | None = None  # --profile NAME
    base_url: str | None = None  # --base-url URL
    # --api-key KEY; the CLI wraps it at parse time, and it is kept out of repr() either way
    api_key: Secret | str | None = field(default=None, repr=False)
    # The flag the key came from ("flag --api-key-file", "flag --api-key -"), for messages
    api_key_source: str | None = None
    allow_insecure_http: bool | None = None  # --allow-insecure-http (None: not given)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the app needs from configuration, resolved once by the CLI and handed down.

    `sources` maps each setting name ("base_url", "poll.pending", …, plus "profile",
    "config_path", "data_dir") to where its value came from.
    """

    profile: str = DEFAULT_PROFILE
    base_url: str = DEFAULT_BASE_URL
    # The server the profile itself names (its base_url or region), ignoring --base-url and
    # AGP_BASE_URL: the one a watchlist written before lists were keyed by server belongs to.
    profile_base_url: str = DEFAULT_BASE_URL
    api_key: Secret | None = None
    theme: str = _DEFAULTS.theme
    read_only: bool = _DEFAULTS.read_only
    allow_insecure_http: bool = _DEFAULTS.allow_insecure_http
    poll: PollSettings = field(default_factory=PollSettings)
    history: HistorySettings = field(default_factory=HistorySettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    follow: tuple[FollowRule, ...] = ()
    follow_interval: float = _DEFAULTS.follow_interval
    config_path: Path
    data_dir: Path
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    config_exists: bool = False
    profiles: tuple[str, ...] = (DEFAULT_PROFILE,)  # names --profile accepts
    warnings: tuple[str, ...] = ()  # one line each, for the CLI to print (e.g. file mode)

    @property
    def watchlist_path(self) -> Path:
        """This profile's watchlist on this server: `watchlist-PROFILE@SERVER_KEY.json`.

        Keyed by server too, so a `--base-url` run against a simulator never writes its ids
        into the real account's list (they would all show as not found there). Profile
        names hold no '@', so the name maps back to one (profile, server) pair.
        """
        return self.data_dir / f"watchlist-{self.profile}@{server_key(self.base_url)}.json"

    @property
    def legacy_watchlist_path(self) -> Path | None:
        """`watchlist-PROFILE.json`, the per-profile file of earlier versions, when it is ours.

        Such a file was written for the profile's own server, so only a run against that
        server adopts it; a one-off `--base-url`/`AGP_BASE_URL` elsewhere gets None.
        """
        if server_key(self.base_url) != server_key(self.profile_base_url):
            return None
        return self.data_dir / f"watchlist-{self.profile}.json"

    def source(self, name: str) -> str:
        return self.sources.get(name, "default")


def _env(env: Mapping[str, str], name: str) -> str | None:
    """An env var's value, with empty or blank counting as unset."""
    value = env.get(name, "").strip()
    return value or None


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def read_config_file(path: Path, *, explicit: bool = False) -> tuple[ConfigDocument, bool]:
    """Parse and validate the config file; (empty document, False) when it does not exist.

    `explicit` (the path came from --config) makes a missing file an error.
    """
    where = str(path)
    try:
        # Any file type (`--config <(...)` is a pipe), but never more than the cap.
        data, _ = read_file(path, MAX_CONFIG_BYTES, regular_only=False)
    except FileNotFoundError:
        if explicit:
            raise ConfigError(where, None, "no such file (given by --config)") from None
        return ConfigDocument(), False
    except OSError as exc:
        raise ConfigError(where, None, f"cannot read the config file: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(where, None, f"not UTF-8 text (bad byte at offset {exc.start})") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc)
        match = _TOML_POSITION.search(reason)
        if match:
            line, column = int(match[1]), int(match[2])
            reason = reason[: match.start()]
        else:  # "(at end of document)"
            last_line = text.rsplit("\n", 1)[-1]
            line, column = text.count("\n") + 1, len(last_line) + 1
            reason = reason.replace(" (at end of document)", " at end of document")
        raise ConfigError(
            where, f"line {line}, column {column}", f"invalid TOML: {reason}", line=line
        ) from None
    return parse_document(doc, file=where), True


def _known_profiles(doc: ConfigDocument) -> tuple[str, ...]:
    return tuple(doc.profiles) or (DEFAULT_PROFILE,)


def _select_profile(
    cli: CliOverrides, env: Mapping[str, str], doc: ConfigDocument, path: Path, exists: bool
) -> tuple[str, str]:
    known = _known_profiles(doc)
    listed = ", ".join(known)
    in_file = f"{path}" if exists else f"{path} (not found)"
    chosen = (
        (cli.profile, "flag --profile"),
        (_env(env, ENV_PROFILE), f"env {ENV_PROFILE}"),
    )
    for value, source in chosen:
        if value is None:
            continue
        if value in known:
            return value, source
        close = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(
            source, None, f"unknown profile {value!r}; {hint}profiles in {in_file}: {listed}"
        )
    if doc.default_profile is not None:
        if doc.default_profile in known:
            return doc.default_profile, f"default_profile in {path}"
        raise ConfigError.expected(
            str(path), "default_profile", f"one of the profiles in this file ({listed})",
            doc.default_profile,
        )
    if DEFAULT_PROFILE in known:
        return DEFAULT_PROFILE, "default"
    if len(known) == 1:
        return known[0], f"the only profile in {path}"
    raise ConfigError(
        str(path), "default_profile",
        f"several profiles ({listed}) and none chosen; set default_profile or pass --profile",
    )


def _flag_or_env_url(value: str, source: str) -> str:
    try:
        return normalize_base_url(value)
    except ValueError as exc:
        raise ConfigError.expected(source, None, f"an http(s) URL ({exc})", value) from None


def _resolve_base_url(
    cli: CliOverrides, env: Mapping[str, str], profile: Profile, from_profile: str
) -> tuple[str, str]:
    if cli.base_url is not None:
        return _flag_or_env_url(cli.base_url, "flag --base-url"), "flag --base-url"
    env_url = _env(env, ENV_BASE_URL)
    if env_url is not None:
        source = f"env {ENV_BASE_URL}"
        return _flag_or_env_url(env_url, source), source
    if profile.base_url is not None:  # already normalised; wins over region
        return profile.base_url, from_profile
    if profile.region is not None:
        return REGIONS[profile.region], f'{from_profile} via region "{profile.region}"'
    return DEFAULT_BASE_URL, "default"


def _resolve_api_key(
    cli: CliOverrides,
    env: Mapping[str, str],
    subprocess_env: Mapping[str, str] | None,
    profile: Profile,
    name: str,
    path: Path,
    from_profile: str,
) -> tuple[Secret | None, str]:
    if cli.api_key is not None:
        flag = cli.api_key.reveal() if isinstance(cli.api_key, Secret) else cli.api_key
        source = cli.api_key_source or "flag --api-key"
        return checked_key(flag, source, None), source
    for var in KEY_ENV_VARS:
        value = _env(env, var)
        if value is not None:
            return checked_key(value, f"env {var}", None), f"env {var}"
    if profile.api_key is not None:
        return profile.api_key, from_profile
    if profile.api_key_cmd is not None:
        key = run_key_command(
            profile.api_key_cmd,
            where=str(path),
            key=f"profiles.{name}.api_key_cmd",
            env=subprocess_env,
            timeout=API_KEY_CMD_TIMEOUT,
        )
        return key, f"command api_key_cmd of {from_profile}"
    hai_file = hai_env_path(env)
    stored = read_dotenv_value(hai_file, HAI_KEY_VAR)
    if stored is not None:
        return checked_key(stored, str(hai_file), HAI_KEY_VAR), f"file {hai_file}"
    tried = ["--api-key", *KEY_ENV_VARS, f"profile {name!r}", str(hai_file)]
    return None, "not set; tried " + ", ".join(tried)


def _exposed_key_warning(path: Path, doc: ConfigDocument) -> str | None:
    """A warning when the file holds an API key and its group or others may read it.

    Like ssh with a private key, but a warning rather than a refusal: the file is the
    user's, and refusing would lock them out over a mode bit.
    """
    if os.name != "posix" or not any(p.api_key is not None for p, _ in doc.profiles.values()):
        return None
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
    if not mode & 0o044:  # the read bits of group and others
        return None
    return (f"{path} holds an API key and is readable by group or others (mode {mode:04o}); "
            f"run: chmod 600 {path}")


def _config_path(cli: CliOverrides, env: Mapping[str, str] | None) -> tuple[Path, str]:
    if cli.config_path is not None:
        return cli.config_path.absolute(), "flag --config"
    directory, source = config_dir_with_source(env)
    return directory / _CONFIG_FILE_NAME, source


def load_settings(cli: CliOverrides | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the config file and env (default: `os.environ`) and resolve every setting.

    May run the profile's `api_key_cmd`. Raises ConfigError, whose str() is one line.
    """
    cli = cli if cli is not None else CliOverrides()
    environ: Mapping[str, str] = os.environ if env is None else env
    path, path_source = _config_path(cli, env)
    data_dir, data_source = data_dir_with_source(env)
    doc, exists = read_config_file(path, explicit=cli.config_path is not None)
    name, name_source = _select_profile(cli, environ, doc, path, exists)
    profile, present = doc.profiles.get(name, (_DEFAULTS, frozenset[str]()))
    from_profile = f"profile {name!r} in {path}"

    sources = {"config_path": path_source, "data_dir": data_source, "profile": name_source}
    base_url, sources["base_url"] = _resolve_base_url(cli, environ, profile, from_profile)
    profile_base_url, _ = _resolve_base_url(CliOverrides(), {}, profile, from_profile)
    api_key, sources["api_key"] = _resolve_api_key(
        cli, environ, env, profile, name, path, from_profile
    )
    for info in declared_keys():
        if info.dotted not in _RESOLVED_ELSEWHERE:
            sources[info.dotted] = from_profile if info.dotted in present else "default"
    exposed = _exposed_key_warning(path, doc) if exists else None
    allow_insecure_http = profile.allow_insecure_http
    if cli.allow_insecure_http is not None:
        allow_insecure_http = cli.allow_insecure_http
        sources["allow_insecure_http"] = "flag --allow-insecure-http"

    return Settings(
        profile=name,
        base_url=base_url,
        profile_base_url=profile_base_url,
        api_key=api_key,
        theme=profile.theme,
        read_only=profile.read_only,
        allow_insecure_http=allow_insecure_http,
        poll=profile.poll,
        history=profile.history,
        notify=profile.notify,
        limits=profile.limits,
        follow=profile.follow,
        follow_interval=profile.follow_interval,
        config_path=path,
        data_dir=data_dir,
        sources=MappingProxyType(sources),
        config_exists=exists,
        profiles=_known_profiles(doc),
        warnings=(exposed,) if exposed else (),
    )


def profile_names(
    cli: CliOverrides | None = None, env: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """The names `--profile` accepts, in file order ("default" alone when none are defined).

    Validates the whole file, like load_settings, but runs no command.
    """
    cli = cli if cli is not None else CliOverrides()
    path, _ = _config_path(cli, env)
    doc, _ = read_config_file(path, explicit=cli.config_path is not None)
    return _known_profiles(doc)
