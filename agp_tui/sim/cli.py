"""`agp-tui sim` / `python -m agp_tui.sim`: serve a simulated AGP API in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from agp_tui.sim.chaos import ChaosSpecError, describe, parse_chaos
from agp_tui.sim.server import DEMO_API_KEY, SimServer, is_loopback
from agp_tui.sim.world import World


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="agp-tui sim",
        description="Serve a local, deterministic simulation of the AGP v2 sessions API.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="bind address (default 127.0.0.1; anything else is exposed off-host)",
    )
    p.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    p.add_argument("--seed", type=int, default=0, help="world seed (same seed, same world)")
    p.add_argument(
        "--sessions",
        type=int,
        default=200,
        help="top-level sessions at start, subagents come on top (default 200)",
    )
    p.add_argument("--speed", type=float, default=1.0, help="world seconds per real second (default 1)")
    p.add_argument(
        "--chaos",
        default="",
        metavar="SPEC",
        help="inject trouble, e.g. latency=50,jitter=20,spike=0.02,spike_ms=3000,5xx=0.05,429=0.02,"
             "malformed=0.01,drop=0.01,retry_after=1,seed=7: latency/jitter/spike_ms in ms (a "
             "'spike' fraction of requests waits up to spike_ms more), rates in 0..1, retry_after "
             "in s (fractions allowed); all in real time, so divide by --speed to keep them "
             "proportionate. 'off' starts without trouble but switchable: GET/POST "
             '/_sim/chaos {"chaos": SPEC} reads or changes it while running, POST /_sim/clock '
             '{"frozen": true|false} stops or restarts world time',
    )
    p.add_argument(
        "--key",
        action="append",
        dest="keys",
        metavar="KEY",
        help=f"accepted API key, repeatable (default {DEMO_API_KEY})",
    )
    p.add_argument(
        "--long-poll-cap",
        type=int,
        default=25,
        metavar="S",
        help="max wait_for_seconds on /changes; above it is a 422 (default 25)",
    )
    p.add_argument(
        "--quota-limit",
        type=int,
        default=500,
        metavar="N",
        help="concurrent-session limit reported by /sessions/quota (default 500)",
    )
    return p


def sim_main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        chaos = parse_chaos(args.chaos) if args.chaos else None
    except ChaosSpecError as e:
        print(f"agp-tui sim: {e}", file=sys.stderr)
        return 2
    if args.speed <= 0 or args.sessions < 0 or args.quota_limit < 0 or args.long_poll_cap < 0:
        print(
            "agp-tui sim: --speed must be > 0; --sessions, --quota-limit and --long-poll-cap must be >= 0",
            file=sys.stderr,
        )
        return 2
    if not is_loopback(args.host):
        print(
            f"warning: binding {args.host} exposes the simulator, and its API key, to the network",
            file=sys.stderr,
        )
    world = World(seed=args.seed, sessions=args.sessions, speed=args.speed, quota_limit=args.quota_limit)
    server = SimServer(
        world,
        host=args.host,
        port=args.port,
        api_keys=args.keys or (DEMO_API_KEY,),
        chaos=chaos,
        long_poll_cap=args.long_poll_cap,
        allow_remote=True,
    )
    try:
        return asyncio.run(_serve(server))
    except KeyboardInterrupt:
        print("\nsimulator stopped", flush=True)
        return 130


async def _serve(server: SimServer) -> int:
    try:
        await server.start()
    except OSError as e:
        print(
            f"agp-tui sim: cannot listen on {server.host}:{server.port}: {e.strerror or e}", file=sys.stderr
        )
        return 1
    stop = asyncio.Event()
    # SIGTERM (e.g. from a benchmark harness) stops cleanly; SIGINT stays a KeyboardInterrupt.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(f"AGP simulator listening on {server.base_url}")
    print(f"API key: {server.api_key}")
    print(
        f'Try: curl -H "Authorization: Bearer {server.api_key}" '
        f'"{server.base_url}/sessions?status=running&size=5"'
    )
    chaos = server.chaos
    if server.chaos_switch is not None:
        print(f"Chaos: {describe(chaos)} (switchable: POST /_sim/chaos)")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await server.stop()
    return 0
