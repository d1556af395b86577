"""What follows the grid's selection: the details pane, the actions that need one image or
some, and, when the one selected image leaves the view, selecting the next.

Nothing here reads the library on the GUI thread. The one selected image's record is the
model's (an event for it still queued updates the pane when it lands). For several, the
pane shows the count at once; their summary and, when rows are not loaded (a Select All
over 100,000), every id are read by the ``RecordResolver`` on a worker. ``with_ids`` is
how a gesture acts on the whole selection: at once when it is known, else once read."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer

from imageshelf.app.library import ImageRecord

from .grid_pages import PAGE_SIZE
from .selection_records import RecordResolver

if TYPE_CHECKING:
    from .main_window import MainWindow

SUMMARY_READ_LIMIT = 2000  # records the summary of a big selection is made from


class SelectionFollower(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.resolver = RecordResolver(window.model, self)
        self._last_selection: list[str] = []
        self._refocus_alt = False  # the editor had the keys when its image left the view
        self._seq = 0  # bumped by each change: answers for an older selection are dropped
        self._rows: list[int] = []
        self.ids: list[str] | None = []  # every selected id, once known (None: being read)
        self._waiting: list[Callable[[list[str]], None]] = []
        # The one selected row was not loaded yet (End on 100,000 rows): shown once it is.
        window.model.dataChanged.connect(self._on_rows_read)

    def _select_next_after_removal(self, gone: str) -> None:
        """When the one selected image leaves the view (described while "Needs alt text"
        is shown, moved out of the folder shown, deleted), the next one is selected, so
        describing a series is: type, Ctrl+Enter, type, Ctrl+Enter..."""
        w = self.window
        refocus, self._refocus_alt = self._refocus_alt, False
        if w.model.row_of(gone) is not None or w.grid.selected_rows():
            return
        current = w.grid.currentIndex()
        if current.isValid():
            w.grid.setCurrentIndex(current)
            if refocus and w.details.record is not None:
                # The keys were going to the editor: they still do, for the next image.
                w.details.alt.edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def changed(self) -> None:
        w = self.window
        self._seq += 1
        seq = self._seq
        rows = w.grid.selected_rows()
        # The loaded ones: all of them unless rows are unread (more rows than the model
        # holds cannot all be loaded: not looked at one by one).
        held = w.model.loaded_pages() * PAGE_SIZE
        ids = w.grid.selected_ids() if len(rows) <= held else []
        shown = w.details.record
        same = len(ids) != 1 or (shown is not None and shown.id == ids[0])
        if (
            same
            and ids
            and ids == self._last_selection
            and len(ids) == len(rows) == len(self._rows)
        ):
            # The same images, moved by rows inserted above them (Qt's selection model
            # reports an insert at the selected row as a change): already shown, and
            # showing them again would throw away an alt text or metadata being typed.
            self._rows = rows
            return
        if not rows and len(self._last_selection) == 1:
            # Maybe the selected row is being removed: look again once that is done.
            gone = self._last_selection[0]
            self._refocus_alt = w.details.alt.edit.hasFocus()
            QTimer.singleShot(0, lambda: self._select_next_after_removal(gone))
        self._last_selection = ids
        self._rows = rows
        complete = len(ids) == len(rows)
        self.ids = ids if complete else None
        waiting, self._waiting = self._waiting, []
        record = w.model.loaded_record(rows[0]) if len(rows) == 1 else None
        w.details.show_selection(ids, record, count=len(rows))
        self.update_actions()
        if len(rows) > 1:
            first = rows[:SUMMARY_READ_LIMIT]
            self.resolver.records(
                lambda: first,
                lambda records: self._summary_read(seq, records),
                lambda message: self._failed(seq, message),
            )
        if not complete:
            self.resolver.records(
                lambda: list(rows),
                lambda records: self._ids_read(seq, [r.id for r in records]),
                lambda message: self._failed(seq, message),
            )
        if waiting:  # asked for the selection that was, not this one: not done
            w.notify("The selection changed before it was read: nothing was done.")

    def _summary_read(self, seq: int, records: list[ImageRecord]) -> None:
        if seq == self._seq:
            self.window.details.show_summary(records, len(self._rows))

    def _ids_read(self, seq: int, ids: list[str]) -> None:
        if seq != self._seq:
            return
        self.ids = ids
        self._last_selection = ids
        self.window.details.selection_read(ids)
        waiting, self._waiting = self._waiting, []
        for then in waiting:
            then(ids)

    def _failed(self, seq: int, message: str) -> None:
        if seq == self._seq:
            self.window.notify(message)

    def _on_rows_read(self, *_args: object) -> None:
        w = self.window
        if len(self._rows) == 1 and w.details.record is None and w.model.is_loaded(self._rows[0]):
            self.changed()

    def with_ids(self, then: Callable[[list[str]], None]) -> None:
        """``then(ids)`` for every selected image: now, or once they are read."""
        if self.ids is not None:
            then(list(self.ids))
        else:
            self._waiting.append(then)
            self.window.notify(f"Reading the {self.count():,} selected images…")

    def count(self) -> int:
        return len(self._rows)

    def update_actions(self) -> None:
        n = len(self._rows)
        for name in ("move", "delete", "copy_link", "copy_sized_link"):
            self.window.actions_by_name[name].setEnabled(n > 0)
        for name in ("open", "reveal", "edit_alt", "view"):
            self.window.actions_by_name[name].setEnabled(n == 1)
