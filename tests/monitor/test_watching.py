"""The watched set and its file (watching.py): adding, removing, following another
instance's edits. No event loop: nothing is polled until the engine starts."""

from __future__ import annotations

from pathlib import Path

from agp_tui.monitor.engine import Engine
from agp_tui.monitor.events import EngineEvent, WatchlistChanged
from agp_tui.monitor.watching import Watching
from agp_tui.monitor.watchlist import Watchlist
from agp_tui.sim.fake_backend import FakeBackend
from agp_tui.sim.fake_backend import sid_of as sid

A, B, C = sid(1), sid(2), sid(3)


def watching(watchlist: Watchlist | None) -> tuple[Watching, list[EngineEvent]]:
    engine = Engine(FakeBackend().client(), watchlist, wall=lambda: 1_800_000_000.0)
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    return engine._watching, events


def test_without_a_file_ids_are_watched_in_memory_once_each() -> None:
    w, events = watching(None)
    w.load([A])
    assert w.add([B, A.upper(), B], label="x") == [B]  # normalised, deduplicated
    t = w.core.store.get(B)
    assert t is not None and (t.label, t.urgent, t.added_at) == ("x", True, 1_800_000_000.0)
    assert w.remove([A, C]) == [A]
    assert w.core.store.order == [B] and w.core.store.get(A) is None
    assert events == [WatchlistChanged(added=(B,)), WatchlistChanged(removed=(A,))]
    w.sync()  # no file: nothing to follow


def test_another_instances_edits_are_followed_in_the_files_order(tmp_path: Path) -> None:
    path = tmp_path / "wl.json"
    Watchlist(path).add([A, B])
    w, events = watching(Watchlist(path))
    w.load()
    assert w.core.store.order == [A, B]
    w.sync()
    assert events == []  # the file did not change since it was loaded
    other = Watchlist(path)
    other.remove([A])
    other.add([C], label="from a script")
    other.set_label(B, "renamed")
    w.sync()
    store = w.core.store
    assert store.order == [B, C] and store.get(A) is None
    assert [store.tracked[s].label for s in store.order] == ["renamed", "from a script"]
    assert events == [WatchlistChanged(added=(C,), removed=(A,), changed=(B,))]
