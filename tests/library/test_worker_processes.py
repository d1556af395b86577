"""The decode workers' pool of our own (``worker_processes``): a worker killed mid-run stops
the run with a clear error, never a hang, and every copy made and not handed out goes; a
run left early drops the work not started and waits for the work running. A named pipe
(FIFO) stands in for a file being decoded: its worker stays in that file until the test
writes it, so what runs and what waits is known."""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest

from imageshelf.app.library.decode_workers import Examined, Refused, WorkerPool, examine_copy
from tests.library.test_adoption_workers import camera_jpeg

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
    pytest.mark.timeout(180),
]


def in_each_worker(pool: WorkerPool, fn: Any, *args: Any) -> list[Any]:
    """``fn(*args)`` once in each worker: a run sends each task to the worker with fewest,
    the first such, so the first ``pool.workers`` go one to each."""
    runs = pool.run(fn, list(range(pool.workers)), lambda _i: args, lambda _i: Path(os.devnull))
    return [result for _i, result in runs]


def _photos(folder: Path, n: int) -> list[Path]:
    folder.mkdir()
    out = []
    for i in range(n):
        out.append(folder / f"p{i}.jpg")
        out[-1].write_bytes(camera_jpeg(i, (1600, 1200)))
    return out


def _reading(pids: list[int], path: Path) -> int | None:
    """The worker that has ``path`` open (its open may just be returning)."""
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == str(path):
                    return pid
            except OSError:
                continue
    return None


def _until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def _remove_copy(result: Examined | Refused) -> None:
    if isinstance(result, Examined) and result.tmp is not None:
        result.tmp.unlink(missing_ok=True)


def _copying(
    pool: WorkerPool, items: list[Path], copies: Path, slow: Path, like: Path, unused: Any
) -> Iterator[tuple[Path, Examined | Refused]]:
    """``examine_copy`` of ``items`` into ``copies``. The decode budget's read of the FIFO
    ``slow`` would wait on it: ``like``'s size stands in for it."""
    return pool.run(
        examine_copy,
        items,
        lambda p: (str(p), str(copies)),
        lambda p: like if p == slow else p,
        unused=unused,
    )


def test_a_worker_killed_mid_run_stops_it_with_an_error_and_leaves_no_copy(
    tmp_path: Path,
) -> None:
    photos = _photos(tmp_path / "card", 5)
    slow = tmp_path / "slow.jpg"
    os.mkfifo(slow)
    copies = tmp_path / "tmp"
    copies.mkdir()
    items = [photos[0], slow, *photos[1:]]
    handed: list[Examined | Refused] = []
    with WorkerPool(2) as pool:
        run = _copying(pool, items, copies, slow, photos[0], _remove_copy)
        handed.append(next(run)[1])
        writer = os.open(slow, os.O_WRONLY)  # once a worker has opened it to read
        try:
            _until(lambda: _reading(pool.pids, slow), "no worker has the slow file open")
            stuck = _reading(pool.pids, slow)
            assert stuck is not None
            # The other worker has made copies of the photos after it, not handed out yet.
            _until(lambda: len(os.listdir(copies)) >= 2, "the other worker made no copy")
            os.kill(stuck, signal.SIGKILL)
            with pytest.raises(BrokenProcessPool) as broken:
                handed += [result for _item, result in run]
        finally:
            os.close(writer)
        assert f"(pid {stuck}) was killed" in str(broken.value)
        assert str(slow) in str(broken.value)
        with pytest.raises(BrokenProcessPool):  # and it takes no more work
            in_each_worker(pool, os.getpid)
    assert len(handed) == 1
    assert isinstance(handed[0], Examined)
    assert os.listdir(copies) == [handed[0].tmp.name] if handed[0].tmp else []


def test_a_run_left_early_drops_what_was_not_started_and_cleans_what_was(
    tmp_path: Path,
) -> None:
    """Sent one to each worker in turn: the first worker gets photos 0, 1, 3; the second
    the slow file, then photos 2 and 4, which it must drop unstarted."""
    photos = _photos(tmp_path / "card", 6)
    slow = tmp_path / "slow.jpg"
    os.mkfifo(slow)
    copies = tmp_path / "tmp"
    copies.mkdir()
    unused: list[str] = []
    cancelled = threading.Event()

    def unused_result(result: Examined | Refused) -> None:
        assert isinstance(result, Examined)
        unused.append(result.sha256)
        _remove_copy(result)
        cancelled.set()  # the first comes after the cancel was sent to every worker

    def write_slow() -> None:
        with open(slow, "wb") as fifo:
            cancelled.wait(20)
            fifo.write(photos[5].read_bytes())

    writer = threading.Thread(target=write_slow)
    writer.start()
    items = [photos[0], slow, *photos[1:5]]
    with WorkerPool(2) as pool:
        run = _copying(pool, items, copies, slow, photos[0], unused_result)
        _item, first = next(run)
        assert isinstance(first, Examined) and first.tmp is not None
        _until(lambda: len(os.listdir(copies)) >= 2, "photo 1 was not started")
        run.close()  # the caller leaves the loop
    writer.join(30)
    sha = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name for p in photos}
    made = sorted(sha[s] for s in unused)
    assert "p5.jpg" in made  # the slow file, running when the run was left: waited for
    assert "p1.jpg" in made
    assert "p2.jpg" not in made and "p4.jpg" not in made  # queued behind it: dropped
    assert os.listdir(copies) == [first.tmp.name]  # every copy not handed out removed


def test_a_slow_item_at_its_turn_does_not_stop_the_other_workers(tmp_path: Path) -> None:
    """The slow file first: its worker also holds photos 1 and 3 (sent one to each worker
    in turn), the other photos 0, 2 and 4. While the run waits for the slow file's turn,
    the other worker's answers are read as they come and it is sent the photos after
    them: it makes more copies than its share sent ahead (3), which a run that read each
    answer only at its turn never let it do. Then everything is handed out in order."""
    photos = _photos(tmp_path / "card", 10)
    slow = tmp_path / "slow.jpg"
    os.mkfifo(slow)
    copies = tmp_path / "tmp"
    copies.mkdir()
    items = [slow, *photos[:9]]
    with WorkerPool(2) as pool:
        run = _copying(pool, items, copies, slow, photos[0], _remove_copy)
        got: list[tuple[Path, Examined | Refused]] = []

        def take_all() -> None:
            got.extend(run)

        taker = threading.Thread(target=take_all)
        taker.start()
        with open(slow, "wb") as fifo:  # opened once the slow file's worker reads it
            _until(lambda: len(os.listdir(copies)) >= 5, "the other worker stopped at 3")
            fifo.write(photos[9].read_bytes())
        taker.join(60)
    assert [item for item, _result in got] == items
    assert all(isinstance(result, Examined) for _item, result in got)
    for _item, result in got:
        _remove_copy(result)


def test_an_error_in_a_worker_is_raised_at_its_turn_with_the_workers_traceback(
    tmp_path: Path,
) -> None:
    there = tmp_path / "there"
    there.write_bytes(b"x")
    items = [there, tmp_path / "missing", there, there]
    seen: list[Path] = []
    with WorkerPool(2) as pool:
        with pytest.raises(FileNotFoundError) as raised:
            for item, _result in pool.run(os.stat, items, lambda p: (str(p),), lambda p: there):
                seen.append(item)
        assert seen == [there]
        assert "Traceback" in str(raised.value.__cause__)
        # The pool is whole: the next run works.
        assert len(set(in_each_worker(pool, os.getpid))) == 2
