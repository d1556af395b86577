"""Finds, off the GUI thread, a caption the selected image's file carries (XMP
dc:description or photoshop:Headline, EXIF ImageDescription), so the details pane can
offer "Use the caption" for an image without alt text. A caption is never taken as alt
text by itself: the person puts it in the editor, reads it, and saves."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from imageshelf.app.library import ImageRecord, Library


class CaptionFinder(QObject):
    found = Signal(str, str)  # image id, caption ("" when there is none)

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)

    def ask(self, record: ImageRecord) -> None:
        self.pool.start(_Find(self, record))

    def wait(self, msecs: int = 10_000) -> bool:
        return self.pool.waitForDone(msecs)


class _Find(QRunnable):
    def __init__(self, finder: CaptionFinder, record: ImageRecord) -> None:
        super().__init__()
        self.finder = finder
        self.record = record

    def run(self) -> None:
        caption = self.finder.library.caption_suggestion(self.record.id) or ""
        with contextlib.suppress(RuntimeError):  # the window closed meanwhile
            self.finder.found.emit(self.record.id, caption)
