"""What follows the grid's selection: the details pane, the actions that need one image or
some, and, when the one selected image leaves the view, selecting the next."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer

from app.library import LibraryError

if TYPE_CHECKING:
    from .main_window import MainWindow


class SelectionFollower(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._last_selection: list[str] = []
        self._refocus_alt = False  # the editor had the keys when its image left the view

    def _select_next_after_removal(self, gone: str) -> None:
        """When the one selected image leaves the view (described while "Needs alt text"
        is shown, moved out of the folder shown, deleted), the next one is selected, so
        describing a series is: type, Ctrl+Enter, type, Ctrl+Enter..."""
        w = self.window
        refocus, self._refocus_alt = self._refocus_alt, False
        if w.model.row_of(gone) is not None or w.selected_ids():
            return
        current = w.grid.currentIndex()
        if current.isValid():
            w.grid.setCurrentIndex(current)
            if refocus and w.details.record is not None:
                # The keys were going to the editor: they still do, for the next image.
                w.details.alt.edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def changed(self) -> None:
        w = self.window
        ids = w.selected_ids()
        if not ids and len(self._last_selection) == 1:
            # Maybe the selected row is being removed: look again once that is done.
            gone = self._last_selection[0]
            self._refocus_alt = w.details.alt.edit.hasFocus()
            QTimer.singleShot(0, lambda: self._select_next_after_removal(gone))
        self._last_selection = ids
        record = None
        if len(ids) == 1:
            # From the library, not the model: an event for it may still be queued.
            try:
                record = w.library.get(ids[0])
            except LibraryError:
                record = None
        w.details.show_selection(ids, record)
        self.update_actions()

    def update_actions(self) -> None:
        n = len(self.window.selected_ids())
        for name in ("move", "delete", "copy_link", "copy_sized_link"):
            self.window.actions_by_name[name].setEnabled(n > 0)
        for name in ("open", "reveal", "edit_alt", "view"):
            self.window.actions_by_name[name].setEnabled(n == 1)
