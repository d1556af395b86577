"""Core events re-emitted as a Qt signal on the GUI thread.

The core calls its listeners on whichever thread made the change (an import worker, a
waitress thread, the watcher). Emitting a signal from there onto a ``QObject`` that lives
in the GUI thread queues the delivery, so every slot connected to ``library_event`` runs on the
GUI thread, where the models may be changed."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal

from imageshelf.app.library import Event, Library


class LibraryBridge(QObject):
    # app.library.Event, delivered on the GUI thread (not named ``event``: that is the
    # QObject method Qt dispatches every event through)
    library_event = Signal(object)
    _raw = Signal(object)
    # Another process of a team library changed the folders standing without images.
    folders_changed = Signal()
    _raw_folders = Signal()

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Queued explicitly: even an event raised on the GUI thread itself is delivered
        # after the call that caused it returns, so slots never re-enter a model update.
        self._raw.connect(self.library_event.emit, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] | None = library.subscribe(self._on_core_event)
        self._raw_folders.connect(self.folders_changed.emit, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe_folders: Callable[[], None] | None = library.on_folders_changed(
            self._raw_folders.emit
        )

    def _on_core_event(self, event: Event) -> None:
        self._raw.emit(event)

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._unsubscribe_folders is not None:
            self._unsubscribe_folders()
            self._unsubscribe_folders = None
