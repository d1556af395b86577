"""A cell's file name laid out once and drawn from then on, pixel for pixel as
``QPainter.drawText(rect, AlignHCenter | AlignVCenter, name)`` draws it.

``drawText`` shapes the text again on every call (``qt_format_text``: a text engine, a
layout, its line), and the grid draws a screen of names every turn while a drop streams
in and the grid scrolls. Here the name is laid out once per width and font, and each
paint places that line where ``qt_format_text`` would: centred on the line's advance,
its box (natural width × ascent + descent, unrounded) centred in the rect, clipped to
the rect when that box does not fit in it. ``QStaticText`` and the layout's glyph runs
were tried and place glyphs differently at some fonts and device pixel ratios; a
``QTextLayout`` drawn with its own ``draw`` matched at all tried (1 to 2, 9 to 11.5 pt).
``test_the_grids_own_paint_matches_qlistviews_cell_for_cell`` compares with the
delegate, which draws with ``drawText``."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPaintDevice, QPainter, QTextLayout

_ELIDE = Qt.TextElideMode.ElideMiddle
_INTERSECT = Qt.ClipOperation.IntersectClip
_LINE_WIDTH = float(0x01000000)  # qt_format_text's width for a line that does not wrap
_KEPT = 4096  # names kept laid out (a few screens' worth many times over)


class CellText:
    """One name, laid out for a rect ``width`` wide and ``height`` high."""

    __slots__ = ("clip", "dx", "dy", "layout", "text")

    def __init__(
        self, text: str, font: QFont, device: QPaintDevice, width: int, height: int
    ) -> None:
        self.text = text
        layout = QTextLayout(text, font, device)
        layout.setCacheEnabled(True)  # keep the shaped glyphs: drawn many times
        layout.beginLayout()
        line = layout.createLine()
        line.setLineWidth(_LINE_WIDTH)
        line.setPosition(QPointF(0.0, 0.0))
        layout.endLayout()
        high = line.ascent() + line.descent()
        self.layout = layout
        # Where the line goes in the rect, and whether it is clipped to it (None: not).
        self.dx = (width - line.horizontalAdvance()) / 2
        self.dy = (height - high) / 2
        box_x = (width - line.naturalTextWidth()) / 2
        fits = box_x >= 0 and self.dy >= 0 and box_x + line.naturalTextWidth() <= width
        self.clip = None if fits and self.dy + high <= height else (width, height)

    def draw(self, painter: QPainter, x: int, y: int) -> None:
        """Drawn in the rect whose top left is ``x``, ``y``, in the painter's pen
        (``grid_delegate.draw_cell`` draws an unclipped one itself: a call less a cell)."""
        if self.clip is None:
            self.layout.draw(painter, QPointF(x + self.dx, y + self.dy))
            return
        painter.save()
        painter.setClipRect(QRectF(x, y, *self.clip), _INTERSECT)
        self.layout.draw(painter, QPointF(x + self.dx, y + self.dy))
        painter.restore()


class CellNames:
    """File names elided to a cell's width and laid out, kept: eliding measures the text
    and laying it out shapes it, each time."""

    def __init__(self) -> None:
        self.kept: dict[tuple[str, int], CellText] = {}  # read directly by the grid's paint
        self._for: tuple[QFont, float, int] | None = None
        # Bumped whenever the names are forgotten: what was worked out from them (the
        # grid's cell plans, grid_paint.py) is stale then too.
        self.generation = 0

    def text(
        self,
        metrics: QFontMetrics,
        font: QFont,
        device: QPaintDevice,
        name: str,
        width: int,
        height: int,
    ) -> CellText:
        key = (name, width)
        text = self.kept.get(key)
        if text is None:
            if len(self.kept) >= _KEPT:
                self.kept.clear()
            elided = metrics.elidedText(name, _ELIDE, width)
            text = self.kept[key] = CellText(elided, font, device, width, height)
        return text

    def use(self, font: QFont, ratio: float, height: int) -> None:
        """What the names are laid out for: a new font, screen or line height forgets them."""
        wanted = (font, ratio, height)  # QFont compares itself: cheaper than its key()
        if wanted != self._for:
            self.forget()
            self._for = wanted

    def forget(self) -> None:
        """The font changed: every width measured is wrong."""
        self.kept.clear()
        self.generation += 1
