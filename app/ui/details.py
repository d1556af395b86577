"""The right pane: what the selected image is, its folder, its alt text and long
description (with "Use the caption" where the file has one); for several images, one alt
text or "decorative" for all of them."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from imageshelf.app.library import ImageRecord, Library, LibraryError
from imageshelf.app.library.rules import MAX_ALT_TEXT_CHARS
from imageshelf.app.library.write_back import FAILED, NOT_WRITABLE, FileWrite

from .alt_text_editor import AltTextEditor
from .bulk_alt_text import BulkAltText
from .caption_suggestion import CaptionFinder
from .long_description import LongDescriptionEditor
from .thumbnails import ThumbnailLoader

PREVIEW_SIDE = 360
PREVIEW_MAX_HEIGHT = 220
TOP_LEVEL = "(top level)"
LINK_ROW = 28  # pixels: the details' link row, taken from the preview in a short window
SUMMARY_READ_LIMIT = 2000  # one indexed read each (~20 µs): a select-all says less
SUMMARY_NAMES = 8
HINT_STYLE = "color: palette(placeholder-text); padding: 24px;"


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{n:,} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"  # pragma: no cover


def local_time(record_time: object) -> str:
    return record_time.astimezone().strftime("%Y-%m-%d %H:%M")  # type: ignore[attr-defined]


class DetailsPane(QScrollArea):
    notice = Signal(str)  # a readable message for the status bar / a box
    folder_change_requested = Signal(list, object)  # ids, folder (None = top level)
    bulk_alt_text_requested = Signal(list, str)  # ids, alt text ("" = decorative)
    alt_text_saved = Signal(str, str, object, object)  # id, filename, before, after (undo)

    def __init__(self, library: Library, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self.library = library
        self.loader = loader
        self.record: ImageRecord | None = None
        # Alt text that could not be saved (too long, refused), by image id: shown again
        # when the image is, kept across restarts by the window.
        self.drafts: dict[str, str] = {}
        self.selection: list[str] = []
        # id → the link *Copy link* gives for it (set by the window, which knows the server)
        self.link_for: Callable[[str], str] | None = None
        self.known_folders: Callable[[], list[str]] = library.folders
        self.setWidgetResizable(True)
        self.setMinimumWidth(270)  # the window stays usable at 800 px
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        # Not a Tab stop of its own (nothing would show it has the focus): the controls
        # inside are, and the pane scrolls to the one that has it.
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._preview_source: QPixmap | None = None
        self.setAccessibleName("Image details")

        body = QWidget()
        self.preview = QLabel(body)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumHeight(PREVIEW_MAX_HEIGHT)
        self.preview.setMinimumWidth(1)
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.preview.setAccessibleName("Preview")
        self.heading = QLabel(body)
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.heading.setStyleSheet("font-size: 13pt; font-weight: 600;")
        self.heading.setAccessibleName("File name")

        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for key, label in (
            ("original", "Original name"),
            ("type", "Type"),
            ("size", "Size"),
            ("dimensions", "Dimensions"),
            ("created", "Added"),
            ("updated", "Changed"),
        ):
            value = QLabel(body)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setAccessibleName(label)
            self.fields[key] = value
            form.addRow(label + ":", value)

        # The link *Copy link* copies: one line (the pane must fit an 800×600 window with
        # the alt-text editor in sight) that shows its end — the size and format — and
        # copies exactly when selected; the whole link is its tooltip too.
        self.link = QLineEdit(body)
        self.link.setReadOnly(True)
        self.link.setFrame(False)
        self.link.setStyleSheet("QLineEdit { background: transparent; }")
        self.link.setAccessibleName("Link")
        form.addRow("Link:", self.link)

        self.folder = QComboBox(body)
        self.folder.setEditable(True)
        self.folder.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.folder.setAccessibleName("Folder")
        self.folder.setToolTip("Pick a folder or type a new one (like clients/acme), then Enter")
        self.folder.lineEdit().setPlaceholderText(TOP_LEVEL)
        self.folder.lineEdit().setAccessibleName("Folder name")
        self.folder.activated.connect(self._on_folder_chosen)
        self.folder.lineEdit().returnPressed.connect(self._on_folder_chosen)
        folder_label = QLabel("Fo&lder:", body)  # Alt+F is the File menu
        folder_label.setBuddy(self.folder)
        self._folder_label = folder_label
        form.addRow(folder_label, self.folder)

        self.alt = AltTextEditor(body)
        self.alt.save_requested.connect(self.save_alt_text)
        alt_box = QGroupBox("Alt text", body)
        alt_layout = QVBoxLayout(alt_box)
        alt_layout.addWidget(self.alt)
        self.use_caption = QPushButton("Use the &caption", alt_box)
        self.use_caption.setAccessibleName("Use the caption as alt text")
        self.use_caption.hide()
        self.use_caption.clicked.connect(self._use_caption)
        alt_layout.addWidget(self.use_caption)
        self._caption = ""
        self.captions = CaptionFinder(library, self)
        self.captions.found.connect(self._on_caption)

        self.long = LongDescriptionEditor(body)
        self.long.save_requested.connect(self.save_long_description)
        long_box = QGroupBox("Long description", body)
        long_box.setToolTip(
            "IPTC Extended Description (Accessibility): for what alt text cannot hold."
        )
        QVBoxLayout(long_box).addWidget(self.long)

        self.bulk = BulkAltText(body)
        self.bulk.apply_requested.connect(
            lambda value: self.bulk_alt_text_requested.emit(list(self.selection), value)
        )

        self.empty = QLabel(body)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(HINT_STYLE)

        layout = QVBoxLayout(body)
        layout.addWidget(self.preview)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        layout.addWidget(alt_box, 1)
        layout.addWidget(long_box)
        layout.addWidget(self.bulk)  # one alt text for several, above their summary
        layout.addWidget(self.empty, 1)  # takes the room the hidden editor leaves
        self._detail_widgets = [self.preview, self.heading, alt_box, long_box]
        self._form = form
        self.setWidget(body)
        loader.ready.connect(self._on_thumbnail_ready)
        self.show_selection([], None)

    # --- what is shown -------------------------------------------------------------------

    def show_selection(self, ids: list[str], record: ImageRecord | None) -> None:
        """One image: its details. Several: a summary (moving applies to all). None: a hint."""
        if (
            self.record is not None
            and self.alt.is_dirty()
            and (record is None or record.id != self.record.id)
        ):
            self.save_alt_text()
            if self.alt.is_dirty():  # could not be saved: never thrown away
                self.drafts[self.record.id] = self.alt.edit.toPlainText()
                self.notice.emit(
                    f"The alt text of {self.record.filename} was not saved "
                    f"({self._unsaved_reason()}): it is kept as a draft; select the image "
                    "again to finish it."
                )
        if (
            self.record is not None
            and self.long.is_dirty()
            and (record is None or record.id != self.record.id)
        ):
            self.save_long_description()
        self.selection = ids
        self._last_folder_request: tuple[tuple[str, ...], str | None] | None = None
        self.record = record if len(ids) == 1 else None
        single = self.record is not None
        for w in self._detail_widgets:
            w.setVisible(single)
        for row in range(self._form.rowCount() - 1):  # the folder row stays for many
            for role in (QFormLayout.ItemRole.LabelRole, QFormLayout.ItemRole.FieldRole):
                item = self._form.itemAt(row, role)
                if item is not None and item.widget() is not None:
                    item.widget().setVisible(single)
        self.folder.setVisible(bool(ids))
        self._folder_label.setVisible(bool(ids))
        self.empty.setVisible(not single)
        self.heading.setVisible(single or len(ids) > 1)
        self.bulk.setVisible(len(ids) > 1)
        self.bulk.show_for(len(ids))
        self.use_caption.hide()
        if not ids:
            self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.empty.setStyleSheet(HINT_STYLE)
            self.empty.setText("Select an image to see its details and write its alt text.")
        elif not single:
            self.heading.setText(f"{len(ids):,} images selected")
            self.empty.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            self.empty.setStyleSheet("padding: 8px 0px;")
            self.empty.setText(self._summary(ids))
        self._fill_folders(self.record.folder if self.record else None)
        if self.record is None:
            self.alt.load(None)
            self.alt.set_enabled_for_image(False)
            self.long.load(None)
            return
        self.alt.set_enabled_for_image(True)
        self._fill(self.record)
        self.alt.load(self.record.alt_text)
        draft = self.drafts.get(self.record.id)
        if draft is not None:
            self.alt.restore_draft(draft)
        self.long.load(self.record.long_description)
        if self.record.alt_text is None:
            self.captions.ask(self.record)

    def _summary(self, ids: list[str]) -> str:
        """What several selected images are, together: sizes, folders, alt text."""
        records = []
        for image_id in ids[:SUMMARY_READ_LIMIT]:
            try:
                records.append(self.library.get(image_id))
            except LibraryError:
                continue
        read = len(records)
        lines: list[str] = []
        if read:
            of = "" if read == len(ids) else f" (of the first {read:,})"
            folders = sorted({r.folder or TOP_LEVEL for r in records}, key=str.casefold)
            shown = ", ".join(folders[:4]) + (
                f" and {len(folders) - 4} more" if len(folders) > 4 else ""
            )
            undescribed = sum(1 for r in records if r.alt_text is None)
            lines += [
                f"Together: {human_size(sum(r.size for r in records))}{of}",
                f"In {'folder' if len(folders) == 1 else 'folders'}: {shown}",
                (
                    f"Need alt text: {undescribed:,}{of}"
                    if undescribed
                    else f"All have alt text{of}."
                ),
                "",
            ]
            names = [r.filename for r in records[:SUMMARY_NAMES]]
            more = len(ids) - len(names)
            lines += names + ([f"… and {more:,} more"] if more > 0 else []) + [""]
        lines.append(
            "Choose a folder above to move them all, give them one alt text above, Copy "
            "link (Ctrl+L) to copy their links, or press Delete to delete them."
        )
        return "\n".join(lines)

    def _fill(self, r: ImageRecord) -> None:
        self.heading.setText(r.filename)
        self.fields["original"].setText(r.original_filename)
        self.fields["type"].setText(r.content_type)
        self.fields["size"].setText(human_size(r.size))
        self.fields["dimensions"].setText(f"{r.width} × {r.height} pixels")
        self.fields["created"].setText(local_time(r.created_at))
        self.fields["updated"].setText(local_time(r.updated_at))
        self.refresh_link()
        self._show_preview(r)

    def refresh_link(self) -> None:
        """Shows the link *Copy link* copies for the image shown (size, format, address)."""
        if self.record is not None and self.link_for is not None:
            link = self.link_for(self.record.id)
            self.link.setText(link)
            self.link.setCursorPosition(len(link))  # the end: size and format
            self.link.setToolTip(f"{link}\n\nEdit → Copy sized link… sets its size.")

    def _show_preview(self, r: ImageRecord) -> None:
        pix = self.loader.pixmap(r, PREVIEW_SIDE)
        self._preview_source = pix
        if pix is None:
            self.preview.setText("Loading preview…")
        else:
            self._fit_preview()
        self.preview.setToolTip(r.alt_text or "")
        # A screen reader on the preview hears the image's own alt text.
        self.preview.setAccessibleDescription(
            r.alt_text or ("Decorative image" if r.alt_text == "" else "No alt text yet")
        )

    def _fit_preview(self) -> None:
        pix = self._preview_source
        if pix is None:
            return
        width = max(64, min(PREVIEW_SIDE, self.viewport().width() - 24))
        height = self._preview_height()
        logical = pix.deviceIndependentSize()
        if logical.width() > width or logical.height() > height:
            ratio = pix.devicePixelRatio()
            pix = pix.scaled(
                round(width * ratio),
                round(height * ratio),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            pix.setDevicePixelRatio(ratio)
        self.preview.setPixmap(pix)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # A short window (600 px) gives the preview less, so the alt-text editor still
        # shows without scrolling.
        self.preview.setMinimumHeight(self._preview_height())
        self._fit_preview()

    def _preview_height(self) -> int:
        # Less the link's row, so an 800×600 window still shows the alt-text editor.
        return max(80, min(PREVIEW_MAX_HEIGHT, self.viewport().height() // 4 - LINK_ROW))

    def _on_thumbnail_ready(self, sha256: str) -> None:
        if self.record is not None and self.record.sha256 == sha256:
            self._show_preview(self.record)

    def _fill_folders(self, current: str | None) -> None:
        self.folder.blockSignals(True)
        self.folder.clear()
        self.folder.addItem(TOP_LEVEL, None)
        for f in self.known_folders():
            self.folder.addItem(f, f)
        self.folder.setCurrentIndex(max(0, self.folder.findData(current)) if current else 0)
        if len(self.selection) > 1:
            self.folder.setEditText("")
        self.folder.blockSignals(False)

    # --- live updates --------------------------------------------------------------------

    def record_changed(self, record: ImageRecord) -> None:
        if self.record is None or record.id != self.record.id:
            return
        self.record = record
        self._fill(record)
        self.alt.saved_changed(record.alt_text)
        self.long.saved_changed(record.long_description)
        if record.alt_text is not None:
            self.use_caption.hide()
        if not self.folder.lineEdit().hasFocus():
            self._fill_folders(record.folder)

    def record_deleted(self, image_id: str) -> None:
        if image_id in self.selection:
            self.record = None
            self.show_selection([i for i in self.selection if i != image_id], None)

    # --- edits ---------------------------------------------------------------------------

    def _unsaved_reason(self) -> str:
        if self.alt.too_long():
            return f"longer than {MAX_ALT_TEXT_CHARS:,} characters"
        return "the library refused it"

    def save_alt_text(self) -> None:
        if self.record is None or not self.alt.is_dirty():
            return
        if self.alt.too_long():
            self.notice.emit(
                f"The alt text was not saved: it is {self._unsaved_reason()}. "
                "It is kept as a draft."
            )
            return
        value = self.alt.value()
        try:
            updated, outcome = self.library.update_with_outcome(self.record.id, alt_text=value)
        except LibraryError as exc:
            self.notice.emit(f"The alt text was not saved: {exc.message}")
            return
        before = self.record.alt_text
        self.record = updated
        self.drafts.pop(updated.id, None)
        self.alt.mark_saved(updated.alt_text)
        if updated.alt_text is not None:
            self.use_caption.hide()
        self.alt_text_saved.emit(updated.id, updated.filename, before, updated.alt_text)
        self.notice.emit(
            (
                "Alt text saved."
                if value
                else "Marked as decorative."
                if value == ""
                else "Alt text cleared."
            )
            + file_note(outcome)
        )

    def save_long_description(self) -> None:
        if self.record is None or not self.long.is_dirty():
            return
        try:
            updated, outcome = self.library.update_with_outcome(
                self.record.id, long_description=self.long.value()
            )
        except LibraryError as exc:
            self.notice.emit(f"The long description was not saved: {exc.message}")
            return
        self.record = updated
        self.long.mark_saved(updated.long_description)
        self.notice.emit("Long description saved." + file_note(outcome))

    # --- "Use the caption" ---------------------------------------------------------------

    def _on_caption(self, image_id: str, caption: str) -> None:
        if self.record is None or self.record.id != image_id or self.record.alt_text is not None:
            return
        self._caption = caption
        self.use_caption.setVisible(bool(caption))
        self.use_caption.setToolTip(
            f"The file's caption: “{caption}”. A caption is written for another purpose: "
            "check that it describes what the image shows before you save it."
        )

    def _use_caption(self) -> None:
        if not self._caption:
            return
        cursor = self.alt.edit.textCursor()  # through the undo stack: Ctrl+Z takes it back
        cursor.select(cursor.SelectionType.Document)
        cursor.insertText(self._caption)
        self.alt.edit.setFocus()
        self.notice.emit("The caption is in the editor: check it describes the image, then save.")

    def _on_folder_chosen(self, *_args: object) -> None:
        if not self.selection:
            return
        text = self.folder.currentText().strip()
        folder = None if text in ("", TOP_LEVEL) else text
        if self.record is not None and folder == self.record.folder:
            return
        request = (tuple(self.selection), folder)
        if request == self._last_folder_request:
            return  # Enter in the combo fires both "activated" and "returnPressed"
        self._last_folder_request = request
        self.folder_change_requested.emit(list(self.selection), folder)


def file_note(outcome: FileWrite | None) -> str:
    """What a save did to the image file, when it is worth saying (the setting is on and
    the file could not carry the text)."""
    if outcome is None or outcome.status not in (NOT_WRITABLE, FAILED):
        return ""
    return f" Not written into the file: {outcome.message}"
