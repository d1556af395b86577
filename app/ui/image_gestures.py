"""What a person does to the selected images from the grid, the menus and the tree: move
them to a folder, delete them (to the trash, with Undo), copy their links, open the
original or show it in the file manager.

Every library call runs on a worker: moves as a job (its Undo step is recorded when it
has finished), deletes on the undo history's serial worker, paths for open and reveal as
a job. The selection's ids come from ``SelectionFollower.with_ids`` (read on a worker
when rows are not loaded)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QInputDialog

from imageshelf.app.library import LibraryError, rules

from . import notices, system
from .jobs import CallJob
from .sized_link import LinkPreset
from .sized_link import ask as ask_link_preset
from .undo import images_text

if TYPE_CHECKING:
    from .main_window import MainWindow


class ImageGestures(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    # --- moving, folders, deleting -------------------------------------------------------

    def move_images(self, ids: list[str], folder: str | None) -> CallJob | None:
        w = self.window
        try:
            folder = rules.normalize_folder(folder)
        except LibraryError as exc:
            w.notify(exc.message)
            notices.warn(w, "Cannot use that folder", exc.message)
            return None
        where = folder or "the top level"
        name = self._one_name(ids)
        said = f"Moved {len(ids):,} image{'s' if len(ids) != 1 else ''} to {where}."
        job = CallJob(lambda: self._move(ids, folder))
        # Recorded once done: an Undo cannot run before the move it undoes.
        job.finished.connect(lambda previous: w.history.moved(previous, folder, name))
        job.finished.connect(lambda _r: w.notify(said))
        job.failed.connect(lambda m: notices.warn(w, "Not everything was moved", m))
        w.jobs.start(job)
        return job

    def _move(self, ids: list[str], folder: str | None) -> dict[str, str | None]:
        """Moves the images (on a worker); returns where each was, for Undo."""
        library = self.window.library
        previous = {i: library.get(i).folder for i in ids}
        library.update_many(ids, folder=folder)
        return previous

    def _one_name(self, ids: list[str]) -> str | None:
        model = self.window.model
        row = model.row_of(ids[0]) if len(ids) == 1 else None
        record = model.loaded_record(row) if row is not None else None
        return record.filename if record is not None else None

    def move_dialog(self) -> None:
        if self.window.selection.count():
            self.window.selection.with_ids(self._move_dialog)

    def _move_dialog(self, ids: list[str]) -> None:
        if not ids:
            return
        folders = ["(top level)", *sorted(self.window.tree.totals, key=str.casefold)]
        name, ok = QInputDialog.getItem(
            self.window, "Move to folder", "Folder (pick one or type a new one):", folders, 0, True
        )
        if ok:
            self.move_images(ids, None if name in ("", "(top level)") else name)

    def new_folder(self) -> None:
        """A real folder on disk, kept while empty, inside the folder shown; with images
        selected, they are moved into it."""
        place = self.window.place()
        base = place.folder if place.kind == "folder" else None

        def make(ids: list[str]) -> None:
            self.window.folder_actions.new_folder(base, ids)

        self.window.selection.with_ids(make)

    def delete_selected(self) -> None:
        """No "are you sure?": the images go to the trash, and Undo brings them back."""
        if self.window.selection.count():
            self.window.selection.with_ids(self.delete_ids)

    def delete_ids(self, ids: list[str]) -> None:
        w = self.window
        if not ids:
            return
        what = images_text(len(ids), self._one_name(ids))
        command = w.history.delete(ids, self._one_name(ids))
        if command.job is not None:
            command.job.finished.connect(
                lambda _done: w.undo_notice.offer(f"Moved {what} to the trash", command)
            )

    # --- links and the system ------------------------------------------------------------

    def link_preset(self) -> LinkPreset:
        return LinkPreset.load(self.window.settings)

    def copy_sized_link(self) -> None:
        """Asks for a size and format (remembered), then copies as *Copy link* does."""
        w = self.window
        w.selection.with_ids(self._ask_sized_link)

    def _ask_sized_link(self, ids: list[str]) -> None:
        w = self.window
        if ids and ask_link_preset(w.settings, w.server.link(ids[0]), len(ids), w):
            w.details.refresh_link()
            self._copy_links(ids)

    def copy_link(self) -> None:
        self.window.selection.with_ids(self._copy_links)

    def _copy_links(self, ids: list[str]) -> None:
        w = self.window
        if not ids:
            return
        preset = self.link_preset()
        links = [preset.link(w.server.link(i)) for i in ids]
        QApplication.clipboard().setText("\n".join(links))
        w.notify(f"Copied {links[0]}" if len(links) == 1 else f"Copied {len(links)} links.")
        if not w.server.running:
            w.notify("Link copied, but the server is off: see Server settings.", 10000)

    def _with_path(self, then: Callable[[Path], None]) -> None:
        """``then(path)`` with the one selected image's file, found on a worker."""
        ids = self.window.selected_ids()
        if len(ids) != 1 or self.window.selection.count() != 1:
            return
        library, image_id = self.window.library, ids[0]
        job = CallJob(lambda: library.original_path(image_id)[1])
        job.finished.connect(then)
        job.failed.connect(self.window.notify)
        self.window.jobs.start(job)

    def open_original(self) -> None:
        self._with_path(self._open)

    def _open(self, path: Path) -> None:
        if not system.open_file(path):
            self._could_not_hand_over(
                "No program to show images was found",
                "No program to show images was found on this system.",
                path,
            )

    def reveal(self) -> None:
        self._with_path(self._reveal)

    def _reveal(self, path: Path) -> None:
        if not system.reveal(path):
            self._could_not_hand_over(
                "No file manager was found",
                "No file manager was found on this system to show the file in.",
                path,
            )

    def _could_not_hand_over(self, title: str, text: str, path: Path) -> None:
        """Said in a box (a status-bar line is missed after a click that did nothing),
        with where the file is, so the person can get there another way."""
        self.window.notify(text)
        notices.warn(self.window, title, f"{text}\n\nThe file is:\n{path}")
