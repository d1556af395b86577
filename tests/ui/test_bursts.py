"""What keeps the window's event loop short while photos arrive in batches: the grid's
row lookups re-indexed once per burst of inserts (not once per row), progress applied
once per burst, and the decode workers yielding the cores to the library process."""

from __future__ import annotations

import io
import os
from dataclasses import replace

from imageshelf.app.library import ImageRecord, Library, rules
from imageshelf.app.library.decode_workers import WORKER_NICENESS, WorkerPool
from imageshelf.app.library.records import now_us
from imageshelf.app.ui.coalesce import Coalesced
from imageshelf.app.ui.grid_pages import MAX_PAGES, PAGE_SIZE, PageStore
from tests.conftest import image_bytes


def _records(library: Library, n: int) -> list[ImageRecord]:
    seed = library.add(io.BytesIO(image_bytes("PNG", size=(8, 8))), "seed.png")
    t = now_us()
    return [
        replace(
            seed,
            id=rules.new_image_id(),
            filename=f"r{i:05}.png",
            sha256=f"{i % 7:064x}",
            created_at_us=t - i,
        )
        for i in range(n)
    ]


def test_rows_inserted_in_a_burst_are_found_where_they_are(library: Library) -> None:
    loaded = _records(library, MAX_PAGES * PAGE_SIZE)
    store = PageStore()
    for p in range(MAX_PAGES):
        store.put(p, loaded[p * PAGE_SIZE : (p + 1) * PAGE_SIZE])
    new = _records(library, 16)
    for record in new:
        assert not store.holds(record.id)
        store.shift_down(0, record)  # newest first: each at the top
        assert store.holds(record.id) and store.loaded(0) == record
    # Asked after the burst: the lookups agree with the rows as they are now.
    expect = {}
    for p, items in store.pages.items():
        for i, r in enumerate(items, p * PAGE_SIZE):
            if r is not None:
                expect[r.id] = i
    assert store.row_of == expect
    assert store.row_of[new[-1].id] == 0 and store.row_of[new[0].id] == 15
    assert store.row_of[loaded[0].id] == 16
    assert set().union(*store.by_sha.values()) == set(expect)


def test_a_burst_of_progress_is_applied_once_with_the_newest_value(qtbot) -> None:  # type: ignore[no-untyped-def]
    applied: list[tuple[int, int]] = []
    progress = Coalesced(lambda done, total: applied.append((done, total)))
    for done in range(1, 17):
        progress.push(done, 500)
    assert applied == []  # not while the burst is being delivered
    qtbot.waitUntil(lambda: applied == [(16, 500)])
    progress.push(17, 500)
    progress.flush()
    assert applied == [(16, 500), (17, 500)]


def test_decode_workers_run_below_the_library_process_priority() -> None:
    mine = os.nice(0)
    with WorkerPool(1) as pool:
        theirs = pool._pool.submit(os.nice, 0).result(timeout=60)
    assert theirs == min(19, mine + WORKER_NICENESS)
