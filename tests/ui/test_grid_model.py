"""The grid model on its own: lazy paging over a big library, named roles, targeted
updates from events, thumbnails arriving asynchronously."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QListView
from sqlalchemy import text

from app.library import Event, EventKind, Library, rules
from app.ui.grid_model import PAGE_SIZE, THUMB_SIDE, ImageGridModel, Query, Role
from app.ui.grid_view import ImageGrid
from app.ui.thumbnails import ThumbnailLoader

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


def test_a_big_library_is_fetched_lazily(library, add, qtbot):
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        add(name)
    replicate_rows(library, BIG)
    total = BIG + 3
    loader = ThumbnailLoader(library)
    model = ImageGridModel(library, loader)
    assert model.total == total
    assert model.rowCount() == PAGE_SIZE  # one page, not ten thousand rows
    view = ImageGrid()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    qtbot.wait(50)
    shown = model.rowCount()
    assert shown < 5 * PAGE_SIZE, "showing the window must not fetch the whole library"
    for _ in range(3):
        view.scrollToBottom()
        qtbot.wait(20)
    assert model.rowCount() > shown  # scrolling fetched more ...
    assert model.rowCount() < total // 10  # ... a page at a time, far from everything
    assert len(set(model.ids())) == model.rowCount()  # no row twice across pages
    # Thumbnails of visible rows load off the GUI thread and land in the cache.
    first = model.record(0)
    qtbot.waitUntil(lambda: loader.is_cached(first, THUMB_SIDE), timeout=10_000)
    assert len(loader) <= loader.capacity
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
    model.set_query(Query(undescribed=True))
    assert model.ids() == [second.id]
    described = library.update(second.id, alt_text="now")
    model.apply(Event(EventKind.UPDATED, second.id, described, second))
    assert model.rowCount() == 0 and model.total == 0
    third = add("three.jpg")
    model.apply(Event(EventKind.ADDED, third.id, third))
    assert model.ids() == [third.id] and model.total == 1
    library.delete(third.id)
    model.apply(Event(EventKind.DELETED, third.id, None, third))
    assert model.rowCount() == 0 and model.total == 0
    assert not model.canFetchMore(QModelIndex())
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
