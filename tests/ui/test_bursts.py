"""What keeps the window's event loop short while photos arrive in batches: the grid's
row lookups re-indexed once per burst of inserts (not once per row), progress applied
once per burst (and a few times a second at most) and painted with the window's next
paint, and the decode workers yielding the cores to the library process."""

from __future__ import annotations

import io
import os
from dataclasses import replace

from PySide6.QtWidgets import QProgressBar, QStyleOptionProgressBar

from imageshelf.app.library import ImageRecord, Library, rules
from imageshelf.app.library.decode_workers import WORKER_NICENESS, WorkerPool
from imageshelf.app.library.records import now_us
from imageshelf.app.ui.coalesce import Coalesced
from imageshelf.app.ui.grid_pages import MAX_PAGES, PAGE_SIZE, PageStore
from imageshelf.app.ui.progress_bar import QuietProgressBar, set_progress
from tests.conftest import image_bytes
from tests.library.test_worker_processes import in_each_worker
from tests.ui.conftest import Paints


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


def test_a_span_of_rows_is_what_each_row_holds(library: Library) -> None:
    """The grid's paint reads a screen of rows as page slices (``span``): the same rows,
    unread pages and the short last page included, as row-by-row ``loaded``."""
    records = _records(library, 3 * PAGE_SIZE)
    store = PageStore()
    store.put(0, records[:PAGE_SIZE])
    store.put(2, records[2 * PAGE_SIZE : 2 * PAGE_SIZE + 40])  # page 1 not read
    store.shift_down(5, None)  # an unread row in a loaded page
    for start, end in [(0, 10), (90, 110), (95, 260), (0, 3 * PAGE_SIZE), (250, 251)]:
        assert store.span(start, end) == [store.loaded(r) for r in range(start, end)]


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


def test_progress_with_an_interval_waits_for_it_and_keeps_the_newest(qtbot) -> None:  # type: ignore[no-untyped-def]
    applied: list[int] = []
    progress = Coalesced(applied.append, min_interval_ms=60_000)
    progress.push(1)
    qtbot.waitUntil(lambda: applied == [1])  # the first at once (next turn)
    for done in range(2, 10):
        progress.push(done)
    # Within the interval the next one waits for it (a minute here: no timing involved).
    assert progress._timer.isActive() and progress._timer.interval() > 50_000
    assert applied == [1]
    progress.flush()  # what the end of a run does: the newest, now
    assert applied == [1, 9]


def test_progress_is_painted_with_the_next_paint_not_at_once(qtbot) -> None:  # type: ignore[no-untyped-def]
    bar = QProgressBar()
    bar.setRange(0, 100)
    qtbot.addWidget(bar)
    paints = Paints()
    bar.installEventFilter(paints)
    bar.show()
    qtbot.waitUntil(lambda: paints.count > 0)  # shown and painted once
    seen = paints.count
    bar.setValue(50)
    # Qt's own setValue paints at once (and with it the rest of the window waiting for a
    # paint): why the window does not call it as it is.
    assert paints.count == seen + 1
    set_progress(bar, 90, 100)
    assert paints.count == seen + 1 and bar.value() == 90 and bar.maximum() == 100
    qtbot.waitUntil(lambda: paints.count == seen + 2)  # with the next paint
    set_progress(bar, 0, 0)  # nothing to count yet: still a bar, not "busy"
    assert (bar.minimum(), bar.maximum(), bar.value()) == (0, 1, 0)


def test_a_busy_progress_bar_is_not_animated(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Qt's bar, busy, repaints itself over and over (the style's animation, which it
    keys on the widget given in the style option); ours gives the style no widget."""
    plain, quiet = QProgressBar(), QuietProgressBar()
    for bar in (plain, quiet):
        qtbot.addWidget(bar)
        bar.setRange(0, 0)
        bar.show()
    paints = Paints()
    plain.installEventFilter(paints)
    qtbot.waitUntil(lambda: paints.count > 3)  # the animation, with nothing changed
    for bar, animated in ((plain, True), (quiet, False)):
        option = QStyleOptionProgressBar()
        bar.initStyleOption(option)
        assert (option.styleObject is bar) == animated
    set_progress(quiet, 3, 10)
    assert (quiet.value(), quiet.maximum()) == (3, 10)


def test_decode_workers_run_below_the_library_process_priority() -> None:
    mine = os.nice(0)
    with WorkerPool(1) as pool:
        theirs = in_each_worker(pool, os.nice, 0)
    assert theirs == [min(19, mine + WORKER_NICENESS)]
