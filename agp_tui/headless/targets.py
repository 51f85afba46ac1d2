"""Which sessions a command is about: ids given, `-` for stdin, or the profile's watchlist."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from agp_tui.headless.codes import EXIT_ERROR, EXIT_USAGE
from agp_tui.headless.idinput import from_args_or_stdin, report_rejected
from agp_tui.headless.output import warn

if TYPE_CHECKING:
    from agp_tui.config import Settings
    from agp_tui.monitor.watchlist import Watchlist


def open_watchlist(settings: Settings) -> Watchlist:
    from agp_tui.monitor.watchlist import Watchlist

    return Watchlist(settings.watchlist_path, legacy=settings.legacy_watchlist_path)


def show_warnings(watchlist: Watchlist) -> None:
    for message in watchlist.take_warnings():
        warn(message)


def resolve_ids(raw: Sequence[str], settings: Settings) -> list[str] | int:
    """The ids to act on, or an exit code after printing why there are none.

    Malformed ids are all reported (one line each) and nothing is requested: exit 2.
    """
    from agp_tui.monitor.watchlist import WatchlistError

    parsed = from_args_or_stdin(raw, stdin_when_empty=False)
    if parsed.rejected:
        report_rejected(parsed.rejected)
        return EXIT_USAGE
    if raw:
        return parsed.ids
    watchlist = open_watchlist(settings)
    try:
        entries = watchlist.load()
    except WatchlistError as exc:
        show_warnings(watchlist)
        from agp_tui.headless.output import err

        err(str(exc))
        return EXIT_ERROR
    show_warnings(watchlist)
    return [e.id for e in entries]
