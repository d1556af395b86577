"""The grid's cells painted in one pass of Python, not one call from Qt per cell.

While a drop streams in and the grid scrolls, the window's thread paints a screen of
cells every turn, on the two cores the photos decode on. ``QListView.paintEvent`` calls
the delegate once per cell, and each call crosses from C++ into Python with an option, an
index and a painter to wrap, then asks the model for its flags and its data, Python both:
about half of a paint was that crossing (a CPU profile of the GUI thread during a drop).
Here the view's paint walks the visible rows itself: which rows, by arithmetic on the
grid's uniform cells (checked against Qt's own layout each paint); what each shows, from
the model's store directly; the states (selected, current with focus, under the mouse)
as Qt would give them; each drawn by ``grid_delegate.draw_cell``, as the delegate does,
but with its name laid out once (``cell_text.CellText``: the pixels of the delegate's
``drawText``) and its picture's place kept per pixmap (``Fits``). A rubber band being dragged, a
right-to-left layout or rows Qt has not laid out yet are left to ``QListView``
(``paint_cells`` says no)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPersistentModelIndex, QRect
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QPixmap
from PySide6.QtWidgets import QAbstractItemView

from .grid_delegate import FOCUSED, HOVER, PAD, SELECTED, Fit, draw_cell, fit
from .grid_model import ImageGridModel

if TYPE_CHECKING:
    from .grid_view import ImageGrid

_UNKNOWN = (0, 0, 0, 0)  # not a place ``fit`` gives (a picture is at least a pixel)
_FITS_KEPT = 4096  # pictures' places kept (the thumbnail cache holds 800)


class Fits:
    """Each picture's place in its square, kept by the pixmap's cache key: measuring a
    pixmap is three calls into Qt a cell."""

    def __init__(self) -> None:
        self.kept: dict[tuple[int, int], Fit | None] = {}  # read directly by the paint

    def of(self, pix: QPixmap, side: int) -> Fit | None:
        key = (pix.cacheKey(), side)
        if key not in self.kept:
            if len(self.kept) >= _FITS_KEPT:
                self.kept.clear()
            self.kept[key] = fit(pix, side)
        return self.kept[key]


def _columns(grid: ImageGrid, model: ImageGridModel, first: QRect) -> int:
    """How many cells a line of the grid holds, as Qt laid them out."""
    top, total = first.top(), model.total
    for k in range(1, total):
        if grid.visualRect(model.index(k, 0)).top() != top:
            return k
    return max(1, total)


def paint_cells(grid: ImageGrid, event: QPaintEvent, hover: QPersistentModelIndex) -> bool:
    """Paints the cells of ``grid`` that ``event`` asks for; False (nothing painted) where
    ``QListView`` should paint them itself."""
    model = grid.model()
    if not isinstance(model, ImageGridModel) or grid.isRightToLeft():
        return False
    if grid.state() == QAbstractItemView.State.DragSelectingState:
        return False  # the rubber band is Qt's to paint, with the cells under it
    total = model.total
    if total == 0:
        return True
    first = grid.visualRect(model.index(0, 0))
    if not first.isValid():
        return False  # not laid out yet
    size = grid.gridSize()
    dx, dy = size.width(), size.height()
    columns = _columns(grid, model, first)
    area = event.rect()
    top_line = max(0, (area.top() - first.top()) // dy)
    last_line = (area.bottom() - first.top()) // dy
    start = top_line * columns
    end = min(total, (last_line + 1) * columns)
    if start >= end:
        return True
    x0, y0, w, h = first.x(), first.y(), first.width(), first.height()
    last = end - 1
    expected = QRect(x0 + last % columns * dx, y0 + last // columns * dy, w, h)
    if grid.visualRect(model.index(last, 0)) != expected:
        return False  # Qt's layout is not the uniform one (or not done): let it paint

    selected = _selected_rows(grid, start, end)
    current = grid.currentIndex()
    focused = current.row() if current.isValid() and grid.has_keyboard_focus() else -1
    hovered = hover.row() if hover.isValid() else -1
    palette = QPalette(grid.palette())
    if grid.isEnabled():
        palette.setCurrentColorGroup(QPalette.ColorGroup.Active)  # as QListView's items
    metrics = grid.fontMetrics()
    line = metrics.height()
    font = grid.font()
    viewport = grid.viewport()
    names = grid.cell_names
    names.use(font, viewport.devicePixelRatioF(), line)
    fits = grid.cell_fits
    texts, kept_fits = names.kept, fits.kept
    side = grid.delegate.side
    text_width = w - PAD
    painter = QPainter(viewport)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setFont(font)
    painter.setPen(palette.text().color())
    badge = None
    # The area asked for, as bounds a cell's rect must reach into (QRect.intersects).
    left, top, right, bottom = area.left(), area.top(), area.right(), area.bottom()
    for row, (pix, needs_alt, name) in enumerate(model.cells(start, end), start):
        x, y = x0 + row % columns * dx, y0 + row // columns * dy
        if x > right or y > bottom or x + w <= left or y + h <= top:
            continue
        if needs_alt and badge is None:
            badge = grid.delegate.badge(painter, font)
        state = 0
        if row in selected:
            state |= SELECTED
        if row == focused:
            state |= FOCUSED
        if row == hovered:
            state |= HOVER
        # Each cell's name and picture are nearly always known: looked up here, a call
        # less each (the paint's Python is most of its cost).
        text = texts.get((name, text_width))
        if text is None:
            text = names.text(metrics, font, viewport, name, text_width, line)
        placed = kept_fits.get((pix.cacheKey(), side), _UNKNOWN)
        if placed is _UNKNOWN:
            placed = fits.of(pix, side)
        draw_cell(
            painter,
            palette,
            (x, y, w, h),
            state,
            side,
            pix,
            placed,
            badge if needs_alt else None,
            text,
            line,
        )
    painter.end()
    return True


def _selected_rows(grid: ImageGrid, start: int, end: int) -> set[int]:
    """The selected rows among ``start``..``end - 1``, from the selection's ranges."""
    rows: set[int] = set()
    selection = grid.selectionModel().selection()
    for k in range(selection.size()):
        span = selection.at(k)
        low, high = max(start, span.top()), min(end - 1, span.bottom())
        if low <= high:
            rows.update(range(low, high + 1))
    return rows
