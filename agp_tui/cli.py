"""`agp-tui`: argument parsing, config resolution, and the choice of dashboard or headless.

Textual is imported only on the dashboard path, so headless commands start fast.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any, cast

from agp_tui import __version__

if TYPE_CHECKING:
    from pathlib import Path

    from agp_tui.api.query import SessionQuery
    from agp_tui.api.secret import Secret
    from agp_tui.config import CliOverrides, Settings

Handler = Callable[[argparse.Namespace, "Settings"], int]

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # what a shell reports for a command killed by SIGPIPE (128 + 13)


class _Parser(argparse.ArgumentParser):
    """argparse, minus its habit of swallowing write errors.

    `--help` and `--version` write through `_print_message`, which ignores OSError: with
    unbuffered output (PYTHONUNBUFFERED) `agp-tui --help | true` then "succeeds", and
    buffered, the lost text fails again at interpreter exit as a traceback and exit 120.
    Letting BrokenPipeError through sends it to `main`, which makes it a quiet 141.
    """

    def _print_message(self, message: str, file: IO[str] | None = None) -> None:  # type: ignore[override]
        if not message:
            return
        try:
            (file or sys.stderr).write(message)
        except BrokenPipeError:
            raise
        except (AttributeError, OSError):
            pass


class _CommandParser(_Parser):
    """A subcommand's parser: an argument it does not know is its own usage error.

    By default argparse hands a subcommand's leftovers back to the top-level parser, which
    then prints *its* usage (`agp-tui [-h] [--version] ...`) for `agp-tui ls --bogus`:
    the one usage that does not help.
    """

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def _secret(value: str) -> Secret:
    from agp_tui.api.secret import Secret

    return Secret(value)


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """Global options, accepted before or after the subcommand."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--base-url", metavar="URL", default=default,
                        help="API base URL, host alone or with /api/v2 (env AGP_BASE_URL)")
    # Wrapped at parse time: the Namespace (printed by anything that shows locals) never
    # holds the raw key.
    parser.add_argument("--api-key", metavar="KEY", default=default, type=_secret,
                        help="API key, or '-' to read it from the first line of stdin (else "
                             "H_API_KEY, HAI_API_KEY, profile, `hai login`). A key given here "
                             "is visible to other users in `ps` while agp-tui runs: prefer "
                             "--api-key-file, '-' or H_API_KEY on shared machines")
    parser.add_argument("--api-key-file", metavar="PATH", default=default,
                        help="read the API key from the first line of PATH (a file, or "
                             "<(pass show agp))")
    parser.add_argument("--profile", metavar="NAME", default=default,
                        help="config profile (env AGP_PROFILE)")
    parser.add_argument("--config", metavar="PATH", default=default, help="config file to read")
    parser.add_argument("--allow-insecure-http", action="store_true",
                        default=argparse.SUPPRESS if suppress else False,
                        help="allow sending the key over plain http to a non-loopback host")


def build_parser(*, dashboard_ids: bool = False) -> argparse.ArgumentParser:
    """The full parser; with `dashboard_ids`, the dashboard's `agp-tui [options] ID...` form.

    One parser cannot have both: argparse gives positionals to the top-level `ids` first,
    so `agp-tui status ID` would parse as ids=["status"], command=ID.
    """
    parser = _Parser(
        prog="agp-tui",
        description="Watch AI-agent sessions on H Company's Agent Platform from a terminal.",
        epilog="With no command, opens the dashboard. `agp-tui COMMAND --help` for each command.",
    )
    parser.add_argument("--version", action="version", version=f"agp-tui {__version__}")
    _global_options(parser)
    parser.add_argument("--demo", action="store_true",
                        help="run against a built-in simulator of the AGP API (no account needed)")
    parser.add_argument("--read-only", action="store_true", default=None,
                        help="disable every action that changes a session")
    parser.add_argument("--discover", action="store_true",
                        help="open the dashboard on the session browser (GET /sessions)")
    parser.add_argument("--follow", action="append", default=[], metavar="FILTER",
                        help='follow every session matching a filter as one live row, e.g. '
                             '"group:nightly" or "agent:h/web-surfer status:running" (repeatable)')
    parser.add_argument("--batch", action="append", default=[], metavar="SPEC", dest="batches",
                        help="with --demo: the simulator also runs a batch job, followed as a group, "
                             "e.g. size=2000,group=nightly,rate=20,start=-60 (see `agp-tui sim "
                             "--help`; repeatable)")
    if dashboard_ids:
        parser.add_argument("ids", nargs="*", metavar="ID", help="session ids to watch")
        return parser
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, suppress=True)
    # Typed as plain parsers: the headless modules only need the ArgumentParser interface.
    sub = cast("argparse._SubParsersAction[argparse.ArgumentParser]", parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_CommandParser))
    cfg = sub.add_parser("config", parents=[common], help="show config paths and effective settings")
    cfg.set_defaults(handler=_cmd_config)
    sub.add_parser("sim", help="run the AGP simulator in the foreground (see `agp-tui sim --help`)",
                   add_help=False)
    from agp_tui.headless.parser import register

    register(sub, common)
    return parser


_VALUE_OPTIONS = frozenset({"--base-url", "--api-key", "--api-key-file", "--profile", "--config", "--follow",
                            "--batch"})
STDIN = "-"
# Commands that keep running, and with them their command line in `ps`.
_LONG_RUNNING = frozenset({None, "watch"})


def _first_positional(argv: Sequence[str]) -> str | None:
    """The first argument that is neither an option nor an option's value."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token == "--":
            return None
        elif token in _VALUE_OPTIONS:
            skip = True
        elif not token.startswith("-"):
            return token
    return None


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    """The subcommand names, in the order `--help` lists them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def _overrides(args: argparse.Namespace, *, read_key: bool = True) -> CliOverrides:
    """The global options as overrides; with `read_key`, `--api-key -` and `--api-key-file`
    are read here (ConfigError when they hold no usable key)."""
    from agp_tui.config import CliOverrides

    key, source = _flag_key(args) if read_key else (None, None)
    return CliOverrides(
        config_path=_path(getattr(args, "config", None)),
        profile=getattr(args, "profile", None),
        base_url=getattr(args, "base_url", None),
        api_key=key,
        api_key_source=source,
        allow_insecure_http=True if getattr(args, "allow_insecure_http", False) else None,
    )


def _flag_key(args: argparse.Namespace) -> tuple[Secret | None, str | None]:
    """The key the flags give, and which flag gave it."""
    from agp_tui.config import ConfigError
    from agp_tui.config.apikey import read_key_file, read_key_stream

    key: Secret | None = getattr(args, "api_key", None)
    path: str | None = getattr(args, "api_key_file", None)
    if key is not None and path is not None:
        raise ConfigError("flag --api-key-file", None, "give --api-key or --api-key-file, not both")
    if path is not None:
        where = "flag --api-key-file"
        full = _path(path)
        assert full is not None
        return read_key_file(full, where), where
    if key is not None and key.reveal() == STDIN:
        where = "flag --api-key -"
        return read_key_stream(sys.stdin, where), where
    return key, ("flag --api-key" if key is not None else None)


def _warn_visible_key(args: argparse.Namespace) -> None:
    """`--api-key VALUE` on a command that keeps running: the key sits in `ps` all along."""
    key: Secret | None = getattr(args, "api_key", None)
    if key is None or key.reveal() == STDIN or getattr(args, "command", None) not in _LONG_RUNNING:
        return
    print("agp-tui: warning: --api-key puts the key on the command line, where other users of "
          "this machine can read it (ps) for as long as agp-tui runs; use --api-key-file PATH, "
          "--api-key - (stdin) or H_API_KEY instead", file=sys.stderr)


def _path(value: str | None) -> Path | None:
    from pathlib import Path

    return Path(value).expanduser() if value else None


def _cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    from agp_tui.config import describe

    print(describe(settings))
    return 0


def _app_options(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """Notifications, auto-follow, --discover and the environment, for `make_app`."""
    from agp_tui.ui.notify import NotifyOptions

    n = settings.notify
    return {
        "notify": NotifyOptions(toast=n.toast, bell=n.bell, desktop=n.desktop),
        "follow": tuple(r for r in settings.follow if r.filter is None),  # the auto-adding kind
        "follow_interval": settings.follow_interval,
        "discover": bool(getattr(args, "discover", False)), "env": os.environ,
    }


def _terminal_on_stdin(args: argparse.Namespace) -> str | None:
    """After `--api-key -` read the key from a pipe, give the dashboard the terminal back as
    its stdin (it reads the keyboard there); why it cannot, or None."""
    key: Secret | None = getattr(args, "api_key", None)
    if key is None or key.reveal() != STDIN or sys.stdin is None or sys.stdin.isatty():
        return None
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        return ("the dashboard reads the keyboard on stdin, which --api-key - used up and no "
                "terminal is there to take its place: use --api-key-file PATH")
    os.dup2(tty, 0)
    os.close(tty)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - fd 0 lives as long as the process
    return None


def _run_dashboard(args: argparse.Namespace, settings: Settings) -> int:
    from agp_tui.monitor.watchlist import WatchlistError

    try:
        return _dashboard(args, settings)
    except WatchlistError as exc:  # the disk failed: not a usage error (headless commands
        print(f"agp-tui: {exc}", file=sys.stderr)  # that read the list report it themselves)
        return 1


def _dashboard(args: argparse.Namespace, settings: Settings) -> int:
    from agp_tui.headless.idinput import parse_tokens, report_rejected

    problem = _terminal_on_stdin(args)
    if problem is not None:
        print(f"agp-tui: {problem}", file=sys.stderr)
        return EXIT_USAGE
    from agp_tui.headless.targets import short_ids
    from agp_tui.runtime import make_engine, region_label

    # The same rules as the headless commands: UUIDs, Agent View URLs, short ids of watched sessions.
    short = short_ids(settings)
    parsed = parse_tokens(getattr(args, "ids", None) or (), short)
    if parsed.rejected:
        report_rejected(parsed.rejected, short=short)
        return EXIT_USAGE
    ids = parsed.ids
    queries = _followed_filters(args, settings)
    if queries is None:
        return EXIT_USAGE
    read_only = settings.read_only if args.read_only is None else args.read_only
    engine = make_engine(settings)
    engine.add(ids)
    for query in queries:
        engine.follow_query(query)
    from agp_tui.ui.app import make_app

    app = make_app(engine, profile=settings.profile, region=region_label(settings.base_url),
                   read_only=read_only, theme=settings.theme, **_app_options(args, settings))
    app.run()
    return app.return_code or 0


def _followed_filters(args: argparse.Namespace, settings: Settings) -> list[SessionQuery] | None:
    """`--follow` filters and the config's `filter` rules; None (after one line) if one is bad."""
    from agp_tui.api.query import QueryError, SessionQuery

    now = time.time()
    out: list[SessionQuery] = []
    for rule in settings.follow:
        query = rule.query(now)
        if query is not None:
            out.append(query)
    for text in getattr(args, "follow", None) or ():
        try:
            out.append(SessionQuery.parse(text, now))
        except QueryError as exc:
            print(f"agp-tui: --follow: {exc}", file=sys.stderr)
            return None
    return out


def _run_demo(args: argparse.Namespace) -> int:
    """Serve the simulator on a free loopback port and open the dashboard on it."""
    from dataclasses import replace

    from agp_tui.api.query import SessionQuery
    from agp_tui.api.secret import Secret
    from agp_tui.runtime import make_engine
    from agp_tui.sim.batches import Batch, BatchSpecError, parse_batch
    from agp_tui.sim.server import start_in_thread

    batches: list[Batch] = []
    try:
        for i, spec in enumerate(args.batches, start=1):
            batches += parse_batch(spec, i)
    except BatchSpecError as exc:
        print(f"agp-tui: --batch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # The demo world's own defaults, plus room in its quota for the batches.
    sim = start_in_thread(batches=batches, quota_limit=500 + sum(b.size for b in batches)) \
        if batches else start_in_thread()
    try:
        settings, notices = _demo_settings(args, sim.api_key)
        for notice in notices:  # on stderr too: still there after the dashboard closes
            print(f"agp-tui: warning: {notice}", file=sys.stderr)
        demo = replace(settings, base_url=sim.base_url, api_key=Secret(sim.api_key),
                       profile="demo", allow_insecure_http=False)
        engine = make_engine(demo, persist=False)
        queries = _followed_filters(args, settings)
        if queries is None:
            return EXIT_USAGE
        # Each batch's group is followed (the point of asking for one), after any --follow.
        queries += [SessionQuery(group_id=group) for group in dict.fromkeys(b.group_id for b in batches)]
        for query in queries:
            engine.follow_query(query)
        read_only = settings.read_only if args.read_only is None else args.read_only
        from agp_tui.ui.app import make_app

        app = make_app(engine, profile="demo", region="simulator", read_only=read_only,
                       theme=settings.theme, initial_ids=sim.demo_session_ids(),
                       startup_warnings=notices, **_app_options(args, settings))
        app.run()
        return app.return_code or 0
    finally:
        sim.stop()


def _demo_settings(args: argparse.Namespace, key: str) -> tuple[Settings, list[str]]:
    """The user's settings for the demo (theme, notifications, read-only), and what to say.

    The demo brings its own server and key, so nothing in config.toml is needed to run it:
    when the file cannot be read, the demo runs on the defaults and the error becomes a
    notice for the dashboard to show, instead of refusing to start. The simulator's key is
    passed as --api-key would be, so no key source is consulted (no `api_key_cmd` runs).
    """
    from dataclasses import replace

    from agp_tui.config import ConfigError, Settings, data_dir, default_config_path, load_settings

    overrides = replace(_overrides(args, read_key=False), api_key=_secret(key))
    try:
        settings = load_settings(overrides, os.environ)
    except ConfigError as exc:
        path = overrides.config_path or default_config_path(os.environ)
        defaults = Settings(config_path=path, data_dir=data_dir(os.environ))
        return defaults, [f"{exc} (the demo runs on default settings)"]
    return settings, list(settings.warnings)


def main(argv: Sequence[str] | None = None) -> int:
    """`agp-tui`; returns the exit code. A closed stdout ends any command with a quiet 141.

    The check is here, once, rather than in each command: `config`, `--help`, usage errors
    and every headless command all write to stdout, and Python's own last flush at exit
    would otherwise turn a reader gone early (`agp-tui config | head -1`) into a traceback.
    """
    try:
        code = _main(argv)
        sys.stdout.flush()  # now, while a failure can still be caught
    except SystemExit:  # argparse's --help, --version and usage errors end this way
        if _stdout_closed():
            raise SystemExit(EXIT_BROKEN_PIPE) from None
        raise
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    return code


def _stdout_closed() -> bool:
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        return True
    return False


def _silence_stdout() -> None:
    from agp_tui.headless.codes import silence_stdout

    silence_stdout()


# A word made of letters that are not all hex digits cannot be a session id: a mistyped command.
_WORD = re.compile(r"[A-Za-z][A-Za-z_-]*")
_HEXISH = re.compile(r"[0-9A-Fa-f-]+")


def _unknown_command(token: str, commands: list[str]) -> str | None:
    """The message for a first argument that is a mistyped command, else None (an id).

    Without this, `agp-tui stauts` reads as the dashboard's `agp-tui ID...` form and is
    refused as "not a session id", which sends the user looking in the wrong place.
    """
    import difflib

    if not _WORD.fullmatch(token) or _HEXISH.fullmatch(token):
        return None
    close = difflib.get_close_matches(token, commands, n=1)
    if close:
        return f"unknown command {token!r}; did you mean {close[0]}?"
    return (f"unknown command {token!r} (commands: {', '.join(commands)}; "
            "or session ids to open the dashboard on them)")


def _main(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["sim"]:
        from agp_tui.sim.cli import sim_main

        return sim_main(args_list[1:])
    parser = build_parser()
    first = _first_positional(args_list)
    commands = _commands(parser)
    if first is not None and first not in commands:
        mistyped = _unknown_command(first, commands)
        if mistyped is not None:
            print(f"agp-tui: {mistyped}", file=sys.stderr)
            return EXIT_USAGE
        parser = build_parser(dashboard_ids=True)  # `agp-tui [options] ID...`
    args = parser.parse_args(args_list)
    if args.demo and getattr(args, "handler", None) is not None:
        # A command would run against the real profile (its server, its watchlist), not
        # the demo's throwaway simulator.
        parser.error("--demo opens the dashboard only; for commands, run `agp-tui sim` "
                     "and pass its --base-url")
    if getattr(args, "batches", None) and not args.demo:
        parser.error("--batch is for the built-in simulator: use it with --demo "
                     "(or `agp-tui sim --batch ...` for a simulator of your own)")
    from agp_tui.api.errors import AgpError, InsecureTransport
    from agp_tui.api.ids import InvalidSessionId
    from agp_tui.config import ConfigError, load_settings
    from agp_tui.headless.idinput import InputError
    from agp_tui.runtime import NoApiKey

    try:
        handler: Handler | None = getattr(args, "handler", None)
        if handler is None and args.demo:
            return _run_demo(args)  # reads the config itself: an error there must not stop it
        settings = load_settings(_overrides(args), os.environ)
        for warning in settings.warnings:
            print(f"agp-tui: warning: {warning}", file=sys.stderr)
        _warn_visible_key(args)
        if handler is not None:
            return int(handler(args, settings))
        return _run_dashboard(args, settings)
    except (ConfigError, NoApiKey, InvalidSessionId, InsecureTransport, InputError) as exc:
        print(f"agp-tui: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except AgpError as exc:  # the API failed: not a usage error
        print(f"agp-tui: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
