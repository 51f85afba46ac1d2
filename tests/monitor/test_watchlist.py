"""Watchlist: a JSON-backed ordered set of session ids shared safely between processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agp_tui.api.ids import InvalidSessionId
from agp_tui.api.query import SessionQuery
from agp_tui.monitor.watchlist import WatchEntry, Watchlist, WatchlistError

REPO = Path(__file__).resolve().parents[2]
# 2026-11-28T15:01:02Z
FIXED_NOW = 1795878062.0


def sid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def ticking(start: float = FIXED_NOW) -> Callable[[], float]:
    """A clock that advances one second per call, so added_at values are distinct."""
    state = [start - 1]

    def clock() -> float:
        state[0] += 1
        return state[0]

    return clock


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "profiles" / "watchlist-default.json"


def on_disk(path: Path) -> list[dict[str, object]]:
    doc = json.loads(path.read_text())
    assert doc["version"] == 1
    sessions = doc["sessions"]
    assert isinstance(sessions, list)
    return sessions


# ------------------------------------------------------------------------- basics


def test_missing_file_is_an_empty_watchlist_and_creates_nothing(path: Path) -> None:
    wl = Watchlist(path)
    assert wl.load() == []
    assert len(wl) == 0 and wl.ids() == []
    assert not path.parent.exists()
    assert wl.path == path


def test_add_keeps_order_dedupes_and_reports_what_was_added(path: Path) -> None:
    wl = Watchlist(path, clock=ticking())
    assert wl.add([sid(3), sid(1)]) == [sid(3), sid(1)]
    assert wl.add([sid(1), sid(2), sid(2), sid(4)]) == [sid(2), sid(4)]
    assert wl.ids() == [sid(3), sid(1), sid(2), sid(4)]
    assert [e["id"] for e in on_disk(path)] == wl.ids()
    assert wl.add([sid(3)]) == []
    assert len(wl) == 4


def test_ids_are_normalised_and_membership_accepts_any_spelling(path: Path) -> None:
    wl = Watchlist(path)
    raw = "  6F1C2A9E-3B7D-4E21-9C55-0A8D7E4B1F20\n"
    assert wl.add([raw]) == ["6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20"]
    assert raw in wl
    assert "6f1c2a9e3b7d4e219c550a8d7e4b1f20" in wl  # un-hyphenated form of the same UUID
    assert "not-an-id" not in wl and 42 not in wl
    assert wl.add("6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20") == []  # a bare string is one id


def test_a_bad_id_rejects_the_whole_add_before_writing(path: Path) -> None:
    wl = Watchlist(path)
    with pytest.raises(InvalidSessionId, match="not a session id"):
        wl.add([sid(1), "nope"])
    assert not path.exists() and not path.parent.exists()
    wl.add([sid(1)])
    before = path.read_bytes(), path.stat().st_mtime_ns
    with pytest.raises(InvalidSessionId):
        wl.add([sid(2), "6f1c2a9e"])
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert wl.ids() == [sid(1)]


def test_remove_returns_only_what_was_present(path: Path) -> None:
    wl = Watchlist(path)
    wl.add([sid(1), sid(2), sid(3)])
    assert wl.remove([sid(9), sid(3), sid(1)]) == [sid(3), sid(1)]
    assert wl.ids() == [sid(2)]
    assert [e["id"] for e in on_disk(path)] == [sid(2)]
    assert wl.remove([sid(1)]) == []


def test_pinned_entries_come_first_and_unpinning_restores_insertion_order(path: Path) -> None:
    wl = Watchlist(path)
    wl.add([sid(1), sid(2), sid(3), sid(4)])
    wl.set_pinned(sid(3), True)
    wl.set_pinned(sid(2), True)
    assert wl.ids() == [sid(2), sid(3), sid(1), sid(4)]
    assert [e.pinned for e in wl.entries()] == [True, True, False, False]
    wl.set_pinned(sid(3), False)
    assert wl.ids() == [sid(2), sid(1), sid(3), sid(4)]
    # Pins persist.
    assert Watchlist(path).load()[0] == WatchEntry(sid(2), pinned=True, added_at=wl.entries()[0].added_at)


def test_labels_set_clear_and_unknown_id(path: Path) -> None:
    wl = Watchlist(path)
    wl.add([sid(1)], label="  nightly run ")
    assert wl.entries()[0].label == "nightly run"
    wl.set_label(sid(1), "renamed")
    assert on_disk(path)[0]["label"] == "renamed"
    wl.set_label(sid(1), "   ")
    assert wl.entries()[0].label is None
    with pytest.raises(WatchlistError, match=sid(2)):
        wl.set_label(sid(2), "x")
    with pytest.raises(WatchlistError, match="not on the watchlist"):
        wl.set_pinned(sid(2), True)


def test_round_trip_through_the_file(path: Path) -> None:
    wl = Watchlist(path, clock=ticking())
    wl.add([sid(1), sid(2)], label="ci")
    wl.add([sid(3)])
    wl.set_pinned(sid(3), True)
    wl.set_label(sid(1), "ünïcode ✓")
    again = Watchlist(path)
    assert again.load() == wl.entries()
    assert again.entries() == [
        WatchEntry(sid(3), None, True, FIXED_NOW + 1),
        WatchEntry(sid(1), "ünïcode ✓", False, FIXED_NOW),
        WatchEntry(sid(2), "ci", False, FIXED_NOW),
    ]
    assert on_disk(path)[0] == {"id": sid(1), "label": "ünïcode ✓", "pinned": False, "added_at": FIXED_NOW}


def test_export_json_is_an_array_in_display_order(path: Path) -> None:
    wl = Watchlist(path, clock=lambda: 5.0)
    wl.add([sid(1), sid(2)])
    wl.set_pinned(sid(2), True)
    assert json.loads(wl.export_json()) == [
        {"id": sid(2), "label": None, "pinned": True, "added_at": 5.0},
        {"id": sid(1), "label": None, "pinned": False, "added_at": 5.0},
    ]


def test_unknown_keys_are_tolerated_and_invalid_entries_dropped_with_a_warning(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "future": {"x": 1},
                "sessions": [
                    {"id": sid(1).upper(), "label": "a", "pinned": True, "added_at": 7, "colour": "red"},
                    {"id": "garbage", "label": "lost"},
                    "not-an-object",
                    {"id": sid(2), "label": 3, "pinned": "yes", "added_at": "noon"},
                    {"id": sid(1)},  # duplicate: first wins
                ],
            }
        )
    )
    wl = Watchlist(path)
    assert wl.load() == [WatchEntry(sid(1), "a", True, 7.0), WatchEntry(sid(2))]
    (warning,) = wl.take_warnings()
    assert str(path) in warning and "2 invalid entries" in warning and "'garbage'" in warning
    assert wl.take_warnings() == [] and wl.warnings == []
    wl.load()  # the same problem is not reported twice
    assert wl.warnings == []
    wl.add([sid(3)])  # a write keeps the good entries and drops the bad ones
    assert [e["id"] for e in on_disk(path)] == [sid(1), sid(2), sid(3)]


def test_newer_format_version_is_refused_and_left_untouched(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text('{"version": 2, "sessions": []}')
    wl = Watchlist(path)
    with pytest.raises(WatchlistError, match="newer agp-tui"):
        wl.load()
    with pytest.raises(WatchlistError, match="newer agp-tui"):
        wl.add([sid(1)])
    assert path.read_text() == '{"version": 2, "sessions": []}'


# ---------------------------------------------------------------- atomic writes


def test_writes_leave_no_temporary_files(path: Path) -> None:
    wl = Watchlist(path)
    wl.add([sid(1), sid(2)])
    wl.set_label(sid(1), "x")
    wl.set_pinned(sid(2), True)
    wl.remove([sid(1)])
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".lock"]


def test_every_write_fsyncs_the_file_and_the_directory(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wl = Watchlist(path)
    wl.add([sid(1)])
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append("dir" if os.path.isdir(f"/proc/self/fd/{fd}") else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    wl.add([sid(2)])
    assert synced == ["file", "dir"]


def test_a_failed_write_keeps_the_old_file_and_cleans_up(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wl = Watchlist(path)
    wl.add([sid(1)])
    before = path.read_bytes()

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(WatchlistError) as info:
        wl.add([sid(2)])
    assert str(info.value) == f"cannot save watchlist {path}: No space left on device"
    assert path.read_bytes() == before
    assert wl.ids() == [sid(1)]  # the cache does not claim what the disk does not hold
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".lock"]


# --------------------------------------------------------------------- corruption


@pytest.mark.parametrize(
    "content",
    [
        b'{"version": 1, "sessions": [',
        b"\xff\xfe garbage",
        b"[1, 2, 3]",
        b'{"version": 1, "sessions": {"a": 1}}',
        b'{"sessions": []}',
    ],
    ids=["truncated", "binary", "array", "sessions-not-list", "no-version"],
)
def test_corrupt_file_is_moved_aside_with_a_warning(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    wl = Watchlist(path, clock=lambda: FIXED_NOW)
    assert wl.load() == []
    aside = path.with_name(path.name + ".corrupt-20261128T150102")
    assert aside.read_bytes() == content  # not lost
    assert not path.exists()  # not emptied in place
    (warning,) = wl.take_warnings()
    assert warning.startswith(f"watchlist file {path} was corrupt (")
    assert warning.endswith(f"moved aside to {aside}; starting empty")
    assert "\n" not in warning
    wl.add([sid(1)])
    assert aside.read_bytes() == content  # and never overwritten by the next save
    assert [e["id"] for e in on_disk(path)] == [sid(1)]


def test_corruption_found_by_a_mutation_is_moved_aside_not_overwritten(path: Path) -> None:
    wl = Watchlist(path, clock=lambda: FIXED_NOW)
    wl.add([sid(1)])
    path.write_text("{oops")  # a bad hand edit while we run
    wl.add([sid(2)])
    assert path.with_name(path.name + ".corrupt-20261128T150102").read_text() == "{oops"
    assert wl.ids() == [sid(2)]
    assert len(wl.take_warnings()) == 1


def test_two_corruptions_in_the_same_second_keep_both_copies(path: Path) -> None:
    wl = Watchlist(path, clock=lambda: FIXED_NOW)
    path.parent.mkdir(parents=True)
    path.write_text("first")
    wl.load()
    path.write_text("second")
    wl.load()
    stem = path.name + ".corrupt-20261128T150102"
    assert path.with_name(stem).read_text() == "first"
    assert path.with_name(stem + "-1").read_text() == "second"
    assert len(wl.take_warnings()) == 2


def test_an_empty_file_is_an_empty_watchlist(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text("  \n")
    wl = Watchlist(path)
    assert wl.load() == [] and wl.warnings == []


# ------------------------------------------------------------ sharing the file


def test_two_instances_merge_additions_removals_labels_and_pins(path: Path) -> None:
    a, b = Watchlist(path), Watchlist(path)
    a.add([sid(1), sid(2)])
    b.load()
    a.add([sid(3)])
    b.add([sid(4)])  # b never saw sid(3): it must not write it away
    assert b.ids() == [sid(1), sid(2), sid(3), sid(4)]
    a.remove([sid(1)])
    b.set_label(sid(2), "from b")  # b still caches sid(1): it must not bring it back
    assert b.ids() == [sid(2), sid(3), sid(4)]
    a.set_pinned(sid(4), True)
    b.set_label(sid(3), "also b")
    assert [(e["id"], e["label"], e["pinned"]) for e in on_disk(path)] == [
        (sid(2), "from b", False),
        (sid(3), "also b", False),
        (sid(4), None, True),
    ]
    assert b.ids() == [sid(4), sid(2), sid(3)]
    with pytest.raises(WatchlistError):
        a.set_label(sid(1), "gone")  # removed on disk by now
    assert a.ids() == b.ids()  # even a failed or no-op change refreshes the cache
    c = Watchlist(path)  # never loaded
    assert c.add([sid(2)]) == []
    assert c.ids() == b.ids()


_WORKER = """
import sys, time
from pathlib import Path
from agp_tui.monitor.watchlist import Watchlist
path, go, first, count = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
wl = Watchlist(path)
wl.load()
(path.parent / f"ready-{first}").touch()
while not go.exists():
    time.sleep(0.001)
for n in range(first, first + count):
    wl.add([f"00000000-0000-4000-8000-{n:012d}"])
    if n % 3 == 0:
        wl.remove([f"00000000-0000-4000-8000-{n:012d}"])
"""


def test_concurrent_processes_never_lose_each_others_changes(path: Path) -> None:
    path.parent.mkdir(parents=True)
    go = path.parent / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    count = 60
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(path), str(go), str(first), str(count)],
            env=env,
            stderr=subprocess.PIPE,
        )
        for first in (1000, 2000)
    ]
    # Start everyone at once, after the workers' imports, so the writes really interleave.
    deadline = time.monotonic() + 30
    while not all((path.parent / f"ready-{first}").exists() for first in (1000, 2000)):
        assert time.monotonic() < deadline, "workers did not start"
        time.sleep(0.005)
    wl = Watchlist(path)
    go.touch()
    for n in range(count):
        wl.add([sid(n)])
    for w in workers:
        _, err = w.communicate(timeout=60)
        assert w.returncode == 0, err.decode()
    expected = {sid(n) for n in range(count)} | {
        sid(n) for first in (1000, 2000) for n in range(first, first + count) if n % 3 != 0
    }
    final = Watchlist(path)
    final.load()
    assert set(final.ids()) == expected
    assert len(final) == len(expected) == count + 2 * 40
    wl.reload_if_changed()
    assert set(wl.ids()) == expected


def test_threads_with_separate_instances_never_lose_additions(path: Path) -> None:
    def work(first: int) -> None:
        wl = Watchlist(path)
        for n in range(first, first + 25):
            wl.add([sid(n)])

    threads = [threading.Thread(target=work, args=(first,)) for first in (0, 100, 200, 300)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wl = Watchlist(path)
    wl.load()
    assert len(wl) == 100


def test_reload_if_changed(path: Path) -> None:
    mine, other = Watchlist(path), Watchlist(path)
    assert mine.reload_if_changed() is False  # nothing there, nothing changed
    mine.add([sid(1)])
    assert mine.reload_if_changed() is False  # our own write is not news
    other.add([sid(2)])
    assert mine.reload_if_changed() is True
    assert mine.ids() == [sid(1), sid(2)]
    assert mine.reload_if_changed() is False
    other.set_label(sid(1), "renamed")
    assert mine.reload_if_changed() is True
    assert mine.entries()[0].label == "renamed"
    path.unlink()
    assert mine.reload_if_changed() is True
    assert mine.ids() == []


def test_reload_sees_a_same_size_rewrite_within_one_mtime_tick(path: Path) -> None:
    # Coarse-mtime filesystems can give two quick writes the same mtime and size; the
    # inode still differs because every write renames a fresh file into place.
    mine, other = Watchlist(path), Watchlist(path)
    mine.add([sid(1)], label="aaaa")
    st = path.stat()
    other.set_label(sid(1), "bbbb")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size
    assert mine.reload_if_changed() is True
    assert mine.entries()[0].label == "bbbb"


def test_reload_only_rereads_when_the_stat_signature_changes(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wl = Watchlist(path)
    wl.add([sid(1)])
    reads: list[object] = []
    import agp_tui.monitor.watchlist as module

    real_read = module.read_file

    def counting_read(file: Path, *args: object, **kwargs: object) -> object:
        if file == path:
            reads.append(file)
        return real_read(file, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "read_file", counting_read)
    for _ in range(5):
        assert wl.reload_if_changed() is False
    assert reads == []
    Watchlist(path).add([sid(2)])
    assert wl.reload_if_changed() is True
    assert len(reads) == 2  # the other instance's re-read under the lock, then ours


# ------------------------------------------------------------------------ errors


def test_a_file_in_place_of_the_directory_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    target = blocker / "watchlist-default.json"
    wl = Watchlist(target)
    with pytest.raises(WatchlistError) as info:
        wl.load()
    assert str(info.value) == f"cannot read watchlist {target}: Not a directory"
    with pytest.raises(WatchlistError) as info:
        wl.add([sid(1)])
    assert str(info.value) == f"cannot create the directory for watchlist {target}: File exists"


def test_permission_error_on_save_names_the_path(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    wl = Watchlist(path)
    wl.add([sid(1)])

    def denied(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(WatchlistError) as info:
        wl.add([sid(2)])
    assert str(info.value) == f"cannot save watchlist {path}: Permission denied"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory_is_a_one_line_error(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.parent.chmod(0o500)
    try:
        with pytest.raises(WatchlistError, match=str(path.parent)):
            Watchlist(path).add([sid(1)])
    finally:
        path.parent.chmod(0o700)


# ------------------------------------------------------------------ labels on add


def test_add_labelled_relabels_ids_already_listed_in_place(path: Path) -> None:
    wl = Watchlist(path, clock=ticking())
    wl.add([sid(1), sid(2)])
    wl.set_pinned(sid(2), True)
    assert wl.add_labelled([sid(1), sid(2), sid(3)], " nightly ") == ([sid(3)], [sid(1), sid(2)])
    assert [(e.id, e.label, e.pinned) for e in Watchlist(path).load()] == [
        (sid(2), "nightly", True), (sid(1), "nightly", False), (sid(3), "nightly", False)]
    before = os.stat(path)
    assert wl.add_labelled([sid(1)], "nightly") == ([], [])  # already so: no write at all
    assert os.stat(path).st_ino == before.st_ino
    assert wl.add([sid(1)], label="other") == []  # plain add still leaves listed ids alone
    assert wl.entries()[1].label == "nightly"
    assert wl.add_labelled([sid(1)], "  ") == ([], [sid(1)])  # a blank label clears it
    assert Watchlist(path).load()[1].label is None


# ------------------------------------------------------------------ adopting the per-profile file


def write_list(path: Path, entries: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": 1, "sessions": entries}))


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    return tmp_path / "profiles" / "watchlist-default.json"


@pytest.fixture
def keyed(tmp_path: Path) -> Path:
    return tmp_path / "profiles" / "watchlist-default@agp.eu.hcompany.ai-c93c1212.json"


def test_the_legacy_file_is_adopted_on_first_load_and_moved_aside(legacy: Path, keyed: Path) -> None:
    write_list(legacy, [{"id": sid(1), "label": "a", "pinned": False, "added_at": 10.0},
                        {"id": sid(2), "label": None, "pinned": True, "added_at": 20.0}])
    original = legacy.read_bytes()
    wl = Watchlist(keyed, legacy=legacy)
    assert wl.load() == [WatchEntry(sid(2), None, True, 20.0), WatchEntry(sid(1), "a", False, 10.0)]
    assert wl.warnings == []
    assert not legacy.exists()
    assert legacy.with_name(legacy.name + ".migrated").read_bytes() == original  # a backup
    assert [e["id"] for e in on_disk(keyed)] == [sid(1), sid(2)]
    assert Watchlist(keyed).load() == wl.entries()


def test_adopting_merges_into_an_existing_file_and_its_entries_win(legacy: Path, keyed: Path) -> None:
    write_list(keyed, [{"id": sid(1), "label": "newer", "pinned": False, "added_at": 5.0},
                       {"id": sid(3), "label": None, "pinned": False, "added_at": 6.0}])
    write_list(legacy, [{"id": sid(1), "label": "older", "pinned": True, "added_at": 1.0},
                        {"id": sid(2), "label": "b", "pinned": False, "added_at": 2.0}])
    wl = Watchlist(keyed, legacy=legacy)
    wl.load()
    assert [(e.id, e.label, e.pinned) for e in wl.entries()] == [
        (sid(1), "newer", False), (sid(3), None, False), (sid(2), "b", False)]
    assert not legacy.exists()


def test_adopting_is_idempotent_and_never_brings_back_a_removed_id(legacy: Path, keyed: Path) -> None:
    write_list(legacy, [{"id": sid(1)}, {"id": sid(2)}])
    Watchlist(keyed, legacy=legacy).remove([sid(1)])  # the first mutation adopts, then removes
    for _ in range(3):
        assert Watchlist(keyed, legacy=legacy).load() == [WatchEntry(sid(2))]
    # An older agp-tui still running writes the per-profile file again: merged on next use,
    # before the change that use makes.
    Watchlist(legacy, clock=lambda: FIXED_NOW).add([sid(7)])
    assert Watchlist(keyed, legacy=legacy, clock=lambda: FIXED_NOW + 1).add([sid(8)]) == [sid(8)]
    assert Watchlist(keyed).ids() == [] and Watchlist(keyed).load()[0] == WatchEntry(sid(2))
    assert Watchlist(keyed).load()[1:] == [WatchEntry(sid(7), added_at=FIXED_NOW),
                                           WatchEntry(sid(8), added_at=FIXED_NOW + 1)]


def test_a_missing_legacy_file_costs_nothing_and_creates_nothing(legacy: Path, keyed: Path) -> None:
    wl = Watchlist(keyed, legacy=legacy)
    assert wl.load() == [] and wl.reload_if_changed() is False
    assert not keyed.parent.exists()  # no lock file, no directory


def test_a_corrupt_legacy_file_is_moved_aside_with_a_warning(legacy: Path, keyed: Path) -> None:
    legacy.parent.mkdir(parents=True)
    legacy.write_text("{not json")
    wl = Watchlist(keyed, legacy=legacy)
    assert wl.load() == []
    (warning,) = wl.take_warnings()
    assert str(legacy) in warning and "corrupt" in warning
    (aside,) = [p for p in legacy.parent.iterdir() if ".corrupt-" in p.name]
    assert aside.name.startswith(legacy.name + ".corrupt-") and aside.read_text() == "{not json"
    assert not legacy.exists()
    assert wl.add([sid(1)]) == [sid(1)]


def test_a_legacy_file_from_a_newer_version_is_left_alone(legacy: Path, keyed: Path) -> None:
    legacy.parent.mkdir(parents=True)
    legacy.write_text('{"version": 99, "sessions": []}')
    wl = Watchlist(keyed, legacy=legacy)
    assert wl.add([sid(1)]) == [sid(1)]
    (warning,) = wl.take_warnings()
    assert "newer agp-tui" in warning and str(keyed) in warning
    assert legacy.read_text() == '{"version": 99, "sessions": []}'


_ADOPTER = """
import sys, time
from pathlib import Path
from agp_tui.monitor.watchlist import Watchlist
keyed, legacy, go, first, count = (Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]),
                                   int(sys.argv[4]), int(sys.argv[5]))
old_version = sys.argv[6] == "old"
# An "old" worker is an agp-tui from before lists were keyed by server: it writes the
# per-profile file itself, under that file's lock.
wl = Watchlist(legacy) if old_version else Watchlist(keyed, legacy=legacy)
(keyed.parent / f"ready-{first}").touch()
while not go.exists():
    time.sleep(0.0005)
for n in range(first, first + count):
    wl.add([f"00000000-0000-4000-8000-{n:012d}"])
"""


def test_processes_adopting_at_once_do_it_once_and_lose_nothing(legacy: Path, keyed: Path) -> None:
    on_legacy = [sid(n) for n in range(40)]
    Watchlist(legacy).add(on_legacy)
    go = legacy.parent / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    workers = {1000: "new", 2000: "new", 3000: "new", 4000: "old"}
    procs = [
        subprocess.Popen([sys.executable, "-c", _ADOPTER, str(keyed), str(legacy), str(go),
                          str(first), "15", kind], env=env, stderr=subprocess.PIPE)
        for first, kind in workers.items()
    ]
    deadline = time.monotonic() + 30
    while not all((legacy.parent / f"ready-{first}").exists() for first in workers):
        assert time.monotonic() < deadline, "workers did not start"
        time.sleep(0.005)
    go.touch()
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode()
    added = [sid(n) for first in workers for n in range(first, first + 15)]
    final = Watchlist(keyed, legacy=legacy)  # adopts whatever the old writer left behind
    final.load()
    assert final.warnings == []
    assert sorted(final.ids()) == sorted(on_legacy + added)  # every id once: none lost, none doubled
    assert final.ids()[:40] == on_legacy  # adopted exactly once, first, in order
    assert not legacy.exists()


# -- followed filters ----------------------------------------------------------------------


def test_followed_filters_are_kept_in_order_once_and_survive_other_edits(path: Path) -> None:
    wl = Watchlist(path, clock=ticking())
    assert wl.add_follow(SessionQuery(group_id="nightly")) is True
    assert wl.add_follow(SessionQuery(group_id="nightly")) is False  # one target
    wl.add([sid(1)])
    assert wl.add_follow(SessionQuery(agents=("h/web-surfer",), statuses=("running",))) is True
    wl.remove([sid(1)])
    again = Watchlist(path)
    again.load()
    assert again.follows() == ["group:nightly", "agent:h/web-surfer status:running"]
    assert json.loads(path.read_text())["follows"] == again.follows()
    assert again.remove_follow("group:nightly") is True and again.remove_follow("group:nightly") is False
    wl.load()
    assert wl.follows() == ["agent:h/web-surfer status:running"]


def test_a_file_without_follows_is_written_as_before(path: Path) -> None:
    wl = Watchlist(path, clock=ticking())
    wl.add([sid(1)])
    assert "follows" not in json.loads(path.read_text())


def test_bad_follows_are_dropped_with_a_warning_and_the_rest_kept(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": 1, "sessions": [{"id": sid(1)}],
                                "follows": ["group:ok", "colour:red", 7, "group:ok", "since:2h"]}))
    wl = Watchlist(path)
    wl.load()
    follows = wl.follows()
    assert follows[0] == "group:ok" and len(follows) == 2 and follows[1].startswith("since:20")
    warning = " ".join(wl.take_warnings())
    assert "colour:red" in warning and "7" in warning
    assert wl.ids() == [sid(1)]


def test_reload_sees_follows_changed_by_another_process(path: Path) -> None:
    ours, theirs = Watchlist(path), Watchlist(path)
    ours.load()
    theirs.add_follow(SessionQuery(group_id="b"))
    assert ours.reload_if_changed() is True and ours.follows() == ["group:b"]
