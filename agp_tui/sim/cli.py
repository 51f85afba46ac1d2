"""`agp-tui sim` / `python -m agp_tui.sim`: serve a simulated AGP API in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import sys

from agp_tui.sim.batches import Batch, BatchSpecError, parse_batch
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
        default=None,
        metavar="N",
        help="concurrent-session limit reported by /sessions/quota (default 500, plus the "
             "sizes of any --batch)",
    )
    p.add_argument(
        "--arrivals",
        type=float,
        default=20.0,
        metavar="S",
        help="mean world seconds between new top-level sessions, 0 for none (default 20)",
    )
    p.add_argument(
        "--batch",
        action="append",
        dest="batches",
        default=[],
        metavar="SPEC",
        help="a batch job, repeatable: SIZE sessions in one group submitted at RATE a second "
             "from world time START (negative: already under way), e.g. "
             "size=2000,group=nightly-7,rate=10,start=-60,agent=h/web-surfer-flash,steps=40; "
             "groups=G splits it into G groups GROUP-1..GROUP-G started EVERY s apart "
             "(default: back to back); agent=mix for the usual mix of agents (managers' "
             "subagents join the group)",
    )
    return p


def build_world(args: argparse.Namespace) -> World:
    """The World the options describe (raises BatchSpecError for a bad --batch)."""
    batches: list[Batch] = []
    for i, spec in enumerate(args.batches, start=1):
        batches += parse_batch(spec, i)
    quota = args.quota_limit if args.quota_limit is not None else 500 + sum(b.size for b in batches)
    return World(seed=args.seed, sessions=args.sessions, speed=args.speed, quota_limit=quota,
                 arrival_interval_s=args.arrivals, batches=batches)


def sim_main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        chaos = parse_chaos(args.chaos) if args.chaos else None
    except ChaosSpecError as e:
        print(f"agp-tui sim: {e}", file=sys.stderr)
        return 2
    if args.speed <= 0 or args.sessions < 0 or (args.quota_limit or 0) < 0 or args.long_poll_cap < 0 \
            or args.arrivals < 0:
        print(
            "agp-tui sim: --speed must be > 0; --sessions, --quota-limit, --long-poll-cap and "
            "--arrivals must be >= 0",
            file=sys.stderr,
        )
        return 2
    try:
        world = build_world(args)
    except BatchSpecError as e:
        print(f"agp-tui sim: --batch: {e}", file=sys.stderr)
        return 2
    # This process serves one world for its whole life: its hundreds of thousands of
    # scripted ticks need no cyclic GC, which would otherwise rescan them all (~0.5 s at
    # 10,000 sessions) every so often while serving.
    gc.freeze()
    if not is_loopback(args.host):
        print(
            f"warning: binding {args.host} exposes the simulator, and its API key, to the network",
            file=sys.stderr,
        )
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
    world = server.world
    print(f"World: seed {world.seed}, {len(world):,} sessions with subagents, quota {world.quota_limit:,}")
    for b in world.batches:
        print(f"Batch {b.group_id}: {b.size:,} sessions at {b.rate:g}/s from world time {b.start:g} s")
    chaos = server.chaos
    if server.chaos_switch is not None:
        print(f"Chaos: {describe(chaos)} (switchable: POST /_sim/chaos)")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await server.stop()
    return 0
