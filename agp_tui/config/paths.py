"""Where agp-tui keeps its files, resolved from an env mapping so tests can point XDG at tmp dirs.

With `env=None` the answer is exactly platformdirs'. With a mapping, the XDG variables and HOME
are read from it (the rules platformdirs applies on Linux); on Windows, and on macOS without
an XDG override, the platform default from platformdirs is used.
"""

from __future__ import annotations

import os
import posixpath
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import platformdirs

APP_NAME = "agp-tui"
CONFIG_FILE_NAME = "config.toml"


def _user_dir(
    env: Mapping[str, str] | None,
    xdg_var: str,
    home_relative: str,
    platform_default: Callable[[str], str],
) -> tuple[Path, str]:
    """The directory and where it came from ("env XDG_…" or "default")."""
    if env is None or sys.platform == "win32":
        return Path(platform_default(APP_NAME)), "default"
    xdg = env.get(xdg_var, "")
    if posixpath.isabs(xdg):  # platformdirs ignores relative XDG values, as the spec asks
        return Path(xdg) / APP_NAME, f"env {xdg_var}"
    home = env.get("HOME", "")
    if sys.platform != "darwin" and posixpath.isabs(home):
        return Path(home) / home_relative / APP_NAME, "default"
    return Path(platform_default(APP_NAME)), "default"


def config_dir_with_source(env: Mapping[str, str] | None = None) -> tuple[Path, str]:
    return _user_dir(env, "XDG_CONFIG_HOME", ".config", platformdirs.user_config_dir)


def data_dir_with_source(env: Mapping[str, str] | None = None) -> tuple[Path, str]:
    return _user_dir(env, "XDG_DATA_HOME", ".local/share", platformdirs.user_data_dir)


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """`platformdirs.user_config_dir("agp-tui")`, honouring XDG_CONFIG_HOME in `env`."""
    return config_dir_with_source(env)[0]


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """`platformdirs.user_data_dir("agp-tui")` (watchlists live here), honouring XDG_DATA_HOME."""
    return data_dir_with_source(env)[0]


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """The config file used when no `--config PATH` is given."""
    return config_dir(env) / CONFIG_FILE_NAME


def home_dir(env: Mapping[str, str]) -> Path:
    home = env.get("HOME", "")
    return Path(home) if home else Path.home()


def hai_env_path(env: Mapping[str, str] | None = None) -> Path:
    """The dotenv file `hai login` writes: `$XDG_CONFIG_HOME/hai/.env`, else `~/.config/hai/.env`.

    Same rule as the official SDK's `hai_agents.client.credentials_path()`.
    """
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(home_dir(env) / ".config")
    return Path(base) / "hai" / ".env"
