"""`agp-tui watchlist add|rm|ls|export|import`: the persistent watchlist of a profile and server.

The file is shared with running dashboards (they follow edits within seconds); every
change is a locked read-modify-write, so nothing another instance added is lost.

- `add ID...` / `rm ID...`: ids from arguments; `-`, or no id with stdin not a terminal,
  reads them from stdin (any format `import` takes). `add --label L` labels them, ids
  already on the list included (`--label ''` clears their label).
- `ls [--json]`: a table, or the same JSON array as `export`.
- `export`: `[{"id", "label", "pinned", "added_at"}]` (added_at: epoch seconds).
- `import [FILE|-]`: reads `export`/`ls --json`/`status --json`/`tree --json` output,
  `watch --json` lines, or plain ids one per line; labels and pins of new ids are kept,
  so `agp-tui watchlist ls --json | agp-tui --profile other watchlist import` round-trips.

Malformed ids are reported on stderr (one line each) and make the exit code 2, but the
valid ones are still added. Empty input (nothing piped) changes nothing and exits 0; no id
at all with stdin on a terminal is a usage error (2). 1 when the file cannot be read or
written. Confirmations, and warnings about the file (a corrupt file moved aside, invalid
entries ignored), go to stderr; no API key is needed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from agp_tui.config import Settings
from agp_tui.headless.codes import EXIT_ERROR, EXIT_OK, EXIT_USAGE, guarded
from agp_tui.headless.idinput import (
    MAX_INPUT_CHARS,
    Entry,
    InputError,
    Parsed,
    from_args_or_stdin,
    parse_text,
    read_stream,
    report_rejected,
    stdin_is_tty,
)
from agp_tui.headless.output import Style, dash, err, iso, out, table, warn
from agp_tui.headless.shortids import ShortIds
from agp_tui.monitor.watchlist import Watchlist, WatchlistError
from agp_tui.safefile import read_file

Action = Callable[[argparse.Namespace, Watchlist], int]


def open_watchlist(settings: Settings) -> Watchlist:
    return Watchlist(settings.watchlist_path, legacy=settings.legacy_watchlist_path)


def show_warnings(watchlist: Watchlist) -> None:
    for message in watchlist.take_warnings():
        warn(message)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    """Run `args.watchlist_action` (set by the parser) on the profile's loaded watchlist."""
    action = ACTIONS[args.watchlist_action]
    watchlist = open_watchlist(settings)
    try:
        watchlist.load()
        show_warnings(watchlist)
        return guarded(lambda: action(args, watchlist))
    except WatchlistError as exc:
        show_warnings(watchlist)
        err(str(exc))
        return EXIT_ERROR
    finally:
        show_warnings(watchlist)


def _short(watchlist: Watchlist) -> ShortIds:
    """Short ids name entries of this very watchlist (`rm 358bbbfd`), already loaded."""
    return ShortIds(watchlist.ids)


def _read_ids(args: argparse.Namespace, short: ShortIds) -> Parsed | None:
    """Ids from the arguments or stdin; None (after saying why) when there is no input at all."""
    if not args.ids and stdin_is_tty():
        err("no session ids given: pass ids, or pipe them on stdin")
        return None
    return from_args_or_stdin(args.ids, stdin_when_empty=True, short=short)


def _finish(parsed: Parsed, short: ShortIds) -> int:
    """2 if anything was not an id (after the valid ones were applied), else 0.

    Empty input is fine: `agp-tui ls --status running | cut -f1 | agp-tui watchlist add`
    with nothing running changes nothing and succeeds.
    """
    if parsed.rejected:
        report_rejected(parsed.rejected, short=short)
        return EXIT_USAGE
    if not parsed.entries:
        _say("no session ids in the input: nothing changed")
    return EXIT_OK


def _add(args: argparse.Namespace, watchlist: Watchlist) -> int:
    short = _short(watchlist)
    parsed = _read_ids(args, short)
    if parsed is None:
        return EXIT_USAGE
    if parsed.ids:
        # Without --label an id already listed keeps its label; with it, that label is the point.
        added, relabelled = watchlist.add_labelled(parsed.ids, args.label,
                                                   relabel=args.label is not None)
        _say(f"added {len(added)} of {len(parsed.ids)} to {watchlist.path}"
             + _already(len(parsed.ids) - len(added)))
        if relabelled:
            label = (args.label or "").strip()
            n = len(relabelled)
            _say(f"labelled {n} already on it: {label!r}" if label
                 else f"cleared the label of {n} already on it")
    return _finish(parsed, short)


def _rm(args: argparse.Namespace, watchlist: Watchlist) -> int:
    short = _short(watchlist)
    parsed = _read_ids(args, short)
    if parsed is None:
        return EXIT_USAGE
    if parsed.ids:
        removed = watchlist.remove(parsed.ids)
        missing = len(parsed.ids) - len(removed)
        _say(f"removed {len(removed)} of {len(parsed.ids)} from {watchlist.path}"
             + (f" ({missing} not on it)" if missing else ""))
    return _finish(parsed, short)


def _ls(args: argparse.Namespace, watchlist: Watchlist) -> int:
    if getattr(args, "json", False):
        return _export(args, watchlist)
    style = Style.detect()
    entries = watchlist.entries()
    if not entries:
        if style.tty:
            err(f"the watchlist is empty ({watchlist.path})")
        return EXIT_OK
    rows = [
        [e.id, dash(e.label), "yes" if e.pinned else "no",
         (iso(e.added_at) if e.added_at else None) or "-"]
        for e in entries
    ]
    for line in table(["ID", "LABEL", "PINNED", "ADDED"], rows, style, fit=((1, 0),)):
        out(line)
    return 0


def _export(args: argparse.Namespace, watchlist: Watchlist) -> int:
    out(watchlist.export_json())
    return 0


def _import(args: argparse.Namespace, watchlist: Watchlist) -> int:
    source = args.file
    if source in (None, "-"):
        if source is None and stdin_is_tty():
            err("import reads a FILE, or ids piped on stdin (`agp-tui watchlist export | ...`)")
            return EXIT_USAGE
        try:
            text = read_stream(sys.stdin)
        except InputError as exc:
            err(f"cannot read stdin: {exc}")
            return EXIT_USAGE
    else:
        try:
            # Any file type (`import <(...)`), but no more than the input cap.
            raw, _ = read_file(source, MAX_INPUT_CHARS, regular_only=False)
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            err(f"cannot read {source}: {reason}")
            return EXIT_USAGE
    short = _short(watchlist)
    try:
        parsed = parse_text(text, short)
    except InputError as exc:
        err(f"cannot read {source if source not in (None, '-') else 'stdin'}: {exc}")
        return EXIT_USAGE
    if parsed.entries:
        added = _add_entries(watchlist, parsed.entries)
        _say(f"imported {len(added)} of {len(parsed.entries)} into {watchlist.path}"
             + _already(len(parsed.entries) - len(added)))
    return _finish(parsed, short)


def _add_entries(watchlist: Watchlist, entries: list[Entry]) -> list[str]:
    """Add in order, one locked write per run of equal labels; pins are set afterwards."""
    added: list[str] = []
    run: list[Entry] = []
    for entry in [*entries, None]:
        if run and (entry is None or entry.label != run[0].label):
            added += watchlist.add([e.id for e in run], label=run[0].label)
            run = []
        if entry is not None:
            run.append(entry)
    new = set(added)
    for entry in entries:
        if entry.pinned and entry.id in new:
            watchlist.set_pinned(entry.id, True)
    return added


def _already(n: int) -> str:
    return f" ({n} already on it)" if n else ""


def _say(message: str) -> None:
    """Confirmations go to stderr, so stdout stays clean for pipes."""
    sys.stderr.write(message + "\n")


ACTIONS: dict[str, Action] = {"add": _add, "rm": _rm, "ls": _ls, "export": _export, "import": _import}
