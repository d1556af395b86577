"""Saves from the details pane, off the GUI thread: an alt text or long description is
written (and, with the setting on, rewritten into the image file) on the undo history's
serial worker, so saves, undos and redos reach the library in the order they were asked.

An alt-text save is recorded as an undo step when it is asked for: a Ctrl+Z pressed at
once queues behind the save, so the save completes before its undo applies. A save that
fails makes its step obsolete (Qt then drops it instead of undoing it) and hands its text
back to the pane, which keeps it as a draft. Until a save lands its text is ``pending``:
the pane keeps it through a restart as a draft (dropped again if it equals what the
library then holds)."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject, Signal

from imageshelf.app.library import ImageRecord, Library
from imageshelf.app.library.write_back import FAILED, NOT_WRITABLE, FileWrite

from .undo import AltTextCommand, UndoHistory

Saved = tuple[ImageRecord, FileWrite | None]  # what ``update_with_outcome`` answers


class DetailSaves(QObject):
    alt_saved = Signal(str, object, object)  # id, value asked, (record, outcome)
    alt_failed = Signal(str, object, str)  # id, value asked, message
    long_saved = Signal(str, object)  # id, (record, outcome)
    long_failed = Signal(str, str)  # id, message

    def __init__(self, library: Library, history: UndoHistory, parent: QObject) -> None:
        super().__init__(parent)
        self.library = library
        self.history = history
        self.pending: dict[str, str | None] = {}  # id → the newest alt text being saved

    def alt_text(self, record: ImageRecord, value: str | None) -> None:
        # An earlier save of this image may still be on its way: that is the "before".
        before = self.pending.get(record.id, record.alt_text)
        self.pending[record.id] = value
        image_id, library = record.id, self.library
        job = self.history.run(
            f"Saving the alt text of {record.filename}",
            lambda: library.update_with_outcome(image_id, alt_text=value),
        )
        command = self.history.alt_text_saved(image_id, record.filename, before, value)
        job.finished.connect(lambda result: self._alt_done(image_id, value, result))
        job.failed.connect(lambda message: self._alt_refused(image_id, value, message, command))

    def _alt_done(self, image_id: str, value: str | None, result: object) -> None:
        if self.pending.get(image_id, object()) == value:
            del self.pending[image_id]
        self.alt_saved.emit(image_id, value, result)

    def _alt_refused(
        self, image_id: str, value: str | None, message: str, command: AltTextCommand | None
    ) -> None:
        if self.pending.get(image_id, object()) == value:
            del self.pending[image_id]
        if command is not None and shiboken6.isValid(command):
            command.setObsolete(True)  # Qt drops it at the next undo instead of undoing it
        self.alt_failed.emit(image_id, value, message)

    def long_description(self, record: ImageRecord, value: str | None) -> None:
        image_id, library = record.id, self.library
        job = self.history.run(
            f"Saving the long description of {record.filename}",
            lambda: library.update_with_outcome(image_id, long_description=value),
        )
        job.finished.connect(lambda result: self.long_saved.emit(image_id, result))
        job.failed.connect(lambda message: self.long_failed.emit(image_id, message))

    def drafts_to_keep(self) -> dict[str, str]:
        """Saves not landed yet, as drafts (a restart shows them unless they landed)."""
        return {i: v for i, v in self.pending.items() if v is not None}

    def wait(self, timeout_ms: int = 30_000) -> None:
        """Until every save asked for has run (the window closing)."""
        self.history.queue.pool.waitForDone(timeout_ms)


def file_note(outcome: FileWrite | None) -> str:
    """What a save did to the image file, when it is worth saying (the setting is on and
    the file could not carry the text)."""
    if outcome is None or outcome.status not in (NOT_WRITABLE, FAILED):
        return ""
    return f" Not written into the file: {outcome.message}"
