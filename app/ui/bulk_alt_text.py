"""One alt text, or "decorative", for every selected image at once: shown in the details
pane when several images are selected. Emits ``apply_requested(value)``: the text, or
``""`` for decorative; the window saves it on a worker and says how it went."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from imageshelf.app.library.rules import ALT_TEXT_GUIDANCE_CHARS, MAX_ALT_TEXT_CHARS


class BulkAltText(QGroupBox):
    apply_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Alt text for all selected", parent)
        self.edit = QPlainTextEdit(self)
        self.edit.setTabChangesFocus(True)
        self.edit.setPlaceholderText("One description for every selected image")
        self.edit.setAccessibleName("Alt text for all selected images")
        self.edit.setMinimumHeight(60)
        self.count = QLabel(self)
        self.apply_button = QPushButton("&Apply to all", self)
        self.apply_button.setAccessibleName("Apply alt text to all selected images")
        self.decorative_button = QPushButton("Mark all &decorative", self)
        self.decorative_button.setAccessibleName("Mark all selected images decorative")
        self.decorative_button.setToolTip("Screen readers skip decorative images (empty alt text)")
        self.count.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.decorative_button)
        buttons.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.count)
        layout.addLayout(buttons)
        self._n = 0
        self.edit.textChanged.connect(self._refresh)
        self.apply_button.clicked.connect(self._apply)
        self.decorative_button.clicked.connect(lambda: self.apply_requested.emit(""))
        self._refresh()

    def show_for(self, count: int) -> None:
        """``count`` images selected: the buttons say how many they change."""
        self._n = count
        self.apply_button.setText(f"&Apply to {count:,}")
        self.decorative_button.setText("All &decorative")
        self.decorative_button.setToolTip(
            f"Mark the {count} selected images decorative: screen readers skip them"
        )
        self._refresh()

    def _apply(self) -> None:
        text = self.edit.toPlainText()
        if text.strip() and len(text) <= MAX_ALT_TEXT_CHARS:
            self.apply_requested.emit(text)

    def _refresh(self) -> None:
        n = len(self.edit.toPlainText())
        over = n > MAX_ALT_TEXT_CHARS
        self.count.setText(
            f"{n:,} / {MAX_ALT_TEXT_CHARS:,} · IPTC suggests about {ALT_TEXT_GUIDANCE_CHARS}"
        )
        self.count.setStyleSheet(
            "color: #b00020; font-weight: bold;"
            if over
            else "color: #8a5a00;"
            if n > ALT_TEXT_GUIDANCE_CHARS
            else ""
        )
        self.apply_button.setEnabled(bool(self.edit.toPlainText().strip()) and not over)
