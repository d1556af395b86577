"""How one thumbnail cell is drawn: the picture centred in a fixed square (whatever its
shape), the file name elided below it, and a "No alt text" tag on images that still need
a description, so the grid itself shows the work left to do."""

from __future__ import annotations

import math

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QPointF, QRect, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from .cell_text import CellText
from .grid_model import THUMB_SIDE
from .grid_query import Role

PAD = 8
TEXT_GAP = 6
NEEDS_ALT_COLOR = QColor("#b3261e")
NEEDS_ALT_LABEL = "No alt text"
# A cell's states as ints (``QStyle.StateFlag`` values): Python's Flag arithmetic costs
# more than the rest of a cell. The grid's own paint (grid_paint.py) builds them too.
SELECTED = QStyle.StateFlag.State_Selected.value
FOCUSED = QStyle.StateFlag.State_HasFocus.value
HOVER = QStyle.StateFlag.State_MouseOver.value
_CENTRED = (Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter).value  # an int too


def cell_size(metrics: QFontMetrics, side: int = THUMB_SIDE) -> QSize:
    return QSize(side + 2 * PAD, side + 2 * PAD + TEXT_GAP + metrics.height())


def badge_points(base: float, scale: float) -> float:
    """The "No alt text" badge's font: with the thumbnails, never below a readable 6 pt."""
    return max(6.0, base * 0.8 * min(scale, 1.8))


class ThumbnailDelegate(QStyledItemDelegate):
    """Scrolling paints a screen of cells every turn of the event loop, and the window's
    thread has little time for each: what a cell needs comes in one call to the model,
    and the badge is drawn once per size and copied from then on."""

    side = THUMB_SIDE  # set by the grid's size control

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._badges: dict[tuple[str, float, float], QPixmap] = {}
        # The last badge given and what it was for: ``QFont.key()`` builds a string (tens
        # of µs), and the grid's paint asks once per paint with the same font.
        self._last: tuple[QFont, float, float, QPixmap] | None = None

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return cell_size(option.fontMetrics, self.side)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        """One cell, as Qt's own painting asks (the grid paints its cells itself while no
        rubber band is shown: ``grid_paint.py``; both draw with ``draw_cell``)."""
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        # One trip to the model for all it paints: each ``index.data()`` is a call into
        # Python from Qt, and a screen is forty cells or more.
        pix, needs_alt, name = index.data(Role.Cell) or (None, False, "")
        badge = self.badge(painter, option.font) if needs_alt else None
        metrics = option.fontMetrics
        rect = option.rect
        elided = metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, rect.width() - PAD)
        painter.setPen(option.palette.text().color())  # what draw_cell expects
        state, line = option.state.value, metrics.height()
        place = (rect.x(), rect.y(), rect.width(), rect.height())
        placed = fit(pix, self.side)
        draw_cell(
            painter, option.palette, place, state, self.side, pix, placed, badge, elided, line
        )
        painter.restore()

    def badge(self, painter: QPainter, font: QFont) -> QPixmap:
        """The "No alt text" badge for cells of the current side, on ``painter``'s screen."""
        return self._badge(painter, font, self.side / THUMB_SIDE)

    @staticmethod
    def _frame(painter: QPainter, palette: QPalette, rect: QRect, state: int) -> None:
        """The selection, hover and focus marks around a cell."""
        if state & SELECTED:
            fill = QColor(palette.highlight().color())
            fill.setAlpha(60)
            painter.setBrush(fill)
            painter.setPen(QPen(palette.highlight().color(), 2))
            painter.drawRoundedRect(rect, 8, 8)
        elif state & HOVER:
            hover = QColor(palette.text().color())
            hover.setAlpha(18)
            painter.setBrush(hover)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(rect, 8, 8)
        if state & FOCUSED:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(palette.highlight().color(), 1, Qt.PenStyle.DashLine))
            painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 7, 7)

    def _badge(self, painter: QPainter, base: QFont, scale: float) -> QPixmap:
        """The "No alt text" badge, drawn once per size and screen and then copied: it
        grows and shrinks with the thumbnails (never below a readable 6 pt)."""
        ratio = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        points = badge_points(base.pointSizeF(), scale)
        last = self._last
        if last is not None and last[1:3] == (points, ratio) and last[0] == base:
            return last[3]
        key = (base.key(), points, ratio)
        badge = self._badges.get(key)
        if badge is None:
            badge = self._badges[key] = draw_badge(NEEDS_ALT_LABEL, base, points, ratio)
        self._last = (QFont(base), points, ratio, badge)
        return badge


Fit = tuple[int, int, int, int]  # a picture's place in its square: x, y offsets, width, height


def fit(pix: object, side: int) -> Fit | None:
    """Where ``pix`` goes in a ``side`` square: centred, never enlarged, shrunk to fit
    keeping its shape; None for no picture (nothing drawn: the square stays empty)."""
    if not isinstance(pix, QPixmap) or pix.isNull():
        return None
    # Logical size: a HiDPI pixmap has more pixels than the points it covers.
    own = pix.deviceIndependentSize().toSize()
    w, h = own.width(), own.height()
    if w > side or h > side:
        size = own.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio)
        w, h = size.width(), size.height()
    return ((side - w) // 2, (side - h) // 2, w, h)


def draw_cell(
    painter: QPainter,
    palette: QPalette,
    cell: tuple[int, int, int, int],
    state: int,
    side: int,
    pix: QPixmap | None,
    placed: Fit | None,
    badge: QPixmap | None,
    name: str | CellText,
    line: int,
) -> None:
    """A cell at ``cell`` (x, y, width, height): its frame for ``state`` (a
    ``QStyle.StateFlag`` value: selected, focus, hover), ``pix`` at ``placed`` (``fit``)
    in a ``side`` square, ``badge`` on it, and ``name`` (already elided to the cell's
    width; drawn with ``drawText``, or laid out once: ``CellText``, the same pixels) on a
    ``line`` high below it, in the painter's pen (left as it was found). The painter
    antialiases."""
    x, y, width, height = cell
    if state & (SELECTED | FOCUSED | HOVER):
        pen = painter.pen()
        frame = QRect(x + 2, y + 2, width - 4, height - 4)
        ThumbnailDelegate._frame(painter, palette, frame, state)
        painter.setPen(pen)
    left = x + (width - side) // 2
    top = y + PAD
    if placed is not None and pix is not None:
        dx, dy, w, h = placed
        painter.drawPixmap(QRect(left + dx, top + dy, w, h), pix)
    if badge is not None:
        bottom = top + (placed[1] + placed[3] if placed is not None else side) - 1
        left_edge = left + (placed[0] if placed is not None else 0)
        h = round(badge.deviceIndependentSize().height())
        painter.drawPixmap(left_edge + 4, bottom - h - 3, badge)
    text_top = top + side - 1 + TEXT_GAP  # below the square's last row (``QRect.bottom()``)
    if isinstance(name, str):
        painter.drawText(QRect(x + PAD // 2, text_top, width - PAD, line), _CENTRED, name)
    elif name.clip is None:
        name.layout.draw(painter, QPointF(x + PAD // 2 + name.dx, text_top + name.dy))
    else:
        name.draw(painter, x + PAD // 2, text_top)


def draw_badge(label: str, base: QFont, points: float, ratio: float) -> QPixmap:
    font = QFont(base)
    font.setPointSizeF(points)
    font.setBold(True)
    metrics = QFontMetrics(font)
    w = metrics.horizontalAdvance(label) + 10
    h = metrics.height() + 4
    pix = QPixmap(math.ceil(w * ratio), math.ceil(h * ratio))
    pix.setDevicePixelRatio(ratio)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setFont(font)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(NEEDS_ALT_COLOR)
    tag = QRect(0, 0, w, h)
    painter.drawRoundedRect(tag, h / 2, h / 2)
    painter.setPen(QColor("white"))
    painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, label)
    painter.end()
    return pix
