"""The app's own writes, moves and deletes, many at once from several threads, while the
real watcher runs: not one of them comes back as an outside change, and folder and
database agree at the end."""

from __future__ import annotations

import io
import random
import threading

import pytest

from imageshelf.app.library import EventKind, Gone, Library
from tests.library.helpers import library_files, row_count, sha256, tmp_leftovers
from tests.library.test_watcher import barrier, distinct_image
from tests.library.test_watcher_support import EventLog

FOLDERS = [None, "one", "two/deeper", "three"]


def test_concurrent_app_changes_never_echo(watched: Library) -> None:
    log = EventLog(watched)
    errors: list[BaseException] = []
    deleted: set[str] = set()
    guard = threading.Lock()

    def worker(n: int) -> None:
        rng = random.Random(n)
        mine: list[str] = []
        try:
            for i in range(30):
                roll = rng.random()
                if not mine or roll < 0.45:
                    record = watched.add(
                        io.BytesIO(distinct_image()), f"w{n}-{i}.jpg", folder=rng.choice(FOLDERS)
                    )
                    mine.append(record.id)
                elif roll < 0.8:
                    watched.update(rng.choice(mine), folder=rng.choice(FOLDERS), alt_text=f"{i}")
                else:
                    gone = mine.pop(rng.randrange(len(mine)))
                    watched.delete(gone)
                    with guard:
                        deleted.add(gone)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    barrier(watched, log)

    from_disk = [e for e in log.events if e.source == "disk"]
    assert len(from_disk) == 1 and from_disk[0].kind == EventKind.ADDED  # the barrier
    for image_id in deleted:
        with pytest.raises(Gone):
            watched.get(image_id)
    records = watched.list_images(page_size=100).items
    assert len(records) == row_count(watched)
    on_disk = {p for p in library_files(watched.root) if (watched.root / p).is_file()}
    assert on_disk == {r.relpath for r in records}
    for r in records:
        assert sha256(watched.path_of(r.folder, r.filename).read_bytes()) == r.sha256
    assert tmp_leftovers(watched) == []
