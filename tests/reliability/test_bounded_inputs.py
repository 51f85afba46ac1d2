"""Bounded against any server (issue 18, items 6-9): keys quoted back, keys on the command
line, deep trees, and the small ones — each against the hostile loopback server, through
the installed `agp-tui` where a user would meet it.

- item 6: an error body quoting the key raw, JSON-escaped, percent-encoded and base64:
  nothing of it reaches `status`, `ls`, `tree`, `watch --json` or the engine's error text;
- item 7: `--api-key-file PATH` and `--api-key -` work and keep the key out of `ps`;
  `--api-key VALUE` on `watch` warns once;
- item 8: a chain of 2,000 subagents: `tree` and `tree --json` stop at the depth limit with
  a marker, no RecursionError; `watchlist import` of JSON nested 100,000 deep is one line;
- item 9: `watch` says "connection stale" once, not every second; `api_key_cmd` printing
  /dev/zero, a watchlist that is a symlink to /dev/zero or a FIFO, a lock file that is a
  symlink: one line each; data directories 0700 under umask 000; `*.localhost` decided by
  the resolved address.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from headless_helpers import AGP, Env
from hostile_server import KEY, ROOT, Hostile, key_forms, sid
from measured import EXIT_SLACK_S, RSS_BOUND_MB, Measured, run_measured

from agp_tui.api.backend import AiohttpBackend, HttpxBackend
from agp_tui.api.client import AgpClient
from agp_tui.api.errors import AgpError, InsecureTransport
from agp_tui.api.retry import RetryPolicy

Report = Callable[[str], None]


def agp(env: Env, *args: str, key: bool = True, timeout: float = 30, **kw: object) -> Measured:
    """`agp-tui COMMAND --config .. --base-url .. ARGS`, the key in H_API_KEY (or none)."""
    command = [args[0], "--config", str(env.config), "--base-url", env.base_url, *args[1:]]
    extra = {"H_API_KEY": env.api_key} if key else {}
    return run_measured(command, env.environ(**extra), timeout=timeout, **kw)  # type: ignore[arg-type]


def one_clear_line(r: Measured, *words: str) -> str:
    assert "Traceback" not in r.err, r.err[-2000:]
    assert len(r.err_lines) == 1, r.err
    line = r.err_lines[0]
    assert line.startswith("agp-tui: "), line
    for word in words:
        assert word in line, line
    return line


def leaks(text: str) -> list[str]:
    """Which spellings of the key `text` still holds (the base64 one by its key-only part)."""
    forms = key_forms()
    found = [name for name, form in forms.items() if name != "base64" and form in text]
    if forms["base64"][12:40] in text or KEY in text:
        found.append("base64" if KEY not in text else "raw")
    return found


# -- item 6: redaction of escaped keys --------------------------------------------------------


def test_item6_no_spelling_of_the_key_reaches_any_output(
    hostile: Hostile, hostile_env: Env, report_figure: Report
) -> None:
    hostile.set("echo")  # 403, the detail quoting the key in all four spellings
    shown = 0
    for command in (("status", ROOT), ("status", ROOT, "--json"), ("ls",), ("ls", "--json"),
                    ("tree", ROOT), ("tree", ROOT, "--json"), ("watch", ROOT, "--json")):
        r = agp(hostile_env, *command, timeout=20)
        assert r.code == 1, (command, r.err)
        text = r.out + r.err
        assert leaks(text) == [], (command, leaks(text), text[-1500:])
        assert "[redacted]" in text, (command, text[-1500:])
        shown += text.count("[redacted]")
    report_figure(f"BOUNDED item 6 key quoted back raw, JSON-escaped, percent-encoded, base64: "
                  f"0 leaks over 7 commands ({shown} spellings redacted)")


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
@pytest.mark.parametrize("form", list(key_forms()))
async def test_item6_each_spelling_is_redacted_by_both_backends(
    hostile: Hostile, backend: str, form: str
) -> None:
    hostile.set("echo", form=form)
    client = AgpClient(hostile.base_url, KEY, retry=RetryPolicy.off(),
                       backend=HttpxBackend() if backend == "httpx" else AiohttpBackend())
    async with client:
        with pytest.raises(AgpError) as info:
            await client.get_status(ROOT)
    message = str(info.value)
    assert leaks(message) == [] and "[redacted]" in message, message


async def test_item6_the_dashboards_error_column_shows_it_redacted(hostile: Hostile) -> None:
    from agp_tui.monitor.engine import Engine, EngineSettings

    hostile.set("echo")
    client = AgpClient(hostile.base_url, KEY, backend=AiohttpBackend(), retry=RetryPolicy.off())
    engine = Engine(client, None, EngineSettings(sweep=False, seed=1))
    await engine.start([ROOT])
    try:
        for _ in range(100):
            view = engine.view(ROOT)
            if view is not None and view.error_message:
                break
            await __import__("asyncio").sleep(0.05)
        view = engine.view(ROOT)
        assert view is not None and view.error_message is not None
        assert "[redacted]" in view.error_message and leaks(view.error_message) == []
    finally:
        await engine.aclose()


# -- item 7: the key off the command line -----------------------------------------------------


def test_item7_api_key_file_and_stdin(hostile: Hostile, hostile_env: Env, tmp_path: Path,
                                      report_figure: Report) -> None:
    hostile.set("ok")
    key_file = tmp_path / "agp.key"
    key_file.write_text(KEY + "\n")
    r = agp(hostile_env, "status", ROOT, "--api-key-file", str(key_file), key=False)
    assert r.code == 0 and r.err == "", r.err
    r = agp(hostile_env, "status", ROOT, "--api-key", "-", key=False, stdin=KEY + "\n")
    assert r.code == 0 and r.err == "", r.err
    # stdin's first line is the key; the rest is still there for `-` (ids from stdin)
    r = agp(hostile_env, "status", "--api-key", "-", "-", key=False, stdin=f"{KEY}\n{ROOT}\n")
    assert r.code == 0 and ROOT[:8] in r.out, r.err
    # Bad input: one line, exit 2, nothing sent, nothing of the file shown.
    before = sum(hostile.hits.values())
    for bad, words in (("/dev/zero", "larger than 64 KB"), (str(tmp_path / "missing"), "cannot read"),
                       (str(tmp_path), "cannot read")):
        r = agp(hostile_env, "status", ROOT, "--api-key-file", bad, key=False, timeout=10)
        assert r.code == 2, (bad, r.err)
        one_clear_line(r, "--api-key-file", words)
    empty = tmp_path / "empty.key"
    empty.write_text("\n")
    r = agp(hostile_env, "status", ROOT, "--api-key-file", str(empty), key=False)
    assert r.code == 2
    one_clear_line(r, "holds no key")
    r = agp(hostile_env, "status", ROOT, "--api-key-file", str(key_file), "--api-key", KEY, key=False)
    assert r.code == 2
    one_clear_line(r, "not both")
    assert sum(hostile.hits.values()) == before
    report_figure("BOUNDED item 7 --api-key-file PATH and --api-key - (stdin) accepted; /dev/zero, "
                  "missing, a directory, empty, both flags: one line each, exit 2, nothing sent")


def test_item7_the_key_stays_out_of_ps_and_visible_keys_are_warned_about(
    hostile: Hostile, hostile_env: Env, tmp_path: Path
) -> None:
    hostile.set("ok")
    key_file = tmp_path / "agp.key"
    key_file.write_text(KEY + "\n")
    base = ["watch", "--config", str(hostile_env.config), "--base-url", hostile.base_url, ROOT]
    proc = subprocess.Popen([*AGP, *base, "--api-key-file", str(key_file)], env=hostile_env.environ(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        assert KEY.encode() not in cmdline and b"--api-key-file" in cmdline
    finally:
        proc.send_signal(2)
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()  # deaf to Ctrl-C: fail, but leave no watch running behind the test
            proc.communicate()
            raise
    assert "warning" not in err, err
    # --api-key VALUE on a long-running command: said once, on stderr, before it starts.
    # Ctrl-C once the watch asked the server something (it has started, past the warning),
    # not at a fixed time: on a loaded machine start-up alone can take longer.
    asked = sum(hostile.hits.values())
    r = run_measured([*base, "--api-key", KEY], hostile_env.environ(), timeout=15, interrupt_after=10,
                     interrupt_when=lambda: sum(hostile.hits.values()) > asked)
    warnings = [line for line in r.err_lines if "warning" in line]
    assert r.code == 130 and len(warnings) == 1 and "--api-key-file" in warnings[0], r.err
    assert KEY not in r.err
    # ...and not on a one-shot command, which is gone before anyone looks.
    r = run_measured(["status", *base[1:], "--api-key", KEY], hostile_env.environ(), timeout=15)
    assert r.code == 0 and r.err == "", r.err
    help_text = subprocess.run([*AGP, "--help"], capture_output=True, text=True, check=True).stdout
    assert "--api-key-file" in help_text and "ps" in help_text


# -- item 8: no deep recursion ----------------------------------------------------------------


def _depth(node: dict[str, object]) -> tuple[int, dict[str, object]]:
    levels = 0
    while node["children"]:
        node = node["children"][0]  # type: ignore[index]
        levels += 1
    return levels, node


def test_item8_a_chain_of_2000_subagents(hostile: Hostile, hostile_env: Env, report_figure: Report) -> None:
    hostile.set("deep", depth=2000)
    r = agp(hostile_env, "tree", ROOT, "--json", timeout=60)
    assert r.code == 0 and "Traceback" not in r.err, r.err[-2000:]
    levels, last = _depth(json.loads(r.out)["root"])
    assert levels == 50 and last["truncated"] is True and last["id"] == sid(51)
    t = agp(hostile_env, "tree", ROOT, timeout=60)
    assert t.code == 0 and "Traceback" not in t.err, t.err[-2000:]
    rows = [line for line in t.out.splitlines() if not line.startswith("#")]
    assert len(rows) == 51 and "below the depth limit (limits.max_tree_depth)" in rows[-1]
    hostile_env.config.write_text("[profiles.default.limits]\nmax_tree_depth = 200\n")
    deep = agp(hostile_env, "tree", ROOT, "--json", timeout=60)
    assert deep.code == 0 and _depth(json.loads(deep.out)["root"])[0] == 200, deep.err[-2000:]
    report_figure(f"BOUNDED item 8 tree of a 2,000-level chain: --json {levels} levels + truncated marker "
                  f"in {r.seconds:.1f} s, text {len(rows)} rows in {t.seconds:.1f} s, 200 levels "
                  f"(the most limits.max_tree_depth allows) in {deep.seconds:.1f} s; no RecursionError "
                  f"(was one at ~500 levels)")


def test_item8_watchlist_import_of_deeply_nested_json(hostile_env: Env, tmp_path: Path) -> None:
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 100_000 + json.dumps(ROOT) + "]" * 100_000)
    r = agp(hostile_env, "watchlist", "import", str(nested))
    assert r.code == 2
    one_clear_line(r, "nested too deeply")
    r = agp(hostile_env, "watchlist", "import", stdin="{\"a\": " * 50_000 + "1" + "}" * 50_000)
    assert r.code == 2
    one_clear_line(r, "nested too deeply")
    # A tree --json of the deepest tree we print still imports.
    doc = {"root": {"id": ROOT, "children": []}}
    node = doc["root"]
    for n in range(2, 202):
        child = {"id": sid(n), "children": []}
        node["children"].append(child)  # type: ignore[attr-defined]
        node = child
    ok = agp(hostile_env, "watchlist", "import", stdin=json.dumps(doc))
    assert ok.code == 0 and "imported 201 of 201" in ok.err, ok.err


# -- item 9: the small ones -------------------------------------------------------------------


def test_item9_watch_says_stale_once_not_every_second(hostile: Hostile, hostile_env: Env,
                                                      report_figure: Report) -> None:
    """After the first answer everything is a 503 with Retry-After: 3600. At --time-scale 20
    the link is stale after 1.5 s and the engine re-announces it every 0.05 s."""
    hostile.set("stale")
    first: list[float] = []

    def seen_long_enough() -> bool:
        # 1.5 s to go stale, then 3 s in which re-announcing every 0.05 s would print ~60
        # lines; timed from the first request, not the start: start-up alone can take
        # seconds on a loaded machine.
        if not first and sum(hostile.hits.values()):
            first.append(time.monotonic())
        return bool(first) and time.monotonic() - first[0] >= 4.5

    r = agp(hostile_env, "watch", ROOT, "--time-scale", "20", timeout=30, interrupt_after=20,
            interrupt_when=seen_long_enough)
    stale = [line for line in r.out.splitlines() if "connection stale" in line]
    report_figure(f"BOUNDED item 9 watch under a 1-hour Retry-After: {len(stale)} 'connection stale' "
                  f"line in {r.seconds:.0f} s (was one per second: 3,600 an hour)")
    assert r.code == 130, r.err
    assert len(stale) == 1, r.out


@pytest.mark.parametrize("command", ["cat /dev/zero", "yes hk-endless-key"])
def test_item9_api_key_cmd_output_is_capped(hostile_env: Env, command: str, report_figure: Report) -> None:
    hostile_env.config.write_text(f'[profiles.default]\napi_key_cmd = "{command}"\n')
    r = agp(hostile_env, "status", ROOT, key=False, timeout=20)
    report_figure(f"BOUNDED item 9 api_key_cmd = {command!r}: exit {r.code} in {r.seconds:.1f} s, "
                  f"peak RSS {r.peak_mb:.0f} MB (bound: deadline 5 s + {EXIT_SLACK_S:g} s, "
                  f"{RSS_BOUND_MB:.0f} MB)")
    assert r.code == 2
    one_clear_line(r, "api_key_cmd", "printed more than 64 KB")
    assert r.seconds <= 5 + EXIT_SLACK_S and r.peak_mb <= RSS_BOUND_MB


def test_item9_watchlist_and_key_files_that_are_not_files(hostile_env: Env, tmp_path: Path) -> None:
    target = hostile_env.watchlist_file  # the list `watchlist` edits with no --base-url
    target.parent.mkdir(parents=True, exist_ok=True)

    def watchlist(*args: str) -> Measured:
        return run_measured(["watchlist", *args, "--config", str(hostile_env.config)],
                            hostile_env.environ(), timeout=15)

    target.symlink_to("/dev/zero")
    r = watchlist("ls")
    assert r.code == 1
    one_clear_line(r, "cannot read watchlist", "not a regular file (a character device)")
    target.unlink()
    os.mkfifo(target)
    r = watchlist("ls")
    assert r.code == 1 and r.seconds < 10
    one_clear_line(r, "not a regular file (a FIFO)")
    target.unlink()
    # The lock: a symlink planted there is refused, and what it points to is left alone.
    decoy = tmp_path / "decoy"
    lock = target.with_name(target.name + ".lock")
    lock.symlink_to(decoy)
    r = watchlist("add", ROOT)
    assert r.code == 1
    one_clear_line(r, "cannot lock watchlist")
    assert not decoy.exists() and not target.exists()
    lock.unlink()
    assert watchlist("add", ROOT).code == 0
    # `hai login`'s key file turned into /dev/zero: no key from it, said as "no API key".
    hai = Path(hostile_env.environ()["XDG_CONFIG_HOME"]) / "hai" / ".env"
    hai.parent.mkdir(parents=True)
    hai.symlink_to("/dev/zero")
    r = agp(hostile_env, "status", ROOT, key=False, timeout=10)
    assert r.code == 2
    one_clear_line(r, "no API key")


def test_item9_data_directories_are_private_under_umask_000(hostile_env: Env) -> None:
    data = hostile_env.data
    assert not data.exists()
    r = run_measured(["watchlist", "add", ROOT, "--config", str(hostile_env.config)],
                     hostile_env.environ(), timeout=15, umask=0)
    assert r.code == 0, r.err
    for directory in (data, data / "agp-tui"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert stat.S_IMODE(hostile_env.watchlist_file.stat().st_mode) == 0o600


async def test_item9_localhost_names_are_judged_by_their_address(
    hostile: Hostile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`evil.localhost` resolving elsewhere gets no key over http; `localhost` resolving to
    127.0.0.1 reaches the loopback server."""
    import socket

    real = socket.getaddrinfo

    def resolve(host: str, *args: object, **kwargs: object) -> object:
        if host == "evil.localhost":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.113.7", 0))]
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(InsecureTransport):
        AgpClient(f"http://evil.localhost:{hostile.port}/api/v2", KEY)
    hostile.set("ok")
    async with AgpClient(f"http://localhost:{hostile.port}/api/v2", KEY, retry=RetryPolicy.off()) as c:
        assert (await c.get_status(ROOT)).status == "running"
