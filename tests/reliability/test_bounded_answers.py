"""Bounded against any server (issue 18, items 1-3): what one answer, one request and one
listing may cost, measured on the installed `agp-tui` against a hostile loopback server.

- item 1: a 200 MB answer, an endless chunked body, a 1 GB gzip bomb and 4 MB of empty JSON
  lists each end as one "Bad response" line, with peak RSS at most 100 MB above the same
  command's against a well-behaved server; `status` goes through httpx, `watch` (the
  dashboard's engine) through aiohttp, so both backends are capped;
- item 2: a server trickling a byte a second: `status`, `ls` and `tree` exit within their
  deadline + 5 s, `watch` (which never got an answer) gives up as for an unreachable one;
- item 3: `total = 10^12`: `ls --limit 0` stops at the page cap (or at once on a repeated
  page) and says "truncated"; the engine's child listing stops too, and stops *at once*
  when its tree closes.

Each prints one `BOUNDED ...` line of figures beside their bounds (also in the summary).
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from headless_helpers import Env
from hostile_server import ROOT, Hostile
from measured import EXIT_SLACK_S, RSS_BOUND_MB, Measured, run_measured, run_together

Report = Callable[[str], None]
# The documented defaults (README, config.example.toml), spelled out: they are the contract.
MAX_RESPONSE_MB = 4
MAX_LIST_PAGES = 100
MAX_JSON_CONTAINERS = 200_000


def agp(env: Env, *args: str, timeout: float = 30, server: Hostile | None = None, **kw: Any) -> Measured:
    """The key travels in H_API_KEY, as a careful user passes it (not in `ps`)."""
    base_url = server.base_url if server is not None else env.base_url
    command = [args[0], "--config", str(env.config), "--base-url", base_url, *args[1:]]
    return run_measured(command, env.environ(H_API_KEY=env.api_key), timeout=timeout, **kw)


def one_clear_line(r: Measured, *words: str) -> None:
    """Exactly one line on stderr, `agp-tui: ...`, with every word in it, and no traceback."""
    assert "Traceback" not in r.err, r.err[-2000:]
    assert len(r.err_lines) == 1, r.err
    line = r.err_lines[0]
    assert line.startswith("agp-tui: "), line
    for word in words:
        assert word in line, line


def write_limits(env: Env, **limits: float) -> None:
    table = "\n".join(f"{k} = {v}" for k, v in limits.items())
    env.config.write_text(f"[profiles.default.limits]\n{table}\n")


# -- item 1: size caps, after decompression ---------------------------------------------------

ATTACKS = {  # mode → what the one line on stderr says
    "big": f"response larger than {MAX_RESPONSE_MB} MB",
    "endless": f"response larger than {MAX_RESPONSE_MB} MB",
    "gzip": f"response larger than {MAX_RESPONSE_MB} MB",
    "containers": f"more than {MAX_JSON_CONTAINERS:,} JSON objects and lists",
}


def idle_peak(env: Env, hostile: Hostile, *command: str, **kw: Any) -> float:
    """The same command's peak against the well-behaved server."""
    hostile.set("ok")
    r = agp(env, *command, **kw)
    assert r.code in (0, 130), r.err
    return r.peak_mb


def test_item1_status_caps_every_hostile_answer_httpx(
    hostile: Hostile, hostile_env: Env, report_figure: Report
) -> None:
    idle = idle_peak(hostile_env, hostile, "status", ROOT, "--json")
    for mode, words in ATTACKS.items():
        hostile.set(mode)
        r = agp(hostile_env, "status", ROOT, "--json")
        assert r.code == 1, (mode, r.err)
        one_clear_line(r, "Bad response", words)
        above = r.peak_mb - idle
        report_figure(f"BOUNDED item 1 status (httpx) {mode:<10}: peak RSS {r.peak_mb:.0f} MB, "
                      f"{above:+.0f} MB above idle (bound +{RSS_BOUND_MB:.0f} MB); exit in {r.seconds:.1f} s")
        assert above <= RSS_BOUND_MB, (mode, r.peak_mb, idle)


def test_item1_watch_caps_every_hostile_answer_aiohttp(
    hostile_servers: Callable[[int], list[Hostile]], hostile_env: Env, report_figure: Report
) -> None:
    """The engine (watch, and the dashboard) reads through aiohttp; each bad answer is an
    error line and the watch goes on, without growing. One server per attack, side by side."""
    modes = ["ok", *ATTACKS]
    servers = dict(zip(modes, hostile_servers(len(modes)), strict=True))
    for mode, server in servers.items():
        server.set(mode)
    run = ("watch", ROOT, "--json", "--interval", "0.5")

    def answered(server: Hostile) -> Callable[[], bool]:
        # Three requests in: the first answers were read (and any error printed) by then.
        return lambda: sum(server.hits[k] for k in ("session", "status", "events", "changes")) >= 3

    results = dict(zip(modes, run_together([
        functools.partial(agp, hostile_env, *run, server=server, interrupt_when=answered(server),
                          interrupt_after=10.0, timeout=30)
        for server in servers.values()
    ]), strict=True))
    idle = results.pop("ok")
    assert idle.code == 130, idle.err
    for mode, r in results.items():
        words = ATTACKS[mode]
        assert r.code == 130, (mode, r.code, r.err[-2000:])  # still running when interrupted
        assert "Traceback" not in r.err
        errors = [line for line in r.out.splitlines() if '"event":"error"' in line]
        assert errors and all("BadResponse" in e and words in e for e in errors), (mode, r.out[-2000:])
        above = r.peak_mb - idle.peak_mb
        hits = servers[mode].hits
        report_figure(f"BOUNDED item 1 watch (aiohttp) {mode:<10}: peak RSS {r.peak_mb:.0f} MB, "
                      f"{above:+.0f} MB above idle (bound +{RSS_BOUND_MB:.0f} MB); "
                      f"{hits['session'] + hits['status']} hostile answers read")
        assert above <= RSS_BOUND_MB, (mode, r.peak_mb, idle.peak_mb)


# -- item 2: total deadlines ------------------------------------------------------------------


def test_item2_a_trickling_server_cannot_hold_a_command(
    hostile: Hostile, hostile_env: Env, report_figure: Report
) -> None:
    request_s, command_s = 1.0, 2.0
    write_limits(hostile_env, request_timeout=request_s, command_timeout=command_s)
    hostile.set("trickle")
    interval = 0.5
    commands = [("status", ROOT, "--json"), ("ls",), ("tree", ROOT),
                ("watch", ROOT, "--interval", str(interval))]
    *headless, r = run_together([
        functools.partial(agp, hostile_env, *command, timeout=60) for command in commands])
    for command, h in zip(commands, headless, strict=False):
        assert h.code == 1, (command, h.code, h.err)
        one_clear_line(h, "no complete answer within")
        report_figure(f"BOUNDED item 2 {command[0]:<6} (httpx) vs 1 byte/s: exit in "
                      f"{h.seconds:.1f} s (deadline {command_s:g} s + {EXIT_SLACK_S:g} s)")
        assert h.seconds <= command_s + EXIT_SLACK_S
    # watch has no deadline of its own: a server that never completes an answer is one it
    # cannot reach, given up after `offline_after` (3) requests of `request_timeout` each.
    # Three tries, with the engine's backoff between them (error_base = the interval, +10 %).
    bound = 3 * request_s + (interval + 2 * interval) * 1.1
    report_figure(f"BOUNDED item 2 watch (aiohttp) vs 1 byte/s: exit in {r.seconds:.1f} s "
                  f"(3 requests x {request_s:g} s + backoff = {bound:.1f} s, + {EXIT_SLACK_S:g} s)")
    assert r.code == 1, r.err
    one_clear_line(r, "Server unreachable", "no complete answer within")
    assert r.seconds <= bound + EXIT_SLACK_S


# -- item 3: page limits ----------------------------------------------------------------------


def test_item3_ls_stops_at_the_page_cap_and_says_truncated(
    hostile: Hostile, hostile_env: Env, report_figure: Report
) -> None:
    hostile.set("pages", fresh=True)  # total = 10^12, every page 100 fresh sessions
    r = agp(hostile_env, "ls", "--limit", "0", timeout=60)
    pages = hostile.hits["list"]
    rows = r.out.splitlines()
    report_figure(f"BOUNDED item 3 ls --limit 0 vs total=10^12: {pages} requests (cap {MAX_LIST_PAGES}), "
                  f"{len(rows)} rows, {pages / r.seconds:.0f} requests/s, exit in {r.seconds:.1f} s, "
                  f"peak RSS {r.peak_mb:.0f} MB")
    assert r.code == 0, r.err
    assert pages == MAX_LIST_PAGES and len(rows) == MAX_LIST_PAGES * 100
    assert len(r.err_lines) == 1 and "truncated after 100 pages" in r.err and "max_list_pages" in r.err
    hostile.hits.clear()
    hostile.set("pages", fresh=False)  # the same page over and over: stop at the first repeat
    r = agp(hostile_env, "ls", "--limit", "0", "--json")
    assert r.code == 0, r.err
    assert hostile.hits["list"] == 2 and len(r.out.split('"id"')) - 1 == 100
    report_figure(f"BOUNDED item 3 ls --limit 0 vs a repeated page: {hostile.hits['list']} requests, "
                  f"exit in {r.seconds:.1f} s")


async def test_item3_child_listing_is_capped_and_stops_when_the_tree_closes(
    hostile: Hostile, report_figure: Report
) -> None:
    """The dashboard's tree: the root names one child, and its listing claims 10^12. The
    listing reads at most `max_pages` pages, and none once the tree is closed."""
    from hostile_server import KEY

    from agp_tui.api.backend import AiohttpBackend
    from agp_tui.api.client import AgpClient
    from agp_tui.api.retry import RetryPolicy
    from agp_tui.monitor.engine import Engine, EngineSettings

    hostile.set("pages", fresh=True)
    cap = 40  # pages; at the engine's 20 requests/s, a listing of two seconds
    client = AgpClient(hostile.base_url, KEY, backend=AiohttpBackend(), retry=RetryPolicy.off(),
                       max_pages=cap)
    engine = Engine(client, None, EngineSettings(sweep=False, long_poll=False, seed=1))
    await engine.start([ROOT])
    try:
        for _ in range(100):
            if engine.children_of(ROOT):
                break
            await asyncio.sleep(0.05)
        listed_before = hostile.hits["list"]
        engine.open_tree(ROOT)
        await asyncio.sleep(0.8)  # part of the way through the listing
        open_pages = hostile.hits["list"] - listed_before
        engine.close_tree(ROOT)
        closed_at = hostile.hits["list"]
        await asyncio.sleep(1.0)
        after = hostile.hits["list"] - closed_at
        closed_at = hostile.hits["list"]
        report_figure(f"BOUNDED item 3 tree child listing vs total=10^12: {open_pages} pages in 0.8 s "
                      f"open, {after} in the 1 s after closing (was 20 requests/s forever)")
        assert 0 < open_pages < cap
        assert after <= 1  # at most the one in flight when the tree closed
        engine.open_tree(ROOT)  # listed again in full: it stops at the cap by itself
        for _ in range(60):
            await asyncio.sleep(0.1)
            if hostile.hits["list"] - closed_at >= cap:
                break
        await asyncio.sleep(0.5)
        total = hostile.hits["list"] - closed_at
        report_figure(f"BOUNDED item 3 tree child listing left open: {total} pages (cap {cap}), then none")
        assert total == cap
        engine.close_tree(ROOT)
    finally:
        await engine.aclose()


def test_item3_tree_names_at_most_max_children(hostile: Hostile, hostile_env: Env, tmp_path: Path) -> None:
    """`tree` of a root whose child listing claims 10^12 children: the ids it lists are
    shown up to limits.max_children, the rest counted, and the walk ends."""
    write_limits(hostile_env, max_children=150, max_list_pages=5)
    hostile.set("pages", fresh=True)
    r = agp(hostile_env, "tree", ROOT, "--json", "--depth", "1", timeout=60)
    assert r.code == 0, r.err
    root = json.loads(r.out)["root"]
    assert len(root["children"]) == 150 and root["more_children"] == 501 - 150
    assert hostile.hits["list"] == 5
