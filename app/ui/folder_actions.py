"""What a person does to folders in the tree: make one, rename, move (also by dragging it
onto another folder), delete; the tree's right-click menu and keys; "Include
sub-folders"; and the folders on disk (empty ones, those made in a file manager), read
by a worker and looked at again whenever the window comes back to the front."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QFileSystemWatcher, QObject, QPoint, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMenu

from . import notices
from .folder_tree import Place
from .jobs import CallJob

if TYPE_CHECKING:
    from .main_window import MainWindow

TOP_LEVEL = "(top level)"
# Folders watched for a folder made or removed beside the app (one inotify watch each);
# past this many, coming back to the window is when they are looked at again.
WATCHED_FOLDERS_MAX = 2000


class FolderActions(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.tree = window.tree
        self.menu: QMenu | None = None
        self.busy = False

        def action(text: str, run: Callable[[], object], keys: str | None = None) -> QAction:
            a = QAction(text, self.tree)
            a.triggered.connect(lambda _c=False: run())
            if keys:
                a.setShortcut(QKeySequence(keys))
                a.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
                self.tree.addAction(a)  # F2 and Delete mean "this folder" in the tree
            return a

        self.new_inside = action("&New folder inside…", lambda: self.new_folder(self.folder()))
        self.rename = action("&Rename folder…", self.rename_dialog, "F2")
        self.move = action("Mo&ve folder to…", self.move_dialog)
        self.delete = action("Delete fold&er", self.delete_current, "Del")
        self.new_top = action("&New folder…", lambda: self.new_folder(None))
        self.include_sub = QAction("Include sub-&folders", window)
        self.include_sub.setCheckable(True)
        self.include_sub.setShortcut(QKeySequence("Ctrl+Shift+I"))
        self.include_sub.setStatusTip("Show the images of the folders inside the folder shown")
        self.include_sub.setChecked(
            bool(window.settings.value("view/include_subfolders", False, type=bool))
        )
        self.include_sub.toggled.connect(self._include_sub_toggled)
        window.addAction(self.include_sub)

        # A folder made in a file manager beside the window shows up without a click: the
        # folders are watched (only their lists of names; the core's watcher follows the
        # images), and a burst of changes is read once.
        self.disk_watch = QFileSystemWatcher(self)
        self._disk_timer = QTimer(self, singleShot=True, interval=400)
        self._disk_timer.timeout.connect(self.refresh_disk)
        self.disk_watch.directoryChanged.connect(lambda _p: self._disk_timer.start())

        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self.show_menu)
        self.tree.folder_dropped.connect(self.move_folder)
        self.tree.place_selected.connect(lambda _p: self._update())
        self._update()

    # --- state ---------------------------------------------------------------------------

    def folder(self) -> str | None:
        place = self.tree.current_place()
        return place.folder if place is not None and place.kind == "folder" else None

    def _update(self) -> None:
        on_folder = self.folder() is not None
        for a in (self.rename, self.move, self.delete):
            a.setEnabled(on_folder and not self.busy)

    def _include_sub_toggled(self, on: bool) -> None:
        self.window.settings.setValue("view/include_subfolders", on)
        self.window.apply_query()

    # --- the folders on disk -------------------------------------------------------------

    def refresh_disk(self) -> CallJob:
        """Reads the folders on disk in a worker, then shows them."""
        library = self.window.library
        job = CallJob(library.standing_folders)
        job.finished.connect(self._disk_read)
        self.window.jobs.start(job)
        return job

    def _disk_read(self, folders: set[str]) -> None:
        if self.window.library.closed:
            return
        root = self.window.library.root
        wanted = {str(root)} | {str(root / f) for f in sorted(folders)[:WATCHED_FOLDERS_MAX]}
        watched = set(self.disk_watch.directories())
        if watched - wanted:
            self.disk_watch.removePaths(sorted(watched - wanted))
        if wanted - watched:
            self.disk_watch.addPaths(sorted(wanted - watched))
        if folders != self.tree.on_disk:
            self.tree.set_disk_folders(folders)
            self.window.refresh_tree()

    # --- the menu ------------------------------------------------------------------------

    def show_menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        if item is not None:
            self.tree.setCurrentItem(item)
        self.menu = QMenu(self.tree)  # kept alive while shown
        self.menu.setAccessibleName("Folder actions")
        if self.folder() is not None:
            for a in (self.new_inside, self.rename, self.move, None, self.delete):
                self.menu.addSeparator() if a is None else self.menu.addAction(a)
        else:
            self.menu.addAction(self.new_top)
        self.menu.addSeparator()
        self.menu.addAction(self.include_sub)
        self.menu.popup(self.tree.viewport().mapToGlobal(pos))

    # --- making --------------------------------------------------------------------------

    def new_folder(self, parent: str | None, move_ids: list[str] | None = None) -> CallJob | None:
        """Asks for a name (the parent is said, never prefilled to be typed over) and
        makes the folder on disk (on a worker); moves ``move_ids`` into it when given."""
        where = f"inside {parent}" if parent else "at the top level"
        hint = " (start with / for the top level)" if parent else ""
        name, ok = QInputDialog.getText(
            self.window,
            "New folder",
            f"Name of the new folder {where}{hint}.\nUse / for a folder inside another:",
            QLineEdit.EchoMode.Normal,
            "",
        )
        if not ok or not name.strip():
            return None
        typed = name.strip()
        path_text = f"{parent}/{typed}" if parent and not typed.startswith("/") else typed
        library = self.window.library
        job = CallJob(lambda: library.make_folder(path_text))
        job.finished.connect(lambda folder: self._made(str(folder), move_ids))
        job.failed.connect(lambda m: notices.warn(self.window, "Cannot use that name", m))
        self.window.jobs.start(job)
        return job

    def _made(self, folder: str, move_ids: list[str] | None) -> None:
        self.tree.on_disk.add(folder)
        self.window.refresh_tree()
        if move_ids:
            self.window.images.move_images(move_ids, folder)
        self.tree.select(Place("folder", folder))
        self.window.notify(f"Folder {folder} made.")

    # --- renaming, moving, deleting ------------------------------------------------------

    def rename_dialog(self) -> None:
        folder = self.folder()
        if folder is None:
            return
        old = folder.rpartition("/")[2]
        name, ok = QInputDialog.getText(
            self.window, "Rename folder", f"New name for {folder}:", QLineEdit.EchoMode.Normal, old
        )
        if ok and name.strip() and name.strip() != old:
            job = self._run(
                lambda: self.window.library.rename_folder(folder, name),
                folder,
                f"Renamed {folder} to {{new}}.",
                "The folder was not renamed",
            )
            job.finished.connect(lambda new: self.window.history.folder_moved(folder, str(new)))

    def move_dialog(self) -> None:
        folder = self.folder()
        if folder is None:
            return
        parent = folder.rpartition("/")[0] or None
        choices = [TOP_LEVEL] if parent else []
        choices += [
            p
            for p in sorted(self.tree.totals, key=str.casefold)
            if p != folder and p != parent and not p.startswith(folder + "/")
        ]
        if not choices:
            notices.warn(self.window, "Move folder", "There is no other folder to move it into.")
            return
        dest, ok = QInputDialog.getItem(
            self.window, "Move folder", f"Move {folder} into:", choices, 0, False
        )
        if ok and dest:
            self.move_folder(folder, None if dest == TOP_LEVEL else dest)

    def move_folder(self, folder: str, into: str | None) -> CallJob:
        where = into or "the top level"
        job = self._run(
            lambda: self.window.library.move_folder(folder, into),
            folder,
            f"Moved {folder} into {where}.",
            "The folder was not moved",
        )
        job.finished.connect(lambda new: self.window.history.folder_moved(folder, str(new)))
        return job

    def delete_current(self) -> None:
        """An empty folder goes at once (after a yes); a folder with images sends them to
        the Trash first, said before it is done and undoable after."""
        folder = self.folder()
        if folder is None:
            return
        total = self.tree.totals.get(folder, 0)
        if not total:
            if notices.confirm(self.window, "Delete folder?", f"Delete the empty folder {folder}?"):
                self._run(
                    lambda: self.window.library.delete_folder(folder),
                    folder,
                    f"Deleted the folder {folder}.",
                    "The folder was not deleted",
                )
            return
        below = " (in it and its sub-folders)" if total != self.tree.own.get(folder) else ""
        images = f"{total:,} image{'s' if total != 1 else ''}"
        if not notices.confirm(
            self.window,
            "Delete folder?",
            f"Delete the folder {folder}? Its {images}{below} go to the Trash, where "
            "they can be restored (with their links and alt text) for 30 days; Undo "
            "(Ctrl+Z) brings them back at once.",
        ):
            return
        job = self._run(
            lambda: self.window.library.delete_folder(folder),
            folder,
            f"Deleted the folder {folder}; its {images} are in the Trash.",
            "The folder was not deleted",
        )
        job.finished.connect(lambda ids: self.window.history.trashed(list(ids), folder))

    def _run(self, call: Callable[[], Any], folder: str, said: str, failed: str) -> CallJob:
        """Runs a folder operation in a worker (a big folder's rows take a while)."""
        self.busy = True
        self._update()
        job = CallJob(call)

        def done(new: object) -> None:
            self.busy = False
            self._update()
            self._follow(folder, new if isinstance(new, str) else None)
            self.window.notify(said.replace("{new}", str(new)))

        def fail(message: str) -> None:
            self.busy = False
            self._update()
            notices.warn(self.window, failed, message)
            self.refresh_disk()

        job.finished.connect(done)
        job.failed.connect(fail)
        self.window.jobs.start(job)
        return job

    def _follow(self, old: str, new: str | None) -> None:
        """The tree as it is now, the folder shown where it went."""
        shown = self.folder()
        moved = {p for p in self.tree.on_disk if p == old or p.startswith(old + "/")}
        self.tree.on_disk -= moved
        if new is not None:
            self.tree.on_disk |= {new + p[len(old) :] for p in moved}
        self.window.refresh_tree()
        if new is not None and shown is not None and (shown == old or shown.startswith(old + "/")):
            self.tree.select(Place("folder", new + shown[len(old) :]))
        self.refresh_disk()
