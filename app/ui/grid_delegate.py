"""How one thumbnail cell is drawn: the picture centred in a fixed square (whatever its
shape), the file name elided below it, and a "No alt text" tag on images that still need
a description, so the grid itself shows the work left to do."""

from __future__ import annotations

import math

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt
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
        draw_cell(painter, option.palette, rect, state, self.side, pix, badge, elided, line)
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
        key = (base.key(), points, ratio)
        badge = self._badges.get(key)
        if badge is None:
            badge = self._badges[key] = draw_badge(NEEDS_ALT_LABEL, base, points, ratio)
        return badge


def draw_cell(
    painter: QPainter,
    palette: QPalette,
    cell: QRect,
    state: int,
    side: int,
    pix: object,
    badge: QPixmap | None,
    name: str,
    line: int,
) -> None:
    """A cell in ``cell``: its frame for ``state`` (a ``QStyle.StateFlag`` value: selected,
    focus, hover), the picture centred in a ``side`` square, ``badge`` on it, and ``name``
    (already elided to the cell's width) on a ``line`` high below it, in the painter's pen
    (left as it was found). The painter antialiases."""
    if state & (SELECTED | FOCUSED | HOVER):
        pen = painter.pen()
        ThumbnailDelegate._frame(painter, palette, cell.adjusted(2, 2, -2, -2), state)
        painter.setPen(pen)
    x, y, width = cell.x(), cell.y(), cell.width()
    left = x + (width - side) // 2
    top = y + PAD
    image_rect = QRect(left, top, side, side)
    if isinstance(pix, QPixmap) and not pix.isNull():
        # Logical size: a HiDPI pixmap has more pixels than the points it covers.
        own = pix.deviceIndependentSize().toSize()
        w, h = own.width(), own.height()
        if w > side or h > side:  # never enlarged; shrunk to fit, keeping its shape
            size = own.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio)
            w, h = size.width(), size.height()
        image_rect = QRect(left + (side - w) // 2, top + (side - h) // 2, w, h)
        painter.drawPixmap(image_rect, pix)
    if badge is not None:
        h = round(badge.deviceIndependentSize().height())
        painter.drawPixmap(image_rect.x() + 4, image_rect.bottom() - h - 3, badge)
    text_top = top + side - 1 + TEXT_GAP  # below the square's last row (``QRect.bottom()``)
    painter.drawText(QRect(x + PAD // 2, text_top, width - PAD, line), _CENTRED, name)


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
