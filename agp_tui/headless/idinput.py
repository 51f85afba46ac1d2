"""Reading session ids from arguments, files and stdin, in every shape our commands print.

Accepted input (`watchlist import`, and `-` for any command taking ids):
- JSON: `watchlist export` / `watchlist ls --json` / `ls --json` / `status --json` arrays
  (objects with an "id"), `tree --json` (ids of the whole tree), the watchlist file
  itself (`{"version": 1, "sessions": [...]}`), a list of id strings, or JSON lines
  such as `watch --json` output (objects whose "id" is null are skipped);
- plain text: ids or Agent View URLs separated by spaces, commas or newlines; a line
  whose tokens are not all ids contributes its first token (a row of `ls` or `status`
  output), and lines starting with `#` are comments.
Given a `ShortIds`, a short id (the start of a watched session's id, as the dashboard
shows it) stands for that session wherever an id is accepted.
Nothing is dropped silently: every token that is not an id is returned as rejected.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from agp_tui.api.ids import InvalidSessionId, session_id_from_token
from agp_tui.headless.output import err
from agp_tui.headless.shortids import MIN_DIGITS, ShortIds, is_short_id

_SPLIT = re.compile(r"[\s,;]+")
MAX_INPUT_CHARS = 16 * 1024 * 1024  # ~400,000 ids; stdin from /dev/zero must not fill memory


class InputError(Exception):
    """Input that cannot be read as ids at all (too large, nested too deep); one line."""


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    label: str | None = None
    pinned: bool = False


@dataclass(slots=True)
class Parsed:
    entries: list[Entry]
    rejected: list[str]

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.entries]


def _normalize(token: str) -> str | None:
    try:
        return session_id_from_token(token)  # the same rules as the dashboard's add dialog
    except InvalidSessionId:
        return None


class _Collector:
    def __init__(self, short: ShortIds | None = None) -> None:
        self.entries: dict[str, Entry] = {}
        self.rejected: list[str] = []
        self.short = short

    def normalize(self, raw: str) -> str | None:
        sid = _normalize(raw)
        if sid is None and self.short is not None:
            sid = self.short.resolve(raw)
        return sid

    def token(self, raw: str, label: str | None = None, pinned: bool = False) -> None:
        sid = self.normalize(raw)
        if sid is None:
            self.rejected.append(raw)
        elif sid not in self.entries:
            self.entries[sid] = Entry(sid, label, pinned)

    def result(self) -> Parsed:
        return Parsed(list(self.entries.values()), self.rejected)


def parse_tokens(tokens: Sequence[str], short: ShortIds | None = None) -> Parsed:
    """Command-line arguments: each may itself hold several ids (`a,b`) or be a URL."""
    c = _Collector(short)
    for arg in tokens:
        for token in _SPLIT.split(arg):
            if token:
                c.token(token)
    return c.result()


def parse_text(text: str, short: ShortIds | None = None) -> Parsed:
    """Any of the formats in the module docstring, detected from the text itself."""
    stripped = text.strip()
    c = _Collector(short)
    if stripped[:1] in ("[", "{"):
        docs = _json_docs(stripped)
        if docs is not None:
            for doc in docs:
                _walk_json(doc, c)
            return c.result()
    for line in text.splitlines():
        _plain_line(line, c)
    return c.result()


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:  # `[[[[…` thousands deep: no output of ours nests like that
        raise InputError("input JSON is nested too deeply to read") from None


def _json_docs(text: str) -> list[Any] | None:
    try:
        return [_loads(text)]
    except ValueError:
        pass
    docs = []
    for line in text.splitlines():  # JSON lines
        if not line.strip():
            continue
        try:
            docs.append(_loads(line))
        except ValueError:
            return None
    return docs


def _walk_json(doc: Any, c: _Collector) -> None:
    """Ids in any JSON we print, in document order; a loop, not recursion."""
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            c.token(node)
        elif isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, Mapping):
            if isinstance(node.get("sessions"), list):  # the watchlist file itself
                stack.append(node["sessions"])
                continue
            if isinstance(node.get("root"), Mapping):  # tree --json
                stack.append(node["root"])
                continue
            sid = node.get("id")
            if isinstance(sid, str):
                label = node.get("label")
                c.token(sid, label if isinstance(label, str) else None, node.get("pinned") is True)
            elif sid is not None:
                c.rejected.append(json.dumps(sid)[:60])
            children = node.get("children")
            if isinstance(children, list):  # tree nodes; a status row's child id strings are not walked
                stack.extend(reversed([n for n in children if isinstance(n, Mapping)]))
        else:
            c.rejected.append(json.dumps(node)[:60])


def _plain_line(line: str, c: _Collector) -> None:
    text = line.strip()
    if not text or text.startswith("#"):
        return
    tokens = [t for t in _SPLIT.split(text) if t]
    if all(c.normalize(t) is not None for t in tokens):
        for t in tokens:
            c.token(t)
    else:
        c.token(tokens[0])  # a table row: the id is its first column


def read_stream(stream: IO[str] | None) -> str:
    """All of stdin (or another stream), up to MAX_INPUT_CHARS; past that an InputError."""
    if stream is None:
        return ""
    text = stream.read(MAX_INPUT_CHARS + 1)
    if len(text) > MAX_INPUT_CHARS:
        raise InputError(f"input larger than {MAX_INPUT_CHARS // (1024 * 1024)} MB; nothing was read")
    return text


def stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, AttributeError):
        return False


def from_args_or_stdin(
    args: Sequence[str], *, stdin_when_empty: bool, short: ShortIds | None = None
) -> Parsed:
    """Ids from `args`; `-` reads stdin, as does no argument at all when stdin is not a tty
    and `stdin_when_empty` is set."""
    if list(args) == ["-"] or (not args and stdin_when_empty and not stdin_is_tty()):
        return parse_text(read_stream(sys.stdin), short)
    if "-" in args:
        parsed = parse_tokens([a for a in args if a != "-"], short)
        more = parse_text(read_stream(sys.stdin), short)
        seen = set(parsed.ids)
        parsed.entries += [e for e in more.entries if e.id not in seen]
        parsed.rejected += more.rejected
        return parsed
    return parse_tokens(args, short)


EXPECTED = "(expected a UUID or an Agent View URL)"
_URL_EXPECTED = "(an Agent View URL must be a link on hcompany.ai)"
_SHORT_EXPECTED = (f"(expected a UUID, an Agent View URL, or {MIN_DIGITS}+ characters of a watched "
                   "session's id)")
_HEXISH = re.compile(r"[0-9a-f-]*[0-9a-f][0-9a-f-]*", re.IGNORECASE)


def _expected(token: str) -> str:
    if "://" in token:
        return _URL_EXPECTED
    return _SHORT_EXPECTED if _HEXISH.fullmatch(token) else EXPECTED  # a short id, too short


def _shown(token: str, width: int = 60) -> str:
    return repr(token if len(token) <= width else token[: width - 3] + "...")


def report_rejected(rejected: Sequence[str], limit: int = 3, short: ShortIds | None = None) -> None:
    """A line per rejected token while there are few; past `limit`, one summary line.

    Ten thousand pasted tokens must not become ten thousand lines that bury the one
    saying what was added. With `short`, a short id that names no single watched session
    says what it matched (nothing, or which ids), not merely "not a session id".
    """
    if len(rejected) <= limit:
        for token in rejected:
            if short is not None and is_short_id(token):
                err(short.why(token))
            else:
                err(f"not a session id: {_shown(token)} {_expected(token)}")
        return
    examples = ", ".join(_shown(t, 40) for t in rejected[:limit])
    err(f"{len(rejected)} inputs are not session ids {EXPECTED}, e.g. {examples} "
        f"and {len(rejected) - limit} more")
