"""A cell's name laid out once (``cell_text.CellText``) draws the pixels ``drawText``
draws, on any screen: the grid's own paint uses it while the delegate (Qt's paint, a
rubber band shown) uses ``drawText``, and a person must see the same either way. The
window's pixel test (test_grid_cells.py) runs at one device pixel ratio and one font;
here the ratios of HiDPI screens, several font sizes, and a line lower than the text's
box (clipped to the rect, as ``drawText`` clips it)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter
from PySide6.QtWidgets import QApplication

from imageshelf.app.ui.cell_text import CellNames, CellText

NAMES = [
    "IMG_0001.jpg",
    "IMG_20240117_093512 (2).jpeg",
    "ilil.png",
    "W.jpg",
    "Ärger über Öl – été.jpg",
    "a-name-far-too-long-for-the-cell-it-is-shown-in-whole.jpg",
    "",
]
CENTRED = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter


def _canvas(ratio: float) -> QImage:
    image = QImage(round(220 * ratio), round(40 * ratio), QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(ratio)
    image.fill(QColor("white"))
    return image


def _painter(image: QImage, font: QFont) -> QPainter:
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)  # as the grid paints
    painter.setFont(font)
    painter.setPen(QColor(30, 30, 30))
    return painter


@pytest.mark.parametrize("ratio", [1.0, 1.25, 1.5, 2.0])
@pytest.mark.parametrize("points", [9.0, 10.0, 11.5])
def test_a_name_laid_out_once_draws_what_draw_text_draws(
    qapp: QApplication, ratio: float, points: float
) -> None:
    font = QFont(QApplication.font())
    font.setPointSizeF(points)
    metrics = QFontMetrics(font)
    width = 183
    for line in (metrics.height(), metrics.height() - 3):  # the second clips every name
        _compare(font, metrics, ratio, width, line, clip_all=line < metrics.height())


def _compare(
    font: QFont, metrics: QFontMetrics, ratio: float, width: int, line: int, *, clip_all: bool
) -> None:
    names = CellNames()
    for name in NAMES:
        theirs, mine = _canvas(ratio), _canvas(ratio)
        painter = _painter(theirs, font)
        elided = metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, width)
        painter.drawText(QRect(7, 5, width, line), CENTRED, elided)
        painter.end()
        painter = _painter(mine, font)
        names.use(font, ratio, line)
        text = names.text(metrics, font, mine, name, width, line)
        assert isinstance(text, CellText) and text.text == elided
        text.draw(painter, 7, 5)
        painter.end()
        assert text.clip is not None or not clip_all
        assert mine == theirs, f"{name!r} at {font.pointSizeF()} pt, ratio {ratio}, line {line}"
    kept = names.text(metrics, font, mine, NAMES[0], width, line)
    assert names.text(metrics, font, mine, NAMES[0], width, line) is kept  # laid out once
