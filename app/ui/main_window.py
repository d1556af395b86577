"""The main window: folder tree | thumbnail grid | details, with the actions that turn
gestures into ``Library`` calls. Slow work runs as jobs; changes come back as events."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from imageshelf.app.library import Event, EventKind, ImageRecord, Library, Page, Sort
from imageshelf.app.library.progress_estimate import progress_text

from . import alt_text_actions, library_targets, window_state
from .bridge import LibraryBridge
from .coalesce import Coalesced
from .details import DetailsPane
from .folder_actions import FolderActions
from .folder_tree import ALL, TRASH, FolderTree, Place
from .grid_model import ImageGridModel
from .grid_pane import GridPane
from .grid_query import Query
from .grid_view import EMPTY_LIBRARY, EMPTY_SEARCH, LAYOUT_WAIT_MS, ImageGrid
from .image_gestures import ImageGestures
from .import_gestures import ImportGestures
from .jobs import CallJob, JobRunner, ReconcileJob, favour_the_gui_thread
from .menus import SORTS, build_actions, build_menus, build_toolbar, install_grid_context_menu
from .progress_bar import PROGRESS_MS, QuietProgressBar, set_progress
from .selection import SelectionFollower
from .server_control import ServerController
from .thumbnails import ThumbnailLoader
from .trash_view import TrashView
from .undo import UndoHistory, UndoNotice

if TYPE_CHECKING:  # both imported when first opened: not needed for the first screen
    from .server_dialog import ServerSettingsDialog
    from .viewer import ImageViewer

log = logging.getLogger(__name__)

TREE_COUNTS_MS = 1000

SEARCH_DEBOUNCE_MS = 250


class MainWindow(QMainWindow):
    import_finished = Signal(object)  # ImportReport, after the summary is shown
    open_library_requested = Signal(object)  # Path: the session switches to it
    tree_refreshed = Signal()  # the tree shows counts read after the last refresh_tree()

    def __init__(
        self,
        library: Library,
        settings: QSettings,
        server: ServerController | None = None,
        parent: QWidget | None = None,
        first_page: Page | None = None,  # the grid's, when a worker read it (libraries.py)
    ) -> None:
        super().__init__(parent)
        favour_the_gui_thread()
        self.library = library
        self.settings = settings
        self.server = server or ServerController(library, parent=self)
        # The library, once: the desktop adds " — Imageshelf" (the display name) itself.
        self.setWindowTitle(library.root.name or str(library.root))
        self.target: library_targets.Target = library.root  # or a team library's addresses
        self.session: object | None = None  # the LibrarySession that switches libraries
        self.recent_menu: QMenu | None = None
        self._shut_down = False
        self.setAccessibleName("Imageshelf")
        self.jobs = JobRunner(self)
        self.loader = ThumbnailLoader(library, parent=self)
        self.bridge = LibraryBridge(library, self)
        self.imports: ImportGestures = ImportGestures(self)  # Add images…, drops
        self.images: ImageGestures = ImageGestures(self)  # move, delete, links, open
        self.grid_menu: QMenu | None = None
        self.viewer: ImageViewer | None = None  # made when first asked for

        self.tree: FolderTree = FolderTree(self)
        self.model: ImageGridModel = ImageGridModel(library, self.loader, self, first_page)
        self.grid = ImageGrid(self)
        self.grid.setModel(self.model)
        self._shown_query = self.model.query
        self.history = UndoHistory(library, self)  # Ctrl+Z / Ctrl+Shift+Z: see undo.py
        self.details = DetailsPane(library, self.loader, self.history, self)
        self.details.link_for = lambda i: self.images.link_preset().link(self.server.link(i))
        # Every folder shown in the tree, empty ones too, is a place to move images to.
        self.details.known_folders = lambda: sorted(self.tree.totals, key=str.casefold)
        window_state.restore_drafts(self)
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

        # The tree's counts follow a burst of events once drained, and at most every
        # TREE_COUNTS_MS while more come (a drop commits a few batches a second).
        self._tree_counts = Coalesced(self.refresh_tree, self, min_interval_ms=TREE_COUNTS_MS)
        self._tree_job: CallJob | None = None
        self._tree_again = False
        self.selection = SelectionFollower(self)  # the details and actions follow it

        self._build_status_bar()
        self._build_actions()
        self._connect()
        alt_text_actions.install(self)
        self.tree.refresh(0, 0, [], 0)  # the fixed places at once; the counts follow
        self.refresh_tree()
        self.folder_actions.refresh_disk()
        self.tree.select(ALL)
        self.selection.update_actions()
        self._show_count()  # the first page was read before the model's signals were connected
        self._splitter_restored = window_state.restore(self)
        self.server.state_changed.connect(self._show_server_state)
        self._show_server_state()
        self.setTabOrder(self.search, self.tree)
        self.setTabOrder(self.tree, self.grid)
        self.setTabOrder(self.grid, self.details.folder)
        self.setTabOrder(self.details.folder, self.details.alt.edit)

    # --- building ------------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.reconcile_bar = QuietProgressBar(self)
        self.reconcile_bar.setMaximumWidth(420)
        self.reconcile_bar.setMinimumWidth(180)
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
        self.bridge.library_event.connect(self.on_library_event)
        self.bridge.folders_changed.connect(self.folder_actions.refresh_disk)
        self.tree.place_selected.connect(lambda _p: self.apply_query())
        self.tree.files_dropped.connect(self.imports.import_paths)
        self.tree.images_dropped.connect(self.images.move_images)
        self.tree.trash_dropped.connect(self.images.delete_ids)
        self.history.notice.connect(self.notify)
        self.trash_view.notice.connect(self.notify)
        self.tree.notice.connect(self.notify)
        self.grid.files_dropped.connect(
            lambda paths: self.imports.import_paths(paths, self.target_folder())
        )
        self.grid.open_requested.connect(self.images.open_original)
        self.grid.doubleClicked.connect(lambda _i: self.view_image())
        self.grid.selectionModel().selectionChanged.connect(lambda *_: self.selection.changed())
        self.model.modelReset.connect(self.selection.changed)
        self.model.modelReset.connect(self._show_count)
        self.model.query_failed.connect(self.notify)
        self.model.query_applied.connect(self._on_query_applied)
        self.model.rowsInserted.connect(lambda *_: self._show_count())
        self.model.rowsRemoved.connect(lambda *_: self._show_count())
        self.details.notice.connect(self.notify)
        self.details.folder_change_requested.connect(self.images.move_images)

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
            from .viewer import ImageViewer  # Pillow (EXIF orientation)

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
        """A new view opens at its first images; a reload of the same one stays put."""
        if self.model.query != self._shown_query:
            self._shown_query = self.model.query
            self.grid.scrollToTop()

    def _show_count(self) -> None:
        self.count_label.setText(
            f"{self.model.total:,} image{'s' if self.model.total != 1 else ''}"
        )

    def refresh_tree(self) -> CallJob | None:
        """The tree's counts, read on a worker; asked again mid-read, one more follows."""
        if self._tree_job is not None:
            self._tree_again = True
            return None
        library = self.library
        job = CallJob(
            lambda: (
                library.count(),
                library.count(undescribed=True),
                library.folder_counts(),
                library.trash.count(),
            )
        )
        self._tree_job = job
        job.finished.connect(self._tree_read)
        job.failed.connect(self._tree_read)  # a message
        self.jobs.start(job)
        return job

    def _tree_read(self, counts: object) -> None:
        self._tree_job = None
        if self._shut_down:
            return
        if isinstance(counts, str):
            self.notify(counts)
        else:
            self.tree.refresh(*counts)  # type: ignore[misc]
            self.tree_refreshed.emit()
        if self._tree_again:
            self._tree_again = False
            self.refresh_tree()

    def selected_ids(self) -> list[str]:
        return self.grid.selected_ids()

    # --- events from the core ------------------------------------------------------------

    def on_library_event(self, event: Event) -> None:
        if event.kind in (EventKind.DELETED, EventKind.RESTORED, EventKind.PURGED):
            self.trash_view.schedule_reload()
        if event.kind is EventKind.PURGED:  # nothing the grid shows: only the tree's count
            self._tree_counts.push()
            return
        # A new image waits for the grid's next insert (a few a second while a drop streams
        # in); the count follows from rowsInserted.
        self.model.receive(event)
        if event.kind is EventKind.UPDATED and event.image is not None:
            self.details.record_changed(event.image)
        elif event.kind is EventKind.DELETED and event.image_id:
            self.details.record_deleted(event.image_id)
        self._tree_counts.push()  # throttled, not debounced: during an import they move
        if event.kind is not EventKind.ADDED:
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
        # The window's child, not the job's: its timer may fire up to PROGRESS_MS after the
        # last signal, and a job outlives a window closed meanwhile.
        progress = Coalesced(self._on_reconcile_progress, self, min_interval_ms=PROGRESS_MS)
        job.progress_left.connect(progress.push)
        job.finished.connect(progress.deleteLater)
        job.failed.connect(progress.deleteLater)
        job.finished.connect(lambda _r: self._reconcile_done(None))
        job.failed.connect(self._reconcile_done)
        return self.jobs.start_when(job, self.grid.laid_out, LAYOUT_WAIT_MS)

    def _on_reconcile_progress(self, done: int, total: int, left: float | None = None) -> None:
        set_progress(self.reconcile_bar, done, total)
        # "Checking folder: 120 of 2,000 — about 1 min left" (% would hide the count)
        self.reconcile_bar.setFormat(progress_text("Checking folder", done, total, left))

    def _reconcile_done(self, error: str | None) -> None:
        self.reconcile_bar.hide()
        self.folder_actions.refresh_disk()
        self.notify(error or "The library folder is up to date.", 5000)

    def focus_alt_text(self) -> None:
        if self.details.record is not None:
            self.details.alt.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def server_settings(self) -> ServerSettingsDialog:
        from . import server_dialog

        return server_dialog.open_for(self)  # the port and sharing remembered on OK

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
        self.selection.resolver.shutdown()
        self.model.detach()
        self.loader.shutdown()
        self.server.stop()
        self.bridge.detach()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        QTimer.singleShot(0, self, lambda: window_state.fit_panes(self))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._splitter_restored:
            self._splitter_restored = True
            window_state.first_layout(self)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # Back from the file manager: a folder made there is shown without a restart.
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self.folder_actions.refresh_disk()

    def closeEvent(self, event: QCloseEvent) -> None:
        window_state.save(self)
        self.shutdown()
        super().closeEvent(event)
