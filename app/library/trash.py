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
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from . import files, imaging, queries, rules
from .errors import Gone, NotFound, NotInTrash
from .events import Event, EventKind
from .records import ImageRecord, folder_from_db, folder_to_db, now_us
from .settings import LibrarySettings
from .thumbnails import Thumbnail

if TYPE_CHECKING:
    from .library import Library

log = logging.getLogger(__name__)

TRASH_DIR = "trash"
RETENTION_KEY = "trash_retention_days"
DAY_US = 86_400 * 1_000_000
# Rows purged per transaction: each batch is whole on its own (resumable after a kill)
# and holds the write lock briefly, so uploads and moves go on during a long purge.
PURGE_BATCH = 500
_SEP = "\x1f"
TRASHING = "trashing"
RESTORING = "restoring"
# Columns of ``images`` that are not the image's data: its row number (a restored image
# gets a new one; nothing outside the database refers to it) and a move's intent.
_NOT_COPIED = frozenset({"pk", "pending_path"})


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
    ``Library``: writes hold the library's write lock, reads run alongside."""

    def __init__(self, library: Library) -> None:
        self.lib = library
        self.dir = library.meta / TRASH_DIR
        self.settings = LibrarySettings(library)
        self._columns: tuple[str, ...] | None = None
        self._keeper: _RetentionKeeper | None = None

    # --- settings ------------------------------------------------------------------------

    def retention_days(self) -> int:
        value = self.settings.get(RETENTION_KEY, rules.TRASH_RETENTION_DAYS)
        try:
            return rules.check_retention_days(value)
        except Exception:
            return rules.TRASH_RETENTION_DAYS

    def set_retention_days(self, days: int) -> None:
        """0 keeps trashed images until the trash is emptied. A shorter retention takes
        effect at the next look (at once: the keeper is woken)."""
        self.settings.set(RETENTION_KEY, rules.check_retention_days(days))
        if self._keeper is not None:
            self._keeper.wake()

    # --- reading -------------------------------------------------------------------------

    def path_of(self, image_id: str, filename: str) -> Path:
        """Where a trashed original waits: its id (unique for ever) and its extension,
        so a person looking into the folder can still open it."""
        return self.dir / (image_id + Path(filename).suffix.lower())

    def _item(self, row: Any, days: int) -> TrashItem:
        deleted = row._mapping["deleted_at"]
        return TrashItem(
            ImageRecord.from_row(row), deleted, deleted + days * DAY_US if days else None
        )

    def list(self, page: int = 1, page_size: int = rules.DEFAULT_PAGE_SIZE) -> TrashPage:
        """Trashed images, most recently deleted first."""
        rules.check_page(page, page_size)
        days = self.retention_days()
        with self.lib._read() as conn:
            total = conn.execute(
                text("SELECT COUNT(*) FROM trash WHERE intent IS NULL")
            ).scalar_one()
            rows = conn.execute(
                text(
                    "SELECT * FROM trash WHERE intent IS NULL "
                    "ORDER BY deleted_at DESC, id DESC LIMIT :limit OFFSET :offset"
                ),
                {"limit": page_size, "offset": (page - 1) * page_size},
            ).all()
        return TrashPage([self._item(r, days) for r in rows], total, page, page_size)

    def count(self) -> int:
        with self.lib._read() as conn:
            return int(
                conn.execute(text("SELECT COUNT(*) FROM trash WHERE intent IS NULL")).scalar_one()
            )

    def get(self, image_id: str) -> TrashItem:
        """The trashed image; ``NotInTrash`` for a live one, ``Gone`` for one purged or
        deleted outside the app, ``NotFound`` for an id never seen."""
        with self.lib._read() as conn:
            row = self._trash_row(conn, image_id)
        return self._item(row, self.retention_days())

    def thumbnail(self, image_id: str) -> tuple[TrashItem, Thumbnail]:
        """The thumbnail of a trashed image (the Trash view shows them), built from the
        original in ``trash/`` when the cache lost it."""
        item = self.get(image_id)
        path = self.path_of(image_id, item.image.filename)

        def build() -> tuple[bytes, str]:
            try:
                info = imaging.inspect_path(path)
            except FileNotFoundError:
                raise NotFound(f"The file of image {image_id} is missing from the trash.") from None
            except OSError as exc:
                raise files.storage_error(exc, f"read the file of image {image_id}") from exc
            return info.thumbnail, info.thumbnail_type

        return item, self.lib.thumbnails.get_or_build(item.image.sha256, build)

    def _trash_row(self, conn: Connection, image_id: str) -> Any:
        if not isinstance(image_id, str) or not rules.is_image_id(image_id):
            raise NotFound(f"There is no image with id {image_id!r}.")
        row = conn.execute(
            text("SELECT * FROM trash WHERE id = :id AND intent IS NULL"), {"id": image_id}
        ).first()
        if row is not None:
            return row
        if self.lib._row(conn, image_id) is not None:
            raise NotInTrash(f"The image {image_id} is not in the trash: it is in the library.")
        if self.lib._is_tombstoned(conn, image_id):
            raise Gone(
                f"The image {image_id} is gone for good: it was purged from the trash, or "
                "its file was deleted outside Imageshelf."
            )
        raise NotFound(f"There is no image with id {image_id}.")

    def _image_columns(self, conn: Connection) -> tuple[str, ...]:
        """The image's data columns, read from the schema: a column a later migration
        adds to both tables is carried to the trash and back without a change here."""
        if self._columns is None:
            names = [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(images)")]
            self._columns = tuple(n for n in names if n not in _NOT_COPIED)
        return self._columns

    # --- moving in -----------------------------------------------------------------------

    def move_in(self, image_id: str) -> None:
        """Moves a live image to the trash (``Library.delete``). An image whose file is
        already gone (deleted outside, not yet noticed) is tombstoned as before: there is
        nothing to restore."""
        lib = self.lib
        with lib._write_lock:
            with lib._read() as conn:
                record = lib._require(conn, image_id)
            src = lib.path_of(record.folder, record.filename)
            dest = self.path_of(record.id, record.filename)
            with lib._write() as conn:  # 1. the intent
                cols = ", ".join(self._image_columns(conn))
                conn.execute(
                    text(
                        f"INSERT INTO trash ({cols}, deleted_at, intent) "
                        f"SELECT {cols}, :now, :intent FROM images WHERE id = :id"
                    ),
                    {"now": now_us(), "intent": TRASHING, "id": record.id},
                )
            moved = False
            try:
                with files.disk_errors("move the image to the trash"):
                    self.dir.mkdir(exist_ok=True)
                    try:
                        os.replace(src, dest)  # 2. the file (one rename, same filesystem)
                        moved = True
                    except FileNotFoundError:
                        pass
                    if moved:
                        # Durable before the commit: after a power cut the file must not
                        # be back in the folder (adopted as new) while the row says trash.
                        files.fsync_dir(src.parent)
                        files.fsync_dir(self.dir)
                with lib._write() as conn:  # 3. the commit
                    conn.execute(text("DELETE FROM images WHERE id = :id"), {"id": record.id})
                    if moved:
                        conn.execute(
                            text("UPDATE trash SET intent = NULL WHERE id = :id"),
                            {"id": record.id},
                        )
                    else:
                        conn.execute(text("DELETE FROM trash WHERE id = :id"), {"id": record.id})
                    _tombstone(conn, record.id)
            except BaseException:
                if moved:
                    with contextlib.suppress(OSError):
                        os.replace(dest, src)
                with contextlib.suppress(Exception), lib._write() as conn:
                    conn.execute(text("DELETE FROM trash WHERE id = :id"), {"id": record.id})
                raise
            if record.folder:
                files.remove_empty_folders(lib.root, record.folder)
        if not moved:
            lib._forget_thumbnail_if_unused(record.sha256)
        lib.events.emit(Event(EventKind.DELETED, image_id, None, record))

    def move_folder_in(self, folder: str) -> list[str]:
        """Moves every image in ``folder`` and the folders below it to the trash (what
        deleting a folder does); returns their ids. One that fails stops the rest."""
        folder = rules.normalize_folder(folder)  # type: ignore[assignment]
        if folder is None:
            raise NotFound("The top level of the library is not a folder that can be deleted.")
        with self.lib._read() as conn:
            ids = list(
                conn.execute(
                    text(
                        "SELECT id FROM images "
                        "WHERE folder = :f OR (folder >= :lo AND folder < :hi)"
                    ),
                    {"f": folder, "lo": folder + "/", "hi": folder + "0"},
                ).scalars()
            )
        for image_id in ids:
            with contextlib.suppress(Gone, NotFound):  # deleted meanwhile: nothing to do
                self.move_in(image_id)
        return ids

    # --- restoring -----------------------------------------------------------------------

    def restore(self, image_id: str) -> ImageRecord:
        """Puts a trashed image back: same id, bytes, alt text and ``created_at``, in its
        folder (made again if it is gone), under its name or the next free one."""
        lib = self.lib
        with lib._write_lock:
            with lib._read() as conn:
                row = self._trash_row(conn, image_id)
            trashed = ImageRecord.from_row(row)
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
                        created_dirs = files.make_folder(lib.root, folder)
                    dest_dir = lib.folder_path(folder)
                    names = (
                        rules.candidate_filenames(trashed.filename, fmt)
                        if fmt is not None
                        else iter([trashed.filename])
                    )
                    for name in lib._names_free_in_db(folder, names):
                        with lib._write() as conn:  # 1. the intent
                            conn.execute(
                                text(
                                    "UPDATE trash SET intent = :i, intent_path = :p WHERE id = :id"
                                ),
                                {
                                    "i": RESTORING,
                                    "p": folder_to_db(folder) + _SEP + name,
                                    "id": trashed.id,
                                },
                            )
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
                with lib._write() as conn:  # 3. the commit
                    self._reinsert(conn, trashed, placed.name, mtime_ns)
                    restored = lib._row(conn, trashed.id)
            except BaseException:
                if placed is not None and src_removed:
                    with contextlib.suppress(OSError):
                        os.replace(placed, src)
                elif placed is not None:
                    placed.unlink(missing_ok=True)
                for d in reversed(created_dirs):
                    with contextlib.suppress(OSError):
                        d.rmdir()
                with contextlib.suppress(Exception), lib._write() as conn:
                    conn.execute(
                        text("UPDATE trash SET intent = NULL, intent_path = NULL WHERE id = :id"),
                        {"id": trashed.id},
                    )
                raise
        assert restored is not None
        lib.events.emit(Event(EventKind.RESTORED, image_id, restored))
        return restored

    def _reinsert(
        self, conn: Connection, trashed: ImageRecord, filename: str, mtime_ns: int
    ) -> None:
        """The trash row back into ``images`` under ``filename``: every data column as it
        was, but the name (and what depends on it) where a taken name forced a new one."""
        renamed = filename != trashed.filename
        override = {
            "filename": ":filename",
            "mtime_ns": ":mtime",
            "search_text": ":search",
            "updated_at": ":updated" if renamed else "updated_at",
        }
        cols = self._image_columns(conn)
        values = ", ".join(override.get(c, c) for c in cols)
        conn.execute(
            text(
                f"INSERT INTO images ({', '.join(cols)}) SELECT {values} FROM trash WHERE id = :id"
            ),
            {
                "filename": filename,
                "mtime": mtime_ns,
                "search": queries.search_text(
                    filename, trashed.original_filename, trashed.alt_text
                ),
                "updated": max(now_us(), trashed.updated_at_us + 1),
                "id": trashed.id,
            },
        )
        conn.execute(text("DELETE FROM trash WHERE id = :id"), {"id": trashed.id})
        conn.execute(text("DELETE FROM tombstones WHERE id = :id"), {"id": trashed.id})

    # --- purging -------------------------------------------------------------------------

    def purge(self, image_id: str) -> None:
        """Removes a trashed image for good; its id answers 410 from then on."""
        with self.lib._write_lock:
            with self.lib._read() as conn:
                self._trash_row(conn, image_id)
            self._purge_ids([image_id])

    def empty(
        self,
        progress: Callable[[int, int], None] | None = None,
        stop: threading.Event | None = None,
    ) -> int:
        """Purges everything in the trash, a batch at a time; returns how many."""
        return self._purge_where("1 = 1", {}, progress, stop)

    def purge_expired(self, now: int | None = None, stop: threading.Event | None = None) -> int:
        """Purges what has been in the trash longer than the retention (none when it is
        0); returns how many. Run at open and hourly by the keeper."""
        days = self.retention_days()
        if days == 0:
            return 0
        cutoff = (now_us() if now is None else now) - days * DAY_US
        return self._purge_where("deleted_at <= :cutoff", {"cutoff": cutoff}, None, stop)

    def _purge_where(
        self,
        where: str,
        params: dict[str, object],
        progress: Callable[[int, int], None] | None,
        stop: threading.Event | None,
    ) -> int:
        with self.lib._read() as conn:
            total = conn.execute(
                text(f"SELECT COUNT(*) FROM trash WHERE intent IS NULL AND {where}"), params
            ).scalar_one()
        done = 0
        if progress is not None:
            progress(0, total)
        while not (self.lib.closed or (stop is not None and stop.is_set())):
            with self.lib._read() as conn:
                ids = list(
                    conn.execute(
                        text(
                            f"SELECT id FROM trash WHERE intent IS NULL AND {where} "
                            "ORDER BY deleted_at, id LIMIT :n"
                        ),
                        params | {"n": PURGE_BATCH},
                    ).scalars()
                )
            if not ids:
                break
            done += self._purge_ids(ids)
            if progress is not None:
                progress(done, max(total, done))
        return done

    def _purge_ids(self, ids: Iterable[str]) -> int:
        """One batch: commit first (rows out; the tombstones stay), then the files. A kill
        between the two leaves files no row owns; ``recover()`` removes them."""
        lib = self.lib
        with lib._write_lock:
            if lib.closed:
                return 0
            with lib._write() as conn:
                rows = []
                for image_id in ids:
                    row = conn.execute(
                        text(
                            "SELECT id, filename, sha256 FROM trash "
                            "WHERE id = :id AND intent IS NULL"
                        ),
                        {"id": image_id},
                    ).first()
                    if row is None:
                        continue
                    rows.append(row)
                    conn.execute(text("DELETE FROM trash WHERE id = :id"), {"id": image_id})
                    _tombstone(conn, image_id)
            for row in rows:
                with contextlib.suppress(OSError):
                    self.path_of(row.id, row.filename).unlink(missing_ok=True)
        for sha in {row.sha256 for row in rows}:
            with contextlib.suppress(Exception):
                self._forget_thumbnail_if_unused(sha)
        for row in rows:
            lib.events.emit(Event(EventKind.PURGED, row.id))
        return len(rows)

    def _forget_thumbnail_if_unused(self, sha256: str) -> None:
        with self.lib._read() as conn:
            used = conn.execute(
                text(
                    "SELECT 1 FROM images WHERE sha256 = :h "
                    "UNION ALL SELECT 1 FROM trash WHERE sha256 = :h LIMIT 1"
                ),
                {"h": sha256},
            ).first()
        if used is None:
            self.lib.thumbnails.discard(sha256)

    # --- recovery at open ----------------------------------------------------------------

    def recover(self) -> None:
        """Finishes or undoes a trash or restore a kill interrupted, drops rows whose
        file left ``trash/`` by other hands, and removes files no row owns (a purge
        killed after its commit). Runs at open, before the watcher and reconciliation."""
        lib = self.lib
        with lib._write_lock, files.disk_errors("check the trash"):
            self.dir.mkdir(exist_ok=True)
            with lib._read() as conn:
                pending = conn.execute(text("SELECT * FROM trash WHERE intent IS NOT NULL")).all()
            for row in pending:
                if row.intent == TRASHING:
                    self._recover_trashing(row)
                else:
                    self._recover_restoring(row)
            with lib._read() as conn:
                owned = {
                    self.path_of(i, f).name: i
                    for i, f in conn.execute(text("SELECT id, filename FROM trash")).all()
                }
            on_disk = {entry.name for entry in os.scandir(self.dir)}
            for name in on_disk - set(owned):
                with contextlib.suppress(OSError):
                    (self.dir / name).unlink()
            lost = [owned[name] for name in set(owned) - on_disk]
            if lost:
                log.warning("%d trashed images were removed from %s by hand", len(lost), self.dir)
                self._purge_ids(lost)

    def _recover_trashing(self, row: Any) -> None:
        lib = self.lib
        dest = self.path_of(row.id, row.filename)
        with lib._write() as conn:
            if dest.exists():  # the rename happened: finish the trash
                conn.execute(text("DELETE FROM images WHERE id = :id"), {"id": row.id})
                conn.execute(text("UPDATE trash SET intent = NULL WHERE id = :id"), {"id": row.id})
                _tombstone(conn, row.id)
            else:  # it did not: the image is still live (or its file gone; reconcile tells)
                conn.execute(text("DELETE FROM trash WHERE id = :id"), {"id": row.id})
        if dest.exists() and row.folder:
            files.remove_empty_folders(lib.root, row.folder)

    def _recover_restoring(self, row: Any) -> None:
        lib = self.lib
        src = self.path_of(row.id, row.filename)
        folder, name = (row.intent_path or _SEP).split(_SEP, 1)
        dest = lib.path_of(folder_from_db(folder), name) if name else None
        with lib._write() as conn:
            if src.exists():
                # Not unlinked from the trash yet: undo (drop the second name, if it is ours).
                if dest is not None and dest.exists() and _same_file(src, dest):
                    dest.unlink()
                conn.execute(
                    text("UPDATE trash SET intent = NULL, intent_path = NULL WHERE id = :id"),
                    {"id": row.id},
                )
            elif dest is not None and dest.exists() and not _row_at(conn, folder, name):
                # Unlinked from the trash, not committed: finish (a restore never changes
                # the folder, only maybe the name).
                self._reinsert(conn, ImageRecord.from_row(row), name, dest.stat().st_mtime_ns)
            else:
                # Neither name holds it: the file is lost; the id stays a tombstone.
                conn.execute(text("DELETE FROM trash WHERE id = :id"), {"id": row.id})

    # --- the keeper: retention at open and hourly ----------------------------------------

    def start_keeper(self, interval_s: float = rules.TRASH_PURGE_INTERVAL_S) -> None:
        """Purges expired trash now (on its own thread) and every ``interval_s`` until
        ``stop_keeper()``."""
        if self._keeper is None:
            self._keeper = _RetentionKeeper(self, interval_s)
            self._keeper.start()

    def stop_keeper(self) -> None:
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.stop()


class _RetentionKeeper:
    def __init__(self, trash: Trash, interval_s: float) -> None:
        self.trash = trash
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="imageshelf-trash", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                purged = self.trash.purge_expired(stop=self._stop)
                if purged:
                    log.info("purged %d images kept in the trash past their time", purged)
            except Exception as exc:  # a full disk now must not end retention for good
                if self.trash.lib.closed:
                    return
                log.warning("could not purge the trash: %s", exc)
            self._wake.wait(self.interval_s)
            self._wake.clear()


def _tombstone(conn: Connection, image_id: str) -> None:
    conn.execute(
        text("INSERT OR IGNORE INTO tombstones (id, deleted_at) VALUES (:id, :now)"),
        {"id": image_id, "now": now_us()},
    )


def _row_at(conn: Connection, folder: str, name: str) -> bool:
    return (
        conn.execute(
            text("SELECT 1 FROM images WHERE folder = :f AND filename = :n"),
            {"f": folder, "n": name},
        ).first()
        is not None
    )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
