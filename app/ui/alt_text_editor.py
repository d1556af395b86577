"""The alt-text editor: multi-line text with a live character count, a "Decorative image"
checkbox (stored as ``""``, the contract's "intentionally no text"), saved on focus-out
and with Ctrl+Enter, with undo (the text edit's own stack) and "Revert" to what is saved.

``value()`` is what would be stored: ``""`` when decorative, ``None`` when the text is
blank (not described yet), else the text."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from imageshelf.app.library.rules import ALT_TEXT_GUIDANCE_CHARS, MAX_ALT_TEXT_CHARS


class _AltTextEdit(QPlainTextEdit):
    focus_lost = Signal()
    save_requested = Signal()
    revert_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.save_requested.emit()
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.revert_requested.emit()
            event.accept()
            return
        if event.key() == Qt.Key.Key_Tab and not event.modifiers():
            # Tab moves on, as everywhere else: alt text has no use for tab characters.
            self.focusNextChild()
            return
        if event.key() == Qt.Key.Key_Backtab:
            self.focusPreviousChild()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.focus_lost.emit()


class AltTextEditor(QWidget):
    save_requested = Signal()  # the person asked to save (Ctrl+Enter, focus-out, checkbox)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = _AltTextEdit(self)
        self.edit.setPlaceholderText("Describe what this image shows for someone who can't see it")
        self.edit.setAccessibleName("Alt text")
        self.edit.setAccessibleDescription(
            "Saved when you leave the field or press Ctrl+Enter. Ctrl+Z undoes; "
            "Escape goes back to the saved text."
        )
        self.edit.setTabChangesFocus(True)
        self.edit.setMinimumHeight(80)
        self.count = QLabel(self)
        self.count.setAccessibleName("Alt text length")
        # IPTC's guidance beside the hard limit, on a line of its own (the pane is narrow).
        self.guidance = QLabel(f"IPTC suggests about {ALT_TEXT_GUIDANCE_CHARS} characters", self)
        self.guidance.setAccessibleName("Alt text guidance")
        self.guidance.setWordWrap(True)
        self.decorative = QCheckBox("&Decorative: needs no alt text", self)
        self.decorative.setAccessibleName("Decorative image")
        self.decorative.setToolTip(
            "A decorative image is skipped by screen readers; it is stored with empty alt text."
        )
        self.status = QLabel(self)
        self.status.setStyleSheet("color: palette(placeholder-text);")
        self.status.setAccessibleName("Alt text status")
        self.save_button = QPushButton("&Save", self)
        self.save_button.setToolTip("Save the alt text (Ctrl+Enter)")
        self.save_button.setAccessibleName("Save alt text")
        self.revert_button = QPushButton("&Revert", self)
        self.revert_button.setToolTip("Go back to the saved alt text")
        self.revert_button.setAccessibleName("Revert alt text")

        row = QHBoxLayout()
        row.addWidget(self.count)
        row.addStretch(1)
        row.addWidget(self.status)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addLayout(row)
        layout.addWidget(self.guidance)
        layout.addWidget(self.decorative)
        layout.addLayout(buttons)

        self._saved: str | None = None
        self._draft = False  # the text shown is a draft kept from before
        self.edit.textChanged.connect(self._refresh)
        self.edit.focus_lost.connect(self._save_if_changed)
        self.edit.save_requested.connect(self._save_if_changed)
        self.save_button.clicked.connect(self._save_if_changed)
        self.revert_button.clicked.connect(self.revert)
        self.edit.revert_requested.connect(self.revert)
        self.decorative.toggled.connect(self._on_decorative)
        self._refresh()

    # --- state ---------------------------------------------------------------------------

    def load(self, saved: str | None) -> None:
        """Shows the stored value of a newly selected image (resets undo)."""
        self._saved = saved
        self._draft = False
        self.decorative.blockSignals(True)
        self.decorative.setChecked(saved == "")
        self.decorative.blockSignals(False)
        self.edit.setPlainText(saved or "")
        self.edit.document().setModified(False)
        self._refresh()

    def restore_draft(self, text: str) -> None:
        """Shows text that could not be saved before, unsaved, said to be a draft."""
        self.edit.setPlainText(text)
        self.edit.document().setModified(True)
        self._draft = True
        self._refresh()

    def saved_changed(self, saved: str | None) -> None:
        """The stored value changed (our save, or the API): keep the person's undo history
        and unsaved typing; only replace the text when it was not being edited."""
        self._saved = saved
        if self.value() != saved and not self.is_dirty_against_saved():
            self.load(saved)
        self._refresh()

    def value(self) -> str | None:
        if self.decorative.isChecked():
            return ""
        text = self.edit.toPlainText()
        return text if text.strip() else None

    def is_dirty(self) -> bool:
        return self.value() != self._saved

    def is_dirty_against_saved(self) -> bool:
        return self.edit.document().isModified()

    def mark_saved(self, saved: str | None) -> None:
        self._saved = saved
        self._draft = False
        self.edit.document().setModified(False)
        self._refresh()

    def revert(self) -> None:
        # Through the undo stack, so even a revert can be undone with Ctrl+Z.
        self.decorative.blockSignals(True)
        self.decorative.setChecked(self._saved == "")
        self.decorative.blockSignals(False)
        cursor = self.edit.textCursor()
        cursor.select(cursor.SelectionType.Document)
        cursor.insertText(self._saved or "")
        self.edit.document().setModified(False)
        self._refresh()

    def set_enabled_for_image(self, enabled: bool) -> None:
        for w in (self.edit, self.decorative, self.save_button, self.revert_button):
            w.setEnabled(enabled)
        if enabled:
            self._refresh()

    # --- reactions -----------------------------------------------------------------------

    def _on_decorative(self, checked: bool) -> None:
        self._refresh()
        self.save_requested.emit()

    def _save_if_changed(self) -> None:
        if self.is_dirty() and not self.too_long():
            self.save_requested.emit()

    def too_long(self) -> bool:
        return len(self.edit.toPlainText()) > MAX_ALT_TEXT_CHARS

    def _refresh(self) -> None:
        n = len(self.edit.toPlainText())
        over = n > MAX_ALT_TEXT_CHARS
        # IPTC's guidance (about 250 characters) beside the hard limit: past it the text
        # still saves, and the long description is the place for the rest.
        long_winded = n > ALT_TEXT_GUIDANCE_CHARS
        self.count.setText(f"{n:,} / {MAX_ALT_TEXT_CHARS:,} characters")
        self.count.setStyleSheet("color: #b00020; font-weight: bold;" if over else "")
        self.guidance.setText(
            f"Longer than IPTC's guidance of about {ALT_TEXT_GUIDANCE_CHARS} characters: "
            "consider the long description for the rest."
            if long_winded and not over
            else f"IPTC suggests about {ALT_TEXT_GUIDANCE_CHARS} characters."
        )
        self.guidance.setStyleSheet(
            "color: #8a5a00;" if long_winded and not over else "color: palette(placeholder-text);"
        )
        decorative = self.decorative.isChecked()
        if self.decorative.isEnabled():
            self.edit.setEnabled(not decorative)
        dirty = self.is_dirty()
        self.save_button.setEnabled(self.decorative.isEnabled() and dirty and not over)
        self.revert_button.setEnabled(self.decorative.isEnabled() and dirty)
        if over:
            self.status.setText("Too long to save: kept as a draft")
        elif dirty:
            self.status.setText("Unsaved draft" if self._draft else "Not saved yet")
        elif self._saved is None:
            self.status.setText("Needs alt text")
        elif self._saved == "":
            self.status.setText("Decorative")
        else:
            self.status.setText("Saved")
