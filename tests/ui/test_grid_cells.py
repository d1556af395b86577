"""What a grid cell shows, painted by the real window: the thumbnail, the "No alt text"
badge on an image that still needs a description (and on no other), and the file name.
The delegate asks the model once per cell (``Role.Cell``) and draws the badge from a
pixmap made once per size (issue 21: a screen of cells is painted every turn while the
grid scrolls); what a person sees must stay as it was."""

from __future__ import annotations

import io

from PIL import Image
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPixmap

from imageshelf.app.library import Library
from imageshelf.app.ui.grid_delegate import NEEDS_ALT_COLOR
from imageshelf.app.ui.grid_query import Role
from tests.conftest import image_bytes

GREEN = (20, 160, 60)


def _close(a: QColor, b: QColor, tolerance: int = 24) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a.getRgb()[:3], b.getRgb()[:3], strict=True))


def _count(image: QImage, rect: QRect, color: QColor) -> int:
    rect = rect.intersected(image.rect())
    return sum(
        _close(image.pixelColor(x, y), color)
        for y in range(rect.top(), rect.bottom() + 1, 2)
        for x in range(rect.left(), rect.right() + 1, 2)
    )


def test_cells_show_thumbnail_badge_and_name(window, library: Library, qtbot) -> None:  # type: ignore[no-untyped-def]
    names = {"needs.jpg": None, "described.jpg": "A green field", "decorative.jpg": ""}
    for name, alt in names.items():
        data = image_bytes("JPEG", size=(300, 200), color=GREEN)
        library.add(io.BytesIO(data), name, alt_text=alt)
    window.resize(1000, 700)
    grid, model, loader = window.grid, window.model, window.loader
    side = grid.thumb_side()
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=10_000)

    def cached() -> bool:
        records = [model.index(r, 0).data(Role.Record) for r in range(3)]
        return all(r is not None and loader.is_cached(r, side) for r in records)

    qtbot.waitUntil(cached, timeout=15_000)
    by_name = {}
    for row in range(3):
        pix, needs_alt, name = model.index(row, 0).data(Role.Cell)
        assert isinstance(pix, QPixmap) and not pix.isNull()
        assert needs_alt is (names[name] is None)
        by_name[name] = row
    grid.viewport().repaint()
    shot = grid.viewport().grab().toImage()
    red, green = QColor(NEEDS_ALT_COLOR), QColor(*GREEN)
    for name, row in by_name.items():
        cell = grid.visualRect(model.index(row, 0))
        picture = QRect(cell.x(), cell.y(), cell.width(), cell.height() * 3 // 4)
        assert _count(shot, picture, green) > 500, name  # the thumbnail is there
        badge = _count(shot, picture, red)
        if names[name] is None:
            assert badge > 20, f"{name}: no badge"
        else:
            assert badge == 0, f"{name}: a badge on a described image"
        label = QRect(cell.x(), cell.y() + cell.height() * 3 // 4, cell.width(), cell.height() // 4)
        ink = _count(shot, label, window.palette().text().color())
        assert ink > 5, f"{name}: no file name under the thumbnail"


def test_a_row_not_read_yet_paints_a_placeholder_and_asks_for_its_page(  # type: ignore[no-untyped-def]
    window, add, qtbot
) -> None:
    add("one.jpg")
    model = window.model
    qtbot.waitUntil(lambda: model.rowCount() == 1 and model.is_loaded(0), timeout=10_000)
    model._store.clear()  # as if the page had been evicted while scrolled far away
    pix, needs_alt, name = model.index(0, 0).data(Role.Cell)
    assert isinstance(pix, QPixmap) and (needs_alt, name) == (False, "")
    qtbot.waitUntil(lambda: model.is_loaded(0), timeout=10_000)  # its page was read again
    assert model.index(0, 0).data(Role.Cell)[2] == "one.jpg"


def test_thumbnails_are_decoded_at_the_size_shown_keeping_shape_and_colour(  # type: ignore[no-untyped-def]
    library: Library, qtbot
) -> None:
    from imageshelf.app.ui.grid_model import THUMB_SIDE
    from imageshelf.app.ui.thumbnails import ThumbnailLoader

    cases = [  # source, what the grid shows: (width, height) at THUMB_SIDE
        (image_bytes("JPEG", size=(800, 400), color=(200, 40, 40)), (150, 75)),
        (image_bytes("PNG", size=(300, 600), color=(40, 40, 200, 255), mode="RGBA"), (75, 150)),
        (image_bytes("JPEG", size=(60, 40), color=(40, 160, 40)), (60, 40)),  # not enlarged
    ]
    assert THUMB_SIDE == 150
    loader = ThumbnailLoader(library, scale=1.0)
    try:
        for i, (data, (w, h)) in enumerate(cases):
            record = library.add(io.BytesIO(data), f"c{i}.{'png' if i == 1 else 'jpg'}")
            with qtbot.waitSignal(loader.ready, timeout=10_000):
                assert loader.pixmap(record, THUMB_SIDE) is None  # decoded off the GUI thread
            pix = loader.pixmap(record, THUMB_SIDE)
            assert pix is not None and (pix.width(), pix.height()) == (w, h), i
            centre = pix.toImage().pixelColor(w // 2, h // 2)
            source = Image.open(io.BytesIO(data)).convert("RGB").getpixel((0, 0))
            assert _close(centre, QColor(*source)), (i, centre.getRgb(), source)
    finally:
        loader.shutdown()


def test_the_grids_own_paint_matches_qlistviews_cell_for_cell(  # type: ignore[no-untyped-def]
    window, library: Library, qtbot, monkeypatch
) -> None:
    """The grid paints its visible cells itself (grid_paint.py: no call from Qt per cell);
    what it paints is what ``QListView`` and the delegate paint, pixel for pixel: the
    thumbnails, badges, elided names, the selection, the current cell's focus mark and
    the cell under the mouse, at the top, scrolled to the middle of a cell, and at the end."""
    from PySide6.QtCore import QEvent, QItemSelectionModel, QPointF
    from PySide6.QtGui import QHoverEvent

    from imageshelf.app.ui import grid_view

    for i in range(30):
        data = image_bytes(
            "JPEG", size=(300 + 9 * i, 200 + 40 * (i % 4)), color=(20 + 7 * i, 160, 60)
        )
        name = f"p{i:02d}" + ("-a-name-too-long-for-its-cell-to-show-whole" if i % 4 == 0 else "")
        library.add(io.BytesIO(data), name + ".jpg", alt_text=None if i % 3 else "described")
    window.resize(1000, 700)
    grid, model, loader = window.grid, window.model, window.loader
    qtbot.waitUntil(lambda: model.rowCount() == 30, timeout=10_000)

    def settled() -> bool:
        records = [model.loaded_record(r) for r in range(30)]
        shown = all(r is not None and loader.is_cached(r, grid.thumb_side()) for r in records)
        return shown and not loader.loading() and not model.reading() and not model.showing_soon()

    for r in range(30):  # every thumbnail asked for, whatever is on screen
        model.cell(r)
    qtbot.waitUntil(settled, timeout=20_000)
    grid.setFocus()
    grid.setCurrentIndex(model.index(3, 0))
    select = QItemSelectionModel.SelectionFlag.Select
    grid.selectionModel().select(model.index(5, 0), select)
    grid.selectionModel().select(model.index(28, 0), select)
    hovered = QPointF(grid.visualRect(model.index(6, 0)).center())
    grid.viewportEvent(QHoverEvent(QEvent.Type.HoverMove, hovered, hovered, hovered))
    own = grid_view.paint_cells
    painted_itself: list[bool] = []

    def shot(scroll: int, qt: bool, fresh: bool = False) -> QImage:
        def counted(*args):  # type: ignore[no-untyped-def]
            done = own(*args)
            painted_itself.append(done)
            return done

        monkeypatch.setattr(grid_view, "paint_cells", (lambda *_a: False) if qt else counted)
        grid.verticalScrollBar().setValue(scroll)
        grid.viewport().repaint()
        if fresh:
            grid.cell_plans.use(0, 0, 0, 1.0)  # forgotten: this grab's names are drawn directly
        return grid.viewport().grab().toImage()

    bar = grid.verticalScrollBar()
    for scroll in (0, grid.gridSize().height() // 2 + 7, bar.maximum()):
        # The names of cells seen for the first time are drawn directly; seen again they
        # are copied from what was drawn once (grid_paint.Plans): both must match.
        first, again = shot(scroll, qt=False, fresh=True), shot(scroll, qt=False)
        theirs = shot(scroll, qt=True)
        assert first == theirs, f"scrolled to {scroll}: the grid's own paint differs from Qt's"
        assert again == theirs, f"scrolled to {scroll}: names drawn once differ from Qt's"
        assert any(plan.strip is not None for plan in grid.cell_plans.kept.values())
    assert painted_itself and all(painted_itself)
