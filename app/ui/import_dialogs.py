"""Import progress (with Cancel) and the summary of files that were not imported."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QProgressBar,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.library.importer import ImportReport

from .jobs import ImportJob

REASONS = {
    "unsupported_format": "Not an image this library keeps (JPEG, PNG, GIF or WebP)",
    "malformed_image": "Not a readable image",
    "too_large": "Too large",
    "too_many_pixels": "Too many pixels",
    "duplicate": "Already in the library",
    "storage_error": "The disk refused",
    "unreadable": "Could not be read",
}


class ImportProgressDialog(QDialog):
    """Non-blocking: the window stays usable while an import runs."""

    def __init__(self, job: ImportJob, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.setWindowTitle("Importing images")
        self.setAccessibleName("Import progress")
        self.label = QLabel("Looking at the files…", self)
        self.label.setAccessibleName("Import status")
        self.bar = QProgressBar(self)
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
        job.progress.connect(self.on_progress)
        job.finished.connect(lambda _r: self.accept())
        job.failed.connect(lambda _m: self.accept())

    def on_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        where = f" into {self.job.folder}" if self.job.folder else ""
        self.label.setText(f"Imported {done:,} of {total:,} files{where}…")

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
        parts.append(f"{n:,} file{'s were' if n != 1 else ' was'} not imported:")
    return " ".join(parts)


class ImportSummaryDialog(QDialog):
    """Lists each rejected file with the reason, in words."""

    def __init__(self, report: ImportReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import finished")
        self.report = report
        label = QLabel(summary_text(report), self)
        label.setWordWrap(True)
        self.table = QTreeWidget(self)
        self.table.setAccessibleName("Files not imported")
        self.table.setHeaderLabels(["File", "Why"])
        self.table.setRootIsDecorated(False)
        self.table.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for rejection in report.rejected:
            item = QTreeWidgetItem([rejection.path.name, rejection.message])
            item.setToolTip(0, str(rejection.path))
            item.setToolTip(1, REASONS.get(rejection.code, rejection.code))
            self.table.addTopLevelItem(item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.accept)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName("Close")
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(640, 320)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)

    def rows(self) -> list[tuple[str, str]]:
        return [
            (self.table.topLevelItem(i).text(0), self.table.topLevelItem(i).text(1))
            for i in range(self.table.topLevelItemCount())
        ]
