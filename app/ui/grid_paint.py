"""The grid's cells painted in one pass of Python, not one call from Qt per cell.

While a drop streams in and the grid scrolls, the window's thread paints a screen of
cells every turn, on the two cores the photos decode on. ``QListView.paintEvent`` calls
the delegate once per cell, and each call crosses from C++ into Python with an option, an
index and a painter to wrap, then asks the model for its flags and its data, Python both:
about half of a paint was that crossing (a CPU profile of the GUI thread during a drop).
Here the view's paint walks the visible rows itself: which rows, by arithmetic on the
grid's uniform cells (checked against Qt's own layout each paint); what each shows, from
the model's store directly; the states (selected, current with focus, under the mouse)
as Qt would give them; each drawn by ``grid_delegate.draw_cell``, as the delegate does.
A rubber band being dragged, a right-to-left layout or rows Qt has not laid out yet are
left to ``QListView`` (``paint_cells`` says no)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QAbstractItemView

from .grid_delegate import FOCUSED, HOVER, PAD, SELECTED, draw_cell
from .grid_model import ImageGridModel

if TYPE_CHECKING:
    from .grid_view import ImageGrid

_ELIDE = Qt.TextElideMode.ElideMiddle
_ELIDED_KEPT = 4096  # names elided to a width, kept (a few screens' worth many times over)


class CellNames:
    """File names elided to a cell's width, kept: eliding measures the text each time."""

    def __init__(self) -> None:
        self._elided: dict[tuple[str, int], str] = {}

    def elided(self, metrics: QFontMetrics, name: str, width: int) -> str:
        key = (name, width)
        text = self._elided.get(key)
        if text is None:
            if len(self._elided) >= _ELIDED_KEPT:
                self._elided.clear()
            text = self._elided[key] = metrics.elidedText(name, _ELIDE, width)
        return text

    def forget(self) -> None:
        """The font changed: every width measured is wrong."""
        self._elided.clear()


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
    names = grid.cell_names
    side = grid.delegate.side
    text_width = w - PAD
    painter = QPainter(grid.viewport())
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setFont(grid.font())
    painter.setPen(palette.text().color())
    badge = None
    cell = model.cell
    for row in range(start, end):
        rect = QRect(x0 + row % columns * dx, y0 + row // columns * dy, w, h)
        if not rect.intersects(area):
            continue
        pix, needs_alt, name = cell(row)
        if needs_alt and badge is None:
            badge = grid.delegate.badge(painter, grid.font())
        state = 0
        if row in selected:
            state |= SELECTED
        if row == focused:
            state |= FOCUSED
        if row == hovered:
            state |= HOVER
        elided = names.elided(metrics, name, text_width)
        draw_cell(
            painter, palette, rect, state, side, pix, badge if needs_alt else None, elided, line
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
