"""Terminal escape sequences the dashboard writes itself: clipboard, bell, desktop notifications.

Pure functions, so every byte is unit-tested. Rules:
- nothing from the server goes into a sequence unsanitised: `clean()` drops every control
  character (C0, DEL, C1, so no ESC, BEL or ST can end a sequence early) and caps the length;
- inside tmux (`TMUX` set) a sequence tmux would swallow is wrapped for passthrough:
  `ESC P tmux; <sequence with each ESC doubled> ESC \\` (needs `allow-passthrough on`);
- the environment is a mapping handed in by the caller (the CLI passes `os.environ`).
"""

from __future__ import annotations

import base64
import unicodedata
from collections.abc import Mapping
from urllib.parse import urlsplit

ESC = "\x1b"
BEL = "\x07"
ST = ESC + "\\"
# The only variables the dashboard looks at (the app keeps these and drops the rest).
ENV_KEYS = ("TMUX", "TERM", "TERM_PROGRAM", "VTE_VERSION", "DISPLAY", "WAYLAND_DISPLAY",
            "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY")
NOTIFY_LIMIT = 200  # characters of a desktop notification's title or body
CLIPBOARD_LIMIT = 64 * 1024  # bytes copied at most; terminals cap OSC 52 around 100 kB


def clean(text: object, limit: int = NOTIFY_LIMIT) -> str:
    """One line of printable text: control characters dropped, whitespace collapsed, capped."""
    s = "" if text is None else str(text)
    # Only the head of a huge string can survive the cap: do not scan 100 KB for 200 chars.
    s = s[: limit * 4 + 4096]
    s = "".join(" " if ch.isspace() else ch for ch in s if not _control(ch))
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: max(limit - 1, 0)] + "…"


def _control(ch: str) -> bool:
    if ch in " \t\n\r":
        return False  # kept as spaces
    cat = unicodedata.category(ch)
    # Cc: C0, DEL, C1 (ESC, BEL, 0x9c ST ...); Cf: bidi overrides and zero-width marks;
    # Cs: a lone surrogate (JSON can carry one) cannot be encoded for the terminal at all.
    return cat in ("Cc", "Cf", "Cs")


def in_tmux(env: Mapping[str, str]) -> bool:
    return bool(env.get("TMUX"))


def tmux_wrap(seq: str) -> str:
    """`seq` as a tmux passthrough (DCS) string: inner ESCs doubled, ended by ST."""
    return f"{ESC}Ptmux;{seq.replace(ESC, ESC + ESC)}{ST}"


def for_terminal(seq: str, env: Mapping[str, str]) -> str:
    """`seq` ready to write: wrapped for tmux passthrough when running inside tmux."""
    return tmux_wrap(seq) if in_tmux(env) else seq


# -- clipboard ----------------------------------------------------------------------------


def clip(text: str) -> str:
    """`text` cut to what a clipboard sequence carries (`CLIPBOARD_LIMIT` bytes of UTF-8),
    never in the middle of a character."""
    data = text.encode("utf-8")
    if len(data) <= CLIPBOARD_LIMIT:
        return text
    return data[:CLIPBOARD_LIMIT].decode("utf-8", errors="ignore")


def osc52(text: str) -> str:
    """Set the system clipboard (`c`) to `text`: `ESC ] 52 ; c ; <base64> BEL`.

    Base64 cannot carry a control character into the terminal, so `text` needs no cleaning.
    """
    data = text.encode("utf-8")[:CLIPBOARD_LIMIT]
    return f"{ESC}]52;c;{base64.b64encode(data).decode('ascii')}{BEL}"


def copy_sequence(text: str, env: Mapping[str, str]) -> str:
    """What to write to copy `text`. Inside tmux, both the plain sequence (taken by tmux when
    `set-clipboard on`) and the passthrough one (`allow-passthrough on`): setting the
    clipboard twice to the same text is harmless, and either tmux setting then works."""
    seq = osc52(text)
    return seq + tmux_wrap(seq) if in_tmux(env) else seq


# -- bell and desktop notifications ---------------------------------------------------------


def bell() -> str:
    """BEL: tmux forwards bells by itself (bell-action), so it is never wrapped."""
    return BEL


def osc9(body: str) -> str:
    """iTerm2 / Windows Terminal / WezTerm / kitty / Ghostty: `ESC ] 9 ; <body> BEL`.

    A body starting with a digit and `;` reads as another OSC 9 command (e.g. `9;4` is a
    progress bar in Windows Terminal), so such a body gets a leading space.
    """
    text = clean(body)
    if text[:1].isdigit():
        text = " " + text
    return f"{ESC}]9;{text}{BEL}"


def osc777(title: str, body: str) -> str:
    """rxvt-unicode / foot / VTE terminals / Ghostty: `ESC ] 777 ; notify ; <title> ; <body> BEL`.

    `;` separates the fields, so the title may not hold one (the body, last, may).
    """
    return f"{ESC}]777;notify;{clean(title).replace(';', ',')};{clean(body)}{BEL}"


def desktop_kind(env: Mapping[str, str]) -> str:
    """`osc777` for terminals that only understand that one, else `osc9`."""
    term = env.get("TERM", "")
    if env.get("VTE_VERSION") or term.startswith(("rxvt", "foot")):
        return "osc777"
    return "osc9"


def desktop_notification(title: str, body: str, env: Mapping[str, str]) -> str:
    """One desktop notification, in the dialect this terminal speaks, tmux-wrapped if needed."""
    if desktop_kind(env) == "osc777":
        seq = osc777(title, body)
    else:
        seq = osc9(f"{clean(title)}: {clean(body)}" if title else body)
    return for_terminal(seq, env)


# -- links and browsers ---------------------------------------------------------------------


def safe_url(url: object) -> str | None:
    """`url` if it is a plain http(s) URL fit for a link or a browser, else None."""
    if not isinstance(url, str) or len(url) > 2048:
        return None
    if any(_control(ch) or ch.isspace() for ch in url):
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url


def has_local_display(env: Mapping[str, str], platform: str) -> bool:
    """Whether a browser opened here would show up in front of the user.

    Never over SSH (the browser would open on the remote box); on macOS and Windows there
    is always a desktop; elsewhere an X11 or Wayland display must be set.
    """
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY") or env.get("SSH_CLIENT"):
        return False
    if platform == "darwin" or platform.startswith("win"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
