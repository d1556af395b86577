"""The details pane's "Custom metadata" box: an image's ``custom_metadata`` (contract
Part 2) as a table of key, value and type that a person can edit, add to and remove
from; *Save* sends the change as an RFC 7396 merge (removed keys as ``null``).

The save runs on a worker (``jobs.JobRunner``), never on the GUI thread: the core may
wait for the write lock behind an import. The limits are the core's
(``app/library/custom_metadata.py``); what it refuses is shown under the table and the
edits stay, so nothing typed is lost. Leaving an image with unsaved, valid edits saves
them, as the alt text and long description editors do."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from imageshelf.app.library import ImageRecord, Library

from .jobs import Job, JobRunner

TEXT, NUMBER, YES_NO = "Text", "Number", "Yes/No"
ERROR_STYLE = "color: #b00020;"

Value = str | int | float | bool


class _Save(Job):
    def __init__(self, library: Library, image_id: str, patch: dict[str, Any]) -> None:
        super().__init__()
        self.library, self.image_id, self.patch = library, image_id, patch

    def work(self) -> ImageRecord:
        return self.library.update(self.image_id, custom_metadata=self.patch)


def _kind(value: Value) -> str:
    if isinstance(value, bool):
        return YES_NO
    return NUMBER if isinstance(value, int | float) else TEXT


def _shown(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_value(text: str, kind: str) -> Value:
    """The typed value of a row; ``ValueError`` with a sentence when it does not read."""
    if kind == YES_NO:
        if text.strip().lower() in ("true", "yes", "1"):
            return True
        if text.strip().lower() in ("false", "no", "0", ""):
            return False
        raise ValueError(f"{text!r} is not yes or no (true/false).")
    if kind == NUMBER:
        try:
            number = float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number.") from None
        if isinstance(number, float) and not math.isfinite(number):
            raise ValueError(f"{text!r} is not a finite number.")
        return number
    return text


class MetadataPanel(QWidget):
    """Folded to one line until opened (the header says how many keys the image has),
    so that in a small window the alt text editor above keeps its room; open or folded
    stays as the person left it from image to image."""

    notice = Signal(str)
    saved = Signal(object)  # the ImageRecord after a save

    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QToolButton(self)
        self.header.setCheckable(True)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setArrowType(Qt.ArrowType.RightArrow)
        self.header.setAutoRaise(True)
        self.header.setAccessibleName("Custom metadata: open or fold")
        self.header.setToolTip(
            "Your own key/value pairs, also readable and searchable over the API."
        )
        self.header.toggled.connect(self.expand)
        # A Tab stop: screen readers (and tests/desktop/test_describing.py) need its name.
        self.header.setAccessibleName("Show custom metadata")
        self.body = QWidget(self)
        self.library = library
        self.runner = JobRunner(self)
        self.record: ImageRecord | None = None
        self._loading = False
        self._dirty = False
        self.table = QTableWidget(0, 3, self.body)
        self.table.setHorizontalHeaderLabels(["Key", "Value", "Type"])
        self.table.setAccessibleName("Custom metadata")
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(90)
        self.table.itemChanged.connect(self._changed)
        self.error = QLabel(self.body)
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        self.add_button = QPushButton("&Add", self.body)
        self.add_button.setAccessibleName("Add a custom metadata key")
        self.remove_button = QPushButton("Remove", self.body)
        self.remove_button.setAccessibleName("Remove the selected custom metadata key")
        self.save_button = QPushButton("Save", self.body)
        self.save_button.setAccessibleName("Save custom metadata")
        self.add_button.clicked.connect(self.add_row)
        self.remove_button.clicked.connect(self._remove_selected)
        self.save_button.clicked.connect(self.save)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.table)
        body.addWidget(self.error)
        body.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.body)
        self.expand(False)
        self._refresh()

    def expand(self, opened: bool) -> None:
        """Opens (or folds) the table; the header button follows."""
        self.header.blockSignals(True)
        self.header.setChecked(opened)
        self.header.blockSignals(False)
        arrow = Qt.ArrowType.DownArrow if opened else Qt.ArrowType.RightArrow
        self.header.setArrowType(arrow)
        self.body.setVisible(opened)

    # --- what is shown -------------------------------------------------------------------

    def load(self, record: ImageRecord | None) -> None:
        """Shows ``record``'s metadata (``None``: nothing); unsaved valid edits of the
        image shown before are saved first."""
        if self.record is not None and (record is None or record.id != self.record.id):
            self.save()
        self._show(record)

    def record_changed(self, record: ImageRecord) -> None:
        """The image changed (here or elsewhere): shown afresh unless edits are pending."""
        if self.record is not None and record.id == self.record.id:
            if self._dirty:
                self.record = record
            else:
                self._show(record)

    def _show(self, record: ImageRecord | None) -> None:
        self._loading = True
        self.record = record
        self.table.setRowCount(0)
        for key, value in (record.custom_metadata if record else {}).items():
            self._append(key, _shown(value), _kind(value))
        self._loading = False
        self._dirty = False
        self.error.hide()
        self._refresh()

    def _append(self, key: str, value: str, kind: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(key))
        self.table.setItem(row, 1, QTableWidgetItem(value))
        combo = QComboBox(self.table)
        combo.addItems([TEXT, NUMBER, YES_NO])
        combo.setCurrentText(kind)
        combo.setAccessibleName(f"Type of {key or 'the new key'}")
        combo.currentTextChanged.connect(lambda _text: self._changed())
        self.table.setCellWidget(row, 2, combo)

    # --- edits ---------------------------------------------------------------------------

    def add_row(self) -> None:
        if self.record is None:
            return
        self._append("", "", TEXT)
        row = self.table.rowCount() - 1
        self.table.setCurrentCell(row, 0)
        item = self.table.item(row, 0)
        if item is not None:
            self.table.editItem(item)
        self._changed()

    def _remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        if not rows and self.table.currentRow() >= 0:
            rows = [self.table.currentRow()]
        for row in rows:
            self.table.removeRow(row)
        if rows:
            self._changed()

    def _changed(self, *_args: object) -> None:
        if not self._loading:
            self._dirty = True
            self.error.hide()
            self._refresh()

    def rows(self) -> dict[str, Value]:
        """The table as an object; ``ValueError`` naming the row that does not read."""
        out: dict[str, Value] = {}
        for row in range(self.table.rowCount()):
            key_item, value_item = self.table.item(row, 0), self.table.item(row, 1)
            key = key_item.text().strip() if key_item else ""
            text = value_item.text() if value_item else ""
            if not key and not text:
                continue  # an empty row added and left: nothing
            combo = self.table.cellWidget(row, 2)
            kind = combo.currentText() if isinstance(combo, QComboBox) else TEXT
            if key in out:
                raise ValueError(f"The key {key!r} is there twice.")
            try:
                out[key] = read_value(text, kind)
            except ValueError as exc:
                raise ValueError(f"{key or 'A new key'}: {exc}") from None
        return out

    def save(self) -> None:
        """Starts the save of pending edits on a worker (nothing to do when none)."""
        if self.record is None or not self._dirty:
            return
        try:
            wanted = self.rows()
        except ValueError as exc:
            self._show_error(str(exc))
            return
        patch: dict[str, Any] = {k: None for k in self.record.custom_metadata if k not in wanted}
        patch.update(wanted)
        job = _Save(self.library, self.record.id, patch)
        image_id = self.record.id
        job.finished.connect(lambda record, i=image_id: self._on_saved(i, record))
        job.failed.connect(lambda message, i=image_id: self._on_failed(i, message))
        self.save_button.setEnabled(False)
        self.runner.start(job)

    def _on_saved(self, image_id: str, record: ImageRecord) -> None:
        self.saved.emit(record)
        self.notice.emit("Custom metadata saved.")
        if self.record is not None and self.record.id == image_id:
            self._show(record)

    def _on_failed(self, image_id: str, message: str) -> None:
        self.notice.emit(f"The custom metadata was not saved: {message}")
        if self.record is not None and self.record.id == image_id:
            self._show_error(message)

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        self._refresh()

    def is_dirty(self) -> bool:
        return self._dirty

    def _refresh(self) -> None:
        has_image = self.record is not None
        keys = len(self.record.custom_metadata) if self.record is not None else 0
        self.header.setText(f"Custom metadata ({keys})" if keys else "Custom metadata")
        self.table.setEnabled(has_image)
        self.add_button.setEnabled(has_image)
        self.remove_button.setEnabled(has_image and self.table.rowCount() > 0)
        self.save_button.setEnabled(has_image and self._dirty)
