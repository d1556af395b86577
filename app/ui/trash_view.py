"""The Trash view, shown in place of the grid when "Trash" is chosen in the folder tree:
what was deleted, where it came from, how many days it has left, with Restore, Delete
permanently and Empty trash.

Pages are read from the core on workers (``fetchMore`` asks for the next one as the list
scrolls) and so are thumbnails; the GUI thread only turns results into rows and icons."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtGui import QIcon, QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTreeView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from imageshelf.app.library import Library, LibraryError, rules
from imageshelf.app.library.trash import DAY_US, TrashItem, TrashPage

from . import notices
from .jobs import CallJob, JobRunner
from .undo import UndoHistory, images_text

_Index = QModelIndex | QPersistentModelIndex
PAGE = 100
ICON = 48
COLUMNS = ("Name", "From folder", "Deleted", "Purged in")
RELOAD_MS = 150  # a burst of events (an "Empty trash" of thousands) reloads once


def days_left(item: TrashItem, now_us: int) -> str:
    if item.purge_at_us is None:
        return "kept until emptied"
    days = max(0, math.ceil((item.purge_at_us - now_us) / DAY_US))
    return "today" if days == 0 else f"{days} day{'s' if days != 1 else ''}"


class _ThumbSignals(QObject):
    loaded = Signal(str, QImage)  # id, image


class _Thumb(QRunnable):
    def __init__(self, library: Library, image_id: str, signals: _ThumbSignals) -> None:
        super().__init__()
        self.library, self.image_id, self.signals = library, image_id, signals

    def run(self) -> None:
        try:
            _item, thumb = self.library.trash.thumbnail(self.image_id)
            image = QImage(str(thumb.path))
        except (LibraryError, OSError):
            return
        if not image.isNull():
            image = image.scaled(
                ICON,
                ICON,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation,
            )
            self.signals.loaded.emit(self.image_id, image)


class TrashModel(QAbstractTableModel):
    """The trash, most recently deleted first, read a page at a time on a worker."""

    loaded = Signal()  # a page arrived (tests wait on it)
    # A read of the current generation failed: the rows shown may be out of date.
    read_failed = Signal(str)  # a message a person can read

    def __init__(self, library: Library, jobs: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.jobs = jobs
        self.items: list[TrashItem] = []
        self.total = 0
        self._generation = 0
        self._fetching = False
        self._icons: dict[str, QIcon] = {}
        self._asked: set[str] = set()
        self._thumbs = QThreadPool(self)
        self._thumbs.setMaxThreadCount(2)
        self._thumb_signals = _ThumbSignals(self)
        self._thumb_signals.loaded.connect(self._on_thumb)
        self.now_us = time.time_ns() // 1000
        # Whether the view shows the last row read (set by the view; see TrashView).
        self.wants_more: Callable[[], bool] = lambda: True

    # --- reading -------------------------------------------------------------------------

    def reload(self) -> None:
        self._generation += 1
        self._fetching = False
        self._read_page(1, reset=True)

    def _read_page(self, page: int, *, reset: bool) -> None:
        generation = self._generation
        self._fetching = True
        job = CallJob(lambda: self.library.trash.items(page, PAGE))
        # The job may finish after the view (and this model) is gone: a lambda is not
        # disconnected when its object is deleted, so the answer asks first.
        job.finished.connect(lambda result: self._arrived_if_alive(generation, result, reset))
        job.failed.connect(lambda message: self._failed_if_alive(generation, message))
        self.jobs.start(job)

    def _arrived_if_alive(self, generation: int, result: TrashPage, reset: bool) -> None:
        if isValid(self):
            self._arrived(generation, result, reset)

    def _failed_if_alive(self, generation: int, message: str) -> None:
        if isValid(self) and generation == self._generation:
            self._fetching = False
            self.read_failed.emit(message)

    def _arrived(self, generation: int, result: TrashPage, reset: bool) -> None:
        if not shiboken6.isValid(self):
            return  # the window closed while the page was read
        if generation != self._generation:
            return  # a reload started since: its answer counts, not this one
        self._fetching = False
        self.now_us = time.time_ns() // 1000
        if reset:
            self.beginResetModel()
            self.items = list(result.items)
            self.total = result.total
            self.endResetModel()
        else:
            known = {i.image.id for i in self.items}
            fresh = [i for i in result.items if i.image.id not in known]
            if fresh:
                first = len(self.items)
                self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
                self.items.extend(fresh)
                self.endInsertRows()
            self.total = result.total
        self.loaded.emit()

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return (
            not parent.isValid()
            and not self._fetching
            and len(self.items) < self.total
            and self.wants_more()
        )

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._read_page(len(self.items) // PAGE + 1, reset=False)

    # --- the table -----------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        item = self.items[index.row()]
        image = item.image
        if role == Qt.ItemDataRole.DisplayRole:
            col = index.column()
            if col == 0:
                return image.filename
            if col == 1:
                return image.folder or "(top level)"
            if col == 2:
                return time.strftime("%Y-%m-%d %H:%M", time.localtime(item.deleted_at_us / 1e6))
            return days_left(item, self.now_us)
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0:
            icon = self._icons.get(image.id)
            if icon is None and image.id not in self._asked:
                self._asked.add(image.id)
                self._thumbs.start(_Thumb(self.library, image.id, self._thumb_signals))
            return icon
        if role == Qt.ItemDataRole.ToolTipRole:
            alt = image.alt_text or "(no alt text)"
            return f"{image.relpath}\n{alt}"
        if role == Qt.ItemDataRole.UserRole:
            return image.id
        return None

    def _on_thumb(self, image_id: str, image: QImage) -> None:
        self._icons[image_id] = QIcon(QPixmap.fromImage(image))
        for row, item in enumerate(self.items):
            if item.image.id == image_id:
                i = self.index(row, 0)
                self.dataChanged.emit(i, i, [Qt.ItemDataRole.DecorationRole])
                break

    def ids(self) -> list[str]:
        return [i.image.id for i in self.items]

    def shutdown(self) -> None:
        self._thumbs.clear()
        self._thumbs.waitForDone(10_000)


class TrashView(QWidget):
    notice = Signal(str)

    def __init__(
        self, library: Library, jobs: JobRunner, history: UndoHistory, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.history = history
        self.jobs = jobs
        self.retention: int | None = None  # days, once read on a worker
        self.model = TrashModel(library, jobs, self)
        self.summary = QLabel(self)
        self.summary.setAccessibleName("Trash summary")
        self.summary.setWordWrap(True)  # never what sets the window's smallest width
        self.restore_button = QPushButton("&Restore", self)
        self.restore_button.setToolTip("Put the selected images back where they were")
        self.purge_button = QPushButton("Delete &permanently…", self)
        self.purge_button.setToolTip("Remove the selected images for good (cannot be undone)")
        self.empty_button = QPushButton("&Empty trash…", self)
        self.empty_button.setToolTip("Remove everything in the trash for good")
        self.keep_days = QSpinBox(self)
        self.keep_days.setRange(0, rules.MAX_TRASH_RETENTION_DAYS)
        self.keep_days.setSuffix(" days")
        self.keep_days.setSpecialValueText("until emptied")
        self.keep_days.setAccessibleName("Keep deleted images for")
        self.keep_days.setToolTip(
            "How long deleted images wait in the trash before they are removed for good "
            "(kept in the library; 0: until you empty the trash)"
        )
        self.keep_days.setKeyboardTracking(False)  # one change when typing is done
        keep_label = QLabel("&Keep for:", self)
        keep_label.setBuddy(self.keep_days)
        bar = QHBoxLayout()
        bar.addWidget(keep_label)
        bar.addWidget(self.keep_days)
        bar.addStretch(1)
        for b in (self.restore_button, self.purge_button, self.empty_button):
            bar.addWidget(b)

        self.list = QTreeView(self)
        self.list.setAccessibleName("Images in the trash")
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setIconSize(QSize(ICON, ICON))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setModel(self.model)
        # QTreeView asks for one more page at every layout of its rows, seen or not, and
        # each page's rows lay it out again: a trash of 10,000 was read whole as soon as
        # it was shown. A page is read when the last row read is in sight (scrolled to),
        # as QAbstractItemView itself asks.
        self.model.wants_more = self._last_row_in_sight
        header = self.list.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)

        # As narrow as the grid may be: the window's smallest width is not set by three
        # buttons that only matter while the Trash is shown (they squeeze when narrow).
        self.setMinimumWidth(160)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.summary)
        layout.addLayout(bar)
        layout.addWidget(self.list)

        self._reload_timer = QTimer(self, singleShot=True, interval=RELOAD_MS)
        self._reload_timer.timeout.connect(self.model.reload)
        self._retried = False  # a failed read was read again once; reset by a page
        self.model.read_failed.connect(self._read_failed)
        self.model.loaded.connect(self._read_worked)
        self.restore_button.clicked.connect(self.restore_selected)
        self.purge_button.clicked.connect(self.purge_selected)
        self.empty_button.clicked.connect(self.empty)
        self.list.doubleClicked.connect(lambda _i: self.restore_selected())
        for keys, slot in ((QKeySequence.StandardKey.Delete, self.purge_selected),):
            shortcut = QShortcut(QKeySequence(keys), self.list)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.list.selectionModel().selectionChanged.connect(lambda *_: self._update())
        self.model.modelReset.connect(self._update)
        self.model.loaded.connect(self._update)
        self.keep_days.valueChanged.connect(self.set_retention)
        self._update()

    def _last_row_in_sight(self) -> bool:
        rows = self.model.rowCount()
        if rows == 0:
            return True
        last = self.list.visualRect(self.model.index(rows - 1, 0))
        return last.isValid() and self.list.viewport().rect().intersects(last)

    def reload(self) -> None:
        self.model.reload()
        job = CallJob(self.library.trash.retention_days)
        job.finished.connect(self._show_retention)
        self.jobs.start(job)

    def _show_retention(self, days: int) -> None:
        if not shiboken6.isValid(self):
            return
        self.retention = days
        self.keep_days.blockSignals(True)
        self.keep_days.setValue(days)
        self.keep_days.blockSignals(False)
        self._update()

    def set_retention(self, days: int) -> CallJob:
        """Saved in the library on the worker; a shorter time purges what is now past it."""
        job = self.history.run(
            "Change how long the trash keeps images",
            lambda: self.library.trash.set_retention_days(days),
        )
        job.finished.connect(lambda _r: self._retention_saved(days))
        return job

    def _retention_saved(self, days: int) -> None:
        if not shiboken6.isValid(self):
            return
        self.retention = days
        kept = f"for {days} days" if days else "until the trash is emptied"
        self.notice.emit(f"Deleted images are now kept {kept}.")
        self.model.reload()

    def _say(self, message: str) -> None:
        if shiboken6.isValid(self):  # a purge may end after the window closed
            self.notice.emit(message)

    def schedule_reload(self) -> None:
        """After a trash event: once the burst is over, not once per image."""
        if self.isVisible() and not self._reload_timer.isActive():
            self._reload_timer.start()

    def _read_failed(self, message: str) -> None:
        """Without a second read the rows stayed as they were, stale, until the next
        event: after the last one of an "Empty trash" that was for good. Read once more
        (a read can race a purge); a second failure stays, with its message, until the
        next event or visit."""
        self.notice.emit(f"Could not read the trash: {message}")
        if not self._retried:
            self._retried = True
            self._reload_timer.start()

    def _read_worked(self) -> None:
        self._retried = False

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.list.selectionModel().selectedRows()})
        return [self.model.items[r].image.id for r in rows if r < len(self.model.items)]

    def _name(self, ids: list[str]) -> str | None:
        for item in self.model.items:
            if len(ids) == 1 and item.image.id == ids[0]:
                return item.image.filename
        return None

    def _update(self) -> None:
        n = self.model.total
        days = self.retention
        kept = f" (purged after {days} days)" if days else " (kept until the trash is emptied)"
        kept = "" if days is None else kept
        self.summary.setText(f"{images_text(n)} in the trash{kept}" if n else "The trash is empty.")
        chosen = bool(self.list.selectionModel().selectedRows())
        self.restore_button.setEnabled(chosen)
        self.purge_button.setEnabled(chosen)
        self.empty_button.setEnabled(n > 0)

    def restore_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.history.restore(ids, self._name(ids))
            self.notice.emit(f"Restoring {images_text(len(ids), self._name(ids))}…")

    def purge_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        what = images_text(len(ids), self._name(ids))
        if not notices.confirm(
            self,
            "Delete permanently?",
            f"Delete {what} permanently? This cannot be undone; links to "
            f"{'it' if len(ids) == 1 else 'them'} stay broken.",
        ):
            return

        def purge() -> int:
            done = 0
            for image_id in ids:
                try:
                    self.library.trash.purge(image_id)
                    done += 1
                except LibraryError:
                    continue  # restored or purged meanwhile
            return done

        job = self.history.run("Delete permanently", purge)
        job.finished.connect(lambda n: self._say(f"Deleted {images_text(n)} for good."))

    def empty(self) -> CallJob | None:
        n = self.model.total
        if n == 0:
            return None
        if not notices.confirm(
            self,
            "Empty the trash?",
            f"Delete all {images_text(n)} in the trash permanently? This cannot be undone.",
        ):
            return None
        job = self.history.run("Empty trash", self.library.trash.empty)
        job.finished.connect(lambda n: self._say(f"Emptied the trash: {images_text(n)}."))
        return job
