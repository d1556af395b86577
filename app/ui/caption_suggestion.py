"""Finds, off the GUI thread, a caption the selected image's file carries (XMP
dc:description or photoshop:Headline, EXIF ImageDescription), so the details pane can
offer "Use the caption" for an image without alt text. A caption is never taken as alt
text by itself: the person puts it in the editor, reads it, and saves."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QPlainTextEdit, QPushButton

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


class CaptionOffer(QObject):
    """The details pane's "Use the caption" button: shown for the image shown when it has
    no alt text and its file a caption; a click puts the caption in the editor (through
    its undo stack: Ctrl+Z takes it back), never saves it."""

    notice = Signal(str)

    def __init__(
        self,
        library: Library,
        button: QPushButton,
        editor: QPlainTextEdit,
        shown: Callable[[], ImageRecord | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.button, self.editor, self.shown = button, editor, shown
        self.caption = ""
        self.finder = CaptionFinder(library, self)
        self.finder.found.connect(self._on_caption)
        button.hide()
        button.clicked.connect(self._use)

    def ask(self, record: ImageRecord) -> None:
        self.finder.ask(record)

    def _on_caption(self, image_id: str, caption: str) -> None:
        record = self.shown()
        if record is None or record.id != image_id or record.alt_text is not None:
            return
        self.caption = caption
        self.button.setVisible(bool(caption))
        self.button.setToolTip(
            f"The file's caption: “{caption}”. A caption is written for another purpose: "
            "check that it describes what the image shows before you save it."
        )

    def _use(self) -> None:
        if not self.caption:
            return
        cursor = self.editor.textCursor()
        cursor.select(cursor.SelectionType.Document)
        cursor.insertText(self.caption)
        self.editor.setFocus()
        self.notice.emit("The caption is in the editor: check it describes the image, then save.")
