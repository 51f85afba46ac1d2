"""`agp-tui config`: the resolved paths, then each effective setting with its source; key redacted."""

from __future__ import annotations

import json

from agp_tui.config.schema import declared_keys
from agp_tui.config.settings import Settings

_FROM_OTHER_KEYS = frozenset({"region", "base_url", "api_key", "api_key_cmd"})


def _value(value: object) -> str:
    """TOML-looking and safe to print: strings are quoted with control characters escaped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple):  # follow rules: a TOML array of inline tables
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _setting(settings: Settings, dotted: str) -> object:
    value: object = settings
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def describe(settings: Settings) -> str:
    """The text `agp-tui config` prints. The API key appears only as `Secret.redacted()`."""
    config_note = "exists" if settings.config_exists else "not found; built-in defaults apply"
    if settings.source("config_path") != "default":
        config_note += f"; set by {settings.source('config_path')}"
    data_note = ""
    if settings.source("data_dir") != "default":
        data_note = f"  (set by {settings.source('data_dir')})"
    paths = [
        ("config file", f"{settings.config_path}  ({config_note})"),
        ("data dir", f"{settings.data_dir}{data_note}"),
        ("watchlist", str(settings.watchlist_path)),
        ("profiles", ", ".join(settings.profiles)),
    ]
    key = settings.api_key
    rows: list[tuple[str, str]] = [
        ("profile", _value(settings.profile)),
        ("base_url", _value(settings.base_url)),
        ("api_key", key.redacted() if key else "(none)"),
    ]
    rows += [
        (info.dotted, _value(_setting(settings, info.dotted)))
        for info in declared_keys()
        if info.dotted not in _FROM_OTHER_KEYS
    ]
    path_width = max(len(label) for label, _ in paths)
    width = max(len(name) for name, _ in rows)
    value_width = max(len(value) for _, value in rows)
    lines = [f"{label:<{path_width}}  {text}" for label, text in paths]
    lines.append("")
    lines += [
        f"{name:<{width}} = {value:<{value_width}}  ({settings.source(name)})"
        for name, value in rows
    ]
    return "\n".join(lines)
