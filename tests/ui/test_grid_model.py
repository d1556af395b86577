"""The grid model on its own: every row counted at once but only the pages shown read,
bounded memory, named roles, targeted updates from events (also while scrolled deep into
a big library), thumbnails arriving asynchronously."""

from __future__ import annotations

import random

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QListView
from sqlalchemy import text

from imageshelf.app.library import Event, EventKind, Library, Sort, rules
from imageshelf.app.ui import grid_pages
from imageshelf.app.ui.bridge import LibraryBridge
from imageshelf.app.ui.grid_model import THUMB_SIDE, ImageGridModel
from imageshelf.app.ui.grid_pages import PAGE_SIZE
from imageshelf.app.ui.grid_query import Query, Role
from imageshelf.app.ui.grid_view import ImageGrid
from imageshelf.app.ui.thumbnails import ThumbnailLoader

BIG = 10_000


def replicate_rows(library: Library, count: int) -> None:
    """Copies of the real rows straight through SQL: a big library in a second. The copies
    share the originals' content hash, so their thumbnails are the real cached ones."""
    with library.engine.begin() as conn:
        seeds = conn.execute(text("SELECT * FROM images")).mappings().all()
        rows = []
        for i in range(count):
            seed = dict(seeds[i % len(seeds)])
            seed.pop("pk")
            seed["id"] = rules.new_image_id()
            seed["filename"] = f"copy-{i:05}.jpg"
            seed["created_at"] = seed["created_at"] - i - 1
            seed["search_text"] = seed["filename"]
            rows.append(seed)
        cols = list(rows[0])
        names, params = ", ".join(cols), ", ".join(":" + c for c in cols)
        conn.execute(text(f"INSERT INTO images ({names}) VALUES ({params})"), rows)


def big_model(
    library, add, qtbot, rows: int = BIG
) -> tuple[ImageGridModel, ImageGrid, ThumbnailLoader]:
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        add(name)
    replicate_rows(library, rows)
    loader = ThumbnailLoader(library)
    model = ImageGridModel(library, loader)
    view = ImageGrid()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    return model, view, loader


def library_ids(library: Library, **query: object) -> list[str]:
    """Every id of a view, in the core's order, page by page."""
    ids: list[str] = []
    page = 1
    while True:
        items = library.list_images(page=page, page_size=PAGE_SIZE, **query).items
        ids += [r.id for r in items]
        if len(items) < PAGE_SIZE:
            return ids
        page += 1


def loaded_ids(model: ImageGridModel) -> dict[int, str]:
    """What the model holds, by row, without reading anything more."""
    return {r: model.index(r).data(Role.Id) for r in range(model.rowCount()) if model.is_loaded(r)}


def scroll_to(view: ImageGrid, model: ImageGridModel, row: int, qtbot) -> None:
    """Scrolls until ``row`` is on screen and its page has been read."""

    def there() -> bool:
        view.scrollTo(model.index(row), QAbstractItemView.ScrollHint.PositionAtTop)
        return model.is_loaded(row)

    qtbot.waitUntil(there, timeout=10_000)


def test_a_big_library_counts_at_once_and_reads_only_what_is_shown(library, add, qtbot):
    model, _view, loader = big_model(library, add, qtbot)
    total = BIG + 3
    assert model.total == model.rowCount() == total  # every row at once, no fetchMore
    assert model.loaded_pages() == 1  # ... but only the first page read
    # The view paints what it shows now; every page that asked for is read; then only
    # those pages are held (no timed wait: the model says when it has read them all).
    _view.viewport().repaint()
    qtbot.waitUntil(lambda: not model.reading())
    assert model.loaded_pages() <= 2, "showing the window must not read the whole library"
    assert model.pages_fetched <= 2
    # Thumbnails of visible rows load off the GUI thread and land in the cache.
    first = model.record(0)
    qtbot.waitUntil(lambda: loader.is_cached(first, THUMB_SIDE), timeout=10_000)
    assert len(loader) <= loader.capacity
    model.detach()
    loader.shutdown()


def test_scrolling_to_the_end_reads_the_last_page_in_order(library, add, qtbot):
    model, view, loader = big_model(library, add, qtbot)
    total = model.total
    last = total - 1
    scroll_to(view, model, last, qtbot)
    ids = library_ids(library)
    held = loaded_ids(model)
    assert last in held and (last // PAGE_SIZE) * PAGE_SIZE in held  # the whole last page
    assert all(ids[r] == i for r, i in held.items())  # the right records in the right rows
    assert model.loaded_pages() <= 3  # the first, the last: nothing in between
    assert model.index(last).data(Qt.ItemDataRole.DisplayRole) == library.get(ids[last]).filename
    model.detach()
    loader.shutdown()


def test_pages_kept_are_bounded(library, add, qtbot, monkeypatch):
    monkeypatch.setattr(grid_pages, "MAX_PAGES", 3)
    model, view, loader = big_model(library, add, qtbot)
    ids = library_ids(library)
    for row in range(0, model.total, model.total // 8):
        scroll_to(view, model, row, qtbot)
        assert model.loaded_pages() <= 3
    assert model.pages_fetched >= 8
    held = loaded_ids(model)
    assert all(ids[r] == i for r, i in held.items())
    assert len(held) <= 3 * PAGE_SIZE
    model.detach()
    loader.shutdown()


def test_live_changes_while_scrolled_to_the_middle(library, add, qtbot):
    model, view, loader = big_model(library, add, qtbot)
    bridge = LibraryBridge(library)
    bridge.library_event.connect(model.apply)
    middle = model.total // 2
    scroll_to(view, model, middle, qtbot)
    visible = sorted(loaded_ids(model))

    def consistent() -> bool:
        ids = library_ids(library)
        held = loaded_ids(model)
        return len(ids) == model.total and all(ids[r] == i for r, i in held.items())

    # A new image lands at the top: one row inserted, every row below moves down one and
    # the rows on screen keep their records (no flash of placeholders).
    total = model.total
    new = add("new.jpg")
    qtbot.waitUntil(lambda: model.total == total + 1)
    assert model.row_of(new.id) == 0
    # At most the row moving in at the front of a held page after an unread one is
    # unknown (a placeholder until that page is read again).
    assert sum(not model.is_loaded(r + 1) for r in visible if r >= PAGE_SIZE) <= 2
    assert consistent()
    # Deleting a row on screen, one far from anything read, and the top one.
    on_screen = model.index(middle + 3).data(Role.Id)
    unread_row = PAGE_SIZE * 20 + 7
    assert not model.is_loaded(unread_row)
    unread = library_ids(library)[unread_row]
    for image_id in (on_screen, unread, new.id):
        library.delete(image_id)
    qtbot.waitUntil(lambda: model.total == total - 2)
    assert model.row_of(on_screen) is None and model.row_of(new.id) is None
    assert consistent()
    scroll_to(view, model, middle - 1, qtbot)
    assert consistent()
    bridge.detach()
    model.detach()
    loader.shutdown()


def test_named_roles(library, add, qtbot):
    image = add("named.jpg", alt_text=None, folder="brand")
    loader = ThumbnailLoader(library)
    model = ImageGridModel(library, loader)
    names = {bytes(v.data()).decode() for v in model.roleNames().values()}
    assert {"Id", "Record", "AltText", "NeedsAltText", "Folder"} <= names
    index = model.index(0)
    assert index.data(Role.Id) == image.id
    assert index.data(Role.NeedsAltText) is True
    assert index.data(Role.Folder) == "brand"
    assert index.data(Qt.ItemDataRole.DisplayRole) == "named.jpg"
    assert "needs alt text" in index.data(Qt.ItemDataRole.AccessibleTextRole)
    loader.shutdown()


def test_events_make_targeted_changes(library, add, qtbot):
    first, second = add("one.jpg"), add("two.jpg")
    loader = ThumbnailLoader(library)
    model = ImageGridModel(library, loader)
    resets: list[int] = []
    changed: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.dataChanged.connect(lambda tl, _br, _roles: changed.append(tl.row()))
    after = library.update(first.id, alt_text="described")
    model.apply(Event(EventKind.UPDATED, first.id, after, first))
    assert changed == [model.row_of(first.id)] and not resets
    assert model.record(model.row_of(first.id)).alt_text == "described"
    # A view of undescribed images drops a row that got described.
    with qtbot.waitSignal(model.query_applied):  # read off the GUI thread
        model.set_query(Query(undescribed=True))
    assert model.ids() == [second.id]
    described = library.update(second.id, alt_text="now")
    model.apply(Event(EventKind.UPDATED, second.id, described, second))
    assert model.rowCount() == 0 and model.total == 0
    third = add("three.jpg")
    model.apply(Event(EventKind.ADDED, third.id, third))
    assert model.row_of(third.id) == 0  # known at once, not read again
    assert model.ids() == [third.id] and model.total == 1
    library.delete(third.id)
    model.apply(Event(EventKind.DELETED, third.id, None, third))
    assert model.rowCount() == 0 and model.total == 0
    assert not model.canFetchMore(QModelIndex())  # no paging by inserts: rows are counted
    model.detach()
    loader.shutdown()


def test_a_live_add_is_shown_exactly_when_the_core_would_list_it(library, add, qtbot):
    """The grid asks the core's rule for an image that arrives while a search is shown:
    it agrees with the core's listing for accents and for ``ǰ`` (whose caron survives
    case folding, and which the grid's own copy of the rule once missed)."""
    loader = ThumbnailLoader(library)
    model = ImageGridModel(library, loader)
    for term in ("cafe", "café", "ǰ", "j", "CAFÉ NOIR"):
        with qtbot.waitSignal(model.query_applied):
            model.set_query(Query(search=term))
        for name in ("Café Noir.jpg", "ǰar.jpg", "cafe noir.jpg", "other.jpg"):
            record = add(name)
            model.apply(Event(EventKind.ADDED, record.id, record))
            listed = record.id in library_ids(library, search=term)
            assert (model.row_of(record.id) is not None) == listed, (term, name)
            library.delete(record.id)
            model.apply(Event(EventKind.DELETED, record.id, None, record))
    model.detach()
    loader.shutdown()


def test_view_without_images_says_what_to_do(library, qtbot):
    loader = ThumbnailLoader(library)
    model = ImageGridModel(library, loader)
    view = ImageGrid()
    qtbot.addWidget(view)
    view.setModel(model)
    assert model.rowCount() == 0
    assert "Drop images" in view.empty_text
    view.show()
    qtbot.waitExposed(view)
    assert isinstance(view, QListView)
    loader.shutdown()


def test_thumbnails_are_sharp_on_hidpi_screens(library, qtbot):
    import io

    from tests.conftest import image_bytes

    record = library.add(io.BytesIO(image_bytes(size=(800, 400))), "wide.jpg")
    loader = ThumbnailLoader(library, scale=2.0)
    assert loader.pixmap(record, THUMB_SIDE) is None  # queued, decoded off the GUI thread
    with qtbot.waitSignal(loader.ready, timeout=10_000):
        pass
    pix = loader.pixmap(record, THUMB_SIDE)
    assert pix is not None and pix.devicePixelRatio() == 2.0
    assert (pix.width(), pix.height()) == (2 * THUMB_SIDE, THUMB_SIDE)
    assert pix.deviceIndependentSize().width() == THUMB_SIDE
    loader.shutdown()


def test_the_cache_is_bounded(library, add, qtbot):
    records = [add(f"n{i}.jpg") for i in range(5)]
    loader = ThumbnailLoader(library, capacity=3)
    for r in records:
        loader.pixmap(r, THUMB_SIDE)
    qtbot.waitUntil(lambda: not loader._pending, timeout=10_000)
    assert len(loader) == 3  # five loaded, the least recently used two dropped
    kept = [r for r in records if loader.is_cached(r, THUMB_SIDE)]
    assert len(kept) == 3
    loader.pixmap(kept[0], THUMB_SIDE)  # used again: now the most recent
    missing = next(r for r in records if not loader.is_cached(r, THUMB_SIDE))
    loader.pixmap(missing, THUMB_SIDE)
    qtbot.waitUntil(lambda: loader.is_cached(missing, THUMB_SIDE), timeout=10_000)
    assert loader.is_cached(kept[0], THUMB_SIDE) and len(loader) == 3
    loader.shutdown()


def test_a_burst_of_thumbnails_comes_back_in_one_delivery_per_loader_thread(library, add, qtbot):
    """What is asked for in one turn (a screenful shown, a drop's new rows) is decoded as
    one task per thread of the loader and handed back in one queued call each, not a task
    and a call a thumbnail: every one cached and announced, one that cannot be read marked
    broken without costing the others."""
    records = [add(f"b{i}.jpg") for i in range(12)]
    lost = records[5]  # no thumbnail and no file to build one from
    library.thumbnails.discard(lost.sha256)
    (library.root / lost.relpath).unlink()
    loader = ThumbnailLoader(library, scale=1.0)
    deliveries: list[int] = []
    loader._signals.loaded.connect(lambda *args: deliveries.append(len(args)))
    announced: list[str] = []
    loader.ready.connect(announced.append)
    for r in records:
        assert loader.pixmap(r, THUMB_SIDE) is None
    qtbot.waitUntil(lambda: not loader.loading(), timeout=10_000)
    assert len(deliveries) <= loader.pool.maxThreadCount() == 2
    assert sorted(announced) == sorted(r.sha256 for r in records)
    assert [loader.is_cached(r, THUMB_SIDE) for r in records] == [r is not lost for r in records]
    broken = loader.pixmap(lost, THUMB_SIDE)  # the placeholder, not another load
    assert broken is not None and not loader.loading()
    loader.shutdown()


def test_random_live_changes_keep_every_held_row_right(library, add, qtbot, monkeypatch):
    """Adds and deletes landing before, inside and after the pages held (sorted by name,
    so they fall mid-list), with the view moving between them: after each, every row the
    model holds is the one the core lists there."""
    monkeypatch.setattr(grid_pages, "MAX_PAGES", 4)
    model, view, loader = big_model(library, add, qtbot, rows=1_500)
    with qtbot.waitSignal(model.query_applied):
        model.set_query(Query(sort=Sort.NAME))
    bridge = LibraryBridge(library)
    bridge.library_event.connect(model.apply)
    rng = random.Random(7)
    for step in range(24):
        if step % 3 == 0:
            scroll_to(view, model, rng.randrange(model.total), qtbot)
        ids = library_ids(library, sort=Sort.NAME)
        if rng.random() < 0.5:
            add(f"copy-{rng.randrange(1_500):05}-{step}.jpg")
        else:
            library.delete(rng.choice(ids))
        qtbot.waitUntil(lambda: model.total == library.count())
        ids = library_ids(library, sort=Sort.NAME)
        held = loaded_ids(model)
        assert held, "the rows on screen stay held"
        wrong = {r: i for r, i in held.items() if ids[r] != i}
        assert not wrong, f"step {step}: rows {sorted(wrong)[:5]} hold the wrong records"
    bridge.detach()
    model.detach()
    loader.shutdown()
