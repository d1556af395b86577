"""The viewer: the selected image in a window of its own, keyboard-driven.

Space or a double-click on a thumbnail opens it. Left/Right (or Page Up/Down) go to the
previous/next image of the grid (the grid's selection follows), F fits the image to the
window, 1 shows it at 100 % (scroll to see the rest), Space or Escape closes. The image
is decoded off the GUI thread, inside the process-wide decode budget."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QImageReader, QKeyEvent, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from imageshelf.app.library import ImageRecord, Library, LibraryError
from imageshelf.app.library.decode_budget import DECODE_BUDGET
from imageshelf.app.library.transform_render import upright

FIT, ACTUAL = "fit", "100%"
DECODE_WAIT_S = 30.0
# Shown by the library's own decoders: Qt has no reader for HEIF and AVIF, and its icon
# reader takes an icon's first image where the library measures the largest.
PILLOW_SHOWN_TYPES = frozenset(
    {"image/heic", "image/heif", "image/avif", "image/vnd.microsoft.icon"}
)


def _pillow_decoded(path: Path) -> QImage:
    picture = upright(path)
    fmt = QImage.Format.Format_RGBA8888 if picture.mode == "RGBA" else QImage.Format.Format_RGB888
    data = picture.tobytes()
    line = picture.width * (4 if picture.mode == "RGBA" else 3)
    # QImage over Python bytes borrows them: the copy owns its pixels.
    return QImage(data, picture.width, picture.height, line, fmt).copy()


class _Signals(QObject):
    done = Signal(str, QImage, str)  # image id, image (null on failure), message


class _Decode(QRunnable):
    def __init__(self, library: Library, record: ImageRecord, signals: _Signals) -> None:
        super().__init__()
        self.library, self.record, self.signals = library, record, signals

    def run(self) -> None:
        image, message = QImage(), ""
        try:
            _record, path = self.library.original_path(self.record.id)
            with DECODE_BUDGET.hold(self.record.width * self.record.height, timeout=DECODE_WAIT_S):
                if self.record.content_type in PILLOW_SHOWN_TYPES:
                    image = _pillow_decoded(path)
                else:
                    reader = QImageReader(str(path))
                    reader.setAutoTransform(True)  # EXIF orientation, as thumbnails have it
                    image = reader.read()
                    if image.isNull():
                        message = f"This image could not be shown: {reader.errorString()}."
        except LibraryError as exc:
            message = exc.message
        self.signals.done.emit(self.record.id, image, message)


class ImageViewer(QDialog):
    def __init__(
        self,
        library: Library,
        step: Callable[[int], ImageRecord | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.step = step  # selects the image n rows on in the grid; its record or None
        self.record: ImageRecord | None = None
        self.mode = FIT
        self._pixmap: QPixmap | None = None
        self.setAccessibleName("Image viewer")
        self.resize(QSize(900, 650))
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._signals = _Signals(self)
        self._signals.done.connect(self._on_decoded)

        self.image = QLabel(self)
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setAccessibleName("Image")
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidget(self.image)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.caption = QLabel(self)
        self.caption.setWordWrap(True)
        self.caption.setAccessibleName("Alt text of the image")
        buttons = QHBoxLayout()
        for text, tip, slot in (
            ("◀ Previous", "Previous image (Left)", lambda: self.go(-1)),
            ("Next ▶", "Next image (Right)", lambda: self.go(1)),
            ("Fit", "Fit the image to the window (F)", lambda: self.set_mode(FIT)),
            ("100 %", "Show the image at its real size (1)", lambda: self.set_mode(ACTUAL)),
        ):
            button = QPushButton(text, self)
            button.setToolTip(tip)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys stay with the viewer
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        close = QPushButton("Close", self)
        close.setToolTip("Close the viewer (Escape or Space)")
        close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        close.clicked.connect(self.close)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.scroll_area, 1)
        layout.addWidget(self.caption)
        layout.addLayout(buttons)

    # --- what is shown -------------------------------------------------------------------

    def show_record(self, record: ImageRecord) -> None:
        self.record = record
        self._pixmap = None
        self.image.setPixmap(QPixmap())
        self.image.setText("Loading…")
        alt = record.alt_text
        self.caption.setText(
            f"Alt text: {alt}" if alt else "Decorative image" if alt == "" else "No alt text yet"
        )
        self._title()
        self.pool.start(_Decode(self.library, record, self._signals))
        if not self.isVisible():
            self.show()  # a dialog of the window: it opens over it, with the keys
            self.activateWindow()

    def _title(self) -> None:
        if self.record is not None:
            self.setWindowTitle(f"{self.record.filename} — {self.mode}")

    def _on_decoded(self, image_id: str, image: QImage, message: str) -> None:
        if self.record is None or image_id != self.record.id:
            return  # the person has moved on
        if image.isNull():
            self.image.setText(message or "This image could not be shown.")
            return
        self._pixmap = QPixmap.fromImage(image)
        self._show_pixmap()

    def _show_pixmap(self) -> None:
        pix = self._pixmap
        if pix is None:
            return
        if self.mode == FIT:
            self.scroll_area.setWidgetResizable(True)
            area = self.scroll_area.viewport().size()
            if pix.width() > area.width() or pix.height() > area.height():
                pix = pix.scaled(
                    area,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
        else:
            self.scroll_area.setWidgetResizable(False)
            self.image.resize(pix.size())
        self.image.setPixmap(pix)
        self.shown_size = pix.size()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._title()
        self._show_pixmap()

    def go(self, delta: int) -> None:
        record = self.step(delta)
        if record is not None:
            self.show_record(record)

    # --- keys ----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Right, Qt.Key.Key_PageDown, Qt.Key.Key_Down):
            self.go(1)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_PageUp, Qt.Key.Key_Up, Qt.Key.Key_Backspace):
            self.go(-1)
        elif key == Qt.Key.Key_F:
            self.set_mode(FIT)
        elif key == Qt.Key.Key_1:
            self.set_mode(ACTUAL)
        elif key in (Qt.Key.Key_Space, Qt.Key.Key_Escape):
            self.close()
        else:
            super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.mode == FIT:
            self._show_pixmap()

    def shutdown(self) -> None:
        self.pool.clear()
        self.pool.waitForDone(5_000)
