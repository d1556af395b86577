"""*Export…* (File menu, Ctrl+Shift+E): the selected images, the folder shown or every image,
into a zip file or a folder, optionally with an ``alt-text.csv`` of the columns ticked
and the alt text written into the copies. The work is the core's
(``app/library/export.py``) on a worker, with progress (images, time left) and Cancel;
a cancelled or failed export leaves nothing behind."""

from __future__ import annotations

import functools
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from imageshelf.app.library import ALL_FOLDERS, InvalidInput, Library
from imageshelf.app.library import export as ex

from .jobs import Job

if TYPE_CHECKING:
    from .main_window import MainWindow

PROGRESS_EVERY_S = 0.1  # at most ten progress signals a second, however small the files


def time_left(elapsed_s: float, done: int, total: int) -> str:
    """ "about 20 s left" from the pace so far; "" until there is a pace to go by."""
    if done <= 0 or elapsed_s < 1 or done >= total:
        return ""
    left = elapsed_s * (total - done) / done
    if left < 60:
        return f"about {max(1, round(left))} s left"
    if left < 3600:
        return f"about {round(left / 60)} min left"
    return f"about {left / 3600:.1f} h left"


class ExportJob(Job):
    moved = Signal(int, int, int, int)  # images done, of, bytes done, of

    def __init__(
        self,
        library: Library,
        dest: Path,
        kind: ex.Kind,
        *,
        ids: list[str] | None = None,
        folder: object = ALL_FOLDERS,
        recursive: bool = False,
        columns: tuple[str, ...] = (),
        embed: bool = False,
        replace: bool = False,
    ) -> None:
        super().__init__()
        self.library, self.dest, self.kind = library, dest, kind
        self.ids, self.folder, self.recursive = ids, folder, recursive
        self.columns, self.embed, self.replace = columns, embed, replace
        self.stop = threading.Event()
        self._last = 0.0

    def cancel(self) -> None:
        self.stop.set()

    def _progress(self, done: int, total: int, done_bytes: int, total_bytes: int) -> None:
        now = time.monotonic()
        if now - self._last >= PROGRESS_EVERY_S or done == total:
            self._last = now
            self.moved.emit(done, total, done_bytes, total_bytes)

    def work(self) -> ex.Report:
        items = ex.plan(self.library, ids=self.ids, folder=self.folder, recursive=self.recursive)
        if not items:
            raise InvalidInput("There are no images to export here.")
        return ex.export(
            items, ex.LibrarySource(self.library), self.dest, self.kind,
            library_root=self.library.root, csv_columns=self.columns,
            embed_alt_text=self.embed, replace=self.replace, progress=self._progress,
            cancel=self.stop,
        )  # fmt: skip


class ExportDialog(QDialog):
    """Options on the first page, progress on the second."""

    exported = Signal(object)  # ex.Report
    error_shown = Signal(str)
    starting = Signal(object)  # the ExportJob, just before it is handed to a worker

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.settings: QSettings = window.settings
        self.job: ExportJob | None = None
        self.confirmed = ""  # a zip file the file dialog already asked to replace
        self.started = 0.0
        self.setWindowTitle("Export images")
        self.setAccessibleName("Export images")
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self._options_page())
        self.pages.addWidget(self._progress_page())
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        self.setMinimumWidth(640)  # room for a path
        self._show_page(0)

    # --- the options -----------------------------------------------------------------------

    def _options_page(self) -> QWidget:
        page = QWidget(self)
        window = self.window_
        self.selected = window.selection.count()  # all of them, read or not
        place = window.place()
        self.folder = place.folder if place.kind == "folder" else None
        what = QGroupBox("Export", page)
        self.what = QButtonGroup(self)
        self.pick_selected = QRadioButton(self._count_text(self.selected, "selected"), what)
        self.pick_selected.setEnabled(bool(self.selected))
        self.pick_folder = QRadioButton(f"The folder “{self.folder}”", what)
        self.pick_folder.setVisible(self.folder is not None)
        self.sub_folders = QCheckBox("with its sub-folders", what)
        self.sub_folders.setChecked(window.folder_actions.include_sub.isChecked())
        self.sub_folders.setVisible(self.folder is not None)
        self.pick_folder.toggled.connect(self.sub_folders.setEnabled)
        self.pick_all = QRadioButton("Every image in the library", what)
        boxes = QGridLayout(what)
        for row, button in enumerate((self.pick_selected, self.pick_folder, self.pick_all)):
            self.what.addButton(button, row)
            boxes.addWidget(button, row, 0)
        boxes.addWidget(self.sub_folders, 1, 1)
        default = self.pick_selected if self.selected else self.pick_folder if self.folder else None
        (default or self.pick_all).setChecked(True)
        self.sub_folders.setEnabled(self.pick_folder.isChecked())

        self.as_zip = QRadioButton("A &zip file", page)
        self.as_folder = QRadioButton("A &folder", page)
        kinds = QButtonGroup(self)
        kinds.addButton(self.as_zip)
        kinds.addButton(self.as_folder)
        as_folder = self.settings.value("export/kind", "zip") == "folder"
        (self.as_folder if as_folder else self.as_zip).setChecked(True)
        kind_row = QHBoxLayout()
        kind_row.addWidget(self.as_zip)
        kind_row.addWidget(self.as_folder)
        kind_row.addStretch(1)
        self.path = QLineEdit(page)
        self.path.setAccessibleName("Export to")
        self.path.setText(str(self._default_path()))
        choose = QPushButton("&Choose…", page)
        choose.clicked.connect(self.choose)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(choose)
        self.as_zip.toggled.connect(lambda _on: self.path.setText(str(self._default_path())))

        text = QGroupBox("Alt text", page)
        self.csv = QCheckBox(f"Add {ex.CSV_NAME} with these columns:", text)
        self.csv.setChecked(self.settings.value("export/csv", "true") == "true")
        chosen = str(self.settings.value("export/columns", ",".join(ex.DEFAULT_CSV_COLUMNS)))
        self.columns: dict[str, QCheckBox] = {}
        grid = QGridLayout()
        grid.setContentsMargins(24, 0, 0, 0)
        for n, (name, meaning) in enumerate(ex.CSV_COLUMNS.items()):
            box = QCheckBox(name, text)
            box.setToolTip(meaning)
            box.setChecked(name in chosen.split(","))
            self.columns[name] = box
            grid.addWidget(box, n // 3, n % 3)
        self.csv.toggled.connect(self._columns_enabled)
        self._columns_enabled(self.csv.isChecked())
        self.embed = QCheckBox("Write the alt text into the copies (JPEG, PNG, WebP)", text)
        self.embed.setToolTip(
            "The copies carry their alt text and long description in their XMP (IPTC "
            "accessibility fields); the library's files are not changed"
        )
        self.embed.setChecked(self.settings.value("export/embed", "false") == "true")
        text_box = QVBoxLayout(text)
        text_box.addWidget(self.csv)
        text_box.addLayout(grid)
        text_box.addWidget(self.embed)

        self.error = QLabel(page)
        self.error.setAccessibleName("Export problem")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("font-weight: bold;")
        self.error.hide()
        buttons = QDialogButtonBox(page)
        self.export_button = buttons.addButton("&Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.start)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("As:", kind_row)
        form.addRow("To:", path_row)
        layout = QVBoxLayout(page)
        layout.addWidget(what)
        layout.addLayout(form)
        layout.addWidget(text)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addWidget(buttons)
        return page

    def _columns_enabled(self, on: bool) -> None:
        for box in self.columns.values():
            box.setEnabled(on)

    @staticmethod
    def _count_text(n: int, what: str) -> str:
        return f"The {n:,} {what} image{'s' if n != 1 else ''}" if n else "The selected images"

    def kind(self) -> ex.Kind:
        return ex.Kind.ZIP if self.as_zip.isChecked() else ex.Kind.FOLDER

    def _default_path(self) -> Path:
        base = Path(str(self.settings.value("export/last_dir", str(Path.home()))))
        name = (self.folder or "").rsplit("/", 1)[-1] or self.window_.library.root.name
        name = f"{name} export" if name else "Imageshelf export"
        return base / (f"{name}.zip" if self.kind() is ex.Kind.ZIP else name)

    def choose(self) -> None:
        current = self.path.text().strip() or str(self._default_path())
        if self.kind() is ex.Kind.ZIP:
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Export to a zip file", current, "Zip archives (*.zip)"
            )
            if chosen and not chosen.lower().endswith(".zip"):
                chosen += ".zip"
            self.confirmed = chosen  # the file dialog asked before choosing one that exists
        else:
            parent = QFileDialog.getExistingDirectory(
                self, "Export into a new folder inside…", str(Path(current).parent)
            )
            chosen = str(Path(parent) / Path(current).name) if parent else ""
        if chosen:
            self.path.setText(chosen)

    def _show_page(self, index: int) -> None:
        """The dialog as tall as the page shown (a stack is as tall as its tallest)."""
        for i in range(self.pages.count()):
            policy = QSizePolicy.Policy.Preferred if i == index else QSizePolicy.Policy.Ignored
            page = self.pages.widget(i)
            if page is not None:
                page.setSizePolicy(policy, policy)
        self.pages.setCurrentIndex(index)
        self.adjustSize()

    def show_error(self, message: str) -> None:
        self._show_page(0)
        self.error.setText(message)
        self.error.show()
        self.export_button.setEnabled(True)
        self.error_shown.emit(message)

    # --- running ---------------------------------------------------------------------------

    def start(self) -> ExportJob | None:
        text = self.path.text().strip()
        if not text:
            self.show_error("Say where the export goes.")
            return None
        dest = Path(text).expanduser()
        columns = tuple(n for n, b in self.columns.items() if b.isChecked())
        if self.csv.isChecked() and not columns:
            self.show_error(f"Tick at least one column for {ex.CSV_NAME}, or leave it out.")
            return None
        replace = False
        # One stat of a path just typed; the file dialog asked already for one it chose.
        if self.kind() is ex.Kind.ZIP and dest.is_file() and text == self.confirmed:
            replace = True
        elif self.kind() is ex.Kind.ZIP and dest.is_file():
            answer = QMessageBox.question(
                self, "Replace the zip file?", f"{dest} already exists. Replace it?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )  # fmt: skip
            if answer != QMessageBox.StandardButton.Yes:
                return None
            replace = True
        self._remember(dest, columns)
        self.error.hide()
        self.export_button.setEnabled(False)
        self.status.setText("Looking up the images…")
        self.bar.setRange(0, 0)
        self.cancel_button.setEnabled(False)
        self._show_page(1)
        launch = functools.partial(self._launch, dest, columns, replace)
        if self.pick_selected.isChecked():
            # A big selection's ids are read by a worker first (selection.py): now or later.
            self.window_.selection.with_ids(lambda ids: launch(ids=ids))
        elif self.pick_folder.isChecked():
            launch(folder=self.folder, recursive=self.sub_folders.isChecked())
        else:
            launch()
        return self.job

    def _launch(self, dest: Path, columns: tuple[str, ...], replace: bool, **scope: Any) -> None:
        if not self.isVisible():
            return  # closed while the selection was being read
        self.job = job = ExportJob(
            self.window_.library, dest, self.kind(),
            columns=columns if self.csv.isChecked() else (),
            embed=self.embed.isChecked(), replace=replace, **scope,
        )  # fmt: skip
        job.moved.connect(self._on_progress)
        job.finished.connect(self._done)
        job.failed.connect(self._failed)
        self.cancel_button.setEnabled(True)
        self.started = time.monotonic()
        self.starting.emit(job)
        self.window_.jobs.start(job)

    def _remember(self, dest: Path, columns: tuple[str, ...]) -> None:
        self.settings.setValue("export/last_dir", str(dest.parent))
        self.settings.setValue("export/kind", self.kind().value)
        self.settings.setValue("export/csv", "true" if self.csv.isChecked() else "false")
        self.settings.setValue("export/columns", ",".join(columns))
        self.settings.setValue("export/embed", "true" if self.embed.isChecked() else "false")

    def _progress_page(self) -> QWidget:
        page = QWidget(self)
        self.status = QLabel(page)
        self.status.setAccessibleName("Export status")
        self.status.setWordWrap(True)
        self.status.setMinimumWidth(420)
        self.bar = QProgressBar(page)
        self.bar.setAccessibleName("Export progress")
        self.left = QLabel(page)
        self.left.setAccessibleName("Time left")
        buttons = QDialogButtonBox(page)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName("Cancel export")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QVBoxLayout(page)
        layout.addWidget(self.status)
        layout.addWidget(self.bar)
        layout.addWidget(self.left)
        layout.addStretch(1)
        layout.addWidget(buttons)
        return page

    def _on_progress(self, done: int, total: int, done_bytes: int, total_bytes: int) -> None:
        self.bar.setRange(0, max(total_bytes, 1))
        self.bar.setValue(done_bytes)
        self.status.setText(f"Exported {done:,} of {total:,} images to {self.job_dest()}…")
        elapsed = time.monotonic() - self.started
        self.left.setText(time_left(elapsed, done_bytes, total_bytes))

    def job_dest(self) -> str:
        return str(self.job.dest) if self.job is not None else ""

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling — removing what was written…")

    def reject(self) -> None:  # Escape or the close button: cancels a running export
        if self.job is not None:
            self.cancel()
            return  # closes when the worker has cleaned up
        super().reject()

    def _done(self, report: ex.Report) -> None:
        self.job = None
        self.window_.notify(summary(report), 15000)
        self.exported.emit(report)
        self.accept()
        if report.missing or report.kept or report.not_embedded:
            QMessageBox.information(self.window_, "Export finished", summary(report))

    def _failed(self, message: str) -> None:
        job, self.job = self.job, None
        if job is not None and job.stop.is_set():
            self.window_.notify("Export cancelled; nothing was written.")
            super().reject()
            return
        self.show_error(message)


def summary(report: ex.Report) -> str:
    n = len(report.written) + len(report.already)
    said = [f"Exported {n:,} image{'s' if n != 1 else ''} to {report.destination}."]
    if report.csv:
        said.append(f"Alt text is in {ex.CSV_NAME}.")
    if report.missing:
        said.append(f"{len(report.missing):,} left the library meanwhile and are not in it.")
    if report.kept:
        said.append(f"{len(report.kept):,} other file(s) already there were left alone.")
    if report.not_embedded:
        said.append(f"{len(report.not_embedded):,} could not carry alt text (GIF): copied as is.")
    return " ".join(said)


def open_dialog(window: MainWindow) -> ExportDialog:
    dialog = ExportDialog(window)
    dialog.finished.connect(dialog.deleteLater)
    dialog.show()
    dialog.path.setFocus()  # the keys go to where the export goes; Enter exports
    dialog.path.selectAll()
    return dialog
