"""The details pane's preview: the selected image's thumbnail (decoded off the GUI thread
by the ``ThumbnailLoader``, shown when ready), fitted to the pane, with the image's own
alt text for a screen reader. A short window gives it less height, so the alt-text
editor still shows at 800×600."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from imageshelf.app.library import ImageRecord

from .thumbnails import ThumbnailLoader

PREVIEW_SIDE = 360
PREVIEW_MAX_HEIGHT = 220
LINK_ROW = 28  # pixels: the details' link row, taken from the preview in a short window


class Preview(QLabel):
    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader = loader
        self.record: ImageRecord | None = None
        self._source: QPixmap | None = None
        self._room = (PREVIEW_SIDE, PREVIEW_MAX_HEIGHT)  # width, height the pane offers
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumHeight(PREVIEW_MAX_HEIGHT)
        self.setMinimumWidth(1)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setAccessibleName("Preview")
        loader.ready.connect(self._on_thumbnail_ready)

    def show_record(self, r: ImageRecord) -> None:
        self.record = r
        pix = self.loader.pixmap(r, PREVIEW_SIDE)
        self._source = pix
        if pix is None:
            self.setText("Loading preview…")
        else:
            self._fit()
        self.setToolTip(r.alt_text or "")
        # A screen reader on the preview hears the image's own alt text.
        self.setAccessibleDescription(
            r.alt_text or ("Decorative image" if r.alt_text == "" else "No alt text yet")
        )

    def fit_to(self, pane_width: int, pane_height: int) -> None:
        """The pane's viewport changed size: the preview takes what it leaves."""
        # Less the link's row, so an 800×600 window still shows the alt-text editor.
        height = max(80, min(PREVIEW_MAX_HEIGHT, pane_height // 4 - LINK_ROW))
        self._room = (max(64, min(PREVIEW_SIDE, pane_width - 24)), height)
        self.setMinimumHeight(height)
        self._fit()

    def _fit(self) -> None:
        pix = self._source
        if pix is None:
            return
        width, height = self._room
        logical = pix.deviceIndependentSize()
        if logical.width() > width or logical.height() > height:
            ratio = pix.devicePixelRatio()
            pix = pix.scaled(
                round(width * ratio),
                round(height * ratio),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            pix.setDevicePixelRatio(ratio)
        self.setPixmap(pix)

    def _on_thumbnail_ready(self, sha256: str) -> None:
        if self.record is not None and self.record.sha256 == sha256:
            self.show_record(self.record)
