"""A QR code as a Qt image (segno makes the matrix; each module is painted as a square),
for the share link in *Share…* and the LAN address in Server settings."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QLabel, QWidget

QUIET_ZONE = 4  # modules of white around the code, as the standard asks


def qr_image(text: str, side: int = 200) -> QImage:
    """``text`` as a QR code about ``side`` pixels wide (whole pixels per module, so the
    code stays sharp for a phone's camera)."""
    import segno  # here, not at launch: the window imports this module (≈ 0.01–0.04 s)

    code = segno.make(text, error="m")
    matrix = [list(row) for row in code.matrix]
    count = len(matrix) + 2 * QUIET_ZONE
    scale = max(1, side // count)
    image = QImage(count * scale, count * scale, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    try:
        for y, row in enumerate(matrix):
            for x, dark in enumerate(row):
                if dark:
                    painter.fillRect(
                        (x + QUIET_ZONE) * scale,
                        (y + QUIET_ZONE) * scale,
                        scale,
                        scale,
                        QColor("black"),
                    )
    finally:
        painter.end()
    return image


class QrLabel(QLabel):
    """Shows the QR code of a text; empty text shows nothing."""

    def __init__(self, parent: QWidget | None = None, side: int = 200) -> None:
        super().__init__(parent)
        self.side = side
        self.text_shown = ""
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)

    def show_code(self, text: str, description: str) -> None:
        self.text_shown = text
        if not text:
            self.clear()
            self.setAccessibleName("")
            return
        self.setPixmap(QPixmap.fromImage(qr_image(text, self.side)))
        self.setAccessibleName(description)
        self.setToolTip(text)
