"""``Library``: the one service object the GUI, the server and the watcher call.

Thread-safe: reads run concurrently (SQLite WAL); writes are serialised by one lock so
that a file placed on disk and its row are committed together, before anyone else — the
watcher included — looks. Every write follows the same order: bytes into ``tmp/``, hash,
validate, fsync, place under a name that cannot clobber, commit, announce."""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from . import files, imaging, queries, rules
from .db import make_engine, migrate
from .errors import (
    Duplicate,
    Gone,
    LibraryError,
    MalformedImage,
    NotFound,
    StorageError,
    TooLarge,
)
from .events import Event, EventBus, EventKind, Listener
from .lock import ProcessLock
from .queries import ALL_FOLDERS, Filter, Sort
from .records import FolderInfo, ImageRecord, Page, folder_to_db, now_us
from .settings import LibrarySettings
from .thumbnails import Thumbnail, ThumbnailCache
from .transforms import Transforms

if TYPE_CHECKING:
    from .watcher import LibraryWatcher

log = logging.getLogger(__name__)

META_DIR = ".imageshelf"
TOKEN_FILE = "api-token"
_UNSET: object = object()
PENDING_SEP = "\x1f"


@contextlib.contextmanager
def _database_errors(doing: str) -> Iterator[None]:
    """SQLite refusing to write (full disk, read-only file, I/O error) as a
    ``StorageError``; the transaction was rolled back, so nothing was half-saved."""
    try:
        yield
    except OperationalError as exc:
        detail = str(exc.orig or exc).lower()
        if "full" in detail:
            why = "the disk is full"
        elif "readonly" in detail or "read-only" in detail:
            why = "the library is on a read-only disk or its database is read-only"
        elif "locked" in detail or "busy" in detail:
            raise  # a transient lock is not a storage fault
        else:
            why = f"the database reported: {exc.orig or exc}"
        raise StorageError(f"Could not {doing}: {why}.") from exc


@dataclass(frozen=True, slots=True)
class Prepared:
    """An upload streamed, hashed and validated in ``tmp/``, not yet in the library."""

    tmp: Path
    size: int
    sha256: str
    info: imaging.ImageInfo
    original_filename: str


class Library:
    """Open with ``Library.open(path)``; close with ``close()`` (or use ``with``)."""

    def __init__(self, root: Path, engine: Engine, lock: ProcessLock) -> None:
        self.root = root
        self.meta = root / META_DIR
        self.tmp_dir = self.meta / "tmp"
        self.engine = engine
        self.thumbnails = ThumbnailCache(self.meta / "thumbs")
        self.settings = LibrarySettings(self.meta / "settings.json")
        self.transforms = Transforms(
            self.meta / "transforms", lambda: self.settings.transform_cache_bytes
        )
        self.events = EventBus()
        self._lock = lock
        self._write_lock = threading.RLock()
        self._closed = False
        # The one-row read of every /i request and grid thumbnail, off SQLAlchemy.
        self._lookup = queries.RecordLookup(str(engine.url.database))
        self._watcher: LibraryWatcher | None = None
        self._watch_guard = threading.Lock()

    # --- opening and closing -------------------------------------------------------------

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, reconcile: bool = True, watch: bool = False
    ) -> Library:
        """Creates or opens the library folder at ``path``.

        ``watch=True`` follows changes other programs make to the folder until
        ``close()`` (see ``watcher.py``); the GUI and ``imageshelf serve`` want it.
        Raises ``LibraryLocked`` when another process has it open, ``StorageError`` when
        the folder cannot be created or written."""
        root = Path(path).expanduser().resolve()
        meta = root / META_DIR
        with files.disk_errors(f"open the library at {root}"):
            for d in (root, meta, meta / "thumbs", meta / "tmp"):
                d.mkdir(parents=True, exist_ok=True)
        lock = ProcessLock(meta / "lock")
        with files.disk_errors(f"open the library at {root}"):
            lock.acquire()
        engine = None
        lib = None
        try:
            engine = make_engine(meta / "library.db")
            with _database_errors(f"open the library at {root}"):
                migrate(engine)
            lib = cls(root, engine, lock)
            with files.disk_errors(f"clean up the library at {root}"):
                lib._clear_tmp()
            if watch:
                lib.start_watching()  # first, so nothing changed during reconcile is missed
            if reconcile:
                lib.reconcile()
        except BaseException:
            if lib is not None:
                lib.stop_watching()
            if engine is not None:
                engine.dispose()
            lock.release()
            raise
        return lib

    def close(self) -> None:
        if self._closed:
            return
        self.stop_watching()  # outside the write lock: the watcher may be waiting for it
        with self._write_lock:
            self._closed = True
            self._lookup.close()
            self.engine.dispose()
            self._lock.release()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start_watching(self) -> bool:
        """Follows changes other programs make to the folder, until ``close()``.

        Returns False (and logs why) when the system refuses to watch, e.g. inotify's
        watch limit reached: the library works on, and the next open reconciles."""
        from .watcher import LibraryWatcher

        with self._watch_guard:
            if self._closed:
                return False
            if self._watcher is not None:
                return True
            watcher = LibraryWatcher(self)
            try:
                watcher.start()
            except OSError as exc:
                watcher.stop()
                log.warning(
                    "Changes made to %s by other programs will be found at the next start "
                    "only: %s (on Linux, raising fs.inotify.max_user_watches helps).",
                    self.root,
                    files.storage_error(exc, "watch the library folder"),
                )
                return False
            self._watcher = watcher
            return True

    def stop_watching(self) -> None:
        with self._watch_guard:
            watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    @property
    def watching(self) -> bool:
        return self._watcher is not None

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Calls ``listener(event)`` after every committed change, on the thread that made
        it. Returns a function that unsubscribes."""
        return self.events.subscribe(listener)

    # --- internals shared by writers -----------------------------------------------------

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._write_lock:
            if self._closed:
                raise LibraryError("The library is closed.")
            with _database_errors("save the change"), self.engine.begin() as conn:
                yield conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def path_of(self, folder: str | None, filename: str) -> Path:
        return self.root / folder / filename if folder else self.root / filename

    def folder_path(self, folder: str | None) -> Path:
        return self.root / folder if folder else self.root

    def _names_free_in_db(
        self, folder: str | None, names: Iterator[str], conn: Connection | None = None
    ) -> Iterator[str]:
        """Skips names a row already holds: its file may have vanished behind our back
        (deleted outside, not yet reconciled), and reusing the name would break the
        unique (folder, filename) of the rows. Called under the write lock.

        Every candidate (``logo.png``, ``logo-2.png``, ...) starts with the first one's
        stem, so one range query on the (folder, filename) index finds all taken ones:
        the hundredth ``image.png`` pasted in costs one query, not a hundred."""
        first = next(names)
        stem = first.rsplit(".", 1)[0]
        with contextlib.ExitStack() as stack:
            if conn is None:
                conn = stack.enter_context(self._read())
            taken = set(
                conn.execute(
                    text(
                        "SELECT filename FROM images WHERE folder = :f "
                        "AND filename >= :lo AND filename < :hi"
                    ),
                    {"f": folder_to_db(folder), "lo": stem, "hi": stem + "\U0010ffff"},
                ).scalars()
            )
        for name in itertools.chain((first,), names):
            if name not in taken:
                yield name

    def _clear_tmp(self) -> None:
        for leftover in self.tmp_dir.iterdir():
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)

    @staticmethod
    def _row(conn: Connection, image_id: str) -> ImageRecord | None:
        row = conn.execute(text("SELECT * FROM images WHERE id = :id"), {"id": image_id}).first()
        return ImageRecord.from_row(row) if row else None

    @staticmethod
    def _is_tombstoned(conn: Connection, image_id: str) -> bool:
        return (
            conn.execute(text("SELECT 1 FROM tombstones WHERE id = :id"), {"id": image_id}).first()
            is not None
        )

    def _require(self, conn: Connection, image_id: str) -> ImageRecord:
        if not isinstance(image_id, str) or not rules.is_image_id(image_id):
            raise NotFound(f"There is no image with id {image_id!r}.")
        record = self._row(conn, image_id)
        if record is not None:
            return record
        if self._is_tombstoned(conn, image_id):
            raise Gone(f"The image {image_id} was deleted.")
        raise NotFound(f"There is no image with id {image_id}.")

    # --- reading -------------------------------------------------------------------------

    def get(self, image_id: str) -> ImageRecord:
        """The image; ``NotFound`` for an unknown id, ``Gone`` for a deleted one."""
        if isinstance(image_id, str) and rules.is_image_id(image_id):
            record = self._lookup.image(image_id)
            if record is not None:
                return record
        with self._read() as conn:
            return self._require(conn, image_id)

    def find_by_hash(self, sha256: str) -> list[ImageRecord]:
        with self._read() as conn:
            rows = conn.execute(text("SELECT * FROM images WHERE sha256 = :h"), {"h": sha256})
            return [ImageRecord.from_row(r) for r in rows]

    def list(
        self,
        *,
        folder: object = ALL_FOLDERS,
        search: str | None = None,
        undescribed: bool = False,
        page: int = 1,
        page_size: int = rules.DEFAULT_PAGE_SIZE,
        sort: Sort | str = Sort.NEWEST,
    ) -> Page:
        """A page of images, newest first by default, stable across pages.

        ``folder``: ``ALL_FOLDERS`` (default), ``None``/``""`` for the root only, or a
        folder path. ``search``: literal, case-insensitive substring of filename,
        original filename or alt text. ``undescribed``: only images whose alt text is
        ``None``."""
        rules.check_page(page, page_size)
        if folder is not ALL_FOLDERS:
            folder = rules.normalize_folder(folder)  # type: ignore[arg-type]
        search = rules.normalize_search(search)
        flt = Filter(folder=folder, search=search, undescribed=undescribed)
        sort = Sort.parse(sort)
        with self._read() as conn:
            flt = queries.resolve(conn, flt)
            total = queries.count(conn, flt)
            offset = (page - 1) * page_size
            items = queries.page(conn, flt, offset, page_size, sort, total=total)
        return Page(items=items, total=total, page=page, page_size=page_size)

    def count(self, *, folder: object = ALL_FOLDERS, undescribed: bool = False) -> int:
        if folder is not ALL_FOLDERS:
            folder = rules.normalize_folder(folder)  # type: ignore[arg-type]
        with self._read() as conn:
            return queries.count(conn, Filter(folder=folder, undescribed=undescribed))

    def folders(self) -> list[str]:
        """Folders in use (holding at least one image), sorted; the root not included."""
        return [f.path for f in self.folder_counts()]

    def folder_counts(self) -> list[FolderInfo]:
        with self._read() as conn:
            rows = conn.execute(
                text("SELECT folder, count FROM folder_counts WHERE folder != '' ORDER BY folder")
            )
            return [FolderInfo(r.folder, r.count) for r in rows]

    def original_path(self, image_id: str) -> tuple[ImageRecord, Path]:
        """The record and the path of its original, for streaming."""
        record = self.get(image_id)
        return record, self.path_of(record.folder, record.filename)

    def open_original(self, image_id: str) -> tuple[ImageRecord, BinaryIO]:
        record, path = self.original_path(image_id)
        try:
            return record, open(path, "rb")
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise files.storage_error(exc, f"read the file of image {image_id}") from exc
        # A move or delete of this image may be in flight (they hold the write lock from
        # the file's first step to the commit): look again once it is done, when the row
        # names the new place or the id is a tombstone.
        with self._write_lock:
            record, path = self.original_path(image_id)
            try:
                return record, open(path, "rb")
            except FileNotFoundError:
                raise NotFound(
                    f"The file of image {image_id} is missing from the library folder."
                ) from None
            except OSError as exc:
                raise files.storage_error(exc, f"read the file of image {image_id}") from exc

    def thumbnail(self, image_id: str) -> tuple[ImageRecord, Thumbnail]:
        """The image's thumbnail (fits 512×512, never enlarged), made once and cached."""
        record, path = self.original_path(image_id)

        def build() -> tuple[bytes, str]:
            try:
                info = imaging.inspect_path(path)
            except FileNotFoundError:
                raise NotFound(f"The file of image {image_id} is missing.") from None
            except OSError as exc:
                raise files.storage_error(exc, f"read the file of image {image_id}") from exc
            return info.thumbnail, info.thumbnail_type

        return record, self.thumbnails.get_or_build(record.sha256, build)

    # --- writing -------------------------------------------------------------------------

    def add(
        self,
        stream: BinaryIO,
        original_filename: str | None,
        alt_text: str | None = None,
        folder: str | None = None,
        *,
        allow_duplicate: bool = True,
    ) -> ImageRecord:
        """Adds one image from ``stream``; returns it once it is durably on disk and
        committed. Nothing is left behind when it raises."""
        folder = rules.normalize_folder(folder)
        alt_text = rules.normalize_alt_text(alt_text)
        prepared = self.prepare(stream, original_filename, allow_duplicate=allow_duplicate)
        return self.commit(prepared, alt_text=alt_text, folder=folder)

    def prepare(
        self, stream: BinaryIO, original_filename: str | None, *, allow_duplicate: bool = True
    ) -> Prepared:
        """The slow, parallel-safe half of ``add``: stream into ``tmp/`` (hashing and
        enforcing the size limit), validate with one full decode, store the thumbnail.
        Pass the result to ``commit`` or ``discard``."""
        original = rules.clean_original_filename(original_filename)
        tmp, size, sha = files.stream_to_tmp(stream, self.tmp_dir, rules.MAX_UPLOAD_BYTES)
        return self.prepare_file(tmp, size, sha, original, allow_duplicate=allow_duplicate)

    def receive(self) -> files.Incoming:
        """A new file in ``tmp/`` to stream an upload into as it arrives (hashing,
        counting, refusing the byte past the size limit); ``finish()`` it and hand the
        result to ``prepare_file``. The server's multipart parser writes the file part
        straight into it, so the body is not spooled and copied again."""
        return files.Incoming(self.tmp_dir, rules.MAX_UPLOAD_BYTES)

    def prepare_file(
        self,
        tmp: Path,
        size: int,
        sha256: str,
        original_filename: str | None,
        *,
        allow_duplicate: bool = True,
    ) -> Prepared:
        """``prepare`` for a file already streamed into ``tmp/`` (see ``receive``) whose
        size and hash were counted on the way in. Takes the file over: it is removed on
        any failure here, and by ``commit``/``discard`` after."""
        try:
            if tmp.parent != self.tmp_dir:
                raise ValueError(f"{tmp} is not in the library's tmp/ folder.")
            original = rules.clean_original_filename(original_filename)
            if size == 0:
                raise MalformedImage("The file is empty.")
            if size > rules.MAX_UPLOAD_BYTES:
                raise TooLarge(f"The file is larger than {rules.MAX_UPLOAD_BYTES:,} bytes.")
            if not allow_duplicate:
                existing = self.find_by_hash(sha256)
                if existing:
                    raise Duplicate(
                        f"The same image is already in the library as {existing[0].relpath}.",
                        existing[0].id,
                    )
            info = imaging.inspect_path(tmp)
            with files.disk_errors("save the thumbnail"):
                self.thumbnails.store(sha256, info.thumbnail, info.thumbnail_type)
        except BaseException:
            if tmp.parent == self.tmp_dir:
                tmp.unlink(missing_ok=True)
            raise
        return Prepared(tmp, size, sha256, info, original)

    def commit(
        self, prepared: Prepared, *, alt_text: str | None = None, folder: str | None = None
    ) -> ImageRecord:
        """The serial half of ``add``: place the prepared file and commit its row."""
        folder = rules.normalize_folder(folder)
        alt_text = rules.normalize_alt_text(alt_text)
        try:
            record = self._commit_new(
                prepared.tmp,
                prepared.sha256,
                prepared.size,
                prepared.info,
                prepared.original_filename,
                alt_text,
                folder,
            )
        except BaseException:
            # The thumbnail prepare stored belongs to nothing now (unless to a twin).
            with contextlib.suppress(Exception):
                self._forget_thumbnail_if_unused(prepared.sha256)
            raise
        finally:
            prepared.tmp.unlink(missing_ok=True)
        self.events.emit(Event(EventKind.ADDED, record.id, record))
        return record

    def discard(self, prepared: Prepared) -> None:
        """Drops a prepared upload that will not be committed, and its thumbnail unless
        an image in the library has the same bytes."""
        prepared.tmp.unlink(missing_ok=True)
        with contextlib.suppress(Exception):
            self._forget_thumbnail_if_unused(prepared.sha256)

    def _commit_new(
        self,
        tmp: Path,
        sha: str,
        size: int,
        info: imaging.ImageInfo,
        original: str,
        alt_text: str | None,
        folder: str | None,
    ) -> ImageRecord:
        with self._write_lock:
            created_dirs: list[Path] = []
            placed: Path | None = None
            try:
                # One transaction from the look at the taken names to the commit: the
                # write lock already keeps every other writer out, so the names read are
                # still free when the row goes in (and it saves a connection checkout).
                with self._write() as conn:
                    with files.disk_errors("save the image"):
                        if folder:
                            created_dirs = files.make_folder(self.root, folder)
                        dest_dir = self.folder_path(folder)
                        candidates = rules.candidate_filenames(original, info.format)
                        name = files.place(
                            tmp, dest_dir, self._names_free_in_db(folder, candidates, conn)
                        )
                        placed = dest_dir / name
                        mtime_ns = placed.stat().st_mtime_ns
                    now = now_us()
                    # Built from what is inserted, not read back: the row holds exactly
                    # these values (no column has a default or trigger that changes them).
                    record = ImageRecord(
                        id=rules.new_image_id(),
                        folder=folder,
                        filename=name,
                        original_filename=original,
                        content_type=info.format.content_type,
                        size=size,
                        width=info.width,
                        height=info.height,
                        sha256=sha,
                        alt_text=alt_text,
                        created_at_us=now,
                        updated_at_us=now,
                    )
                    conn.exec_driver_sql(
                        "INSERT INTO images (id, folder, filename, original_filename, "
                        "content_type, size, width, height, sha256, mtime_ns, alt_text, "
                        "search_text, created_at, updated_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            record.id,
                            folder_to_db(folder),
                            name,
                            original,
                            record.content_type,
                            size,
                            record.width,
                            record.height,
                            sha,
                            mtime_ns,
                            alt_text,
                            queries.search_text(name, original, alt_text),
                            now,
                            now,
                        ),
                    )
                return record
            except BaseException:
                if placed is not None:
                    placed.unlink(missing_ok=True)
                for d in reversed(created_dirs):
                    with contextlib.suppress(OSError):
                        d.rmdir()
                raise

    def update(
        self, image_id: str, *, alt_text: object = _UNSET, folder: object = _UNSET
    ) -> ImageRecord:
        """Changes alt text and/or folder (a folder change moves the file on disk)."""
        new_alt = _UNSET if alt_text is _UNSET else rules.normalize_alt_text(alt_text)
        new_folder = (
            _UNSET if folder is _UNSET else rules.normalize_folder(folder)  # type: ignore[arg-type]
        )
        with self._write_lock:
            with self._read() as conn:
                before = self._require(conn, image_id)
            after = before
            if new_folder is not _UNSET and new_folder != before.folder:
                after = self._move(before, new_folder)  # type: ignore[arg-type]
            if new_alt is not _UNSET and new_alt != after.alt_text:
                with self._write() as conn:
                    conn.execute(
                        text(
                            "UPDATE images SET alt_text = :alt, search_text = :search, "
                            "updated_at = :now WHERE id = :id"
                        ),
                        {
                            "alt": new_alt,
                            "search": queries.search_text(
                                after.filename,
                                after.original_filename,
                                new_alt,  # type: ignore[arg-type]
                            ),
                            "now": max(now_us(), after.updated_at_us + 1),
                            "id": image_id,
                        },
                    )
                    after = self._row(conn, image_id)  # type: ignore[assignment]
        assert after is not None
        if after != before:
            self.events.emit(Event(EventKind.UPDATED, image_id, after, before))
        return after

    def update_many(self, image_ids: list[str], *, folder: object) -> list[ImageRecord]:
        """Moves several images; stops at the first that fails, keeping those done."""
        return [self.update(i, folder=folder) for i in image_ids]

    def _move(self, record: ImageRecord, folder: str | None) -> ImageRecord:
        """Moves the file, crash-safely: the destination is recorded as an intent first,
        so a kill between the link and the commit is finished or undone at next open:
        undone while the old name still exists, finished once it is gone. The old name
        therefore goes before the commit, never after (a kill after the commit would leave
        two names for one image, and the next open would adopt the second as a copy)."""
        src = self.path_of(record.folder, record.filename)
        fmt = rules.FORMAT_BY_CONTENT_TYPE[record.content_type]
        created_dirs: list[Path] = []
        with files.disk_errors("move the image"):
            if not src.exists():
                raise NotFound(f"The file of image {record.id} is missing from the library.")
            if folder:
                created_dirs = files.make_folder(self.root, folder)
            dest_dir = self.folder_path(folder)
            # Keep the name where it is free; suffix it where the folder has one already.
            stem_source = record.filename
            placed: Path | None = None
            src_removed = False
            try:
                names = rules.candidate_filenames(stem_source, fmt)
                for name in self._names_free_in_db(folder, names):
                    candidate = dest_dir / name
                    with self._write() as conn:
                        conn.execute(
                            text("UPDATE images SET pending_path = :p WHERE id = :id"),
                            {"p": folder_to_db(folder) + PENDING_SEP + name, "id": record.id},
                        )
                    try:
                        os.link(src, candidate)
                    except FileExistsError:
                        continue
                    placed = candidate
                    break
                files.fsync_dir(dest_dir)
                assert placed is not None
                os.unlink(src)
                src_removed = True
                files.fsync_dir(src.parent)
                with self._write() as conn:
                    conn.execute(
                        text(
                            "UPDATE images SET folder = :folder, filename = :name, "
                            "search_text = :search, pending_path = NULL, updated_at = :now "
                            "WHERE id = :id"
                        ),
                        {
                            "folder": folder_to_db(folder),
                            "name": placed.name,
                            "search": queries.search_text(
                                placed.name, record.original_filename, record.alt_text
                            ),
                            "now": max(now_us(), record.updated_at_us + 1),
                            "id": record.id,
                        },
                    )
                    moved = self._row(conn, record.id)
            except BaseException:
                if placed is not None and src_removed:
                    with contextlib.suppress(OSError):
                        os.replace(placed, src)  # back where its row says it is
                elif placed is not None:
                    placed.unlink(missing_ok=True)
                for d in reversed(created_dirs):
                    with contextlib.suppress(OSError):
                        d.rmdir()
                with contextlib.suppress(Exception), self._write() as conn:
                    conn.execute(
                        text("UPDATE images SET pending_path = NULL WHERE id = :id"),
                        {"id": record.id},
                    )
                raise
            if record.folder:
                files.remove_empty_folders(self.root, record.folder)
        assert moved is not None
        return moved

    def delete(self, image_id: str) -> None:
        """Removes the image's file from the library and keeps its id as a tombstone."""
        with self._write_lock:
            with self._read() as conn:
                record = self._require(conn, image_id)
            src = self.path_of(record.folder, record.filename)
            # Out of the folder first: a kill before the commit leaves a row whose file is
            # gone, which the next open tombstones — never a deleted image coming back.
            parked = self.tmp_dir / f"deleting-{record.id}"
            with files.disk_errors("delete the image"):
                try:
                    os.replace(src, parked)
                    # Durable before the tombstone is: after a power cut the file must
                    # not reappear in the folder (to be adopted as a new image) while
                    # the tombstone survives.
                    files.fsync_dir(src.parent)
                except FileNotFoundError:
                    parked = None  # type: ignore[assignment]
            try:
                self._tombstone(record.id)
            except BaseException:
                if parked is not None:
                    with contextlib.suppress(OSError):
                        os.replace(parked, src)
                raise
            if parked is not None:
                parked.unlink(missing_ok=True)
            if record.folder:
                files.remove_empty_folders(self.root, record.folder)
        self._forget_thumbnail_if_unused(record.sha256)
        self.events.emit(Event(EventKind.DELETED, image_id, None, record))

    def _tombstone(self, image_id: str) -> None:
        with self._write() as conn:
            conn.execute(text("DELETE FROM images WHERE id = :id"), {"id": image_id})
            conn.execute(
                text("INSERT OR REPLACE INTO tombstones (id, deleted_at) VALUES (:id, :now)"),
                {"id": image_id, "now": now_us()},
            )

    def _forget_thumbnail_if_unused(self, sha256: str) -> None:
        if not self.find_by_hash(sha256):
            self.thumbnails.discard(sha256)
            self.transforms.discard(sha256)  # derived results go with their last original

    # --- the API token -------------------------------------------------------------------

    def api_token(self) -> str:
        """The bearer token kept in the library (made on first use, owner-only)."""
        path = self.meta / TOKEN_FILE
        with self._write_lock:
            try:
                token = path.read_text().strip()
                if token:
                    return token
            except FileNotFoundError:
                pass
            return self.regenerate_api_token()

    def regenerate_api_token(self) -> str:
        token = secrets.token_urlsafe(32)
        path = self.meta / TOKEN_FILE
        with self._write_lock, files.disk_errors("save the API token"):
            old_umask = os.umask(0o077)
            try:
                files.write_atomic(path, token.encode())
            finally:
                os.umask(old_umask)
            os.chmod(path, 0o600)
        return token

    # --- reconciliation ------------------------------------------------------------------

    def reconcile(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Brings the database in line with the folder (see ``reconcile.py``)."""
        from .reconcile import Reconciler

        Reconciler(self).run(progress)
