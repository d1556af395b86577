"""Many threads writing and reading one library at once: nothing lost, files and rows
agree, readers never see an error or a half-made image."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

from imageshelf.app.library import Gone, Library
from tests.conftest import image_bytes
from tests.library.helpers import library_files, on_disk, row_count, sha256, tmp_leftovers

THREADS = 16


def distinct_images(n: int) -> list[bytes]:
    return [image_bytes("PNG", size=(24, 24), color=(i * 13 % 256, i, 255 - i)) for i in range(n)]


def test_sixteen_threads_adding_at_once_lose_nothing(library: Library) -> None:
    images = distinct_images(THREADS * 2)
    start = threading.Barrier(THREADS)

    def worker(t: int):
        start.wait()
        # Same name and folder everywhere: every thread races for "same.png".
        return [
            library.add(io.BytesIO(images[t * 2 + k]), "same.png", folder="race") for k in range(2)
        ]

    with ThreadPoolExecutor(THREADS) as pool:
        added = [rec for batch in pool.map(worker, range(THREADS)) for rec in batch]

    assert len(added) == len({r.id for r in added}) == THREADS * 2
    assert row_count(library) == library.list_images().total == THREADS * 2
    names = {r.filename for r in added}
    assert len(names) == THREADS * 2 and "same.png" in names
    on_disk_names = [p for p in library_files(library.root) if p != "race"]
    assert sorted(on_disk_names) == sorted(f"race/{n}" for n in names)
    assert sorted(r.sha256 for r in added) == sorted(sha256(d) for d in images)
    for rec in added:
        assert sha256(on_disk(library, rec).read_bytes()) == rec.sha256
        assert library.get(rec.id) == rec
    assert tmp_leftovers(library) == []


def test_readers_during_writes_see_only_whole_images(library: Library) -> None:
    images = distinct_images(24)
    stop = threading.Event()
    problems: list[BaseException] = []
    totals: list[int] = []

    def read() -> None:
        try:
            while not stop.is_set():
                page = library.list_images(page_size=100)
                assert page.total >= len(page.items)
                totals.append(page.total)
                for rec in page.items:
                    try:
                        current, fp = library.open_original(rec.id)
                    except Gone:
                        continue  # deleted since the page was read
                    with fp:
                        assert sha256(fp.read()) == current.sha256 == rec.sha256
                library.folders()
        except BaseException as exc:  # reported below, not lost in the thread
            problems.append(exc)

    def write(i: int) -> None:
        rec = library.add(io.BytesIO(images[i]), f"{i}.png", folder=f"f{i % 3}")
        if i % 4 == 0:
            library.update(rec.id, alt_text=f"described {i}", folder="moved")
        if i % 6 == 0:
            library.delete(rec.id)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for r in readers:
        r.start()
    try:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(write, range(len(images))))
    finally:
        stop.set()
        for r in readers:
            r.join(30)
    assert problems == []
    assert totals  # the readers really ran
    assert library.list_images().total == len(images) - len(range(0, len(images), 6))
