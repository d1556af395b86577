"""``Library``: the one service object the GUI, the server and the watcher call.

A facade: each method checks its input against ``rules``, then hands over to the module
that does the work — ``sql`` (every statement), ``file_steps`` (the crash-safe file
operations), ``intake`` (uploads and imports), ``reconcile`` and ``watcher`` (changes
made by other programs) — and announces what changed after it is committed.

Thread-safe: reads run concurrently (SQLite WAL); writes are serialised by one lock
(``Core.write_lock``) so that a file placed on disk and its row are committed together,
before anyone else — the watcher included — looks. Every write follows the same order:
bytes into ``tmp/``, hash, validate, fsync, place under a name that cannot clobber,
commit, announce."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from . import api_token, file_steps, files, imaging, intake, layout, rules
from .core import Core
from .errors import NotFound
from .events import Event, EventKind, Listener
from .filters import ALL_FOLDERS, Filter, Sort
from .intake import Prepared
from .lock import ProcessLock
from .reconcile import Reconciler
from .records import FolderInfo, ImageRecord, Page, now_us
from .sql import listing, rows
from .sql.engine import database_errors, make_engine, migrate
from .thumbnails import Thumbnail
from .watcher import LibraryWatcher

log = logging.getLogger(__name__)

_UNSET: object = object()

__all__ = ["Library", "Prepared"]


class Library:
    """Open with ``Library.open(path)``; close with ``close()`` (or use ``with``)."""

    def __init__(self, core: Core, lock: ProcessLock) -> None:
        self.core = core
        self._lock = lock
        self._watcher: LibraryWatcher | None = None
        self._watch_guard = threading.Lock()

    # The parts callers and tests look at.
    root = property(lambda self: self.core.root)
    meta = property(lambda self: self.core.meta)
    tmp_dir = property(lambda self: self.core.tmp_dir)
    engine = property(lambda self: self.core.engine)
    thumbnails = property(lambda self: self.core.thumbnails)
    settings = property(lambda self: self.core.settings)
    transforms = property(lambda self: self.core.transforms)
    events = property(lambda self: self.core.events)

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
        meta = root / layout.META_DIR
        with files.disk_errors(f"open the library at {root}"):
            for d in (root, meta, meta / layout.THUMBS_DIR, meta / layout.TMP_DIR):
                d.mkdir(parents=True, exist_ok=True)
        lock = ProcessLock(meta / layout.LOCK_FILE)
        with files.disk_errors(f"open the library at {root}"):
            lock.acquire()
        engine = None
        lib = None
        try:
            engine = make_engine(meta / layout.DB_FILE)
            with database_errors(f"open the library at {root}"):
                migrate(engine)
            lib = cls(Core(root, engine), lock)
            file_steps.clear_tmp(lib.core)
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
        if self.core.closed:
            return
        self.stop_watching()  # outside the write lock: the watcher may be waiting for it
        with self.core.write_lock:
            self.core.close()
            self._lock.release()

    @property
    def closed(self) -> bool:
        return self.core.closed

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start_watching(self) -> bool:
        """Follows changes other programs make to the folder, until ``close()``.

        Returns False (and logs why) when the system refuses to watch, e.g. inotify's
        watch limit reached: the library works on, and the next open reconciles."""
        with self._watch_guard:
            if self.core.closed:
                return False
            if self._watcher is not None:
                return True
            watcher = LibraryWatcher(self.core)
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
        return self.core.events.subscribe(listener)

    def reconcile(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Brings the database in line with the folder (see ``reconcile.py``)."""
        Reconciler(self.core).run(progress)

    # --- reading -------------------------------------------------------------------------

    def path_of(self, folder: str | None, filename: str) -> Path:
        return self.core.path_of(folder, filename)

    def folder_path(self, folder: str | None) -> Path:
        return self.core.folder_path(folder)

    def get(self, image_id: str) -> ImageRecord:
        """The image; ``NotFound`` for an unknown id, ``Gone`` for a deleted one."""
        if isinstance(image_id, str) and rules.is_image_id(image_id):
            record = self.core.lookup.image(image_id)
            if record is not None:
                return record
        with self.core.read() as conn:
            return self.core.require(conn, image_id)

    def find_by_hash(self, sha256: str) -> list[ImageRecord]:
        with self.core.read() as conn:
            return rows.by_hash(conn, sha256)

    def list_images(
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
        order = Sort.parse(sort)
        with self.core.read() as conn:
            flt = listing.resolve(conn, flt)
            total = listing.count(conn, flt)
            offset = (page - 1) * page_size
            items = listing.page(conn, flt, offset, page_size, order, total=total)
        return Page(items=items, total=total, page=page, page_size=page_size)

    def count(self, *, folder: object = ALL_FOLDERS, undescribed: bool = False) -> int:
        if folder is not ALL_FOLDERS:
            folder = rules.normalize_folder(folder)  # type: ignore[arg-type]
        with self.core.read() as conn:
            return listing.count(conn, Filter(folder=folder, undescribed=undescribed))

    def folders(self) -> list[str]:
        """Folders in use (holding at least one image), sorted; the root not included."""
        return [f.path for f in self.folder_counts()]

    def folder_counts(self) -> list[FolderInfo]:
        with self.core.read() as conn:
            return rows.folder_counts(conn)

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
        with self.core.write_lock:
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

        return record, self.core.thumbnails.get_or_build(record.sha256, build)

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
        return intake.prepare(self.core, stream, original_filename, allow_duplicate=allow_duplicate)

    def receive(self) -> files.Incoming:
        """A new file in ``tmp/`` to stream an upload into as it arrives (hashing,
        counting, refusing the byte past the size limit); ``finish()`` it and hand the
        result to ``prepare_file``. The server's multipart parser writes the file part
        straight into it, so the body is not spooled and copied again."""
        return intake.receive(self.core)

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
        return intake.prepare_file(
            self.core, tmp, size, sha256, original_filename, allow_duplicate=allow_duplicate
        )

    def commit(
        self, prepared: Prepared, *, alt_text: str | None = None, folder: str | None = None
    ) -> ImageRecord:
        """The serial half of ``add``: place the prepared file and commit its row."""
        return intake.commit(self.core, prepared, alt_text=alt_text, folder=folder)

    def discard(self, prepared: Prepared) -> None:
        """Drops a prepared upload that will not be committed, and its thumbnail unless
        an image in the library has the same bytes."""
        intake.discard(self.core, prepared)

    def update(
        self, image_id: str, *, alt_text: object = _UNSET, folder: object = _UNSET
    ) -> ImageRecord:
        """Changes alt text and/or folder (a folder change moves the file on disk)."""
        new_alt = _UNSET if alt_text is _UNSET else rules.normalize_alt_text(alt_text)
        new_folder = (
            _UNSET if folder is _UNSET else rules.normalize_folder(folder)  # type: ignore[arg-type]
        )
        core = self.core
        with core.write_lock:
            with core.read() as conn:
                before = core.require(conn, image_id)
            after: ImageRecord | None = before
            if new_folder is not _UNSET and new_folder != before.folder:
                after = file_steps.move(core, before, new_folder)  # type: ignore[arg-type]
            assert after is not None
            if new_alt is not _UNSET and new_alt != after.alt_text:
                with core.write() as conn:
                    now = max(now_us(), after.updated_at_us + 1)
                    rows.set_alt_text(conn, after, new_alt, now)  # type: ignore[arg-type]
                    after = rows.get(conn, image_id)
        assert after is not None
        if after != before:
            core.events.emit(Event(EventKind.UPDATED, image_id, after, before))
        return after

    def update_many(self, image_ids: list[str], *, folder: object) -> list[ImageRecord]:
        """Moves several images; stops at the first that fails, keeping those done."""
        return [self.update(i, folder=folder) for i in image_ids]

    def delete(self, image_id: str) -> None:
        """Removes the image's file from the library and keeps its id as a tombstone."""
        core = self.core
        with core.write_lock:
            with core.read() as conn:
                record = core.require(conn, image_id)
            file_steps.delete(core, record)
        core.forget_thumbnail_if_unused(record.sha256)
        core.events.emit(Event(EventKind.DELETED, image_id, None, record))

    # --- the API token -------------------------------------------------------------------

    def api_token(self) -> str:
        """The bearer token kept in the library (made on first use, owner-only)."""
        with self.core.write_lock:
            return api_token.read(self.root) or api_token.regenerate(self.root)

    def regenerate_api_token(self) -> str:
        with self.core.write_lock:
            return api_token.regenerate(self.root)
