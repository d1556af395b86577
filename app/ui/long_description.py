"""The long description editor (IPTC Extended Description, Accessibility): for what alt
text cannot hold — a chart's figures, a diagram's steps. Saved on focus-out and with the
Save button; at most ``MAX_LONG_DESCRIPTION_CHARS``. ``value()`` is ``None`` when blank."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from imageshelf.app.library.rules import MAX_LONG_DESCRIPTION_CHARS


class _Edit(QPlainTextEdit):
    focus_lost = Signal()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.focus_lost.emit()


class LongDescriptionEditor(QWidget):
    save_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = _Edit(self)
        self.edit.setTabChangesFocus(True)
        self.edit.setPlaceholderText("Optional: details alt text cannot hold (a chart's figures…)")
        self.edit.setAccessibleName("Long description")
        self.edit.setMinimumHeight(60)
        self.count = QLabel(self)
        self.count.setAccessibleName("Long description length")
        self.save_button = QPushButton("Save", self)
        self.save_button.setAccessibleName("Save long description")
        row = QHBoxLayout()
        row.addWidget(self.count)
        row.addStretch(1)
        row.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addLayout(row)
        self._saved: str | None = None
        self.edit.textChanged.connect(self._refresh)
        self.edit.focus_lost.connect(self._save_if_changed)
        self.save_button.clicked.connect(self._save_if_changed)
        self._refresh()

    def load(self, saved: str | None) -> None:
        self._saved = saved
        self.edit.setPlainText(saved or "")
        self.edit.document().setModified(False)
        self._refresh()

    def saved_changed(self, saved: str | None) -> None:
        self._saved = saved
        if not self.edit.document().isModified():
            self.load(saved)
        self._refresh()

    def value(self) -> str | None:
        text = self.edit.toPlainText()
        return text if text.strip() else None

    def is_dirty(self) -> bool:
        return self.value() != self._saved

    def too_long(self) -> bool:
        return len(self.edit.toPlainText()) > MAX_LONG_DESCRIPTION_CHARS

    def mark_saved(self, saved: str | None) -> None:
        self._saved = saved
        self.edit.document().setModified(False)
        self._refresh()

    def _save_if_changed(self) -> None:
        if self.is_dirty() and not self.too_long():
            self.save_requested.emit()

    def _refresh(self) -> None:
        n = len(self.edit.toPlainText())
        over = n > MAX_LONG_DESCRIPTION_CHARS
        self.count.setText(f"{n:,} / {MAX_LONG_DESCRIPTION_CHARS:,} characters")
        self.count.setStyleSheet("color: #b00020; font-weight: bold;" if over else "")
        self.save_button.setEnabled(self.edit.isEnabled() and self.is_dirty() and not over)
