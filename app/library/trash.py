"""The trash: a deleted image's original waits in ``.imageshelf/trash/`` (same filesystem:
a rename, never a copy) with its row kept in the ``trash`` table, until it is restored,
purged, or its retention runs out.

While trashed the id is also a tombstone, so every existing read (``get``, ``/i``,
``update``, ``delete``) answers 410 without knowing about the trash; listings, folder
counts, search and the free-name check read only ``images`` and so never see it. Files
in ``.imageshelf/`` are invisible to the watcher and to adoption.

Every step is crash-safe in the order the core's move uses — intent, file, commit — and
``recover()`` (run at open, before anything else looks) finishes or undoes what a kill
interrupted:

- trash: intent (a ``trash`` row, ``intent='trashing'``) → rename into ``trash/`` →
  commit (``images`` row out, tombstone in, intent cleared). At open: the file in
  ``trash/`` means finish; else the intent is dropped (the image stays live).
- restore: intent (``'restoring'`` + the destination) → hard link there (never
  clobbers) → unlink from ``trash/`` → commit (row back in ``images``, trash row and
  tombstone out). At open: both names → undo; only the destination → finish.
- purge: commit (trash row out; the tombstone stays) → unlink. A kill in between leaves
  a file no row owns, which ``recover()`` removes; a purge of many is done in batches,
  each whole, so an interrupted "empty" or retention run just goes on at the next open.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from . import files, originals, rules, trash_keyed, trash_recovery
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
            done, failed = self._move_batch([record])
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
                done, failed = self._move_batch(records)
            errors += [error.message for _r, error in failed]
            done_ids = {record.id for record, _moved in done}
            moved_ids += [r.id for r in records if r.id in done_ids]  # in the order asked
            self._announce_moved(done)
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise LibraryError(errors[0] + more)
        return moved_ids

    def _move_batch(
        self, records: list[ImageRecord]
    ) -> tuple[list[tuple[ImageRecord, bool]], list[tuple[ImageRecord, LibraryError]]]:
        """The trash protocol for a batch, under the write lock: 1. the intents (one
        commit), 2. each file renamed into ``trash/`` (same filesystem) and the folders
        fsynced, 3. one commit (rows out, tombstones in, intents cleared). Returns
        (record, whether its file was there) for those done, and the failures: a file
        that cannot be renamed stays live, its intent dropped."""
        core = self.core
        with core.write() as conn:  # 1. the intents
            now = now_us()
            for record in records:
                sql.copy_in(conn, record.id, now)
        if not core.storage.keys_follow_names:  # an object store: the rows alone
            return trash_keyed.move_rows(core, records), []
        moved: list[ImageRecord] = []
        missing: list[ImageRecord] = []
        failed: list[tuple[ImageRecord, LibraryError]] = []

        def src(r: ImageRecord) -> Path:
            return core.path_of(r.folder, r.filename)

        def dest(r: ImageRecord) -> Path:
            return self.path_of(r.id, r.filename)

        try:
            with files.disk_errors("move the images to the trash"):
                self.dir.mkdir(exist_ok=True)
                for record in records:  # 2. the files
                    try:
                        os.replace(src(record), dest(record))
                    except FileNotFoundError:
                        missing.append(record)  # deleted outside: nothing to keep
                    except OSError as exc:
                        failed.append((record, files.storage_error(exc, "move the image")))
                    else:
                        moved.append(record)
                # Durable before the commit: after a power cut no file may be back in the
                # folder (adopted as new) while its row says trash.
                for folder in {src(r).parent for r in moved}:
                    files.fsync_dir(folder)
                if moved:
                    files.fsync_dir(self.dir)
            with core.write() as conn:  # 3. the commit
                now = now_us()
                for record in moved + missing:
                    rows.tombstone(conn, record.id, now)  # the images row goes
                for record in moved:
                    sql.settle(conn, record.id)
                for record in missing + [r for r, _e in failed]:
                    sql.drop(conn, record.id)
        except BaseException:
            for record in moved:
                with contextlib.suppress(OSError):
                    os.replace(dest(record), src(record))
            with contextlib.suppress(Exception), core.write() as conn:
                for record in records:
                    sql.drop(conn, record.id)
            raise
        for folder_name in sorted({r.folder for r in moved + missing if r.folder}, reverse=True):
            files.remove_empty_folders(core.root, folder_name)
        done = [(r, True) for r in moved] + [(r, False) for r in missing]
        return done, failed

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
                kept = trash_keyed.restore(core, trashed, self._purge_ids)
        if not core.storage.keys_follow_names:
            core.events.emit(Event(EventKind.RESTORED, image_id, kept))
            return kept
        with core.write_lock:
            src = self.path_of(trashed.id, trashed.filename)
            if not src.exists():
                # Removed from .imageshelf/trash by hand: nothing to restore.
                self._purge_ids([trashed.id])
                raise Gone(f"The file of image {image_id} is no longer in the trash.")
            folder = trashed.folder
            fmt = rules.FORMAT_BY_CONTENT_TYPE.get(trashed.content_type)
            created_dirs: list[Path] = []
            placed: Path | None = None
            src_removed = False
            try:
                with files.disk_errors("restore the image"):
                    if folder:
                        created_dirs = files.make_folder(core.root, folder)
                    dest_dir = core.folder_path(folder)
                    names = (
                        rules.candidate_filenames(trashed.filename, fmt)
                        if fmt is not None
                        else iter([trashed.filename])
                    )
                    for name in core.names_free(folder, names):
                        with core.write() as conn:  # 1. the intent
                            sql.mark_restoring(conn, trashed.id, folder, name)
                        try:
                            os.link(src, dest_dir / name)  # 2. the file: a link never clobbers
                        except FileExistsError:
                            continue  # a file no row knows yet (the watcher will adopt it)
                        placed = dest_dir / name
                        break
                    assert placed is not None
                    files.fsync_dir(dest_dir)
                    os.unlink(src)
                    src_removed = True
                    files.fsync_dir(self.dir)
                    mtime_ns = placed.stat().st_mtime_ns
                with core.write() as conn:  # 3. the commit
                    sql.restore(conn, trashed, placed.name, mtime_ns, now_us())
                    restored = rows.get(conn, trashed.id)
            except BaseException:
                if placed is not None and src_removed:
                    with contextlib.suppress(OSError):
                        os.replace(placed, src)
                elif placed is not None:
                    placed.unlink(missing_ok=True)
                for d in reversed(created_dirs):
                    with contextlib.suppress(OSError):
                        d.rmdir()
                with contextlib.suppress(Exception), core.write() as conn:
                    sql.settle(conn, trashed.id)
                raise
        assert restored is not None
        core.events.emit(Event(EventKind.RESTORED, image_id, restored))
        return restored

    # --- purging -------------------------------------------------------------------------

    def purge(self, image_id: str) -> None:
        """Removes a trashed image for good; its id answers 410 from then on."""
        with self.core.write_lock:
            with self.core.read() as conn:
                self._require(conn, image_id)
            self._purge_ids([image_id])

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
            done += self._purge_ids(ids)
            if progress is not None:
                progress(done, max(total, done))
        return done

    def _purge_ids(self, ids: Iterable[str]) -> int:
        """One batch: commit first (rows out; the tombstones stay), then the files. A kill
        between the two leaves files no row owns; ``recover()`` removes them."""
        core = self.core
        with core.write_lock:
            if core.closed:
                return 0
            with core.write() as conn:
                gone = sql.purge(conn, list(ids), now_us())
            for image_id, filename, _sha in gone:
                with contextlib.suppress(Exception):
                    if core.storage.keys_follow_names:
                        self.path_of(image_id, filename).unlink(missing_ok=True)
                    else:
                        trash_keyed.remove_object(core, image_id)
        for sha in {sha for _i, _f, sha in gone}:
            with contextlib.suppress(Exception):
                self._forget_thumbnail_if_unused(sha)
        for image_id, _f, _s in gone:
            core.events.emit(Event(EventKind.PURGED, image_id))
        return len(gone)

    def _forget_thumbnail_if_unused(self, sha256: str) -> None:
        with self.core.read() as conn:
            used = sql.hash_in_use(conn, sha256)
        if not used:
            self.core.thumbnails.discard(sha256)
            self.core.transforms.discard(sha256)  # derived results go with the last one

    # --- recovery at open ----------------------------------------------------------------

    def recover(self) -> None:
        """Finishes or undoes what a kill interrupted (``trash_recovery.py``). Runs at
        open, before the watcher and reconciliation."""
        trash_recovery.recover(self.core, self.dir, self._purge_ids)

    # --- the keeper: retention at open and hourly ----------------------------------------

    def start_keeper(self, interval_s: float = rules.TRASH_PURGE_INTERVAL_S) -> None:
        """Purges expired trash now (on its own thread) and every ``interval_s`` until
        ``stop_keeper()``."""
        if self._keeper is None:
            core = self.core
            self._keeper = RetentionKeeper(
                lambda stop: self.purge_expired(stop=stop), lambda: core.closed, interval_s
            )
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
