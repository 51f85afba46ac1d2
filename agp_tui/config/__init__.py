"""Configuration: `config.toml` profiles, env and CLI flags resolved into one frozen `Settings`.

Read by cli.py only and handed down; nothing below the CLI reads files or env itself.
Imports neither textual nor anything heavy beyond `agp_tui.api.secret`.
"""

from agp_tui.config.apikey import API_KEY_CMD_TIMEOUT
from agp_tui.config.describe import describe
from agp_tui.config.errors import ConfigError
from agp_tui.config.follow import FollowRule
from agp_tui.config.paths import config_dir, data_dir, default_config_path, hai_env_path
from agp_tui.config.schema import (
    HistorySettings,
    KeyInfo,
    LimitsSettings,
    NotifySettings,
    PollSettings,
    Profile,
    declared_keys,
)
from agp_tui.config.settings import (
    DEFAULT_PROFILE,
    CliOverrides,
    Settings,
    load_settings,
    profile_names,
)
from agp_tui.config.urls import DEFAULT_BASE_URL, REGIONS, normalize_base_url

__all__ = [
    "API_KEY_CMD_TIMEOUT",
    "DEFAULT_BASE_URL",
    "DEFAULT_PROFILE",
    "REGIONS",
    "CliOverrides",
    "ConfigError",
    "FollowRule",
    "HistorySettings",
    "KeyInfo",
    "LimitsSettings",
    "NotifySettings",
    "PollSettings",
    "Profile",
    "Settings",
    "config_dir",
    "data_dir",
    "declared_keys",
    "default_config_path",
    "describe",
    "hai_env_path",
    "load_settings",
    "normalize_base_url",
    "profile_names",
]
