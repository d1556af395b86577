"""Sized links: *Copy link* copies each selected image's link at the size and in the
format a person chose once in the "Copy sized link…" dialog (Original, 320, 800 or
1600 px on the longest side; the original's format, WebP or JPEG). The choice is kept in
the app's settings; the details pane shows the link it gives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from imageshelf.app.library.transform_spec import sized_link

SIZES: Final[tuple[tuple[int | None, str], ...]] = (
    (None, "&Original size"),
    (320, "&320 px"),
    (800, "&800 px"),
    (1600, "&1600 px"),
)
FORMATS: Final[tuple[tuple[str | None, str], ...]] = (
    (None, "Original &format"),
    ("webp", "&WebP"),
    ("jpg", "&JPEG"),
)
SIZE_KEY: Final = "links/size"
FORMAT_KEY: Final = "links/format"


@dataclass(frozen=True)
class LinkPreset:
    box: int | None = None  # longest side in pixels; None: the original's size
    ext: str | None = None  # output format; None: the original's format

    def link(self, base: str) -> str:
        return sized_link(base, box=self.box, ext=self.ext)

    @property
    def label(self) -> str:
        if self.box is None and self.ext is None:
            return "original"
        size = f"{self.box} px" if self.box else "full size"
        fmt = {"webp": "WebP", "jpg": "JPEG"}.get(self.ext or "", "")
        return f"{size} {fmt}".strip()

    @classmethod
    def load(cls, settings: QSettings) -> LinkPreset:
        """The saved choice; anything not offered (an old or hand-edited value) is the
        original."""
        box = settings.value(SIZE_KEY, 0, type=int)
        ext = settings.value(FORMAT_KEY, "", type=str)
        return cls(
            box if box in {s for s, _ in SIZES} else None,
            ext if ext in {f for f, _ in FORMATS} else None,
        )

    def save(self, settings: QSettings) -> None:
        settings.setValue(SIZE_KEY, self.box or 0)
        settings.setValue(FORMAT_KEY, self.ext or "")


class SizedLinkDialog(QDialog):
    """Choose a size and a format; shows the first link as it will be copied."""

    def __init__(self, preset: LinkPreset, base: str, count: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.base = base
        self.setWindowTitle("Copy sized link")
        self.setMinimumWidth(660)
        self.sizes = QButtonGroup(self)
        self.formats = QButtonGroup(self)
        size_box = self._choices("Size (longest side, never enlarged)", SIZES, self.sizes)
        format_box = self._choices("Format", FORMATS, self.formats)
        for group, value in ((self.sizes, preset.box), (self.formats, preset.ext)):
            for button in group.buttons():
                button.setChecked(button.property("value") == value)
        self.preview = QLineEdit(self)
        self.preview.setReadOnly(True)
        self.preview.setAccessibleName("Link to copy")
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(placeholder-text);")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        copy = buttons.button(QDialogButtonBox.StandardButton.Ok)
        copy.setText("Copy link" if count == 1 else f"Copy {count} links")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        choices = QHBoxLayout()
        choices.addWidget(size_box)
        choices.addWidget(format_box)
        layout = QVBoxLayout(self)
        layout.addLayout(choices)
        layout.addWidget(QLabel("Link:", self))
        layout.addWidget(self.preview)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.sizes.buttonToggled.connect(lambda *_: self._update())
        self.formats.buttonToggled.connect(lambda *_: self._update())
        self._update()

    def _choices(
        self, title: str, values: tuple[tuple[object, str], ...], group: QButtonGroup
    ) -> QGroupBox:
        box = QGroupBox(title, self)
        grid = QGridLayout(box)
        for row, (value, text) in enumerate(values):
            button = QRadioButton(text, box)
            button.setProperty("value", value)
            group.addButton(button)
            grid.addWidget(button, row, 0)
        return box

    def preset(self) -> LinkPreset:
        size = self.sizes.checkedButton()
        fmt = self.formats.checkedButton()
        return LinkPreset(
            size.property("value") if size is not None else None,
            fmt.property("value") if fmt is not None else None,
        )

    def _update(self) -> None:
        preset = self.preset()
        self.preview.setText(preset.link(self.base))
        if preset.box is None and preset.ext is None:
            text = "The original file, byte for byte."
        else:
            text = (
                "Made on first use and kept by the server; an animation gives its first "
                "frame; JPEG puts transparent parts on white."
            )
        self.note.setText(text)


def ask(
    settings: QSettings, base: str, count: int, parent: QWidget | None = None
) -> LinkPreset | None:
    """Shows the dialog; the chosen preset, saved, or ``None`` when cancelled."""
    dialog = SizedLinkDialog(LinkPreset.load(settings), base, count, parent)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    preset = dialog.preset()
    preset.save(settings)
    return preset
