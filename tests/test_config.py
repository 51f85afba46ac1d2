"""Config layer: files in tmp_path, env passed as mappings (os.environ is never touched)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import platformdirs
import pytest

from agp_tui.api.secret import Secret
from agp_tui.config import (
    DEFAULT_BASE_URL,
    REGIONS,
    CliOverrides,
    ConfigError,
    FollowRule,
    HistorySettings,
    NotifySettings,
    PollSettings,
    Profile,
    Settings,
    config_dir,
    data_dir,
    declared_keys,
    describe,
    hai_env_path,
    load_settings,
    normalize_base_url,
    profile_names,
)
from agp_tui.config.apikey import read_dotenv_value, run_key_command

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config.example.toml"
EU = REGIONS["eu"]
US = REGIONS["us"]
# Watchlist file names of each region: golden values, because a changed hash would hide
# every user's list behind a new, empty file.
EU_FILE = "watchlist-default@agp.eu.hcompany.ai-c93c1212.json"
US_KEY = "agp.hcompany.ai-b3c4767d"
KEY_FLAG = "hk-flag-0000000001"
KEY_H = "hk-henv-0000000002"
KEY_HAI = "hk-haienv-00000003"
KEY_PROFILE = "hk-profile-000004"
KEY_CMD = "hk-command-000005"
KEY_FILE = "hk-haifile-000006"
KEY_LINE = re.compile(r"(# )?\w+ = ")


# ---------------------------------------------------------------- helpers


def home_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment with only HOME, pointing into tmp_path."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), **extra}


def write_config(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(
    tmp_path: Path, toml: str | None = None, env: dict[str, str] | None = None, **cli: Any
) -> Settings:
    """load_settings with the given file text (as --config) and env (default: HOME only)."""
    if toml is not None:
        cli.setdefault("config_path", write_config(tmp_path, toml))
    return load_settings(CliOverrides(**cli), env if env is not None else home_env(tmp_path))


def config_error(tmp_path: Path, toml: str | None = None, **kwargs: Any) -> str:
    """The message of the ConfigError loading raises; asserted to be exactly one line."""
    with pytest.raises(ConfigError) as info:
        load(tmp_path, toml, **kwargs)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def python_cmd(code: str) -> str:
    """A command line running `code` with this interpreter, as api_key_cmd would hold it."""
    return shlex.join([sys.executable, "-c", code])


def write_hai_env(directory: Path, text: str) -> Path:
    path = directory / "hai" / ".env"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- defaults and paths


def test_no_config_file_gives_defaults(tmp_path: Path) -> None:
    env = home_env(tmp_path)
    s = load_settings(CliOverrides(), env)
    home = Path(env["HOME"])
    assert s.profile == "default"
    assert s.base_url == DEFAULT_BASE_URL == EU
    assert s.api_key is None
    assert s.theme == "textual-dark"
    assert (s.read_only, s.allow_insecure_http) == (False, False)
    assert s.poll == PollSettings(2.0, 3.0, 15.0, 600.0, 15.0, 0.1, 8, 20.0)
    assert s.history == HistorySettings(60, 10.0)
    assert s.notify == NotifySettings(toast=True, bell=False, desktop=False)
    assert s.config_path == home / ".config" / "agp-tui" / "config.toml"
    assert s.data_dir == home / ".local" / "share" / "agp-tui"
    assert s.config_exists is False
    assert s.profiles == ("default",)
    assert s.watchlist_path == s.data_dir / EU_FILE
    assert s.legacy_watchlist_path == s.data_dir / "watchlist-default.json"
    others = {k: v for k, v in s.sources.items() if k != "api_key"}
    assert set(others.values()) == {"default"}
    assert s.sources["api_key"].startswith("not set")


def test_every_effective_setting_has_a_source(tmp_path: Path) -> None:
    s = load(tmp_path)
    resolved_elsewhere = {"region", "base_url", "api_key", "api_key_cmd"}
    expected = {"profile", "base_url", "api_key", "config_path", "data_dir"} | {
        k.dotted for k in declared_keys() if k.dotted not in resolved_elsewhere
    }
    assert set(s.sources) == expected


def test_paths_follow_xdg_vars_in_the_env_mapping(tmp_path: Path) -> None:
    env = home_env(
        tmp_path, XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_DATA_HOME=str(tmp_path / "data")
    )
    assert config_dir(env) == tmp_path / "cfg" / "agp-tui"
    assert data_dir(env) == tmp_path / "data" / "agp-tui"
    (tmp_path / "cfg" / "agp-tui").mkdir(parents=True)
    write_config(tmp_path / "cfg" / "agp-tui", "[profiles.default]\ntheme = 'nord'\n")
    s = load_settings(CliOverrides(), env)
    assert s.config_path == tmp_path / "cfg" / "agp-tui" / "config.toml"
    assert s.config_exists and s.theme == "nord"
    assert s.sources["config_path"] == "env XDG_CONFIG_HOME"
    assert s.sources["data_dir"] == "env XDG_DATA_HOME"
    assert s.watchlist_path == tmp_path / "data" / "agp-tui" / EU_FILE


def test_relative_xdg_values_are_ignored_like_platformdirs(tmp_path: Path) -> None:
    env = home_env(tmp_path, XDG_CONFIG_HOME="relative/dir")
    assert config_dir(env) == Path(env["HOME"]) / ".config" / "agp-tui"


def test_without_env_mapping_paths_are_platformdirs() -> None:
    assert config_dir() == Path(platformdirs.user_config_dir("agp-tui"))
    assert data_dir() == Path(platformdirs.user_data_dir("agp-tui"))


def test_config_flag_overrides_location_and_missing_file_is_an_error(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[profiles.default]\nread_only = true\n", "elsewhere.toml")
    s = load(tmp_path, config_path=path)
    assert s.read_only and s.config_path == path
    assert s.sources["config_path"] == "flag --config"
    assert s.sources["read_only"] == f"profile 'default' in {path}"
    relative = load(tmp_path, config_path=Path(os.path.relpath(path)))
    assert relative.config_path.is_absolute() and relative.config_path.resolve() == path.resolve()
    missing = tmp_path / "nope.toml"
    message = config_error(tmp_path, config_path=missing)
    assert message == f"{missing}: no such file (given by --config)"


# ---------------------------------------------------------------- base URL


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://agp.eu.hcompany.ai", EU),
        ("https://agp.eu.hcompany.ai/", EU),
        ("https://agp.eu.hcompany.ai/api/v2", EU),
        ("https://agp.eu.hcompany.ai/api/v2/", EU),
        ("  HTTPS://AGP.hcompany.ai/api  ", US),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765/api/v2"),
        ("http://[::1]:8080/api/v2", "http://[::1]:8080/api/v2"),
        ("https://proxy.example/agp/", "https://proxy.example/agp/api/v2"),
    ],
)
def test_normalize_base_url(url: str, expected: str) -> None:
    assert normalize_base_url(url) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "empty"),
        ("agp.eu.hcompany.ai", "no scheme"),
        ("ftp://agp.eu.hcompany.ai", "http or https"),
        ("https://", "no host"),
        ("https://agp.eu.hcompany.ai/api/v1", "only API v2"),
        ("https://agp.eu.hcompany.ai/api/v2?x=1", "no query"),
        ("https://agp.eu.hcompany.ai:99999", "port"),
        ("https://agp eu.hcompany.ai", "spaces"),
        ("https://user:pw@agp.eu.hcompany.ai", "credentials"),
    ],
)
def test_normalize_base_url_rejects(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalize_base_url(url)


def test_base_url_precedence_flag_env_profile_region_default(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '[profiles.default]\nregion = "us"\nbase_url = "https://profile.example"\n',
    )
    env = home_env(tmp_path, AGP_BASE_URL="https://env.example/api/v2/")
    from_profile = f"profile 'default' in {path}"

    s = load(tmp_path, env=env, config_path=path, base_url="https://flag.example")
    assert (s.base_url, s.sources["base_url"]) == ("https://flag.example/api/v2", "flag --base-url")
    s = load(tmp_path, env=env, config_path=path)
    assert (s.base_url, s.sources["base_url"]) == ("https://env.example/api/v2", "env AGP_BASE_URL")
    s = load(tmp_path, config_path=path)  # base_url wins over region
    assert (s.base_url, s.sources["base_url"]) == ("https://profile.example/api/v2", from_profile)
    s = load(tmp_path, '[profiles.default]\nregion = "us"\n')
    assert s.base_url == US
    assert s.sources["base_url"] == f'{from_profile} via region "us"'
    s = load(tmp_path, '[profiles.default]\nregion = "eu"\n')
    assert s.base_url == EU
    s = load(tmp_path, "[profiles.default]\n")
    assert (s.base_url, s.sources["base_url"]) == (EU, "default")


def test_blank_env_values_count_as_unset(tmp_path: Path) -> None:
    s = load(tmp_path, env=home_env(tmp_path, AGP_BASE_URL="  ", H_API_KEY="", AGP_PROFILE=""))
    assert (s.base_url, s.api_key, s.profile) == (EU, None, "default")


def test_invalid_base_url_from_flag_or_env_names_it(tmp_path: Path) -> None:
    message = config_error(tmp_path, base_url="ftp://x.example")
    assert message.startswith("flag --base-url: expected an http(s) URL (")
    assert message.endswith("got 'ftp://x.example'")
    message = config_error(tmp_path, env=home_env(tmp_path, AGP_BASE_URL="agp.hcompany.ai"))
    assert message.startswith("env AGP_BASE_URL: expected an http(s) URL (")
    assert "'agp.hcompany.ai'" in message


# ---------------------------------------------------------------- watchlist file per server


def test_watchlist_is_keyed_by_profile_and_server(tmp_path: Path) -> None:
    sim = load(tmp_path, base_url="http://127.0.0.1:8765/api/v2").watchlist_path
    real = load(tmp_path).watchlist_path
    assert sim != real and sim.parent == real.parent
    # Readable at a glance in `ls`: profile, then host and port.
    assert re.fullmatch(r"watchlist-default@127\.0\.0\.1-8765-[0-9a-f]{8}\.json", sim.name)
    assert real.name == EU_FILE
    for spelling in ("http://127.0.0.1:8765", "http://127.0.0.1:8765/", "HTTP://127.0.0.1:8765/api/v2/",
                     "  http://127.0.0.1:8765/api  "):
        assert load(tmp_path, base_url=spelling).watchlist_path == sim, spelling
    env = home_env(tmp_path, AGP_BASE_URL="http://127.0.0.1:8765")
    assert load(tmp_path, env=env).watchlist_path == sim  # env or flag: the same server
    for same_as_default in ("https://AGP.EU.hcompany.ai", "https://agp.eu.hcompany.ai:443/api/v2/"):
        assert load(tmp_path, base_url=same_as_default).watchlist_path == real
    others = {
        load(tmp_path, base_url=url).watchlist_path
        for url in ("https://127.0.0.1:8765", "http://127.0.0.1:8766", "http://localhost:8765",
                    "https://agp.hcompany.ai", "https://agp.eu.hcompany.ai/proxy",
                    "https://agp.eu.hcompany.ai:8443")
    }
    assert len(others) == 6 and not others & {sim, real}  # scheme, port, host, path all count
    assert load(tmp_path, "[profiles.ci]\n").watchlist_path.name.startswith("watchlist-ci@")


def test_legacy_watchlist_belongs_to_the_profiles_own_server_only(tmp_path: Path) -> None:
    legacy = tmp_path / "home" / ".local" / "share" / "agp-tui" / "watchlist-default.json"
    assert load(tmp_path).legacy_watchlist_path == legacy
    # A one-off run against a simulator must not adopt the real account's list.
    assert load(tmp_path, base_url="http://127.0.0.1:8765").legacy_watchlist_path is None
    env = home_env(tmp_path, AGP_BASE_URL="http://127.0.0.1:8765")
    assert load(tmp_path, env=env).legacy_watchlist_path is None
    # The override names the profile's own server (spelled differently): still its list.
    assert load(tmp_path, base_url="https://agp.eu.hcompany.ai").legacy_watchlist_path == legacy
    # The profile's own server comes from its region or base_url in the file.
    us = '[profiles.default]\nregion = "us"\n'
    assert load(tmp_path, us).legacy_watchlist_path == legacy
    assert load(tmp_path, us).watchlist_path.name == f"watchlist-default@{US_KEY}.json"
    assert load(tmp_path, us, base_url="https://agp.eu.hcompany.ai").legacy_watchlist_path is None
    proxy = '[profiles.default]\nbase_url = "https://proxy.example/agp"\n'
    assert load(tmp_path, proxy).legacy_watchlist_path == legacy
    assert load(tmp_path, proxy, base_url=EU).legacy_watchlist_path is None


def test_config_command_prints_the_watchlist_path_it_uses(tmp_path: Path) -> None:
    s = load(tmp_path, base_url="http://127.0.0.1:8765")
    lines = describe(s).splitlines()
    assert lines[2] == f"watchlist    {s.watchlist_path}"
    assert "@127.0.0.1-8765-" in lines[2]


# ---------------------------------------------------------------- API key


def test_api_key_lookup_order_across_every_source(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    hai_file = write_hai_env(xdg, f"HAI_API_KEY={KEY_FILE}\n")
    profile_with_key = write_config(
        tmp_path, f"[profiles.default]\napi_key = {toml_str(KEY_PROFILE)}\n", "key.toml"
    )
    profile_with_cmd = write_config(
        tmp_path,
        f"[profiles.default]\napi_key_cmd = {toml_str(python_cmd(f'print({KEY_CMD!r})'))}\n",
        "cmd.toml",
    )
    base = home_env(tmp_path, XDG_CONFIG_HOME=str(xdg))
    both_envs = {**base, "H_API_KEY": KEY_H, "HAI_API_KEY": KEY_HAI}

    def key_and_source(env: dict[str, str], path: Path, flag: str | None = None) -> tuple[str, str]:
        s = load_settings(CliOverrides(config_path=path, api_key=flag), env)
        assert s.api_key is not None
        return s.api_key.reveal(), s.sources["api_key"]

    assert key_and_source(both_envs, profile_with_key, KEY_FLAG) == (KEY_FLAG, "flag --api-key")
    assert key_and_source(both_envs, profile_with_key) == (KEY_H, "env H_API_KEY")
    assert key_and_source({**base, "HAI_API_KEY": KEY_HAI}, profile_with_key) == (
        KEY_HAI,
        "env HAI_API_KEY",
    )
    assert key_and_source(base, profile_with_key) == (
        KEY_PROFILE,
        f"profile 'default' in {profile_with_key}",
    )
    assert key_and_source(base, profile_with_cmd) == (
        KEY_CMD,
        f"command api_key_cmd of profile 'default' in {profile_with_cmd}",
    )
    empty = write_config(tmp_path, "", "empty.toml")
    assert key_and_source(base, empty) == (KEY_FILE, f"file {hai_file}")
    s = load_settings(CliOverrides(config_path=empty), home_env(tmp_path))  # no hai file here
    assert s.api_key is None
    assert s.sources["api_key"].startswith("not set; tried --api-key, H_API_KEY, HAI_API_KEY")


def test_hai_env_file_xdg_then_home_fallback(tmp_path: Path) -> None:
    env = home_env(tmp_path)
    home_file = write_hai_env(Path(env["HOME"]) / ".config", f"export HAI_API_KEY='{KEY_FILE}'\n")
    assert hai_env_path(env) == home_file
    s = load(tmp_path, env=env)
    assert s.api_key == Secret(KEY_FILE)
    assert s.sources["api_key"] == f"file {home_file}"

    xdg = tmp_path / "xdg"
    xdg_file = write_hai_env(xdg, 'HAI_API_KEY="hk-from-xdg-file"\n')
    env_xdg = {**env, "XDG_CONFIG_HOME": str(xdg)}
    assert hai_env_path(env_xdg) == xdg_file
    s = load(tmp_path, env=env_xdg)
    assert s.api_key == Secret("hk-from-xdg-file")
    assert s.sources["api_key"] == f"file {xdg_file}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HAI_API_KEY=hk-plain-value\n", "hk-plain-value"),
        ('export HAI_API_KEY="hk-double-quoted"\n', "hk-double-quoted"),
        ("export HAI_API_KEY='hk-single-quoted'\n", "hk-single-quoted"),
        ("  HAI_API_KEY = hk-spaced   # a comment\n", "hk-spaced"),
        ("# HAI_API_KEY=hk-commented\nOTHER=x\nHAI_API_KEY=hk-real\n", "hk-real"),
        ("HAI_API_KEY=hk-first\nHAI_API_KEY=hk-second\n", "hk-first"),
        ("HAI_API_KEY_OLD=hk-no\n", None),
        ("HAI_API_KEY=\n", None),
        ("", None),
    ],
)
def test_dotenv_parsing(tmp_path: Path, text: str, expected: str | None) -> None:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    assert read_dotenv_value(path, "HAI_API_KEY") == expected


def test_missing_dotenv_file_is_no_key(tmp_path: Path) -> None:
    assert read_dotenv_value(tmp_path / "missing", "HAI_API_KEY") is None


def test_api_key_cmd_uses_first_stdout_line_and_no_shell(tmp_path: Path) -> None:
    # `;` and `$HOME` would mean something to a shell; here they are plain argv text.
    code = "import sys; print(sys.argv[1]); print('second line')"
    command = shlex.join([sys.executable, "-c", code, "hk-argv-$HOME;echo"])
    s = load(tmp_path, f"[profiles.default]\napi_key_cmd = {toml_str(command)}\n")
    assert s.api_key == Secret("hk-argv-$HOME;echo")


def test_api_key_cmd_is_not_run_when_a_higher_source_has_a_key(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    command = python_cmd(f"open({str(marker)!r}, 'w'); print('hk-unused-key')")
    toml = f"[profiles.default]\napi_key_cmd = {toml_str(command)}\n"
    s = load(tmp_path, toml, env=home_env(tmp_path, H_API_KEY=KEY_H))
    assert s.api_key == Secret(KEY_H)
    assert not marker.exists()


def test_failing_api_key_cmd_names_key_and_status_never_output(tmp_path: Path) -> None:
    code = "import sys; print('hk-leaked-secret'); print('hk-leaked-err', file=sys.stderr); sys.exit(3)"
    path = write_config(tmp_path, f"[profiles.work]\napi_key_cmd = {toml_str(python_cmd(code))}\n")
    message = config_error(tmp_path, config_path=path)
    assert message == f"{path}: profiles.work.api_key_cmd: command exited with status 3"
    assert "leaked" not in message


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        ("/definitely/not/a/command --flag", "command not found: '/definitely/not/a/command'"),
        (python_cmd("pass"), "command printed no key on its first line"),
        (python_cmd("print('hk has spaces')"), "first line is not a usable key"),
    ],
)
def test_api_key_cmd_other_failures(tmp_path: Path, command: str, problem: str) -> None:
    path = write_config(tmp_path, f"[profiles.default]\napi_key_cmd = {toml_str(command)}\n")
    message = config_error(tmp_path, config_path=path)
    assert message.startswith(f"{path}: profiles.default.api_key_cmd: ")
    assert problem in message
    assert "hk has spaces" not in message


def test_api_key_cmd_times_out(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"command timed out after 0.3 s") as info:
        run_key_command(
            python_cmd("import time; time.sleep(30)"),
            where="f.toml",
            key="profiles.x.api_key_cmd",
            timeout=0.3,
        )
    assert str(info.value).startswith("f.toml: profiles.x.api_key_cmd: ")


def test_api_key_cmd_with_unbalanced_quotes_is_rejected_at_load(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[profiles.default]\napi_key_cmd = \"pass show 'agp\"\n")
    message = config_error(tmp_path, config_path=path)
    assert message.startswith(f"{path}: profiles.default.api_key_cmd: expected a command line (")
    assert "quotation" in message


def test_cli_overrides_repr_hides_the_key() -> None:
    assert KEY_FLAG not in repr(CliOverrides(api_key=KEY_FLAG))


def test_bad_key_from_flag_or_env_is_rejected_without_echoing_it(tmp_path: Path) -> None:
    message = config_error(tmp_path, api_key="hk-with space-secret")
    assert message == "flag --api-key: expected a key without spaces or control characters"
    message = config_error(tmp_path, env=home_env(tmp_path, HAI_API_KEY="hk-bad\x1bsecret"))
    assert message.startswith("env HAI_API_KEY: expected") and "secret" not in message


def test_profile_may_not_set_both_api_key_and_command(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, '[profiles.default]\napi_key = "hk-aaaaaaaaaa"\napi_key_cmd = "pass show agp"\n'
    )
    message = config_error(tmp_path, config_path=path)
    assert message == (
        f"{path}: profiles.default.api_key_cmd: set either api_key or api_key_cmd, not both"
    )


def test_wrong_type_for_api_key_is_reported_without_value(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[profiles.default]\napi_key = 12345678901\n")
    message = config_error(tmp_path, config_path=path)
    assert message == f"{path}: profiles.default.api_key: expected a string, got <int, hidden>"


# ---------------------------------------------------------------- profiles

TWO_PROFILES = """
default_profile = "work"
[profiles.work]
region = "eu"
[profiles.personal]
region = "us"
theme = "nord"
"""


def test_profile_precedence_flag_env_default_profile(tmp_path: Path) -> None:
    path = write_config(tmp_path, TWO_PROFILES)
    env = home_env(tmp_path, AGP_PROFILE="personal")
    s = load(tmp_path, config_path=path)
    assert (s.profile, s.base_url, s.sources["profile"]) == (
        "work",
        EU,
        f"default_profile in {path}",
    )
    s = load(tmp_path, env=env, config_path=path)
    assert (s.profile, s.base_url, s.theme) == ("personal", US, "nord")
    assert s.sources["profile"] == "env AGP_PROFILE"
    assert s.sources["theme"] == f"profile 'personal' in {path}"
    s = load(tmp_path, env=env, config_path=path, profile="work")
    assert (s.profile, s.sources["profile"], s.theme) == ("work", "flag --profile", "textual-dark")
    assert s.watchlist_path.name == EU_FILE.replace("default", "work")
    assert s.profiles == ("work", "personal")
    assert profile_names(CliOverrides(config_path=path)) == ("work", "personal")


def test_profile_names_without_file(tmp_path: Path) -> None:
    assert profile_names(CliOverrides(), home_env(tmp_path)) == ("default",)


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"profile": "prod"}, "flag --profile"),
        ({"env": {"AGP_PROFILE": "prod"}}, "env AGP_PROFILE"),
    ],
)
def test_unknown_profile_from_flag_or_env_lists_known(
    tmp_path: Path, kwargs: dict[str, Any], where: str
) -> None:
    path = write_config(tmp_path, TWO_PROFILES)
    message = config_error(tmp_path, config_path=path, **kwargs)
    assert message == f"{where}: unknown profile 'prod'; profiles in {path}: work, personal"


def test_unknown_default_profile_lists_known(tmp_path: Path) -> None:
    path = write_config(tmp_path, TWO_PROFILES.replace('"work"', '"wrok"', 1))
    message = config_error(tmp_path, config_path=path)
    assert message == (
        f"{path}: default_profile: expected one of the profiles in this file (work, personal),"
        " got 'wrok'"
    )


def test_unknown_profile_without_config_file(tmp_path: Path) -> None:
    message = config_error(tmp_path, profile="work")
    assert "unknown profile 'work'" in message
    assert "(not found): default" in message


def test_profile_choice_without_default_profile(tmp_path: Path) -> None:
    s = load(tmp_path, "[profiles.solo]\nread_only = true\n")
    assert s.profile == "solo" and s.read_only
    assert s.sources["profile"].startswith("the only profile in ")
    s = load(tmp_path, "[profiles.default]\n[profiles.other]\nread_only = true\n")
    assert s.profile == "default" and not s.read_only
    path = write_config(tmp_path, "[profiles.a]\n[profiles.b]\n")
    message = config_error(tmp_path, config_path=path)
    assert message == (
        f"{path}: default_profile: several profiles (a, b) and none chosen;"
        " set default_profile or pass --profile"
    )


def test_settings_of_other_profiles_do_not_leak(tmp_path: Path) -> None:
    s = load(tmp_path, TWO_PROFILES, profile="work")
    assert s.theme == "textual-dark" and s.sources["theme"] == "default"


def test_profile_keys_record_their_source(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[profiles.default.poll]\nrunning = 5\n")
    s = load(tmp_path, config_path=path)
    assert s.poll.running == 5.0 and isinstance(s.poll.running, float)
    assert s.sources["poll.running"] == f"profile 'default' in {path}"
    assert s.sources["poll.pending"] == "default"


def test_allow_insecure_http_flag_overrides_profile(tmp_path: Path) -> None:
    s = load(tmp_path, "[profiles.default]\nallow_insecure_http = false\n", allow_insecure_http=True)
    assert s.allow_insecure_http
    assert s.sources["allow_insecure_http"] == "flag --allow-insecure-http"


# ---------------------------------------------------------------- errors: one line, file, key


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[profiles.work]\nregion = "eu"\ntheme "nord"\n')
    with pytest.raises(ConfigError) as info:
        load(tmp_path, config_path=path)
    message = str(info.value)
    assert message.startswith(f"{path}: line 3, column 7: invalid TOML: ")
    assert "\n" not in message
    assert info.value.line == 3


def test_toml_error_at_end_of_document(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[profiles.work]\ntheme = "nord')
    message = config_error(tmp_path, config_path=path)
    assert message.startswith(f"{path}: line ") and "invalid TOML" in message


@pytest.mark.parametrize(
    ("toml", "key", "hint"),
    [
        ("[profiles.work]\nbse_url = 'x'", "profiles.work.bse_url",
         "did you mean profiles.work.base_url?"),
        ("[profiles.work.poll]\nrunnig = 2", "profiles.work.poll.runnig",
         "did you mean profiles.work.poll.running?"),
        ("[profiles.work]\npending = 2", "profiles.work.pending",
         "did you mean profiles.work.poll.pending?"),
        ("[profiles.work.notfy]\nbell = true", "profiles.work.notfy",
         "did you mean profiles.work.notify?"),
        ("defalt_profile = 'work'", "defalt_profile", "did you mean default_profile?"),
        ("[profile.work]\nregion = 'eu'", "profile", "did you mean profiles?"),
        ("region = 'eu'", "region",
         "profile settings go in a profile table, e.g. profiles.default.region"),
        ("[profiles.work.history]\nzzz = 1", "profiles.work.history.zzz",
         "valid keys here: buckets, bucket_seconds"),
    ],
)
def test_unknown_keys_are_errors_with_a_suggestion(
    tmp_path: Path, toml: str, key: str, hint: str
) -> None:
    path = write_config(tmp_path, toml + "\n")
    assert config_error(tmp_path, config_path=path) == f"{path}: {key}: unknown key; {hint}"


@pytest.mark.parametrize(
    ("toml", "key", "expected", "got"),
    [
        ('[profiles.w.poll]\nrunning = "fast"', "poll.running", "a number of seconds > 0", "'fast'"),
        ("[profiles.w.poll]\npending = -1", "poll.pending", "a number of seconds > 0", "-1"),
        ("[profiles.w.poll]\nwaiting = 0", "poll.waiting", "a number of seconds > 0", "0"),
        ("[profiles.w.poll]\nslow_after = inf", "poll.slow_after", "a number of seconds > 0", "inf"),
        ("[profiles.w.poll]\njitter = 1.0", "poll.jitter", "a number from 0 up to (not including) 1", "1.0"),
        ("[profiles.w.poll]\nmax_in_flight = 2.5", "poll.max_in_flight", "an integer from 1 to 256", "2.5"),
        ("[profiles.w.poll]\nmax_rps = true", "poll.max_rps", "a number > 0", "True"),
        ("[profiles.w.history]\nbuckets = 0", "history.buckets", "an integer from 1 to 10000", "0"),
        ("[profiles.w.notify]\ntoast = 'yes'", "notify.toast", "true or false", "'yes'"),
        ('[profiles.w]\nregion = "asia"', "region", 'one of "eu", "us"', "'asia'"),
        ('[profiles.w]\ntheme = ""', "theme", "a non-empty string", "''"),
        ("[profiles.w]\nread_only = 1", "read_only", "true or false", "1"),
        ("[profiles.w]\npoll = 3", "poll", "a table [profiles.w.poll]", "3"),
    ],
)
def test_wrong_values_name_file_key_expectation_and_value(
    tmp_path: Path, toml: str, key: str, expected: str, got: str
) -> None:
    path = write_config(tmp_path, toml + "\n")
    message = config_error(tmp_path, config_path=path)
    assert message == f"{path}: profiles.w.{key}: expected {expected}, got {got}"


def test_bad_base_url_in_file_says_why(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[profiles.w]\nbase_url = "ftp://agp.hcompany.ai"\n')
    message = config_error(tmp_path, config_path=path)
    assert message == (
        f"{path}: profiles.w.base_url: expected an http(s) URL"
        " (the scheme must be http or https, not 'ftp'), got 'ftp://agp.hcompany.ai'"
    )


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('default_profile = 3\n', "default_profile"),
        ('profiles = "x"\n', "profiles"),
        ('[profiles."my work"]\n', "profiles.my work"),
        ('[profiles."a.b"]\n', "profiles.a.b"),
        ('profiles.w = 1\n', "profiles.w"),
    ],
)
def test_malformed_top_level(tmp_path: Path, toml: str, key: str) -> None:
    path = write_config(tmp_path, toml)
    assert config_error(tmp_path, config_path=path).startswith(f"{path}: {key}: expected ")


def test_long_or_multiline_values_stay_on_one_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[profiles.w]\nregion = """\nasia\n' + "x" * 200 + '"""\n')
    message = config_error(tmp_path, config_path=path)
    assert len(message) < len(str(path)) + 200 and message.endswith("…")


def test_unreadable_config_file(tmp_path: Path) -> None:
    path = tmp_path / "bin.toml"
    path.write_bytes(b"\xff\xfe[profiles]")
    assert config_error(tmp_path, config_path=path).startswith(f"{path}: not UTF-8 text")
    assert config_error(tmp_path, config_path=tmp_path).startswith(
        f"{tmp_path}: cannot read the config file: "
    )


# ---------------------------------------------------------------- declared keys and the example


def test_declared_defaults_pass_their_own_checks() -> None:
    keys = declared_keys()
    assert len({k.dotted for k in keys}) == len(keys)
    for info in keys:
        assert info.help and info.expects
        if info.default is not None:
            assert info.check(info.default) == info.default, info.dotted
    assert Profile().poll == PollSettings()  # sections default to their declared defaults


def test_example_file_documents_every_declared_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    lines = text.splitlines()
    sections = {"": "[profiles.work]"} | {
        s: f"[profiles.work.{s}]" for s in ("poll", "history", "notify", "limits")
    }
    for info in declared_keys():
        section, _, leaf = info.dotted.rpartition(".")
        header = lines.index(sections[section])
        end = next(
            (i for i in range(header + 1, len(lines)) if lines[i].startswith("[")), len(lines)
        )
        body = lines[header + 1 : end]
        hits = [i for i, ln in enumerate(body) if re.match(rf"(# )?{leaf} = ", ln)]
        assert hits, f"{info.dotted} missing from config.example.toml"
        start = hits[0]  # the help comment is the block of "# " lines right above the key
        while start > 0 and body[start - 1].startswith("# ") and not KEY_LINE.match(body[start - 1]):
            start -= 1
        help_block = body[start : hits[0]]
        assert any("Default" in ln for ln in help_block), f"{info.dotted}: no documented default"
    assert "default_profile = " in text


def test_example_file_loads_cleanly_with_default_values(tmp_path: Path) -> None:
    tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    s = load_settings(CliOverrides(config_path=EXAMPLE), home_env(tmp_path))
    defaults = load_settings(CliOverrides(), home_env(tmp_path))
    assert s.profile == "work"
    same = ("base_url", "api_key", "theme", "read_only", "allow_insecure_http", "poll",
            "history", "notify", "limits", "follow", "follow_interval")
    for name in same:
        assert getattr(s, name) == getattr(defaults, name), name
    us = load_settings(CliOverrides(config_path=EXAMPLE, profile="us"), home_env(tmp_path))
    assert (us.base_url, us.read_only, us.poll) == (US, True, PollSettings())
    assert us.follow == (FollowRule(group_id="nightly"),
                         FollowRule(agent="h/web-surfer-flash", status=("running",)),
                         FollowRule(filter="group:nightly-eval"))


# ---------------------------------------------------------------- describe


def test_describe_redacts_the_key_and_shows_sources(tmp_path: Path) -> None:
    raw = "hk-supersecretvalue-9f3a"
    path = write_config(tmp_path, TWO_PROFILES)
    env = home_env(tmp_path, H_API_KEY=raw, XDG_DATA_HOME=str(tmp_path / "data"))
    s = load(tmp_path, env=env, config_path=path, base_url="https://agp.hcompany.ai")
    text = describe(s)
    assert raw not in text and raw not in repr(s) and raw not in str(s.sources)
    assert "hk-…9f3a" in text
    lines = text.splitlines()
    assert lines[0] == f"config file  {path}  (exists; set by flag --config)"
    assert lines[1] == f"data dir     {tmp_path / 'data' / 'agp-tui'}  (set by env XDG_DATA_HOME)"
    assert lines[2] == f"watchlist    {tmp_path / 'data' / 'agp-tui' / f'watchlist-work@{US_KEY}.json'}"
    assert lines[3] == "profiles     work, personal"
    assert lines[4] == ""
    rows = {ln.split(" = ")[0].strip(): ln for ln in lines[5:]}
    assert '= "work" ' in rows["profile"]
    assert rows["profile"].endswith(f"(default_profile in {path})")
    assert f'"{US}"' in rows["base_url"] and rows["base_url"].endswith("(flag --base-url)")
    assert rows["api_key"].endswith("(env H_API_KEY)")
    assert rows["poll.max_in_flight"].split("=")[1].split()[0] == "8"
    assert rows["notify.toast"].split("=")[1].split()[0] == "true"
    assert rows["poll.pending"].endswith("(default)")
    keys_shown = set(rows)
    assert {k.dotted for k in declared_keys()} - keys_shown == {"region", "api_key_cmd"}


def test_describe_without_file_or_key(tmp_path: Path) -> None:
    text = describe(load(tmp_path))
    assert "(not found; built-in defaults apply)" in text
    assert "api_key" in text and "(none)" in text


def test_describe_escapes_control_characters(tmp_path: Path) -> None:
    s = load(tmp_path, '[profiles.default]\ntheme = "evil\\u001b[31m"\n')
    assert "\x1b" not in describe(s)
    assert '"evil\\u001b[31m"' in describe(s)


def test_importing_config_does_not_load_textual() -> None:
    code = "import sys, agp_tui.config; assert 'textual' not in sys.modules, 'textual imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# ---------------------------------------------------------------- auto-follow rules


def test_follow_rules_parse_from_arrays_of_tables(tmp_path: Path) -> None:
    s = load(tmp_path, """
[profiles.default]
follow_interval = 12

[[profiles.default.follow]]
agent = " h/web-surfer "
status = "running"

[[profiles.default.follow]]
group_id = "nightly"
status = ["idle", "awaiting_tool_results", "idle"]

[[profiles.default.follow]]
agent = "h/web-surfer"
status = ["running"]
""")
    assert s.follow == (
        FollowRule(agent="h/web-surfer", status=("running",)),  # the duplicate third rule is dropped
        FollowRule(group_id="nightly", status=("idle", "awaiting_tool_results")),
    )
    assert s.follow_interval == 12.0
    assert s.sources["follow"].startswith("profile 'default'")
    assert load(tmp_path).follow == ()
    assert load(tmp_path).follow_interval == 30.0
    rows = {ln.split(" = ")[0].strip(): ln for ln in describe(s).splitlines() if " = " in ln}
    assert ('[{agent = "h/web-surfer", status = ["running"]}, '
            '{group_id = "nightly", status = ["idle", "awaiting_tool_results"]}]') in rows["follow"]


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[[profiles.default.follow]]\nagnet = "x"\n', "rule 1: unknown key 'agnet'; did you mean agent?"),
        ('[[profiles.default.follow]]\nagent = "x"\n[[profiles.default.follow]]\nstatus = ["runing"]\n',
         "rule 2: unknown status 'runing'; did you mean 'running'?"),
        ('[[profiles.default.follow]]\nstatus = []\n', "rule 1: status must be a status or a list"),
        ('[[profiles.default.follow]]\nagent = ""\n', "rule 1: agent must be a non-empty string"),
        ('[[profiles.default.follow]]\ngroup_id = 7\n', "rule 1: group_id must be a non-empty string"),
        ('[profiles.default]\nfollow = [{}]\n', "rule 1 is empty"),
        ('[profiles.default]\nfollow = "h/web-surfer"\n', "(not a list of tables)"),
        ('[profiles.default]\nfollow = ["h/web-surfer"]\n', "rule 1 is not a table"),
    ],
)
def test_bad_follow_rules_are_one_line_errors(tmp_path: Path, toml: str, expected: str) -> None:
    message = config_error(tmp_path, toml)
    assert "profiles.default.follow: expected a list of [[follow]] tables" in message
    assert expected in message


def test_follow_interval_has_a_floor(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[profiles.default]\nfollow_interval = 1\n")
    assert message.endswith("profiles.default.follow_interval: expected a number of seconds >= 5, got 1")


@pytest.mark.parametrize(("table", "says"), [
    ({"filter": "group:nightly", "agent": "h/x"}, "a filter stands alone"),
    ({"filter": 3}, "filter must be a string"),
    ({"filter": "grup:x"}, "did you mean group:"),
    ({"filter": ""}, "empty filter"),
])
def test_a_bad_filter_rule_says_which_and_why(table: dict[str, object], says: str) -> None:
    from agp_tui.config.follow import parse_rule

    with pytest.raises(ValueError, match=f"rule 2: .*{says}"):
        parse_rule(table, 2)


def test_a_filter_rule_is_a_followed_query_not_an_auto_follow_rule() -> None:
    from agp_tui.config.follow import parse_rule

    rule = parse_rule({"filter": " group:nightly status:running "}, 1)
    assert rule.filter == "group:nightly status:running"
    query = rule.query(0.0)
    assert query is not None and query.group_id == "nightly" and query.statuses == ("running",)
    assert str(rule) == '{filter = "group:nightly status:running"}'
    assert parse_rule({"group_id": "g"}, 1).query() is None
