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
``drawText``) and where its parts go worked out once for what it shows (``Plans``). A
rubber band being dragged, a right-to-left layout or rows Qt has not laid out yet are
left to ``QListView`` (``paint_cells`` says no)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QPersistentModelIndex, QPointF, QRect, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPalette, QPixmap
from PySide6.QtWidgets import QAbstractItemView

from .cell_text import CellText
from .grid_delegate import FOCUSED, HOVER, PAD, SELECTED, TEXT_GAP, Fit, draw_cell, fit
from .grid_model import ImageGridModel

if TYPE_CHECKING:
    from .grid_view import ImageGrid

_PLANS_KEPT = 4096  # cells' plans kept (the thumbnail cache holds 800)
# Memory for names drawn once (``Plan.strip``): ≈ 25 KB a name at 150 px and a ratio of
# 1, so ≈ 1,300 names (a few hundred at a ratio of 2). Past it, names are drawn each paint.
_STRIPS_BYTES = 32 * 2**20


class Plan:
    """Where one cell's parts go, from its top left, for what it shows (its picture, its
    badge or none, its name): ``draw_cell`` works these out each call."""

    __slots__ = ("badge", "fit", "name", "picture", "shown", "strip", "text")

    def __init__(
        self,
        fit: Fit | None,
        picture: tuple[int, int, tuple[int, int] | None] | None,
        badge: tuple[int, int] | None,
        text: CellText,
        name: tuple[int, int] | tuple[float, float],
    ) -> None:
        self.fit, self.picture, self.badge, self.text, self.name = fit, picture, badge, text, name
        self.shown = False  # drawn once already: the next time, its name is kept drawn
        self.strip: QPixmap | None = None  # the cell below its picture, name drawn (``Plans``)


class Plans:
    """Each cell's ``Plan``, kept by what it shows; forgotten when the cells' side, size,
    line, badge, names or colours change (``use``).

    A cell shown again with no frame (most cells) has the part below its picture, its
    name on the background, drawn once into a pixmap (``strip``) and copied from then on:
    laying glyphs out onto the screen was the largest single cost of a cell after its
    picture. Drawn on the same opaque colour at the same offsets, these are the pixels a
    direct ``draw`` gives (``test_the_grids_own_paint_matches_qlistviews_cell_for_cell``)."""

    def __init__(self) -> None:
        self.kept: dict[tuple[int, bool, str], Plan] = {}  # read directly by the paint
        self._for: tuple[object, ...] | None = None
        self._strip_bytes = 0
        self.side, self.width, self.height, self.ratio = 0, 0, 0, 1.0

    def use(self, side: int, width: int, height: int, ratio: float, *rest: object) -> None:
        """Cells of a ``side`` picture, ``width`` × ``height``, on a screen of ``ratio``;
        ``rest``: whatever else they are drawn with (line, badge, names, colours)."""
        context = (side, width, height, ratio, *rest)
        if context != self._for:
            self.kept.clear()
            self._strip_bytes = 0
            self._for = context
            self.side, self.width, self.height, self.ratio = side, width, height, ratio

    def strip(self, plan: Plan, font: QFont, pen: QColor, background: QColor) -> QPixmap | None:
        """``plan``'s name drawn on ``background`` below its picture (None past the
        budget: drawn each paint then)."""
        side, width, height, ratio = self.side, self.width, self.height, self.ratio
        top = PAD + side  # the strip: from below the picture's square to the cell's end
        pix = QPixmap(math.ceil(width * ratio), math.ceil((height - top) * ratio))
        size = pix.width() * pix.height() * 4
        if self._strip_bytes + size > _STRIPS_BYTES:
            return None
        self._strip_bytes += size
        pix.setDevicePixelRatio(ratio)
        pix.fill(background)
        painter = QPainter(pix)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(font)
        painter.setPen(pen)
        name_x, name_y = plan.name
        if plan.text.clip is None:
            plan.text.layout.draw(painter, QPointF(name_x, name_y - top))
        else:
            plan.text.draw(painter, int(name_x), int(name_y) - top)
        painter.end()
        plan.strip = pix
        return pix

    def make(
        self, pix: QPixmap, needs_alt: bool, name: str, text: CellText, badge: QPixmap, line: int
    ) -> Plan:
        """``draw_cell``'s arithmetic for a cell at 0, 0 (``use`` has been called)."""
        side, width = self.side, self.width
        placed = fit(pix, side)
        left, top = (width - side) // 2, PAD
        picture = None
        if placed is not None:
            dx, dy, w, h = placed
            own = pix.deviceIndependentSize().toSize()
            # Drawn at its own size (a point) when it is not shrunk: the same pixels.
            size = None if (own.width(), own.height()) == (w, h) else (w, h)
            picture = (left + dx, top + dy, size)
        at = None
        if needs_alt:
            bottom = top + (placed[1] + placed[3] if placed is not None else side) - 1
            left_edge = left + (placed[0] if placed is not None else 0)
            at = (left_edge + 4, bottom - round(badge.deviceIndependentSize().height()) - 3)
        text_top = top + side - 1 + TEXT_GAP
        if text.clip is None:
            where: tuple[int, int] | tuple[float, float] = (PAD // 2 + text.dx, text_top + text.dy)
        else:
            where = (PAD // 2, text_top)
        if len(self.kept) >= _PLANS_KEPT:
            self.kept.clear()
            self._strip_bytes = 0
        plan = self.kept[(pix.cacheKey(), needs_alt, name)] = Plan(placed, picture, at, text, where)
        return plan


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
    side = grid.delegate.side
    text_width = w - PAD
    painter = QPainter(viewport)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setFont(font)
    pen = palette.text().color()
    painter.setPen(pen)
    badge = grid.delegate.badge(painter, font)
    # The viewport's own background (filled before this paint): a name drawn on it once
    # is the same pixels only where it is one opaque colour (a style sheet may paint
    # something else there).
    fill = viewport.palette().brush(viewport.backgroundRole())
    background = fill.color()
    opaque = viewport.autoFillBackground() and fill.style() == Qt.BrushStyle.SolidPattern
    opaque = opaque and background.alpha() == 255
    opaque = opaque and not grid.testAttribute(Qt.WidgetAttribute.WA_StyleSheet)
    ratio = viewport.devicePixelRatioF()
    plans = grid.cell_plans
    rest = (line, badge.cacheKey(), names.generation, background.rgba(), pen.rgba())
    plans.use(side, w, h, ratio, *rest)
    strip_top = PAD + side
    kept = plans.kept
    # The area asked for, as bounds a cell's rect must reach into (QRect.intersects).
    left, top, right, bottom = area.left(), area.top(), area.right(), area.bottom()
    for row, (pix, needs_alt, name) in enumerate(model.cells(start, end), start):
        x, y = x0 + row % columns * dx, y0 + row // columns * dy
        if x > right or y > bottom or x + w <= left or y + h <= top:
            continue
        plan = kept.get((pix.cacheKey(), needs_alt, name))
        if plan is None:
            text = names.text(metrics, font, viewport, name, text_width, line)
            plan = plans.make(pix, needs_alt, name, text, badge, line)
        if row in selected or row in (focused, hovered):
            state = SELECTED if row in selected else 0
            if row == focused:
                state |= FOCUSED
            if row == hovered:
                state |= HOVER
            shown_badge = badge if needs_alt else None
            place = (x, y, w, h)
            draw_cell(
                painter, palette, place, state, side, pix, plan.fit, shown_badge, plan.text, line
            )
            continue
        # Most cells: what ``draw_cell`` draws for a cell with no frame, from offsets
        # worked out once for what the cell shows (a paint is a screen of cells each step
        # of a scroll, and its Python was most of its cost).
        if plan.picture is not None:
            px, py, shrunk = plan.picture
            if shrunk is None:
                painter.drawPixmap(x + px, y + py, pix)
            else:
                painter.drawPixmap(QRect(x + px, y + py, shrunk[0], shrunk[1]), pix)
        if plan.badge is not None:
            painter.drawPixmap(x + plan.badge[0], y + plan.badge[1], badge)
        strip = plan.strip
        if strip is None and plan.shown and opaque:
            strip = plans.strip(plan, font, pen, background)
        plan.shown = True
        if strip is not None:
            painter.drawPixmap(x, y + strip_top, strip)
            continue
        name_x, name_y = plan.name
        if plan.text.clip is None:
            plan.text.layout.draw(painter, QPointF(x + name_x, y + name_y))
        else:
            plan.text.draw(painter, x + int(name_x), y + int(name_y))
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
