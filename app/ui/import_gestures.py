"""Importing, as a person asks for it: *Add images…*, *Add a folder…* and files dropped on
the grid or the tree become an ``ImportJob`` with its progress dialog, then a status line
and, when files were not taken, the summary listing each with its reason."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from imageshelf.app.library import rules
from imageshelf.app.library.importer import ImportReport

from . import notices
from .import_dialogs import ImportProgressDialog, ImportSummaryDialog, summary_text
from .jobs import ImportJob

if TYPE_CHECKING:
    from .main_window import MainWindow

IMAGE_FILTER = "Images (" + " ".join(f"*{e}" for e in sorted(rules.IMAGE_EXTENSIONS)) + ")"


class ImportGestures(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.last_import: ImportReport | None = None
        self.summary_dialog: ImportSummaryDialog | None = None
        self.progress_dialogs: list[ImportProgressDialog] = []

    def import_paths(self, paths: list[Path], folder: str | None) -> ImportJob | None:
        paths = [Path(p) for p in paths]
        if not paths:
            return None
        job = ImportJob(self.window.library, paths, folder)
        dialog = ImportProgressDialog(job, self.window)
        self.progress_dialogs.append(dialog)
        job.finished.connect(lambda report, d=dialog: self._import_done(report, d))
        job.failed.connect(lambda message, d=dialog: self._import_failed(message, d))
        dialog.show()
        self.window.jobs.start(job)
        return job

    def _import_done(self, report: ImportReport, dialog: ImportProgressDialog) -> None:
        self._forget_dialog(dialog)
        self.last_import = report
        self.window.notify(
            summary_text(report).rstrip(":") + ("" if not report.rejected else " — see the list.")
        )
        if report.rejected:
            self.summary_dialog = ImportSummaryDialog(report, self.window)
            self.summary_dialog.show()
        self.window.import_finished.emit(report)

    def _import_failed(self, message: str, dialog: ImportProgressDialog) -> None:
        self._forget_dialog(dialog)
        notices.warn(self.window, "Import failed", message)

    def _forget_dialog(self, dialog: ImportProgressDialog) -> None:
        dialog.hide()
        if dialog in self.progress_dialogs:
            self.progress_dialogs.remove(dialog)
        dialog.deleteLater()

    def _last_dir(self) -> str:
        """Where the file dialogs open: the folder last chosen from, else home."""
        last = self.window.settings.value("dialogs/last_dir")
        return str(last) if last and Path(str(last)).is_dir() else str(Path.home())

    def _remember_dir(self, folder: Path) -> None:
        self.window.settings.setValue("dialogs/last_dir", str(folder))

    def add_images_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self.window, "Add images", self._last_dir(), f"{IMAGE_FILTER};;All files (*)"
        )
        if files:
            self._remember_dir(Path(files[0]).parent)
            self.import_paths([Path(f) for f in files], self.window.target_folder())

    def add_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.window, "Add a folder of images", self._last_dir()
        )
        if folder:
            self._remember_dir(Path(folder).parent)
            self.import_paths([Path(folder)], self.window.target_folder())
