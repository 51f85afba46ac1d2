"""The engine against a scripted AGP: cadence, errors, auth, 404, children, sweeps."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import loop_wait
import pytest
from loop_wait import now

from agp_tui.monitor.cadence import Cadence
from agp_tui.monitor.engine import Engine, EngineSettings
from agp_tui.monitor.events import (
    ChildrenFound,
    Connection,
    ConnectionChanged,
    EngineEvent,
    SessionError,
    SessionRecovered,
    Stale,
    StatusChanged,
    UsageChanged,
    WatchlistChanged,
)
from agp_tui.monitor.watchlist import Watchlist
from agp_tui.sim.fake_backend import FAKE_BASE as BASE
from agp_tui.sim.fake_backend import FakeBackend
from agp_tui.sim.session import SimSession

FAST = Cadence(pending=0.02, running=0.02, waiting=0.05, final_fetch=0.02, jitter=0.0,
               error_base=0.05, error_max=0.2)


def settings(**kw: object) -> EngineSettings:
    base: dict[str, object] = dict(cadence=FAST, max_rps=1000.0, sweep=False, seed=1,
                                   quota_interval=3600.0, housekeeping_interval=0.02)
    base.update(kw)
    return EngineSettings(**base)  # type: ignore[arg-type]


# Every test here runs on a fast-forwarding loop (looptime): sleeps and timeouts take no
# real time, the loop's clock is the engine's scheduling clock, and `loop_wall` its wall
# clock, so what a test asserts about time is exact and the same on a loaded machine.
pytestmark = pytest.mark.looptime
EPOCH = 1_800_000_000.0


def loop_wall() -> float:
    """Epoch seconds that advance with the (virtual) loop time."""
    return EPOCH + asyncio.get_running_loop().time()


until = functools.partial(loop_wait.until, timeout=3.0)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBackend]:
    yield FakeBackend()


MODEL = "holo3-1-35b-a3b"


def tokens(n: int) -> list[tuple[str, int, int, int]]:
    """`n` input tokens, and a tenth as many output tokens, on one model."""
    return [(MODEL, n, n // 10, 0)]


def cost(s: SimSession) -> float:
    """What the simulator's /changes says the session cost (from its models' prices)."""
    from agp_tui.sim.events import metrics

    total = metrics(s.steps, s.usage_rows())["total_cost"]
    assert isinstance(total, float) and total > 0
    return total


async def run_engine(fake: FakeBackend, ids: list[str], **kw: object) -> tuple[Engine, list[EngineEvent]]:
    engine = Engine(fake.client(), None, settings(**kw), wall=loop_wall)
    engine.count_requests()  # engine.requests: by purpose
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    await engine.start(ids)
    return engine, events


async def test_first_poll_loads_info_then_status_polls(fake: FakeBackend) -> None:
    s = fake.pin(steps=3, usage=tokens(1000), message="hello")
    engine, events = await run_engine(fake, [s.id])
    try:
        await until(lambda: fake.calls["status"] >= 3)
        assert fake.calls["session"] == 1  # the full Session once, for agent and labels
        view = engine.view(s.id)
        assert view is not None and view.agent == "h/web-surfer-flash" and view.steps == 3
        assert view.first_message is not None and view.first_message.message == "hello"
        assert StatusChanged(s.id, None, "running", view.last_change_at or 0) in events
        fake.set(s.id, steps=4, usage=tokens(2000))
        await until(lambda: any(isinstance(e, UsageChanged) and e.steps == 4 for e in events))
        hist = engine.history(s.id)
        assert hist is not None and hist.models() == ["holo3-1-35b-a3b"]
    finally:
        await engine.aclose()


async def test_status_change_emitted_once_per_transition(fake: FakeBackend) -> None:
    s = fake.pin()
    engine, events = await run_engine(fake, [s.id])
    try:
        await until(lambda: fake.calls["status"] >= 2)
        fake.set(s.id, status="paused")
        await until(lambda: engine.view(s.id).status_text == "paused")  # type: ignore[union-attr]
        await asyncio.sleep(0.15)
        changes = [(e.old, e.new) for e in events if isinstance(e, StatusChanged)]
        assert changes == [(None, "running"), ("running", "paused")]
    finally:
        await engine.aclose()


async def test_terminal_gets_one_final_fetch_then_stops(fake: FakeBackend) -> None:
    s = fake.pin()
    engine, _ = await run_engine(fake, [s.id])
    try:
        await until(lambda: fake.per_session[s.id] >= 2)
        fake.set(s.id, status="completed")
        await until(lambda: engine.view(s.id).status_text == "completed")  # type: ignore[union-attr]
        await asyncio.sleep(0.2)
        polls = fake.per_session[s.id]
        await asyncio.sleep(0.2)
        assert fake.per_session[s.id] == polls  # stopped
        view = engine.view(s.id)
        assert view is not None and not view.polling
        engine.refresh([s.id])  # refresh-now still works on a finished session
        await until(lambda: fake.per_session[s.id] == polls + 1)
    finally:
        await engine.aclose()


async def test_never_two_polls_of_one_session_at_once() -> None:
    fake = FakeBackend()
    fake.delay = 0.05
    s = fake.pin()
    engine, _ = await run_engine(fake, [s.id])
    try:
        for _ in range(20):
            engine.refresh()
            await asyncio.sleep(0.005)
        await until(lambda: fake.per_session[s.id] >= 4)
        assert fake.max_overlap == 1
    finally:
        await engine.aclose()


async def test_404_marks_not_found_keeps_it_and_stops(fake: FakeBackend, tmp_path: Path) -> None:
    wl = Watchlist(tmp_path / "wl.json")
    missing = "6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20"
    wl.add([missing])
    engine = Engine(fake.client(), wl, settings(), wall=loop_wall)
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    await engine.start()
    try:
        await until(lambda: any(isinstance(e, SessionError) for e in events))
        await asyncio.sleep(0.1)
        assert fake.per_session[missing] == 1
        view = engine.view(missing)
        assert view is not None and view.not_found and not view.polling
        assert engine.watched_ids() == [missing] and wl.ids() == [missing]
        assert [e.kind for e in events if isinstance(e, SessionError)] == ["NotFound"]
    finally:
        await engine.aclose()


async def test_one_401_pauses_all_polling_in_a_single_auth_state(fake: FakeBackend) -> None:
    ids = [fake.pin().id for _ in range(10)]
    engine, events = await run_engine(fake, ids, auth_probe_interval=0.1)
    try:
        await until(lambda: fake.calls["status"] >= 10)
        revoked = fake.fail(401)  # the key is refused from now on
        await until(lambda: engine.connection is Connection.AUTH_ERROR)
        await asyncio.sleep(0.05)
        before = sum(fake.calls.values())
        await asyncio.sleep(0.25)
        # Only the single probe runs while the key is refused: one per 0.1 s.
        assert sum(fake.calls.values()) - before == 2
        auth_events = [e for e in events if isinstance(e, ConnectionChanged)
                       and e.state is Connection.AUTH_ERROR]
        assert len(auth_events) == 1
        assert not [e for e in events if isinstance(e, SessionError)]  # never N errors
        fake.heal(revoked)
        await until(lambda: engine.connection is Connection.LIVE)
        before = fake.calls["status"]
        await until(lambda: fake.calls["status"] >= before + 10)
    finally:
        await engine.aclose()


async def test_errors_back_off_honouring_retry_after(fake: FakeBackend) -> None:
    s = fake.pin()
    limited = fake.fail(429, session=s.id, headers={"Retry-After": "0.3"})
    engine, events = await run_engine(fake, [s.id])
    try:
        await until(lambda: fake.per_session[s.id] >= 1)
        await asyncio.sleep(0.2)
        assert fake.per_session[s.id] == 1  # waiting out Retry-After, not polling at 20 ms
        await until(lambda: fake.per_session[s.id] >= 2, timeout=1.0)
        view = engine.view(s.id)
        assert view is not None and view.error_kind == "RateLimited"
        fake.heal(limited)
        await until(lambda: any(isinstance(e, SessionRecovered) for e in events), timeout=2.0)
        assert engine.view(s.id).error_kind is None  # type: ignore[union-attr]
    finally:
        await engine.aclose()


async def test_server_errors_back_off_exponentially_then_go_stale(fake: FakeBackend) -> None:
    s = fake.pin()
    engine, events = await run_engine(fake, [s.id], stale_after=0.3)
    try:
        await until(lambda: fake.per_session[s.id] >= 1)
        fake.fail(503, session=s.id)
        await until(lambda: any(isinstance(e, Stale) for e in events), timeout=3.0)
        polls_in_window = fake.per_session[s.id]
        # 50, 100, 200 ms... apart, not every 20 ms; stale 0.3 s after the last good answer.
        assert polls_in_window == 5 and now() == pytest.approx(0.315)
        assert engine.connection is Connection.STALE
        view = engine.view(s.id)
        assert view is not None and view.stale and view.status_text == "running"  # last good data kept
    finally:
        await engine.aclose()


async def test_unreachable_server_goes_offline() -> None:
    fake = FakeBackend()
    s = fake.pin()
    fake.offline()
    engine, _ = await run_engine(fake, [s.id])
    try:
        await until(lambda: engine.connection is Connection.OFFLINE, timeout=3.0)
    finally:
        await engine.aclose()


async def test_budget_caps_request_rate_for_many_sessions(fake: FakeBackend) -> None:
    ids = [fake.pin().id for _ in range(300)]
    engine, _ = await run_engine(fake, ids, max_rps=100.0, max_in_flight=4)
    try:
        await asyncio.sleep(1.0)
        total = sum(fake.calls.values())
        assert total == 200  # a burst of 100, then 100/s; never 300 x 50/s
    finally:
        await engine.aclose()


async def test_focus_sessions_are_served_first(fake: FakeBackend) -> None:
    ids = [fake.pin().id for _ in range(100)]
    engine = Engine(fake.client(), None, settings(max_rps=20.0, max_in_flight=1), wall=loop_wall)
    engine.set_focus(ids[-3:], ids[-1])
    await engine.start(ids)
    try:
        await until(lambda: sum(fake.per_session.values()) >= 10)
        # 20 requests a second, one at a time: the three on screen were served first and
        # again at their cadence, before most of the other 97 had their first poll.
        assert [fake.per_session[i] for i in ids[-3:]] == [3, 3, 3]
    finally:
        await engine.aclose()


async def test_children_found_and_polled_only_while_tree_open(fake: FakeBackend) -> None:
    root = fake.pin(agent="acme/manager")
    kids = [fake.pin(parent=root.id, agent=f"worker-{i}") for i in range(3)]
    grandchild = fake.pin(parent=kids[0].id, agent="deep")
    engine, events = await run_engine(fake, [root.id])
    try:
        await until(lambda: any(isinstance(e, ChildrenFound) for e in events))
        await asyncio.sleep(0.1)
        assert all(fake.per_session[k.id] == 0 for k in kids)  # not polled until viewed
        engine.open_tree(root.id)
        await until(lambda: fake.per_session[grandchild.id] >= 1)
        assert engine.view(kids[1].id).agent == "worker-1"  # type: ignore[union-attr]
        assert fake.calls["list"] >= 1
        rollup = engine.rollup(root.id)
        assert rollup.sessions == 5
        engine.close_tree(root.id)
        await asyncio.sleep(0.1)
        polls = fake.per_session[grandchild.id]
        await asyncio.sleep(0.2)
        assert fake.per_session[grandchild.id] == polls
        assert engine.watched_ids() == [root.id]
    finally:
        await engine.aclose()


async def test_add_remove_persist_and_follow_other_instance(fake: FakeBackend, tmp_path: Path) -> None:
    a, b = fake.pin(), fake.pin()
    path = tmp_path / "wl.json"
    engine = Engine(fake.client(), Watchlist(path), settings(watchlist_sync_interval=0.05), wall=loop_wall)
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    await engine.start()
    try:
        assert engine.add([a.id.upper()]) == [a.id]
        assert Watchlist(path).load()[0].id == a.id
        other = Watchlist(path)
        other.load()
        other.add([b.id])  # a second agp-tui adds a session
        await until(lambda: b.id in engine.watched_ids())
        await until(lambda: fake.per_session[b.id] >= 1)
        assert engine.remove([a.id]) == [a.id]
        assert Watchlist(path).load()[0].id == b.id
        assert WatchlistChanged(removed=(a.id,)) in events
    finally:
        await engine.aclose()


async def test_label_and_pin_edits_by_another_instance_reach_the_views(
    fake: FakeBackend, tmp_path: Path,
) -> None:
    a, b, c = fake.pin(), fake.pin(), fake.pin()
    path = tmp_path / "wl.json"
    Watchlist(path).add([a.id, b.id])
    engine = Engine(fake.client(), Watchlist(path), settings(watchlist_sync_interval=0.05), wall=loop_wall)
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    await engine.start()
    try:
        other = Watchlist(path)
        other.load()

        def label(sid: str) -> str | None:
            view = engine.view(sid)
            assert view is not None
            return view.label

        def last_change() -> WatchlistChanged:
            return [e for e in events if isinstance(e, WatchlistChanged)][-1]

        other.set_label(a.id, "nightly")
        await until(lambda: label(a.id) == "nightly")
        assert last_change() == WatchlistChanged(changed=(a.id,))  # the UI re-renders on this
        other.set_label(a.id, None)
        await until(lambda: label(a.id) is None)
        other.set_pinned(b.id, True)
        await until(lambda: engine.watched_ids() == [b.id, a.id])
        assert engine.view(b.id).pinned  # type: ignore[union-attr]
        assert last_change() == WatchlistChanged(changed=(b.id,))
        other.add([c.id], label="from a script")  # a new id arrives with its label
        await until(lambda: c.id in engine.watched_ids())
        assert label(c.id) == "from a script" and last_change() == WatchlistChanged(added=(c.id,))
        n = len(events)
        await asyncio.sleep(0.2)  # nothing changed on disk: no event, however often it looks
        assert not [e for e in events[n:] if isinstance(e, WatchlistChanged)]
    finally:
        await engine.aclose()


async def test_a_label_set_by_the_cli_is_seen_by_a_running_engine_within_one_sync(
    fake: FakeBackend, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """`agp-tui watchlist add ID --label L` in another process, at the default sync interval."""
    import os
    import sys

    from agp_tui.config import CliOverrides, load_settings

    a, b = fake.pin(), fake.pin()
    config = tmp_path / "config.toml"
    config.write_text("")
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    for name in ("AGP_BASE_URL", "AGP_PROFILE"):
        env.pop(name, None)
    options = ["--config", str(config), "--base-url", BASE]
    path = load_settings(CliOverrides(config_path=config, base_url=BASE), env).watchlist_path
    Watchlist(path).add([a.id])
    engine = Engine(fake.client(), Watchlist(path), settings(watchlist_sync_interval=2.0), wall=loop_wall)
    await engine.start()
    try:
        script = Path(sys.executable).parent / "agp-tui"
        command = [str(script)] if script.exists() else [sys.executable, "-m", "agp_tui"]
        proc = await asyncio.create_subprocess_exec(
            *command, "watchlist", "add", a.id, b.id, "--label", "nightly", *options, env=env,
            stdin=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        assert "labelled 1 already on it: 'nightly'" in err.decode()
        written = now()

        def labelled() -> bool:
            views = [engine.view(a.id), engine.view(b.id)]
            return all(v is not None and v.label == "nightly" for v in views)

        await until(labelled, timeout=5.0)
        # In loop time: the process ran while the loop's clock went on, so the write landed
        # at most one sync before `written`; it is seen at the next one.
        seen = now() - written
        with capsys.disabled():
            print(f"\nlabel written by another process seen by the engine {seen:.2f} s (loop "
                  f"time) after that process ended (budget: one 2 s watchlist sync)")
        assert seen <= 2.0
    finally:
        await engine.aclose()


async def test_sweep_detects_change_and_slows_background_polls(fake: FakeBackend) -> None:
    slow = Cadence(pending=0.2, running=0.2, waiting=0.5, final_fetch=0.02, jitter=0.0,
                   background_factor=10.0, background_max=5.0)
    ids = [fake.pin().id for _ in range(8)]
    engine, events = await run_engine(fake, ids, cadence=slow, sweep=True, sweep_interval=0.05)
    try:
        await until(lambda: engine.requests["sweep"] >= 3)
        before = fake.per_session[ids[0]]
        await asyncio.sleep(0.6)
        assert fake.per_session[ids[0]] == before  # background: every 2 s, not every 0.2 s
        fake.set(ids[0], status="failed")
        t0 = now()
        await until(lambda: any(isinstance(e, StatusChanged) and e.new == "failed" for e in events))
        # Found by the next sweep (every 0.2 s: as often as the quickest candidate would
        # poll, ±10 %), well before its own 2 s background poll.
        assert now() - t0 == pytest.approx(0.19)
    finally:
        await engine.aclose()


async def test_listener_errors_never_stop_polling(fake: FakeBackend) -> None:
    s = fake.pin()
    engine, _ = await run_engine(fake, [s.id])

    def broken(event: EngineEvent) -> None:
        raise RuntimeError("boom")

    engine.subscribe(broken)
    try:
        before = fake.per_session[s.id]
        await until(lambda: fake.per_session[s.id] >= before + 3)
    finally:
        await engine.aclose()


async def test_first_sight_spreads_usage_since_start_instead_of_a_flat_baseline(fake: FakeBackend) -> None:
    from datetime import UTC, datetime

    now = 1_800_000_000.0
    started = datetime.fromtimestamp(now - 60, UTC).isoformat()
    s = fake.pin(steps=10, usage=tokens(60_000), started=started)  # 60k in, 6k out in 60 s
    engine = Engine(fake.client(), None, settings(bucket_seconds=10.0), wall=lambda: now)
    await engine.start([s.id])
    try:
        await until(lambda: fake.per_session[s.id] >= 1)
        hist = engine.history(s.id)
        assert hist is not None
        series = hist.series("holo3-1-35b-a3b", "input", now=now)
        assert sum(series) * 10 == pytest.approx(60_000)  # all of it, spread over the minute
        assert max(series) == pytest.approx(1000.0)  # 1k tokens/s, not one spike
    finally:
        await engine.aclose()


async def test_sweep_applies_offscreen_status_without_polling(fake: FakeBackend) -> None:
    # Own polls every 0.3 s on screen, 5 s off screen; sweeps every 0.3 s.
    slow = Cadence(pending=0.3, running=0.3, waiting=0.3, jitter=0.0,
                   background_factor=100.0, background_max=5.0)
    ids = [fake.pin().id for _ in range(6)]
    engine, events = await run_engine(fake, ids, cadence=slow, sweep=True, sweep_interval=0.05)
    try:
        await until(lambda: engine.requests["sweep"] >= 2)
        before = fake.per_session[ids[2]]
        fake.set(ids[2], status="paused")
        await until(lambda: engine.view(ids[2]).status_text == "paused")  # type: ignore[union-attr]
        assert fake.per_session[ids[2]] == before  # learnt from the list, no extra poll
        assert StatusChanged(ids[2], "running", "paused", engine.view(ids[2]).last_change_at or 0) in events  # type: ignore[union-attr]
        engine.set_focus([ids[3]], ids[3])
        before = fake.per_session[ids[3]]
        fake.set(ids[3], status="idle")
        await until(lambda: fake.per_session[ids[3]] > before)  # on screen: fresh numbers fetched
    finally:
        await engine.aclose()


async def test_on_screen_sessions_follow_changes_by_long_poll(fake: FakeBackend) -> None:
    s = fake.pin(steps=2, usage=tokens(1000), events=5)
    other = fake.pin(steps=1, usage=tokens(100))
    engine = Engine(fake.client(), None, settings(long_poll_wait=5, long_poll_status_every=60.0),
                    wall=loop_wall)
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    engine.set_focus([s.id], s.id)
    await engine.start([s.id, other.id])
    try:
        await until(lambda: fake.calls["changes"] >= 1)
        assert fake.calls["events"] == 1  # the cursor starts at the end of the history
        status_polls = fake.per_session[s.id]
        fake.step(s.id, usage=tokens(500))  # the agent takes a step: the held long-poll wakes
        await until(lambda: engine.view(s.id).steps == 3)  # type: ignore[union-attr]
        view = engine.view(s.id)
        assert view is not None and view.cost == pytest.approx(cost(s)) and view.usage[0].input_tokens == 1500
        # The held long-poll answered at once: no /status poll was needed for the step.
        assert fake.per_session[s.id] == status_polls  # the request already held answered
        assert fake.calls["status"] == 0
        fake.set(s.id, status="completed")
        await until(lambda: engine.view(s.id).status_text == "completed")  # type: ignore[union-attr]
    finally:
        await engine.aclose()


async def test_refresh_cuts_a_held_long_poll_short(fake: FakeBackend) -> None:
    s = fake.pin(steps=1, usage=tokens(100))
    engine = Engine(fake.client(), None, settings(long_poll_wait=20, long_poll_status_every=60.0),
                    wall=loop_wall)
    engine.set_focus([s.id], s.id)
    await engine.start([s.id])
    try:
        await until(lambda: fake.calls["changes"] >= 1)
        before = fake.calls["status"]
        engine.refresh([s.id])
        await until(lambda: fake.calls["status"] > before, timeout=1.0)  # not after 20 s
    finally:
        await engine.aclose()


async def test_finished_session_coming_on_screen_gets_its_cost_once(fake: FakeBackend) -> None:
    s = fake.pin(status="completed", steps=9, usage=tokens(900), events=12)
    spent = cost(s)
    engine, _ = await run_engine(fake, [s.id])
    try:
        await until(lambda: fake.per_session[s.id] >= 1)
        assert engine.view(s.id).cost is None  # type: ignore[union-attr]
        engine.set_focus([s.id], s.id)
        await until(lambda: engine.view(s.id).cost == spent)  # type: ignore[union-attr]
        engine.set_focus([], None)
        engine.set_focus([s.id], s.id)
        await asyncio.sleep(0.1)
        assert fake.calls["changes"] == 1
        assert engine.rollup(s.id).cost == spent
    finally:
        await engine.aclose()


async def test_server_without_changes_falls_back_to_status_polls(fake: FakeBackend) -> None:
    s = fake.pin(steps=1, usage=tokens(100))
    fake.fail(404, kind="changes")  # an older server: no such routes
    fake.fail(404, kind="events")
    engine = Engine(fake.client(), None, settings(), wall=loop_wall)
    engine.set_focus([s.id], s.id)
    await engine.start([s.id])
    try:
        await until(lambda: fake.calls["status"] >= 5)
        view = engine.view(s.id)
        assert view is not None and not view.not_found and view.error_kind is None
    finally:
        await engine.aclose()


async def test_large_watchlist_starts_from_list_pages_not_one_call_each(fake: FakeBackend) -> None:
    live = [fake.pin(agent=f"agent-{i}").id for i in range(30)]
    done = fake.pin(status="completed").id
    slow = Cadence(pending=5.0, running=5.0, waiting=5.0, jitter=0.0)
    engine, events = await run_engine(fake, [*live, done], cadence=slow, sweep=True,
                                      sweep_interval=5.0, bootstrap_min_sessions=20)
    try:
        await until(lambda: all(engine.view(i).status_text == "running" for i in live))  # type: ignore[union-attr]
        await until(lambda: engine.view(done).status_text == "completed")  # type: ignore[union-attr]
        assert fake.calls["list"] == 1  # one page told the status and agent of all 30
        assert fake.calls["session"] + fake.calls["status"] == 1  # only the finished one polled
        assert engine.view(live[7]).agent == "agent-7"  # type: ignore[union-attr]
        assert sum(isinstance(e, StatusChanged) for e in events) == 31
    finally:
        await engine.aclose()


async def test_follow_children_polls_subagents_of_watched_sessions(fake: FakeBackend) -> None:
    root = fake.pin(agent="acme/manager")
    kid = fake.pin(parent=root.id, agent="worker")
    engine, _ = await run_engine(fake, [root.id])
    try:
        await until(lambda: engine.children_of(root.id) == (kid.id,))
        await asyncio.sleep(0.1)
        assert fake.per_session[kid.id] == 0  # not followed: children wait for a tree view
        engine.set_follow_children(True)
        await until(lambda: fake.per_session[kid.id] >= 2)
        engine.set_follow_children(False)
        await asyncio.sleep(0.1)
        polls = fake.per_session[kid.id]
        await asyncio.sleep(0.2)
        assert fake.per_session[kid.id] == polls
    finally:
        await engine.aclose()


async def test_when_the_server_comes_back_every_failing_session_polls_at_once() -> None:
    """After an outage, sessions in a long backoff do not wait it out once the server answers."""
    fake = FakeBackend()
    ids = [fake.pin().id for _ in range(4)]
    outage = fake.offline()
    slow_retry = replace(FAST, error_base=30.0, error_max=30.0)  # a failed poll waits 30 s
    engine, _ = await run_engine(fake, ids, cadence=slow_retry)
    try:
        await until(lambda: engine.connection is Connection.OFFLINE)
        await until(lambda: all(v.error_kind for s in ids if (v := engine.view(s)) is not None))
        fake.heal(outage)
        engine.refresh([ids[0]])  # one row refreshed by hand: the server answers again
        await until(lambda: engine.connection is Connection.LIVE)
        await until(lambda: not any(v.error_kind for s in ids if (v := engine.view(s)) is not None),
                    timeout=2.0)
    finally:
        await engine.aclose()
