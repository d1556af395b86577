"""The trash: a deleted image's original waits in ``.imageshelf/trash/`` (same filesystem:
a rename, never a copy) with its row kept in the ``trash`` table, until it is restored,
purged, or its retention runs out.

While trashed the id is also a tombstone, so every existing read (``get``, ``/i``,
``update``, ``delete``) answers 410 without knowing about the trash; listings, folder
counts, search and the free-name check read only ``images`` and so never see it. Files
in ``.imageshelf/`` are invisible to the watcher and to adoption.

Every step is crash-safe (intent, file, commit: ``trash_steps.py``), and ``recover()``
(run at open, before anything else looks) finishes or undoes what a kill interrupted
(``trash_recovery.py``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from . import files, originals, rules, trash_keyed, trash_recovery, trash_steps
from .core import Core
from .errors import Gone, InvalidFolder, LibraryError, NotFound, NotInTrash
from .events import Event, EventKind
from .folder_limit import FolderLimit
from .records import ImageRecord, now_us
from .sql import rows
from .sql import trash_rows as sql
from .thumbnails import Thumbnail
from .trash_keeper import RetentionKeeper

log = logging.getLogger(__name__)

TRASH_DIR = "trash"
RETENTION_KEY = "trash_retention_days"
DAY_US = 86_400 * 1_000_000
# Rows purged per transaction: each batch is whole on its own (resumable after a kill)
# and holds the write lock briefly, so uploads and moves go on during a long purge.
PURGE_BATCH = 500
# Images moved to the trash per batch by ``move_many`` (a multi-selection, a folder).
MOVE_BATCH = 200


@dataclass(frozen=True, slots=True)
class TrashItem:
    image: ImageRecord  # as it was when deleted (its folder is where a restore puts it)
    deleted_at_us: int
    purge_at_us: int | None  # None: kept until the trash is emptied (retention 0)


@dataclass(frozen=True, slots=True)
class TrashPage:
    items: list[TrashItem]
    total: int
    page: int
    page_size: int


class Trash:
    """``library.trash``: every trash operation of one library. Thread-safe like
    ``Library``: writes hold the write lock, reads run alongside."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.dir = core.meta / TRASH_DIR
        self._keeper: RetentionKeeper | None = None

    # --- the setting ---------------------------------------------------------------------

    def retention_days(self) -> int:
        """Days before a trashed image is purged; 0 keeps it until the trash is emptied."""
        with self.core.read() as conn:
            value = sql.setting(conn, RETENTION_KEY)
        try:
            return rules.check_retention_days(value)
        except Exception:
            return rules.TRASH_RETENTION_DAYS  # unset, or broken by hand

    def set_retention_days(self, days: int) -> None:
        """Kept in the library's database. A shorter retention purges at once what is now
        past it (the keeper is woken)."""
        days = rules.check_retention_days(days)
        with self.core.write() as conn:
            sql.set_setting(conn, RETENTION_KEY, days)
        if self._keeper is not None:
            self._keeper.wake()

    # --- reading -------------------------------------------------------------------------

    def path_of(self, image_id: str, filename: str) -> Path:
        """Where a trashed original waits (``trash_recovery.trashed_path``)."""
        return trash_recovery.trashed_path(self.dir, image_id, filename)

    def _item(self, row: sql.TrashedRow, days: int) -> TrashItem:
        purge_at = row.deleted_at_us + days * DAY_US if days else None
        return TrashItem(row.image, row.deleted_at_us, purge_at)

    def items(
        self,
        page: int = 1,
        page_size: int = rules.DEFAULT_PAGE_SIZE,
        within: FolderLimit | None = None,
    ) -> TrashPage:
        """Trashed images, most recently deleted first (``within``: an API key's folders)."""
        rules.check_page(page, page_size)
        days = self.retention_days()
        with self.core.read() as conn:
            total = sql.count(conn, within)
            found = sql.page(conn, (page - 1) * page_size, page_size, within)
        return TrashPage([self._item(r, days) for r in found], total, page, page_size)

    def count(self) -> int:
        with self.core.read() as conn:
            return sql.count(conn)

    def get(self, image_id: str) -> TrashItem:
        """The trashed image; ``NotInTrash`` for a live one, ``Gone`` for one purged or
        deleted outside the app, ``NotFound`` for an id never seen."""
        with self.core.read() as conn:
            row = self._require(conn, image_id)
        return self._item(row, self.retention_days())

    def thumbnail(self, image_id: str) -> tuple[TrashItem, Thumbnail]:
        """The thumbnail of a trashed image (the Trash view shows them), built from the
        original in ``trash/`` when the cache lost it."""
        item = self.get(image_id)
        store = self.core.storage
        path = (
            self.path_of(image_id, item.image.filename)
            if store.keys_follow_names
            else store.key(image_id, "")
        )
        return item, originals.thumbnail_of(self.core, item.image, path, "missing from the trash")

    def _require(self, conn: Connection, image_id: str) -> sql.TrashedRow:
        if not isinstance(image_id, str) or not rules.is_image_id(image_id):
            raise NotFound(f"There is no image with id {image_id!r}.")
        row = sql.get(conn, image_id)
        if row is not None:
            return row
        if rows.get(conn, image_id) is not None:
            raise NotInTrash(f"The image {image_id} is not in the trash: it is in the library.")
        if rows.is_tombstoned(conn, image_id):
            raise Gone(
                f"The image {image_id} is gone for good: it was purged from the trash, or "
                "its file was deleted outside Imageshelf."
            )
        raise NotFound(f"There is no image with id {image_id}.")

    # --- moving in -----------------------------------------------------------------------

    def move_in(self, image_id: str) -> None:
        """Moves a live image to the trash (``Library.delete``). An image whose file is
        already gone (deleted outside, not yet noticed) is tombstoned as before: there is
        nothing to restore."""
        core = self.core
        with core.write_lock:
            with core.read() as conn:
                record = core.require(conn, image_id)
            files.check_contained(core.root, record.folder)  # never move a file from outside
            done, failed = trash_steps.move_in(self.core, self.dir, [record])
        for _record, error in failed:
            raise error
        self._announce_moved(done)

    def move_many(self, image_ids: list[str]) -> list[str]:
        """Moves images to the trash a batch at a time (one intent commit, the renames,
        one commit per batch: a few times faster than one by one). Ids already deleted
        are skipped; one that fails does not stop the others, and a ``LibraryError``
        naming what failed is raised once the rest is done. Returns the ids moved."""
        core = self.core
        moved_ids: list[str] = []
        errors: list[str] = []
        for start in range(0, len(image_ids), MOVE_BATCH):
            records: list[ImageRecord] = []
            with core.write_lock:
                with core.read() as conn:
                    for image_id in image_ids[start : start + MOVE_BATCH]:
                        try:
                            record = core.require(conn, image_id)
                            files.check_contained(core.root, record.folder)
                        except Gone:
                            continue  # deleted already: as asked
                        except LibraryError as exc:
                            errors.append(exc.message)
                            continue
                        records.append(record)
                if not records:
                    continue
                done, failed = trash_steps.move_in(self.core, self.dir, records)
            errors += [error.message for _r, error in failed]
            done_ids = {record.id for record, _moved in done}
            moved_ids += [r.id for r in records if r.id in done_ids]  # in the order asked
            self._announce_moved(done)
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise LibraryError(errors[0] + more)
        return moved_ids

    def _announce_moved(self, done: list[tuple[ImageRecord, bool]]) -> None:
        for record, was_there in done:
            if not was_there:
                self.core.forget_thumbnail_if_unused(record.sha256)
            self.core.events.emit(Event(EventKind.DELETED, record.id, None, record))

    def move_folder_in(self, folder: str) -> list[str]:
        """Moves every image in ``folder`` and the folders below it to the trash (what
        deleting a folder does); returns their ids."""
        normal = rules.normalize_folder(folder)
        if normal is None:
            raise InvalidFolder("The top level of the library is not a folder that can be deleted.")
        with self.core.read() as conn:
            ids = sql.ids_in_folder(conn, normal)
        return self.move_many(ids)

    # --- restoring -----------------------------------------------------------------------

    def restore(self, image_id: str) -> ImageRecord:
        """Puts a trashed image back: same id, bytes, alt text and ``created_at``, in its
        folder (made again if it is gone), under its name or the next free one."""
        core = self.core
        with core.write_lock:
            with core.read() as conn:
                trashed = self._require(conn, image_id).image
            if not core.storage.keys_follow_names:  # an object store: the row alone
                restored = trash_keyed.restore(core, trashed, self._purge)
            elif not self.path_of(trashed.id, trashed.filename).exists():
                # Removed from .imageshelf/trash by hand: nothing to restore.
                self._purge([trashed.id])
                raise Gone(f"The file of image {image_id} is no longer in the trash.")
            else:
                restored = trash_steps.restore_file(core, self.dir, trashed)
        core.events.emit(Event(EventKind.RESTORED, image_id, restored))
        return restored

    # --- purging -------------------------------------------------------------------------

    def purge(self, image_id: str) -> None:
        """Removes a trashed image for good; its id answers 410 from then on."""
        with self.core.write_lock:
            with self.core.read() as conn:
                self._require(conn, image_id)
            self._purge([image_id])

    def empty(
        self,
        progress: Callable[[int, int], None] | None = None,
        stop: threading.Event | None = None,
    ) -> int:
        """Purges everything in the trash, a batch at a time; returns how many."""
        return self._purge_older(None, progress, stop)

    def purge_expired(self, now: int | None = None, stop: threading.Event | None = None) -> int:
        """Purges what has been in the trash longer than the retention (none when it is
        0); returns how many. Run at open and hourly by the keeper."""
        days = self.retention_days()
        if days == 0:
            return 0
        cutoff = (now_us() if now is None else now) - days * DAY_US
        return self._purge_older(cutoff, None, stop)

    def _purge_older(
        self,
        cutoff: int | None,
        progress: Callable[[int, int], None] | None,
        stop: threading.Event | None,
    ) -> int:
        with self.core.read() as conn:
            total = sql.count_older(conn, cutoff)
        done = 0
        if progress is not None:
            progress(0, total)
        while not (self.core.closed or (stop is not None and stop.is_set())):
            with self.core.read() as conn:
                ids = sql.ids_older(conn, cutoff, PURGE_BATCH)
            if not ids:
                break
            done += self._purge(ids)
            if progress is not None:
                progress(done, max(total, done))
        return done

    def _purge(self, ids: Iterable[str]) -> int:
        """One batch purged for good (``trash_steps.purge``); how many."""
        return trash_steps.purge(self.core, self.dir, ids)

    # --- recovery at open ----------------------------------------------------------------

    def recover(self, alive: set[int] | None = None) -> int:
        """Finishes or undoes what a kill interrupted (``trash_recovery.py``). Runs at
        open, before the watcher and reconciliation; on a team library (``alive``: the
        live owners) only what dead processes left."""
        return trash_recovery.recover(self.core, self.dir, self._purge, alive)

    # --- the keeper: retention at open and hourly ----------------------------------------

    def start_keeper(self, interval_s: float = rules.TRASH_PURGE_INTERVAL_S) -> None:
        """Purges expired trash now (on its own thread) and every ``interval_s`` until
        ``stop_keeper()``."""
        if self._keeper is None:
            core = self.core

            def purge(stop: threading.Event) -> int:
                # One process at a time on a team library (always this one on SQLite).
                with core.singleton("purge the trash") as mine:
                    return self.purge_expired(stop=stop) if mine else 0

            self._keeper = RetentionKeeper(purge, lambda: core.closed, interval_s)
            self._keeper.start()

    def wait_for_retention(self, timeout: float) -> bool:
        """Waits until the keeper has finished a look at the trash (the one at open, or
        a later one); ``False`` when none did within ``timeout`` or no keeper runs."""
        keeper = self._keeper
        return keeper is not None and keeper.wait_for_a_round(timeout)

    def stop_keeper(self) -> None:
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.stop()
