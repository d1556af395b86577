"""The main window: folder tree | thumbnail grid | details, with the actions that turn
gestures into ``Library`` calls. Slow work runs as jobs; changes come back as events."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtCore import QEvent, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from imageshelf.app.library import Event, EventKind, ImageRecord, Library, LibraryError, Sort, rules
from imageshelf.app.library.importer import ImportReport

from . import alt_text_actions, notices, system
from .bridge import LibraryBridge
from .details import DetailsPane
from .folder_actions import FolderActions
from .folder_tree import ALL, TRASH, FolderTree, Place
from .grid_model import ImageGridModel, Query
from .grid_pane import GridPane
from .grid_view import EMPTY_LIBRARY, EMPTY_SEARCH, ImageGrid
from .import_dialogs import ImportProgressDialog, ImportSummaryDialog, summary_text
from .jobs import CallJob, ImportJob, JobRunner, ReconcileJob, favour_the_gui_thread
from .menus import (
    SORTS,
    build_actions,
    build_menus,
    build_toolbar,
    install_grid_context_menu,
)
from .server_control import ServerController
from .server_dialog import ServerSettingsDialog
from .sized_link import LinkPreset
from .sized_link import ask as ask_link_preset
from .thumbnails import ThumbnailLoader
from .trash_view import TrashView
from .undo import UndoHistory, UndoNotice, images_text
from .viewer import ImageViewer

log = logging.getLogger(__name__)

SEARCH_DEBOUNCE_MS = 250
TREE_MIN_WIDTH = 150
BACKGROUND_OVER = 20  # moving or deleting more images than this runs as a job
IMAGE_FILTER = "Images (" + " ".join(f"*{e}" for e in sorted(rules.IMAGE_EXTENSIONS)) + ")"


def first_size(available: QSize) -> QSize:
    """The window's size on a first run: 1280×800, or nine tenths of a smaller screen."""
    return QSize(min(1280, available.width() * 9 // 10), min(800, available.height() * 9 // 10))


class MainWindow(QMainWindow):
    import_finished = Signal(object)  # ImportReport, after the summary is shown
    open_library_requested = Signal(object)  # Path: the session switches to it

    def __init__(
        self,
        library: Library,
        settings: QSettings,
        server: ServerController | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        favour_the_gui_thread()
        self.library = library
        self.settings = settings
        self.server = server or ServerController(library, parent=self)
        # The library, once: the desktop adds " — Imageshelf" (the display name) itself.
        self.setWindowTitle(library.root.name or str(library.root))
        self.session: object | None = None  # the LibrarySession that switches libraries
        self.recent_menu: QMenu | None = None
        self._shut_down = False
        self.setAccessibleName("Imageshelf")
        self.jobs = JobRunner(self)
        self.loader = ThumbnailLoader(library, parent=self)
        self.bridge = LibraryBridge(library, self)
        self.last_import: ImportReport | None = None
        self.summary_dialog: ImportSummaryDialog | None = None
        self.progress_dialogs: list[ImportProgressDialog] = []
        self._last_selection: list[str] = []
        self._refocus_alt = False  # the editor had the keys when its image left the view
        self.grid_menu: QMenu | None = None
        self.viewer: ImageViewer | None = None  # made when first asked for

        self.tree = FolderTree(self)
        self.model = ImageGridModel(library, self.loader, self)
        self.grid = ImageGrid(self)
        self.grid.setModel(self.model)
        self._shown_query = self.model.query
        self.details = DetailsPane(library, self.loader, self)
        self.details.link_for = lambda image_id: self.link_preset().link(self.server.link(image_id))
        # Every folder shown in the tree, empty ones too, is a place to move images to.
        self.details.known_folders = lambda: sorted(self.tree.totals, key=str.casefold)
        self._restore_drafts()
        self.history = UndoHistory(library, self)  # Ctrl+Z / Ctrl+Shift+Z: see undo.py
        self.trash_view = TrashView(library, self.jobs, self.history, self)
        self.center = QStackedWidget(self)  # the grid, or the Trash view
        self.center.addWidget(self.grid)
        self.center.addWidget(self.trash_view)

        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search all images")
        self.search.setToolTip("Search file names and alt text as you type (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search")
        self.sort = QComboBox(self)
        self.sort.setAccessibleName("Sort order")
        for value, label in SORTS:
            self.sort.addItem(label, value)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self.apply_query)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self.apply_query)
        self.sort.currentIndexChanged.connect(lambda _i: self.apply_query())
        self.grid_pane = GridPane(self.search, self.sort, self.center, self)
        self.grid_pane.search_everywhere.connect(lambda: self.tree.select(ALL))
        self.grid_pane.size_slider.valueChanged.connect(self.set_thumbnail_side)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(self.grid_pane)
        self.splitter.addWidget(self.details)
        # A narrower window takes from the details too, not only the grid (at 800 px the
        # grid keeps two columns); the tree keeps its width.
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 1)
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)

        self._tree_timer = QTimer(self, singleShot=True, interval=60)
        self._tree_timer.timeout.connect(self.refresh_tree)

        self._build_status_bar()
        self._build_actions()
        self._connect()
        alt_text_actions.install(self)
        self.refresh_tree()
        self.folder_actions.refresh_disk()
        self.tree.select(ALL)
        self._update_actions()
        self._restore_state()
        self.server.state_changed.connect(self._show_server_state)
        self._show_server_state()
        self.setTabOrder(self.search, self.tree)
        self.setTabOrder(self.tree, self.grid)
        self.setTabOrder(self.grid, self.details.folder)
        self.setTabOrder(self.details.folder, self.details.alt.edit)

    # --- building ------------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.reconcile_bar = QProgressBar(self)
        self.reconcile_bar.setMaximumWidth(180)
        self.reconcile_bar.setAccessibleName("Checking the library folder")
        self.reconcile_bar.setFormat("Checking folder… %p%")
        self.reconcile_bar.hide()
        self.server_label = QLabel(self)
        self.server_label.setAccessibleName("Server state")
        self.count_label = QLabel(self)
        self.count_label.setAccessibleName("Images shown")
        self.undo_notice = UndoNotice(self.history, self)
        bar.addPermanentWidget(self.undo_notice)
        bar.addPermanentWidget(self.reconcile_bar)
        bar.addPermanentWidget(self.count_label)
        bar.addPermanentWidget(self.server_label)

    def _build_actions(self) -> None:
        self.actions_by_name = build_actions(self)
        self.folder_actions = FolderActions(self)
        self.actions_by_name |= {
            "include_sub": self.folder_actions.include_sub,
            "rename_folder": self.folder_actions.rename,
            "move_folder": self.folder_actions.move,
            "delete_folder": self.folder_actions.delete,
        }
        self.actions_by_name["undo"] = self.history.undo_action
        self.actions_by_name["redo"] = self.history.redo_action
        build_menus(self, self.actions_by_name)
        build_toolbar(self, self.actions_by_name)
        install_grid_context_menu(self)

    def _connect(self) -> None:
        self.bridge.event.connect(self.on_library_event)
        self.tree.place_selected.connect(lambda _p: self.apply_query())
        self.tree.files_dropped.connect(self.import_paths)
        self.tree.images_dropped.connect(self.move_images)
        self.tree.trash_dropped.connect(self.delete_ids)
        self.history.notice.connect(self.notify)
        self.trash_view.notice.connect(self.notify)
        self.details.alt_text_saved.connect(self.history.alt_text_saved)
        self.tree.notice.connect(self.notify)
        self.grid.files_dropped.connect(
            lambda paths: self.import_paths(paths, self.target_folder())
        )
        self.grid.open_requested.connect(self.open_original)
        self.grid.doubleClicked.connect(lambda _i: self.view_image())
        self.grid.selectionModel().selectionChanged.connect(lambda *_: self._on_selection())
        self.model.modelReset.connect(self._on_selection)
        self.model.modelReset.connect(self._show_count)
        self.model.query_failed.connect(self.notify)
        self.model.query_applied.connect(self._on_query_applied)
        self.model.rowsInserted.connect(lambda *_: self._show_count())
        self.model.rowsRemoved.connect(lambda *_: self._show_count())
        self.details.notice.connect(self.notify)
        self.details.folder_change_requested.connect(self.move_images)

    # --- the view ------------------------------------------------------------------------

    def place(self) -> Place:
        return self.tree.current_place() or ALL

    def target_folder(self) -> str | None:
        """Where imports go: the folder shown, or the top level."""
        return self.place().drop_folder

    def apply_query(self) -> None:
        self._search_timer.stop()
        place = self.place()
        if place == TRASH:
            self.center.setCurrentWidget(self.trash_view)
            self.trash_view.reload()
            return
        self.center.setCurrentWidget(self.grid)
        query = Query(
            folder=place.folder if place.kind == "folder" else Query().folder,
            search=self.search.text().strip(),
            undescribed=place.kind == "undescribed",
            sort=Sort(self.sort.currentData() or Sort.NEWEST),  # Qt hands back a plain str
            recursive=place.kind == "folder" and self.folder_actions.include_sub.isChecked(),
        )
        self.grid.empty_text = EMPTY_SEARCH if query.search else EMPTY_LIBRARY
        where = (
            f"in the folder “{place.folder}”"
            if place.kind == "folder"
            else "among the images that need alt text"
            if place.kind == "undescribed"
            else None
        )
        self.grid_pane.show_scope(where if query.search else None)
        self.search.setPlaceholderText(f"Search {where}" if where else "Search all images")
        if query.search and where:
            self.grid.empty_text = f"No image {where} matches this search."
        self.grid.drop_text = f"Drop to import into {place.drop_folder or 'the top level'}"
        if query.undescribed and not query.search:
            self.grid.empty_text = "Every image has alt text. Well done."
        self.model.set_query(query)
        self._show_count()
        self.grid.viewport().update()

    def set_thumbnail_side(self, side: int) -> None:
        self.grid.set_thumb_side(side)
        self.settings.setValue("view/thumb_side", self.grid.thumb_side())

    def step_thumbnails(self, direction: int) -> None:
        """Ctrl+plus / Ctrl+minus: a quarter bigger or smaller, through the slider."""
        side = self.grid.thumb_side()
        new = round(side * 1.25) if direction > 0 else round(side / 1.25)
        self.grid_pane.size_slider.setValue(new)

    def view_image(self) -> None:
        """Space or a double-click: the selected image in the viewer (viewer.py)."""
        if self.details.record is None:
            return
        if self.viewer is None:
            self.viewer = ImageViewer(self.library, self.step_selection, self)
        self.viewer.show_record(self.details.record)

    def step_selection(self, delta: int) -> ImageRecord | None:
        """Selects the image ``delta`` rows on in the grid (for the viewer); its record."""
        current = self.grid.currentIndex()
        row = current.row() + delta if current.isValid() else 0
        if not 0 <= row < self.model.rowCount():
            return None
        self.grid.setCurrentIndex(self.model.index(row))
        return self.details.record

    def _on_query_applied(self) -> None:
        """Another folder, search, filter or sort opens at its first images; a reload
        of the same view stays where it was."""
        if self.model.query != self._shown_query:
            self._shown_query = self.model.query
            self.grid.scrollToTop()

    def _show_count(self) -> None:
        self.count_label.setText(
            f"{self.model.total:,} image{'s' if self.model.total != 1 else ''}"
        )
        self.grid.viewport().update()

    def refresh_tree(self) -> None:
        try:
            self.tree.refresh(
                self.library.count(),
                self.library.count(undescribed=True),
                self.library.folder_counts(),
                self.library.trash.count(),
            )
        except LibraryError as exc:
            self.notify(exc.message)

    def selected_ids(self) -> list[str]:
        return self.grid.selected_ids()

    def _select_next_after_removal(self, gone: str) -> None:
        """When the one selected image leaves the view (described while "Needs alt text"
        is shown, moved out of the folder shown, deleted), the next one is selected, so
        describing a series is: type, Ctrl+Enter, type, Ctrl+Enter..."""
        refocus, self._refocus_alt = self._refocus_alt, False
        if self.model.row_of(gone) is not None or self.selected_ids():
            return
        current = self.grid.currentIndex()
        if current.isValid():
            self.grid.setCurrentIndex(current)
            if refocus and self.details.record is not None:
                # The keys were going to the editor: they still do, for the next image.
                self.details.alt.edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_selection(self) -> None:
        ids = self.selected_ids()
        if not ids and len(self._last_selection) == 1:
            # Maybe the selected row is being removed: look again once that is done.
            gone = self._last_selection[0]
            self._refocus_alt = self.details.alt.edit.hasFocus()
            QTimer.singleShot(0, lambda: self._select_next_after_removal(gone))
        self._last_selection = ids
        record = None
        if len(ids) == 1:
            # From the library, not the model: an event for it may still be queued.
            try:
                record = self.library.get(ids[0])
            except LibraryError:
                record = None
        self.details.show_selection(ids, record)
        self._update_actions()

    def _update_actions(self) -> None:
        n = len(self.selected_ids())
        for name in ("move", "delete", "copy_link", "copy_sized_link"):
            self.actions_by_name[name].setEnabled(n > 0)
        for name in ("open", "reveal", "edit_alt", "view"):
            self.actions_by_name[name].setEnabled(n == 1)

    # --- events from the core ------------------------------------------------------------

    def on_library_event(self, event: Event) -> None:
        if event.kind in (EventKind.DELETED, EventKind.RESTORED, EventKind.PURGED):
            self.trash_view.schedule_reload()
        if event.kind is EventKind.PURGED:  # nothing the grid shows: only the tree's count
            if not self._tree_timer.isActive():
                self._tree_timer.start()
            return
        self.model.apply(event)
        if event.kind is EventKind.UPDATED and event.image is not None:
            self.details.record_changed(event.image)
        elif event.kind is EventKind.DELETED and event.image_id:
            self.details.record_deleted(event.image_id)
        if not self._tree_timer.isActive():
            # Throttled, not debounced: during a long import the counts still move.
            self._tree_timer.start()
        self._show_count()

    # --- status --------------------------------------------------------------------------

    def notify(self, message: str, timeout_ms: int = 8000) -> None:
        self.statusBar().showMessage(message, timeout_ms)

    def _show_server_state(self) -> None:
        self.server_label.setText(self.server.status_text())
        self.details.refresh_link()  # the address may have changed
        if self.server.error:
            self.notify(self.server.error, 15000)

    # --- reconciliation ------------------------------------------------------------------

    def start_reconcile(self) -> ReconcileJob:
        job = ReconcileJob(self.library)
        self.reconcile_bar.setRange(0, 0)
        self.reconcile_bar.show()
        job.progress.connect(self._on_reconcile_progress)
        job.finished.connect(lambda _r: self._reconcile_done(None))
        job.failed.connect(self._reconcile_done)
        self.jobs.start(job)
        return job

    def _on_reconcile_progress(self, done: int, total: int) -> None:
        self.reconcile_bar.setRange(0, max(total, 1))
        self.reconcile_bar.setValue(done)

    def _reconcile_done(self, error: str | None) -> None:
        self.reconcile_bar.hide()
        self.folder_actions.refresh_disk()
        self.notify(error or "The library folder is up to date.", 5000)

    # --- import --------------------------------------------------------------------------

    def import_paths(self, paths: list[Path], folder: str | None) -> ImportJob | None:
        paths = [Path(p) for p in paths]
        if not paths:
            return None
        job = ImportJob(self.library, paths, folder)
        dialog = ImportProgressDialog(job, self)
        self.progress_dialogs.append(dialog)
        job.finished.connect(lambda report, d=dialog: self._import_done(report, d))
        job.failed.connect(lambda message, d=dialog: self._import_failed(message, d))
        dialog.show()
        self.jobs.start(job)
        return job

    def _import_done(self, report: ImportReport, dialog: ImportProgressDialog) -> None:
        self._forget_dialog(dialog)
        self.last_import = report
        self.notify(
            summary_text(report).rstrip(":") + ("" if not report.rejected else " — see the list.")
        )
        if report.rejected:
            self.summary_dialog = ImportSummaryDialog(report, self)
            self.summary_dialog.show()
        self.import_finished.emit(report)

    def _import_failed(self, message: str, dialog: ImportProgressDialog) -> None:
        self._forget_dialog(dialog)
        notices.warn(self, "Import failed", message)

    def _forget_dialog(self, dialog: ImportProgressDialog) -> None:
        dialog.hide()
        if dialog in self.progress_dialogs:
            self.progress_dialogs.remove(dialog)
        dialog.deleteLater()

    def _last_dir(self) -> str:
        """Where the file dialogs open: the folder last chosen from, else home."""
        last = self.settings.value("dialogs/last_dir")
        return str(last) if last and Path(str(last)).is_dir() else str(Path.home())

    def _remember_dir(self, folder: Path) -> None:
        self.settings.setValue("dialogs/last_dir", str(folder))

    def add_images_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Add images", self._last_dir(), f"{IMAGE_FILTER};;All files (*)"
        )
        if files:
            self._remember_dir(Path(files[0]).parent)
            self.import_paths([Path(f) for f in files], self.target_folder())

    def add_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of images", self._last_dir())
        if folder:
            self._remember_dir(Path(folder).parent)
            self.import_paths([Path(folder)], self.target_folder())

    # --- moving, folders, deleting -------------------------------------------------------

    def move_images(self, ids: list[str], folder: str | None) -> None:
        try:
            folder = rules.normalize_folder(folder)
        except LibraryError as exc:
            self.notify(exc.message)
            notices.warn(self, "Cannot use that folder", exc.message)
            return
        where = folder or "the top level"
        name = self._one_name(ids)
        if len(ids) > BACKGROUND_OVER:
            job = CallJob(lambda: self._move(ids, folder))
            job.finished.connect(lambda previous: self.history.moved(previous, folder, name))
            job.finished.connect(lambda _r: self.notify(f"Moved {len(ids):,} images to {where}."))
            job.failed.connect(lambda m: notices.warn(self, "Not everything was moved", m))
            self.jobs.start(job)
            return
        try:
            previous = self._move(ids, folder)
        except LibraryError as exc:
            notices.warn(self, "Not everything was moved", exc.message)
            return
        self.history.moved(previous, folder, name)
        self.notify(f"Moved {len(ids)} image{'s' if len(ids) != 1 else ''} to {where}.")

    def _move(self, ids: list[str], folder: str | None) -> dict[str, str | None]:
        """Moves the images; returns where each was, for Undo."""
        previous = {i: self.library.get(i).folder for i in ids}
        self.library.update_many(ids, folder=folder)
        return previous

    def _one_name(self, ids: list[str]) -> str | None:
        row = self.model.row_of(ids[0]) if len(ids) == 1 else None
        return self.model.record(row).filename if row is not None else None

    def move_dialog(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        folders = ["(top level)", *sorted(self.tree.totals, key=str.casefold)]
        name, ok = QInputDialog.getItem(
            self, "Move to folder", "Folder (pick one or type a new one):", folders, 0, True
        )
        if ok:
            self.move_images(ids, None if name in ("", "(top level)") else name)

    def new_folder(self) -> None:
        """A real folder on disk, kept while empty, inside the folder shown; with images
        selected, they are moved into it."""
        base = self.place().folder if self.place().kind == "folder" else None
        self.folder_actions.new_folder(base, self.selected_ids())

    def delete_selected(self) -> None:
        """No "are you sure?": the images go to the trash, and Undo brings them back."""
        ids = self.selected_ids()
        if ids:
            self.delete_ids(ids)

    def delete_ids(self, ids: list[str]) -> None:
        what = images_text(len(ids), self._one_name(ids))
        command = self.history.delete(ids, self._one_name(ids))
        if command.job is not None:
            command.job.finished.connect(
                lambda _done: self.undo_notice.offer(f"Moved {what} to the trash", command)
            )

    # --- links and the system ------------------------------------------------------------

    def link_preset(self) -> LinkPreset:
        return LinkPreset.load(self.settings)

    def copy_sized_link(self) -> None:
        """Asks for a size and format (remembered), then copies as *Copy link* does."""
        ids = self.selected_ids()
        if ids and ask_link_preset(self.settings, self.server.link(ids[0]), len(ids), self):
            self.details.refresh_link()
            self.copy_link()

    def copy_link(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        preset = self.link_preset()
        links = [preset.link(self.server.link(i)) for i in ids]
        QApplication.clipboard().setText("\n".join(links))
        self.notify(f"Copied {links[0]}" if len(links) == 1 else f"Copied {len(links)} links.")
        if not self.server.running:
            self.notify("Link copied, but the server is off: see Server settings.", 10000)

    def _single_path(self) -> Path | None:
        ids = self.selected_ids()
        if len(ids) != 1:
            return None
        try:
            return self.library.original_path(ids[0])[1]
        except LibraryError as exc:
            self.notify(exc.message)
            return None

    def open_original(self) -> None:
        path = self._single_path()
        if path is not None and not system.open_file(path):
            self._could_not_hand_over(
                "No program to show images was found",
                "No program to show images was found on this system.",
                path,
            )

    def reveal(self) -> None:
        path = self._single_path()
        if path is not None and not system.reveal(path):
            self._could_not_hand_over(
                "No file manager was found",
                "No file manager was found on this system to show the file in.",
                path,
            )

    def _could_not_hand_over(self, title: str, text: str, path: Path) -> None:
        """Said in a box (a status-bar line is missed after a click that did nothing),
        with where the file is, so the person can get there another way."""
        self.notify(text)
        notices.warn(self, title, f"{text}\n\nThe file is:\n{path}")

    def focus_alt_text(self) -> None:
        if self.details.record is not None:
            self.details.alt.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def server_settings(self) -> ServerSettingsDialog:
        dialog = ServerSettingsDialog(self.server, self)
        dialog.accepted.connect(self._save_server_settings)
        dialog.open()
        return dialog

    def _save_server_settings(self) -> None:
        self.settings.setValue("server/port", self.server.port)
        self.settings.setValue("server/share", self.server.sharing)

    # --- state between runs --------------------------------------------------------------

    def _restore_state(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(first_size(self.screen().availableGeometry().size()))
        splitter = self.settings.value("window/splitter")
        self._splitter_restored = splitter is not None and self.splitter.restoreState(splitter)
        side = self.settings.value("view/thumb_side")
        if side is not None:
            self.grid_pane.size_slider.setValue(int(side))
        sort = self.settings.value("view/sort")
        index = self.sort.findData(Sort(sort)) if sort in set(Sort) else -1
        if index >= 0:
            self.sort.setCurrentIndex(index)

    def _restore_drafts(self) -> None:
        """Alt text that could not be saved last time (too long), shown again."""
        try:
            drafts = json.loads(str(self.settings.value("alt/drafts", "{}")))
        except ValueError:
            drafts = {}
        if isinstance(drafts, dict):
            self.details.drafts.update({str(k): str(v) for k, v in drafts.items()})

    def save_state(self) -> None:
        if self.details.alt.is_dirty() and self.details.record is not None:
            self.details.save_alt_text()
            if self.details.alt.is_dirty():
                self.details.drafts[self.details.record.id] = self.details.alt.edit.toPlainText()
        self.settings.setValue("alt/drafts", json.dumps(self.details.drafts))
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.setValue("view/sort", str(self.sort.currentData()))
        self.settings.setValue("library/last", str(self.library.root))
        self.settings.sync()

    def shutdown(self) -> None:
        """Saves pending alt text, stops jobs, the thumbnail pool, the server and events."""
        if self._shut_down:
            return
        self._shut_down = True
        watched = self.folder_actions.disk_watch.directories()
        if watched:
            self.folder_actions.disk_watch.removePaths(watched)
        if self.details.alt.is_dirty():
            self.details.save_alt_text()
        self.history.shutdown()
        if self.viewer is not None:
            self.viewer.shutdown()
        self.jobs.shutdown()
        self.trash_view.model.shutdown()
        self.model.detach()
        self.loader.shutdown()
        self.server.stop()
        self.bridge.detach()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        QTimer.singleShot(0, self, self._fit_panes)

    def _fit_panes(self) -> None:
        """A narrow window (800 px) keeps two columns of thumbnails: the tree, then the
        details give up width down to their minimum."""
        sizes = self.splitter.sizes()
        if len(sizes) != 3:
            return
        need = self.grid.columns_width(2) + self.grid_pane.width() - self.grid.width()
        lack = need - sizes[1]
        if lack <= 0:
            return
        for pane, floor in ((0, TREE_MIN_WIDTH), (2, self.details.minimumWidth())):
            give = max(0, min(lack, sizes[pane] - floor))
            sizes[pane] -= give
            sizes[1] += give
            lack -= give
        self.splitter.setSizes(sizes)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._splitter_restored:
            # First run: the side panes get what they need, the grid gets the rest.
            self._splitter_restored = True
            # At 800 px the grid still shows two columns.
            width = self.width()
            side = [min(220, width // 5), min(360, max(260, width * 3 // 10))]
            self.splitter.setSizes([side[0], max(300, width - sum(side)), side[1]])

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # Back from the file manager: a folder made there is shown without a restart.
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self.folder_actions.refresh_disk()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.shutdown()
        super().closeEvent(event)
