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


def watched_ids(settings: Settings) -> list[str] | str:
    """The ids on the profile's watchlist, or why it cannot be read; its warnings (a corrupt
    file moved aside, entries ignored) are shown either way.

    The one import not at the top of the headless modules: `status ID` with full ids (the
    start-up the budget measures) never reads the watchlist, and importing the module alone
    costs it ~10-20 ms, about 5% of its start-up.
    """
    from agp_tui.monitor.watchlist import Watchlist, WatchlistError

    watchlist = Watchlist(settings.watchlist_path, legacy=settings.legacy_watchlist_path)
    try:
        return [e.id for e in watchlist.load()]
    except WatchlistError as exc:
        return str(exc)
    finally:
        for message in watchlist.take_warnings():
            warn(message)


def short_ids(settings: Settings) -> ShortIds:
    """Short ids resolved against the profile's watchlist, read only if one is given."""

    def watched() -> list[str]:
        found = watched_ids(settings)
        if isinstance(found, str):  # the short id then matches nothing, and says so
            warn(f"short ids cannot be looked up: {found}")
            return []
        return found

    return ShortIds(watched)


def resolve_ids(raw: Sequence[str], settings: Settings) -> list[str] | int:
    """The ids to act on, or an exit code after printing why there are none.

    Malformed ids, and short ids that name no single watched session, are all reported
    (one line each) and nothing is requested: exit 2.
    """
    short = short_ids(settings)
    parsed = from_args_or_stdin(raw, stdin_when_empty=False, short=short)
    if parsed.rejected:
        report_rejected(parsed.rejected, short=short)
        return EXIT_USAGE
    if raw:
        return parsed.ids
    found = watched_ids(settings)
    if isinstance(found, str):
        err(found)
        return EXIT_ERROR
    return found


def report_nothing(raw: Sequence[str], settings: Settings) -> None:
    """Say why a command that acts on sessions has none: the watchlist is empty, or the
    input named no session. Not an error (exit 0, `[]` or a `done` line for --json): a
    pipeline whose first stage found nothing (`agp-tui ls --status running | cut -f1 |
    agp-tui watch -`) has nothing to look at or wait for, as `watchlist add` with empty
    input changes nothing and succeeds; this line on stderr tells a person why."""
    if raw:
        err("no session ids in the input: nothing to do")
    else:
        err(f"the watchlist is empty ({settings.watchlist_path}); give session ids or add some "
            "with `agp-tui watchlist add ID`")


def resolve_one(token: str, settings: Settings) -> str | int:
    """One session id (a UUID, an Agent View URL or a short id), or 2 after saying why."""
    short = short_ids(settings)
    parsed = parse_tokens([token], short)
    if parsed.rejected or len(parsed.ids) != 1:
        report_rejected(parsed.rejected or [token], short=short)
        return EXIT_USAGE
    return parsed.ids[0]
