"""Which sessions a command is about: ids given, `-` for stdin, or the profile's watchlist."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from agp_tui.headless.codes import EXIT_ERROR, EXIT_USAGE
from agp_tui.headless.idinput import from_args_or_stdin, parse_tokens, report_rejected
from agp_tui.headless.output import err, warn
from agp_tui.headless.shortids import ShortIds

if TYPE_CHECKING:
    from agp_tui.config import Settings
    from agp_tui.monitor.watchlist import Watchlist


def open_watchlist(settings: Settings) -> Watchlist:
    from agp_tui.monitor.watchlist import Watchlist

    return Watchlist(settings.watchlist_path)


def show_warnings(watchlist: Watchlist) -> None:
    for message in watchlist.take_warnings():
        warn(message)


def short_ids(settings: Settings) -> ShortIds:
    """Short ids resolved against the profile's watchlist, read only if one is given."""

    def watched() -> list[str]:
        from agp_tui.monitor.watchlist import WatchlistError

        watchlist = open_watchlist(settings)
        try:
            entries = watchlist.load()
        except WatchlistError as exc:  # the short id then matches nothing, and says so
            warn(f"short ids cannot be looked up: {exc}")
            entries = []
        show_warnings(watchlist)
        return [e.id for e in entries]

    return ShortIds(watched)


def resolve_ids(raw: Sequence[str], settings: Settings) -> list[str] | int:
    """The ids to act on, or an exit code after printing why there are none.

    Malformed ids, and short ids that name no single watched session, are all reported
    (one line each) and nothing is requested: exit 2.
    """
    from agp_tui.monitor.watchlist import WatchlistError

    short = short_ids(settings)
    parsed = from_args_or_stdin(raw, stdin_when_empty=False, short=short)
    if parsed.rejected:
        report_rejected(parsed.rejected, short=short)
        return EXIT_USAGE
    if raw:
        return parsed.ids
    watchlist = open_watchlist(settings)
    try:
        entries = watchlist.load()
    except WatchlistError as exc:
        show_warnings(watchlist)
        err(str(exc))
        return EXIT_ERROR
    show_warnings(watchlist)
    return [e.id for e in entries]


def resolve_one(token: str, settings: Settings) -> str | int:
    """One session id (a UUID, an Agent View URL or a short id), or 2 after saying why."""
    short = short_ids(settings)
    parsed = parse_tokens([token], short)
    if parsed.rejected or len(parsed.ids) != 1:
        report_rejected(parsed.rejected or [token], short=short)
        return EXIT_USAGE
    return parsed.ids[0]
