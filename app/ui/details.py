"""The right pane: what the selected image is, its folder, its alt text and long
description (with "Use the caption" where the file has one); for several images, one alt
text or "decorative" for all of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from imageshelf.app.library import ImageRecord, Library
from imageshelf.app.library.rules import MAX_ALT_TEXT_CHARS

from .alt_text_editor import AltTextEditor
from .bulk_alt_text import BulkAltText
from .caption_suggestion import CaptionOffer
from .details_preview import Preview
from .details_saves import DetailSaves, Saved, file_note
from .details_summary import TOP_LEVEL, human_size, local_time, summary_text
from .exif_panel import ExifPanel
from .long_description import LongDescriptionEditor
from .metadata_panel import MetadataPanel
from .thumbnails import ThumbnailLoader
from .undo import UndoHistory

HINT_STYLE = "color: palette(placeholder-text); padding: 24px;"


class DetailsPane(QScrollArea):
    notice = Signal(str)  # a readable message for the status bar / a box
    folder_change_requested = Signal(list, object)  # ids, folder (None = top level)
    bulk_alt_text_requested = Signal(list, str)  # ids, alt text ("" = decorative)

    def __init__(
        self,
        library: Library,
        loader: ThumbnailLoader,
        history: UndoHistory,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.loader = loader
        # Saves run on the undo history's worker, in order with Ctrl+Z (details_saves.py).
        self.saves = DetailSaves(library, history, self)
        self.saves.alt_saved.connect(self._alt_text_saved)
        self.saves.alt_failed.connect(self._alt_text_refused)
        self.saves.long_saved.connect(self._long_saved)
        self.saves.long_failed.connect(self._long_refused)
        self.record: ImageRecord | None = None
        # Alt text that could not be saved (too long, refused), by image id: shown again
        # when the image is, kept across restarts by the window.
        self.drafts: dict[str, str] = {}
        self.selection: list[str] = []
        self.count = 0  # images selected; more than ``selection`` while they are read
        # id → the link *Copy link* gives for it (set by the window, which knows the server)
        self.link_for: Callable[[str], str] | None = None
        # The places to move to, as the window knows them (its folder tree, read on a
        # worker); none until it says: asking the library here would read on the GUI thread.
        self.known_folders: Callable[[], list[str]] = list
        self.setWidgetResizable(True)
        self.setMinimumWidth(270)  # the window stays usable at 800 px
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        # Not a Tab stop of its own (nothing would show it has the focus): the controls
        # inside are, and the pane scrolls to the one that has it.
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAccessibleName("Image details")

        body = QWidget()
        self.preview = Preview(loader, body)
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
        edit = self.folder.lineEdit()
        assert edit is not None  # an editable combo has one
        self.folder_edit: QLineEdit = edit
        edit.setPlaceholderText(TOP_LEVEL)
        edit.setAccessibleName("Folder name")
        self.folder.activated.connect(self._on_folder_chosen)
        edit.returnPressed.connect(self._on_folder_chosen)
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
        alt_layout.addWidget(self.use_caption)
        self.captions = CaptionOffer(library, self.use_caption, self.alt.edit, lambda: self.record)
        self.captions.notice.connect(self.notice)

        self.long = LongDescriptionEditor(body)
        self.long.save_requested.connect(self.save_long_description)
        long_box = QGroupBox("Long description", body)
        long_box.setToolTip(
            "IPTC Extended Description (Accessibility): for what alt text cannot hold."
        )
        QVBoxLayout(long_box).addWidget(self.long)
        self.meta = MetadataPanel(library, body)  # custom_metadata; saves on a worker
        self.meta.notice.connect(self.notice)

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
        self.exif = ExifPanel(body)  # camera, lens, exposure, date taken, location
        # The editor first, the camera's facts after it: at 800×600 the alt text must
        # show without scrolling (tests/desktop/test_search_and_small_window.py); the box
        # is hidden when the file records no camera details.
        layout.addWidget(alt_box, 1)
        layout.addWidget(self.exif)
        layout.addWidget(long_box)
        layout.addWidget(self.meta)
        layout.addWidget(self.bulk)  # one alt text for several, above their summary
        layout.addWidget(self.empty, 1)  # takes the room the hidden editor leaves
        self._detail_widgets = [self.preview, self.heading, self.exif, alt_box, long_box]
        self._detail_widgets.append(self.meta)
        self._form = form
        self.setWidget(body)
        self.show_selection([], None)

    # --- what is shown -------------------------------------------------------------------

    def show_selection(
        self, ids: list[str], record: ImageRecord | None, count: int | None = None
    ) -> None:
        """One image: its details. Several: a summary (moving applies to all). None: a hint.
        ``count``: how many are selected when ``ids`` is not all of them yet (rows not
        read): the folder and the bulk editor wait for ``selection_read``; the summary
        comes with ``show_summary``."""
        count = len(ids) if count is None else count
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
        self.count = count
        self._last_folder_request: tuple[tuple[str, ...], str | None] | None = None
        self.record = record if count == 1 else None
        single = self.record is not None
        for w in self._detail_widgets:
            w.setVisible(single)
        for row in range(self._form.rowCount() - 1):  # the folder row stays for many
            for role in (QFormLayout.ItemRole.LabelRole, QFormLayout.ItemRole.FieldRole):
                item = self._form.itemAt(row, role)
                widget = item.widget() if item is not None else None
                if widget is not None:
                    widget.setVisible(single)
        self.folder.setVisible(bool(count))
        self._folder_label.setVisible(bool(count))
        self.empty.setVisible(not single)
        self.heading.setVisible(single or count > 1)
        self.bulk.setVisible(count > 1)
        self.bulk.show_for(count)
        self.use_caption.hide()
        self._enable_for_all(len(ids) == count)
        if not count:
            self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.empty.setStyleSheet(HINT_STYLE)
            self.empty.setText("Select an image to see its details and write its alt text.")
        elif count > 1:
            self.heading.setText(f"{count:,} images selected")
            self.empty.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            self.empty.setStyleSheet("padding: 8px 0px;")
            self.empty.setText(summary_text(None, count))  # read on a worker: show_summary
        elif not single:  # one row whose page is not read yet: shown once it is
            self.empty.setText("Loading…")
        self._fill_folders(self.record.folder if self.record else None)
        self.meta.load(self.record)
        if self.record is None:
            self.alt.load(None)
            self.alt.set_enabled_for_image(False)
            self.long.load(None)
            return
        self.alt.set_enabled_for_image(True)
        self._fill(self.record)
        self.alt.load(self.record.alt_text)
        draft = self.drafts.get(self.record.id)
        if draft is not None and draft == self.record.alt_text:
            del self.drafts[self.record.id]  # a save that landed after the draft was kept
        elif draft is not None:
            self.alt.restore_draft(draft)
        self.long.load(self.record.long_description)
        if self.record.alt_text is None:
            self.captions.ask(self.record)

    def show_summary(self, records: list[ImageRecord], count: int) -> None:
        """The summary of a multi-selection, from the first ``records`` (read on a worker)."""
        if count == self.count and count > 1:
            self.empty.setText(summary_text(records, count))

    def selection_read(self, ids: list[str]) -> None:
        """Every id of the selection shown, read on a worker: folder and bulk work now."""
        if len(ids) == self.count:
            self.selection = ids
            self._enable_for_all(True)

    def _enable_for_all(self, known: bool) -> None:
        """Moving or describing all of them waits until all of them are known."""
        self.folder.setEnabled(known)
        self.bulk.setEnabled(known)

    def _fill(self, r: ImageRecord) -> None:
        self.heading.setText(r.filename)
        self.fields["original"].setText(r.original_filename)
        self.fields["type"].setText(r.content_type)
        self.fields["size"].setText(human_size(r.size))
        self.fields["dimensions"].setText(f"{r.width} × {r.height} pixels")
        self.fields["created"].setText(local_time(r.created_at))
        self.fields["updated"].setText(local_time(r.updated_at))
        self.exif.show_facts(r.exif)
        self.refresh_link()
        self.preview.show_record(r)

    def refresh_link(self) -> None:
        """Shows the link *Copy link* copies for the image shown (size, format, address)."""
        if self.record is not None and self.link_for is not None:
            link = self.link_for(self.record.id)
            self.link.setText(link)
            self.link.setCursorPosition(len(link))  # the end: size and format
            self.link.setToolTip(f"{link}\n\nEdit → Copy sized link… sets its size.")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # A short window (600 px) gives the preview less, so the alt-text editor still
        # shows without scrolling.
        self.preview.fit_to(self.viewport().width(), self.viewport().height())

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
        self.meta.record_changed(record)
        if record.alt_text is not None:
            self.use_caption.hide()
        if not self.folder_edit.hasFocus():
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
        """Saves on the worker (details_saves.py); the editor shows it saved at once, and
        shows it unsaved again, kept as a draft, if the library refuses it."""
        if self.record is None or not self.alt.is_dirty():
            return
        if self.alt.too_long():
            self.notice.emit(
                f"The alt text was not saved: it is {self._unsaved_reason()}. "
                "It is kept as a draft."
            )
            return
        value = self.alt.value()
        self.drafts.pop(self.record.id, None)
        self.alt.mark_saved(value)
        if value is not None:
            self.use_caption.hide()
        self.saves.alt_text(self.record, value)

    def _alt_text_saved(self, image_id: str, value: str | None, result: object) -> None:
        updated, outcome = cast(Saved, result)
        if self.record is not None and self.record.id == image_id:
            self.record = updated
            self.alt.saved_changed(updated.alt_text)
        said = "Alt text saved." if value else "Marked as decorative." if value == "" else None
        self.notice.emit((said or "Alt text cleared.") + file_note(outcome))

    def _alt_text_refused(self, image_id: str, value: str | None, message: str) -> None:
        if value is not None:
            self.drafts[image_id] = value  # never thrown away
        if self.record is not None and self.record.id == image_id:
            self.alt.mark_saved(self.record.alt_text)  # what is shown is not saved
        self.notice.emit(f"The alt text was not saved: {message} It is kept as a draft.")

    def save_long_description(self) -> None:
        if self.record is None or not self.long.is_dirty():
            return
        value = self.long.value()
        self.long.mark_saved(value)
        self.saves.long_description(self.record, value)

    def _long_saved(self, image_id: str, result: object) -> None:
        updated, outcome = cast(Saved, result)
        if self.record is not None and self.record.id == image_id:
            self.record = updated
            self.long.saved_changed(updated.long_description)
        self.notice.emit("Long description saved." + file_note(outcome))

    def _long_refused(self, image_id: str, message: str) -> None:
        if self.record is not None and self.record.id == image_id:
            self.long.mark_saved(self.record.long_description)  # shown unsaved again
        self.notice.emit(f"The long description was not saved: {message}")

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
