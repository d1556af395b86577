"""Import progress (with Cancel) and the summary of files that were not imported."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from imageshelf.app.library import rules
from imageshelf.app.library.importer import ImportReport, Rejection
from imageshelf.app.library.progress_estimate import time_left_text

from .coalesce import Coalesced
from .jobs import ImportJob
from .progress_bar import PROGRESS_MS, QuietProgressBar, set_progress

MIB = 1024 * 1024
# Each reason in a desktop's words (the core's messages are also the API's).
REASONS = {
    "unsupported_format": f"Not an image the library keeps ({rules.HUMAN_FORMAT_LIST})",
    "hidden": "Hidden file, skipped on purpose",
    "malformed_image": "Damaged: it could not be read as an image",
    "too_large": f"Too large: more than {rules.MAX_UPLOAD_BYTES // MIB} MB",
    "too_many_pixels": f"Too many pixels: more than {rules.MAX_PIXELS // 1_000_000} megapixels",
    "duplicate": "Already in the library",
    "storage_error": "The disk refused to save it",
    "unreadable": "Could not be read",
}
# Where the core's own words say more than the heading (which copy, what the disk said).
_DETAIL_KEPT = ("duplicate", "storage_error", "unreadable", "hidden")


def reason_in_words(rejection: Rejection) -> str:
    if rejection.code == "duplicate" and "already in the library as" in rejection.message:
        return "Already in the library as " + rejection.message.split(" as ", 1)[1].rstrip(".")
    if rejection.code == "duplicate":
        return "Also earlier in this import"
    if rejection.code == "hidden":
        return rejection.message.rstrip(".")
    if rejection.code in _DETAIL_KEPT:
        return f"{REASONS[rejection.code]}: {rejection.message.rstrip('.')}"
    return REASONS.get(rejection.code, rejection.message.rstrip("."))


class ImportProgressDialog(QDialog):
    """Non-blocking: the window stays usable while an import runs."""

    def __init__(self, job: ImportJob, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.setWindowTitle("Importing images")
        self.setAccessibleName("Import progress")
        self.label = QLabel("Looking at the files…", self)
        self.label.setAccessibleName("Import status")
        self.bar = QuietProgressBar(self)
        self.bar.setAccessibleName("Import progress")
        self.bar.setRange(0, 0)
        self.bar.setMinimumWidth(360)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName("Cancel import")
        self.buttons.rejected.connect(self.cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.buttons)
        # A batch of photos committed is a burst of progress signals: one update for it.
        self._progress = Coalesced(self.on_progress, self, min_interval_ms=PROGRESS_MS)
        job.progress_left.connect(self._progress.push)
        job.finished.connect(lambda _r: self.accept())
        job.failed.connect(lambda _m: self.accept())

    def on_progress(self, done: int, total: int, seconds_left: float | None = None) -> None:
        set_progress(self.bar, done, total)
        where = f" into {self.job.folder}" if self.job.folder else ""
        left = time_left_text(seconds_left)
        self.label.setText(
            f"Imported {done:,} of {total:,} files{where}" + (f" — {left}" if left else "…")
        )

    def cancel(self) -> None:
        self.job.cancel()
        self.cancel_button.setEnabled(False)
        self.label.setText("Cancelling — finishing the image being saved…")

    def reject(self) -> None:  # Escape or closing the window cancels, too
        self.cancel()


def summary_text(report: ImportReport) -> str:
    added = len(report.added)
    parts = [f"Added {added:,} image{'s' if added != 1 else ''}."]
    if report.cancelled:
        parts.append("The import was cancelled; nothing was half-imported.")
    if report.rejected:
        n = len(report.rejected)
        hidden = sum(1 for r in report.rejected if r.code == "hidden")
        said = f"{n:,} file{'s were' if n != 1 else ' was'} not imported"
        if hidden:
            said += f" ({hidden:,} of them hidden, skipped on purpose)"
        parts.append(said + ":")
    return " ".join(parts)


class ImportSummaryDialog(QDialog):
    """Lists every file that was not imported, with the reason in words: the name, the
    reason wrapped below it where it is long (nothing cut off), the full path on hover."""

    def __init__(self, report: ImportReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import finished")
        self.report = report
        label = QLabel(summary_text(report), self)
        label.setWordWrap(True)
        self.table = QTreeWidget(self)
        self.table.setAccessibleName("Files not imported")
        self.table.setHeaderLabels(["File", "Why it was not imported"])
        self.table.setRootIsDecorated(False)
        self.table.setWordWrap(True)
        self.table.setUniformRowHeights(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        for rejection in report.rejected:
            item = QTreeWidgetItem([rejection.path.name, reason_in_words(rejection)])
            item.setToolTip(0, str(rejection.path))
            item.setToolTip(1, reason_in_words(rejection))
            self.table.addTopLevelItem(item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.accept)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName("Close")
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(760, 380)
        # The names get what they need up to a third; the reasons the rest, wrapped.
        self.table.resizeColumnToContents(0)
        header.resizeSection(0, min(header.sectionSize(0) + 16, 250))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)

    def rows(self) -> list[tuple[str, str]]:
        items = (self.table.topLevelItem(i) for i in range(self.table.topLevelItemCount()))
        return [(item.text(0), item.text(1)) for item in items if item is not None]
