"""The watchlist file survives `kill -9` at any moment, and concurrent writers lose nothing.

A child process writes through the real store (`agp_tui.monitor.watchlist.Watchlist`) in a
loop and is SIGKILLed at a random (seeded) moment, over and over. After every kill the file
must parse and hold exactly one of the lists the child was alternating between; nothing may
be moved aside as corrupt, and a killed writer's temp file must not pile up: the next
writer removes it. Writers started at the same time, and a dashboard-style remove racing a
scripted add, must each see their change land.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from agp_tui.monitor.watchlist import Watchlist

SEED = 20260611
KILLS = 110  # the issue asks for at least 100
KILL_BUDGET_S = 40.0  # wall-clock cap on the kill loop; fails loudly rather than run long
BASE = 400  # ids in the "old" list; the "new" list has EXTRA more (a ~100 KB file)
EXTRA = 400

# The child: `alternate PATH IDS_FILE` switches the file between the old list and the new
# one forever (one locked write per switch), printing "go" once its first write is done;
# `add PATH ID...` adds its ids one locked write each, then prints "done";
# `adopt PATH LEGACY` merges the per-profile file of older versions into PATH (first load).
CHILD = r"""
import json, sys
from pathlib import Path
from agp_tui.monitor.watchlist import Watchlist

mode, path = sys.argv[1], Path(sys.argv[2])
wl = Watchlist(path)
if mode == "alternate":
    ids = json.loads(Path(sys.argv[3]).read_text())
    base, extra = ids[:BASE], ids[BASE:]
    wl.add(base)
    wl.add(extra)
    print("go", flush=True)
    while True:
        wl.remove(extra)
        wl.add(extra)
elif mode == "add":
    print("go", flush=True)
    for sid in sys.argv[3:]:
        wl.add([sid])
    print("done", flush=True)
elif mode == "adopt":
    import time
    wl = Watchlist(path, legacy=Path(sys.argv[3]))
    print("go", flush=True)
    wl.load()
    print("done", flush=True)
    time.sleep(60)  # the parent kills it either way
""".replace("BASE", str(BASE))


def make_ids(rng: random.Random, n: int) -> list[str]:
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(n)]


def spawn(*args: str) -> subprocess.Popen[str]:
    """The child as a fresh interpreter: for the writers that run to the end."""
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


class Forked:
    """The same child program in a forked copy of this process, for the kill loops: a
    separate process with its own descriptors and locks, killed with SIGKILL like the
    other, minus the ~0.1 s of interpreter start-up that each of 110 spawns would cost."""

    def __init__(self, *args: str) -> None:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: run CHILD, never return into pytest
            try:
                os.close(read)
                sys.stdout = os.fdopen(write, "w")
                sys.argv = ["-c", *args]
                exec(compile(CHILD, "<child>", "exec"), {"__name__": "__main__"})
            finally:
                os._exit(1)  # only reached if CHILD ended or raised (its traceback is on stderr)
        os.close(write)
        self.pid = pid
        self.stdout = os.fdopen(read)
        self.returncode: int | None = None

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
            elif time.monotonic() > deadline:
                raise TimeoutError(f"forked child {self.pid} still running after {timeout} s")
            else:
                time.sleep(0.001)
        return self.returncode

    def close(self) -> None:
        self.stdout.close()


def wait_for_go(proc: subprocess.Popen[str] | Forked) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "go":
        proc.kill()
        proc.wait(timeout=10)
        err = proc.communicate(timeout=10)[1] if isinstance(proc, subprocess.Popen) else "(on stderr)"
        raise AssertionError(f"child did not start: {line!r} {err[-2000:]}")


def file_ids(path: Path) -> list[str]:
    """The ids in the file, read with plain `json`: independent of the store under test."""
    doc = json.loads(path.read_bytes())  # raises if the file is torn
    assert doc["version"] == 1
    return [item["id"] for item in doc["sessions"]]


def debris(directory: Path, name: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir()
                  if p.name.startswith(f".{name}.") and p.name.endswith(".tmp"))


def corrupt(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".corrupt-" in p.name)


def test_sigkill_at_random_moments_never_tears_the_file(
    tmp_path: Path, report_figure: Callable[[str], None]
) -> None:
    rng = random.Random(SEED)
    ids = make_ids(rng, BASE + EXTRA)
    old, new = ids[:BASE], ids
    ids_file = tmp_path / "ids.json"
    ids_file.write_text(json.dumps(ids))
    directory = tmp_path / "data"
    path = directory / "watchlist-default.json"

    seen: Counter[str] = Counter()
    mid_write = 0  # kills that left a temp file: the child died between mkstemp and rename
    most_debris = 0
    started = time.monotonic()
    for kill in range(KILLS):
        assert time.monotonic() - started < KILL_BUDGET_S, f"only {kill} kills in {KILL_BUDGET_S} s"
        proc = Forked("alternate", str(path), str(ids_file))
        try:
            wait_for_go(proc)
            # Once "go" is printed the child only alternates; it writes about every few ms.
            time.sleep(rng.uniform(0.0, 0.025))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            proc.close()
        assert proc.returncode == -signal.SIGKILL, f"the child exited on its own: {proc.returncode}"

        try:
            got = file_ids(path)
        except ValueError as exc:
            raise AssertionError(f"kill {kill}: the file does not parse: {exc}") from None
        if got == old:
            seen["old"] += 1
        elif got == new:
            seen["new"] += 1
        else:
            raise AssertionError(f"kill {kill}: the file holds {len(got)} ids, neither list")
        left = debris(directory, path.name)
        mid_write += bool(left)
        most_debris = max(most_debris, len(left))
        # Each child's first write sweeps the previous child's temp file: they never pile up.
        assert len(left) <= 1, f"kill {kill}: temp files pile up: {left}"
        assert corrupt(directory) == [], f"kill {kill}: a good file was moved aside"

    # The store itself reads what the kills left behind without complaint.
    store = Watchlist(path)
    assert store.load() and store.ids() in (old, new)
    assert store.take_warnings() == []
    store.add([make_ids(rng, 1)[0]])  # the next writer cleans the last killed writer's debris
    assert debris(directory, path.name) == []
    elapsed = time.monotonic() - started
    report_figure(f"crash-safe watchlist: {KILLS} SIGKILLs in {elapsed:.1f} s, {KILLS} parses ok, "
          f"old list {seen['old']}, new list {seen['new']}, killed mid-write (temp file left) "
          f"{mid_write}, most temp files at once {most_debris}, moved aside as corrupt 0")
    # Both outcomes occurred, so the kills really landed at different points of the cycle.
    assert seen["old"] > 0 and seen["new"] > 0


ROUNDS = 120  # ids each concurrent writer adds, one locked read-modify-write each


def test_two_processes_adding_at_once_lose_nothing(
    tmp_path: Path, report_figure: Callable[[str], None]
) -> None:
    rng = random.Random(SEED + 1)
    path = tmp_path / "data" / "watchlist-default.json"
    mine, theirs = make_ids(rng, ROUNDS), make_ids(rng, ROUNDS)
    a = spawn("add", str(path), *mine)
    b = spawn("add", str(path), *theirs)
    for proc in (a, b):
        wait_for_go(proc)
    for proc in (a, b):
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0 and out.strip() == "done", err[-2000:]
    got = file_ids(path)
    assert sorted(got) == sorted(mine + theirs), (
        f"lost {len(set(mine + theirs) - set(got))} of {2 * ROUNDS} concurrent additions")
    # Each writer's own ids stay in the order it added them.
    assert [s for s in got if s in set(mine)] == mine
    assert [s for s in got if s in set(theirs)] == theirs
    report_figure(f"concurrent adds: 2 processes x {ROUNDS} locked writes, {len(got)} of {2 * ROUNDS} kept")


def test_dashboard_remove_while_a_script_adds_loses_neither(
    tmp_path: Path, report_figure: Callable[[str], None]
) -> None:
    rng = random.Random(SEED + 2)
    path = tmp_path / "data" / "watchlist-default.json"
    doomed, kept, added = make_ids(rng, ROUNDS), make_ids(rng, 20), make_ids(rng, ROUNDS)
    ui = Watchlist(path)
    ui.add(kept + doomed)
    ui.load()  # the dashboard's in-memory copy, soon stale while the script writes
    script = spawn("add", str(path), *added)
    wait_for_go(script)
    removed: list[str] = []
    errors: list[BaseException] = []

    def remove_one_by_one() -> None:
        try:
            for sid in doomed:  # `d` on one row at a time, as a user would
                removed.extend(ui.remove([sid]))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    worker = threading.Thread(target=remove_one_by_one)
    worker.start()
    out, err = script.communicate(timeout=60)
    worker.join(timeout=60)
    assert not errors and not worker.is_alive()
    assert script.returncode == 0 and out.strip() == "done", err[-2000:]
    assert removed == doomed
    got = file_ids(path)
    assert set(got) == set(kept + added), (
        f"removed ids back: {len(set(got) & set(doomed))}, additions lost: {len(set(added) - set(got))}")
    assert ui.reload_if_changed() or ui.ids() == got
    assert sorted(ui.ids()) == sorted(got)
    report_figure(f"remove vs add: {len(doomed)} removes and {len(added)} adds interleaved, none lost")


def test_a_killed_writers_temp_file_is_cleaned_by_the_next_writer(tmp_path: Path) -> None:
    # The sweep in isolation: a fake leftover of a killed writer, and files it must not touch.
    directory = tmp_path / "data"
    directory.mkdir()
    path = directory / "watchlist-work.json"
    leftover = directory / ".watchlist-work.json.k3j9x.tmp"
    leftover.write_text('{"version": 1, "sess')
    other_profile = directory / ".watchlist-home.json.a1b2c3.tmp"
    other_profile.write_text("{}")
    Watchlist(path).add([make_ids(random.Random(SEED + 3), 1)[0]])
    assert not leftover.exists()
    assert other_profile.exists()  # another profile's writer may be alive: not ours to remove
    assert sorted(os.listdir(directory)) == sorted(
        [".watchlist-home.json.a1b2c3.tmp", "watchlist-work.json", "watchlist-work.json.lock"])


ADOPT_KILLS = 40


def test_sigkill_while_adopting_the_per_profile_file_loses_nothing(
    tmp_path: Path, report_figure: Callable[[str], None]
) -> None:
    """Killed anywhere in the merge of `watchlist-PROFILE.json` into the per-server file,
    every id is still on disk, and the next run finishes the job without doubling any."""
    rng = random.Random(SEED + 4)
    directory = tmp_path / "data"
    keyed = directory / "watchlist-default@agp.eu.hcompany.ai-c93c1212.json"
    legacy = directory / "watchlist-default.json"
    ids = make_ids(rng, 600)
    ours, theirs = ids[:300], ids[200:]  # 100 ids on both lists
    expected = ours + ids[300:]  # the per-server file's entries first, then the rest in order
    outcomes: Counter[str] = Counter()

    def fresh_files() -> None:
        for leftover in directory.glob("watchlist-*"):
            leftover.unlink()
        Watchlist(keyed).add(ours)
        Watchlist(legacy).add(theirs)

    def timed_merge() -> float:
        fresh_files()
        proc = Forked("adopt", str(keyed), str(legacy))
        try:
            wait_for_go(proc)
            began = time.monotonic()
            assert proc.stdout.readline().strip() == "done"
            return time.monotonic() - began
        finally:
            proc.kill()
            proc.wait(timeout=10)
            proc.close()

    # The kill window spans the whole merge as this machine runs it now (twice the slowest
    # of three unkilled merges), so kills land before, during and after it however loaded
    # the machine is; a fixed 12 ms window saw every kill land before the merge under load.
    window = max(0.012, 2 * max(timed_merge() for _ in range(3)))
    started = time.monotonic()
    for kill in range(ADOPT_KILLS):
        assert time.monotonic() - started < KILL_BUDGET_S, f"only {kill} kills in {KILL_BUDGET_S} s"
        if kill and kill % 10 == 0 and not outcomes["done"]:
            # Every kill so far landed before the merge ended: the machine got slower than
            # when the window was timed (other work started). Widen it, or no kill lands after.
            window *= 2
        fresh_files()
        proc = Forked("adopt", str(keyed), str(legacy))
        try:
            wait_for_go(proc)
            time.sleep(rng.uniform(0.0, window))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            proc.close()
        on_keyed = file_ids(keyed)  # raises if torn
        on_legacy = file_ids(legacy) if legacy.exists() else []
        assert on_keyed in (ours, expected), f"kill {kill}: the per-server file is neither list"
        missing = set(ids) - set(on_keyed) - set(on_legacy)
        assert not missing, f"kill {kill}: {len(missing)} ids on neither file"
        if on_legacy:
            outcomes["merged, old file still there" if on_keyed == expected else "before the merge"] += 1
        else:
            assert on_keyed == expected, f"kill {kill}: old file gone but the merge is incomplete"
            outcomes["done"] += 1
        assert corrupt(directory) == [], f"kill {kill}: a good file was moved aside"
        store = Watchlist(keyed, legacy=legacy)  # the next run
        assert store.load() and store.ids() == expected
        assert store.take_warnings() == [] and not legacy.exists()
    elapsed = time.monotonic() - started
    report_figure(f"crash-safe adoption of watchlist-PROFILE.json: {ADOPT_KILLS} SIGKILLs in "
                  f"{elapsed:.1f} s (kill window {window * 1000:.0f} ms), "
                  + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
                  + ", ids lost 0, ids doubled 0")
    assert outcomes["before the merge"] > 0 and outcomes["done"] > 0
