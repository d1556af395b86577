"""How one thumbnail cell is drawn: the picture centred in a fixed square (whatever its
shape), the file name elided below it, and a "No alt text" tag on images that still need
a description, so the grid itself shows the work left to do."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from .grid_model import THUMB_SIDE
from .grid_query import Role

PAD = 8
TEXT_GAP = 6
NEEDS_ALT_COLOR = QColor("#b3261e")


def cell_size(metrics: QFontMetrics, side: int = THUMB_SIDE) -> QSize:
    return QSize(side + 2 * PAD, side + 2 * PAD + TEXT_GAP + metrics.height())


def badge_points(base: float, scale: float) -> float:
    """The "No alt text" badge's font: with the thumbnails, never below a readable 6 pt."""
    return max(6.0, base * 0.8 * min(scale, 1.8))


class ThumbnailDelegate(QStyledItemDelegate):
    side = THUMB_SIDE  # set by the grid's size control

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
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect: QRect = option.rect.adjusted(2, 2, -2, -2)
        palette: QPalette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        focused = bool(option.state & QStyle.StateFlag.State_HasFocus)
        if selected:
            fill = QColor(palette.highlight().color())
            fill.setAlpha(60)
            painter.setBrush(fill)
            painter.setPen(QPen(palette.highlight().color(), 2))
            painter.drawRoundedRect(rect, 8, 8)
        elif option.state & QStyle.StateFlag.State_MouseOver:
            hover = QColor(palette.text().color())
            hover.setAlpha(18)
            painter.setBrush(hover)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(rect, 8, 8)
        if focused:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(palette.highlight().color(), 1, Qt.PenStyle.DashLine))
            painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 7, 7)

        side = self.side
        left = option.rect.x() + (option.rect.width() - side) // 2
        box = QRect(left, option.rect.y() + PAD, side, side)
        pix = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pix, QPixmap) and not pix.isNull():
            # Logical size: a HiDPI pixmap has more pixels than the points it covers.
            size = (
                pix.deviceIndependentSize()
                .toSize()
                .scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio)
            )
            if size.width() > pix.deviceIndependentSize().width():
                size = pix.deviceIndependentSize().toSize()  # never enlarged
            w, h = size.width(), size.height()
            target = QRect(box.x() + (side - w) // 2, box.y() + (side - h) // 2, w, h)
            painter.drawPixmap(target, pix)
            image_rect = target
        else:
            image_rect = box

        if index.data(Role.NeedsAltText):
            self._tag(painter, option, image_rect, "No alt text", side / THUMB_SIDE)

        text_rect = QRect(
            option.rect.x() + PAD // 2,
            box.bottom() + TEXT_GAP,
            option.rect.width() - PAD,
            option.fontMetrics.height(),
        )
        name = option.fontMetrics.elidedText(
            str(index.data(Qt.ItemDataRole.DisplayRole) or ""),
            Qt.TextElideMode.ElideMiddle,
            text_rect.width(),
        )
        painter.setPen(palette.text().color())
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, name
        )
        painter.restore()

    @staticmethod
    def _tag(
        painter: QPainter, option: QStyleOptionViewItem, image: QRect, label: str, scale: float
    ) -> None:
        """The badge grows and shrinks with the thumbnails (never below a readable 6 pt)."""
        font = painter.font()
        font.setPointSizeF(badge_points(font.pointSizeF(), scale))
        font.setBold(True)
        painter.setFont(font)
        metrics = QFontMetrics(font)
        w = metrics.horizontalAdvance(label) + 10
        h = metrics.height() + 4
        tag = QRect(image.x() + 4, image.bottom() - h - 3, w, h)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(NEEDS_ALT_COLOR)
        painter.drawRoundedRect(tag, h / 2, h / 2)
        painter.setPen(QColor("white"))
        painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, label)
        painter.setFont(option.font)
