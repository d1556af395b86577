"""Undo and redo (Ctrl+Z / Ctrl+Shift+Z) of what a person does to the library: delete,
restore, move, alt-text saves. A ``QUndoStack`` names the step in the Edit menu ("Undo
Delete 3 images"); each command undoes and redoes through the same core calls the window
makes (``delete`` ↔ ``trash.restore``, ``update``), never on the GUI thread: they run in
order on one serial worker (``SerialQueue``), so Ctrl+Z pressed three times undoes three
steps one after the other, each after the one before has finished.

A step that can no longer be undone (the image was purged meanwhile, its name taken...)
says why in the status bar and leaves the rest of the history as it is. An undone move
puts each image back in the folder it came from, made again if it was removed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from imageshelf.app.library import Gone, Library, LibraryError, NotInTrash

from .jobs import CallJob, Job, _Runnable

log = logging.getLogger(__name__)


def images_text(n: int, one_name: str | None = None) -> str:
    if n == 1 and one_name:
        return one_name
    return f"{n:,} image{'s' if n != 1 else ''}"


class SerialQueue(QObject):
    """Core calls run one at a time, in the order given, on one worker thread."""

    failed = Signal(str, str)  # what was being done, the reason
    done = Signal(str, object)  # what was done, the call's result
    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._running: set[Job] = set()

    def run(self, what: str, call: Callable[[], Any]) -> CallJob:
        job = CallJob(call)
        self._running.add(job)
        job.finished.connect(lambda result, j=job: self._end(j, "done", what, result))
        job.failed.connect(lambda message, j=job: self._end(j, "failed", what, message))
        self.pool.start(_Runnable(job))
        return job

    def _end(self, job: Job, how: str, what: str, payload: object) -> None:
        if not shiboken6.isValid(self):
            return  # the window closed while the step ran (it waited for it to end)
        self._running.discard(job)
        if how == "done":
            self.done.emit(what, payload)
        else:
            self.failed.emit(what, str(payload))
        if not self._running:
            self.idle.emit()

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        self.pool.waitForDone(timeout_ms)


def _each(
    ids: list[str], call: Callable[[str], object], skip: tuple[type[BaseException], ...]
) -> list[str]:
    """Calls ``call`` for every id; one that fails does not stop the others. Returns the
    ids done; raises a ``LibraryError`` naming what failed (after doing the rest)."""
    done: list[str] = []
    failed: list[str] = []
    for image_id in ids:
        try:
            call(image_id)
        except skip:
            continue  # already as wanted (e.g. deleted again by someone else)
        except LibraryError as exc:
            failed.append(exc.message)
            continue
        done.append(image_id)
    if failed:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise LibraryError(failed[0] + more)
    return done


class LibraryCommand(QUndoCommand):
    """A step whose ``forward``/``backward`` are core calls, run on the serial queue.
    ``done=True``: the change was already made when the command was pushed, so the
    first ``redo()`` (which ``QUndoStack.push`` calls) does nothing."""

    def __init__(self, history: UndoHistory, text: str, *, done: bool) -> None:
        super().__init__(text)
        self.history = history
        self._skip_redo = done
        self._first = True
        self.job: CallJob | None = None  # the last run (the window listens to the first)

    def forward(self) -> object:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self) -> object:  # pragma: no cover - abstract
        raise NotImplementedError

    def redo(self) -> None:
        first, self._first = self._first, False
        if self._skip_redo:
            self._skip_redo = False
            return
        what = self.text() if first else f"Redo {self.text()}"
        self.job = self.history.queue.run(what, self.forward)

    def undo(self) -> None:
        self.job = self.history.queue.run(f"Undo {self.text()}", self.backward)


class TrashCommand(LibraryCommand):
    """Delete (to the trash); undone by restoring."""

    def __init__(self, history: UndoHistory, ids: list[str], name: str | None, **kw: Any):
        super().__init__(history, f"Delete {images_text(len(ids), name)}", **kw)
        self.ids = ids

    def forward(self) -> list[str]:
        return self.history.library.trash.move_many(self.ids)  # in batches: faster

    def backward(self) -> list[str]:
        return _each(self.ids, self.history.library.trash.restore, (NotInTrash,))


class RestoreCommand(TrashCommand):
    """Restore from the trash; undone by deleting again."""

    def __init__(self, history: UndoHistory, ids: list[str], name: str | None, **kw: Any):
        super().__init__(history, ids, name, **kw)
        self.setText(f"Restore {images_text(len(ids), name)}")

    def forward(self) -> list[str]:
        return super().backward()

    def backward(self) -> list[str]:
        return _each(self.ids, self.history.library.delete, (Gone,))


class MoveCommand(LibraryCommand):
    """Move to a folder; undone by moving each image back where it was."""

    def __init__(
        self,
        history: UndoHistory,
        previous: dict[str, str | None],
        folder: str | None,
        name: str | None,
        **kw: Any,
    ) -> None:
        where = folder or "the top level"
        super().__init__(history, f"Move {images_text(len(previous), name)} to {where}", **kw)
        self.previous = previous
        self.folder = folder

    def forward(self) -> list[str]:
        lib = self.history.library
        return _each(list(self.previous), lambda i: lib.update(i, folder=self.folder), ())

    def backward(self) -> list[str]:
        lib = self.history.library
        return _each(list(self.previous), lambda i: lib.update(i, folder=self.previous[i]), ())


class AltTextCommand(LibraryCommand):
    """An alt-text save; undone by saving the text it replaced."""

    def __init__(
        self,
        history: UndoHistory,
        image_id: str,
        name: str,
        before: str | None,
        after: str | None,
        **kw: Any,
    ) -> None:
        super().__init__(history, f"Alt text of {name}", **kw)
        self.image_id, self.before, self.after = image_id, before, after

    def forward(self) -> object:
        return self.history.library.update(self.image_id, alt_text=self.after)

    def backward(self) -> object:
        return self.history.library.update(self.image_id, alt_text=self.before)


class FolderCommand(LibraryCommand):
    """A folder renamed or moved (``before`` → ``after``, whole paths); undone by taking
    it back. One core call each way: a rename keeps the parent, a move keeps the name."""

    def __init__(self, history: UndoHistory, before: str, after: str, **kw: Any) -> None:
        same_parent = before.rpartition("/")[0] == after.rpartition("/")[0]
        what = "Rename" if same_parent else "Move"
        super().__init__(history, f"{what} folder {before}", **kw)
        self.before, self.after = before, after

    def _take(self, src: str, dest: str) -> str:
        lib = self.history.library
        parent, _, name = dest.rpartition("/")
        if src.rpartition("/")[0] == parent:
            return lib.rename_folder(src, name)
        return lib.move_folder(src, parent or None)

    def forward(self) -> str:
        return self._take(self.before, self.after)

    def backward(self) -> str:
        return self._take(self.after, self.before)


class UndoHistory(QObject):
    """The window's undo stack, its serial queue and its two actions."""

    notice = Signal(str)

    def __init__(self, library: Library, parent: QWidget) -> None:
        super().__init__(parent)
        self.library = library
        self.stack = QUndoStack(self)
        self.stack.setUndoLimit(200)
        self.queue = SerialQueue(self)
        self.queue.failed.connect(lambda what, why: self.notice.emit(f"{what} failed: {why}"))
        self.undo_action: QAction = self.stack.createUndoAction(parent, "&Undo")
        self.undo_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        self.redo_action: QAction = self.stack.createRedoAction(parent, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for action in (self.undo_action, self.redo_action):
            parent.addAction(action)

    # --- steps the window starts ---------------------------------------------------------

    def delete(self, ids: list[str], name: str | None = None) -> TrashCommand:
        """Moves the images to the trash on the worker; undoable."""
        command = TrashCommand(self, ids, name, done=False)
        self.stack.push(command)
        return command

    def trashed(self, ids: list[str], name: str | None = None) -> None:
        """Records images the window already sent to the trash (a folder deleted)."""
        if ids:
            self.stack.push(TrashCommand(self, ids, name, done=True))

    def restore(self, ids: list[str], name: str | None = None) -> RestoreCommand:
        command = RestoreCommand(self, ids, name, done=False)
        self.stack.push(command)
        return command

    def moved(
        self, previous: dict[str, str | None], folder: str | None, name: str | None = None
    ) -> None:
        """Records a move the window already made (``previous``: id → folder before)."""
        moved = {i: f for i, f in previous.items() if f != folder}
        if moved:
            self.stack.push(MoveCommand(self, moved, folder, name, done=True))

    def folder_moved(self, before: str, after: str) -> None:
        """Records a folder rename or move the window already made."""
        if before != after:
            self.stack.push(FolderCommand(self, before, after, done=True))

    def alt_text_saved(
        self, image_id: str, name: str, before: str | None, after: str | None
    ) -> AltTextCommand | None:
        """Records an alt-text save already queued on the worker (details_saves.py)."""
        if before == after:
            return None
        command = AltTextCommand(self, image_id, name, before, after, done=True)
        self.stack.push(command)
        return command

    def run(self, what: str, call: Callable[[], Any]) -> CallJob:
        """A step that cannot be undone (purge, empty), in order with the others."""
        return self.queue.run(what, call)

    def shutdown(self) -> None:
        self.queue.shutdown()


class UndoNotice(QWidget):
    """ "Moved 3 images to the trash [Undo]" in the status bar, for a few seconds: the
    way back is offered where the eye is, instead of an "are you sure?" before."""

    SHOW_MS = 15_000

    def __init__(self, history: UndoHistory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self.label = QLabel(self)
        self.button = QPushButton("Undo", self)
        self.button.setAccessibleName("Undo")
        self.button.setToolTip("Undo (Ctrl+Z)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.button)
        self._at = -1  # the stack's index while the step offered is the one to undo
        self._timer = QTimer(self, singleShot=True, interval=self.SHOW_MS)
        self._timer.timeout.connect(self.hide)
        self.button.clicked.connect(self._undo)
        history.stack.indexChanged.connect(self._on_index)
        self.hide()

    def offer(self, text: str, command: QUndoCommand) -> None:
        """Shows ``text`` with an Undo button while ``command`` is the step Undo undoes."""
        if not shiboken6.isValid(self):
            return
        stack = self.history.stack
        if stack.index() == 0 or stack.command(stack.index() - 1) is not command:
            return  # undone or followed by another step already
        self._at = stack.index()
        self.label.setText(text)
        self.show()
        self._timer.start()

    def _on_index(self, index: int) -> None:
        if index != self._at:
            self._at = -1
            self.hide()

    def _undo(self) -> None:
        self.hide()
        if self._at >= 0 and self.history.stack.index() == self._at:
            self.history.stack.undo()
        self._at = -1
