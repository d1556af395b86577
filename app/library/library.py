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

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, BinaryIO

from sqlalchemy import Engine

from . import (
    api_token,
    bulk,
    changes,
    cursors,
    downloads,
    edits,
    exif_fill,
    files,
    folder_ops,
    idempotency,
    intake,
    keys,
    opening,
    originals,
    rules,
    shares,
    url_fetch,
    write_back,
    xmp_read,
)
from . import custom_metadata as metadata_rules
from .core import Core
from .custom_metadata import MetaFilter
from .edits import UNSET
from .errors import InvalidInput, InvalidParameter, LibraryError, NotFound, StorageError
from .events import EventBus, Listener
from .filters import ALL_FOLDERS, Filter, FolderScope, Sort
from .folder_limit import FolderLimit
from .housekeeping import Housekeeper
from .intake import Prepared
from .location_privacy import Served
from .lock import ProcessLock
from .reconcile import Reconciler
from .records import FolderInfo, ImageRecord, Page
from .sql import listing, rows
from .thumbnails import Thumbnail, ThumbnailCache
from .transforms import Transforms
from .trash import Trash
from .watcher import LibraryWatcher, WatchTimings

log = logging.getLogger(__name__)


__all__ = ["UNSET", "Library", "Prepared"]


def _scope(folder: object) -> FolderScope:
    """A listing's folder argument checked: ``ALL_FOLDERS``, or a valid folder."""
    if folder is ALL_FOLDERS:
        return ALL_FOLDERS
    return rules.normalize_folder(folder)


def listing_filter(
    folder: object,
    search: object,
    undescribed: bool,
    recursive: bool,
    ids: Iterable[str] | None,
    meta: Mapping[str, str] | None,
    within: FolderLimit | None = None,
) -> Filter:
    """A listing's arguments checked into a ``Filter``."""
    meta = meta or {}
    if len(meta) > rules.MAX_META_FILTERS:
        raise InvalidParameter(f"At most {rules.MAX_META_FILTERS} meta.* filters are allowed.")
    return Filter(
        folder=_scope(folder),
        search=rules.normalize_search(search),
        undescribed=undescribed,
        recursive=recursive,
        ids=None if ids is None else rules.parse_ids(list(ids)),
        meta=tuple(MetaFilter.parse(k, v) for k, v in meta.items()),
        limit=within,
    )


class Library:
    """Open with ``Library.open(path)``; close with ``close()`` (or use ``with``)."""

    def __init__(self, core: Core, lock: ProcessLock) -> None:
        self.core = core
        self._lock = lock
        self._watcher: LibraryWatcher | None = None
        self._watch_guard = threading.Lock()
        self.trash = Trash(core)  # delete, restore, purge, retention: see trash.py
        self.changes = changes.ChangeFeed(core)  # the numbered change log: changes.py
        self.idempotency = idempotency.IdempotencyStore(core)  # idempotency.py
        self.keys = keys.KeyStore(core.engine, core.write_lock, core.lookup)  # API keys: keys.py
        self.shares = shares.ShareStore(core)  # share links: shares.py
        self.downloads = downloads.DownloadJobs(core)  # download jobs: downloads.py
        self._housekeeper: Housekeeper | None = None
        # Opened on a full or read-only disk (see ``open``): nothing can be written.
        self.read_only = False

    # --- the parts callers and tests look at --------------------------------------------

    @property
    def root(self) -> Path:
        return self.core.root

    @property
    def meta(self) -> Path:
        return self.core.meta

    @property
    def tmp_dir(self) -> Path:
        return self.core.tmp_dir

    @property
    def engine(self) -> Engine:
        return self.core.engine

    @property
    def thumbnails(self) -> ThumbnailCache:
        return self.core.thumbnails

    @property
    def events(self) -> EventBus:
        return self.core.events

    @property
    def transforms(self) -> Transforms:
        return self.core.transforms

    # --- opening and closing -------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        reconcile: bool = True,
        watch: bool = False,
        watch_timings: WatchTimings | None = None,
    ) -> Library:
        """Creates or opens the library folder at ``path``.

        ``watch=True`` follows changes other programs make to the folder until
        ``close()`` (see ``watcher.py``); the GUI and ``imageshelf serve`` want it;
        ``watch_timings`` changes how long it waits (tests make it quick).
        Raises ``LibraryLocked`` when another process has it open, ``StorageError`` when
        the folder cannot be created or read.

        An existing library on a disk that is full or read-only still opens, read-only
        (``read_only``): browsing, listings and ``/i`` work, every write is a
        ``StorageError`` (507); nothing is reconciled or watched until the next open."""
        try:
            core, lock = opening.open_core(path)
        except StorageError as exc:
            return cls._read_only(*opening.open_core_read_only(path, exc), exc)
        lib = cls(core, lock)
        try:
            lib.trash.recover()  # before anyone looks: a trash or restore killed mid-way
            lib.idempotency.recover()  # claims of requests a kill interrupted
            if watch:
                # First, so nothing changed during the reconcile is missed.
                lib.start_watching(watch_timings)
            if reconcile:
                lib.reconcile()
            lib.trash.start_keeper()  # expired trash purged now and hourly
            lib._start_housekeeping()
            lib.downloads.resume()  # jobs a stop or kill left unprepared
        except BaseException as exc:
            lib.downloads.close()
            lib._stop_housekeeping()
            lib.trash.stop_keeper()
            lib.stop_watching()
            core.engine.dispose()
            lock.release()
            if isinstance(exc, StorageError):
                return cls._read_only(*opening.open_core_read_only(path, exc), exc)
            raise
        return lib

    @classmethod
    def _read_only(cls, core: Core, lock: ProcessLock, why: StorageError) -> Library:
        log.warning("%s The library is open read-only.", why)
        lib = cls(core, lock)
        lib.read_only = True
        return lib

    def close(self) -> None:
        if self.core.closed:
            return
        self.stop_watching()  # outside the write lock: the watcher may be waiting for it
        self.trash.stop_keeper()  # likewise
        self._stop_housekeeping()
        self.downloads.close()  # its thread reads files: stopped before the core closes
        self.changes.close()  # wakes readers waiting for changes
        with self.core.write_lock:
            self.core.close()
            self._lock.release()

    @property
    def closed(self) -> bool:
        return self.core.closed

    def _start_housekeeping(self) -> None:
        keeper = Housekeeper(
            {
                "prune changes": self.changes.prune,
                "expire idempotency keys": self.idempotency.expire,
                "expire download jobs": self.downloads.expire,
            },
            rules.HOUSEKEEPING_INTERVAL_S,
        )
        # Older images' EXIF (exif_fill.py); stops between files when the library closes.
        keeper.chores["read EXIF of older images"] = lambda: exif_fill.fill(
            self.core, keeper.stopping
        )
        self._housekeeper = keeper
        keeper.start()

    def wait_housekeeping(self, timeout: float) -> bool:
        """Runs the periodic chores (old changes pruned, older images' EXIF read) now and
        waits until they have run; False on timeout or when there is no housekeeper
        (read-only)."""
        keeper = self._housekeeper
        if keeper is None:
            return False
        return keeper.run_now(timeout)

    def _stop_housekeeping(self) -> None:
        keeper, self._housekeeper = self._housekeeper, None
        if keeper is not None:
            keeper.stop()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start_watching(self, timings: WatchTimings | None = None) -> bool:
        """Follows changes other programs make to the folder, until ``close()``.

        Returns False (and logs why) when the system refuses to watch, e.g. inotify's
        watch limit reached: the library works on, and the next open reconciles."""
        with self._watch_guard:
            if self.core.closed or self.read_only:
                return False
            if self._watcher is not None:
                return True
            watcher = LibraryWatcher(self.core, timings)
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

    def wait_watcher_idle(self, timeout: float) -> bool:
        """Waits until every change the watcher has noticed so far is reconciled; False
        on timeout (True at once when not watching)."""
        watcher = self._watcher
        return watcher is None or watcher.wait_idle(timeout)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Calls ``listener(event)`` after every committed change, on the thread that made
        it. Returns a function that unsubscribes."""
        return self.core.events.subscribe(listener)

    def reconcile(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Brings the database in line with the folder (see ``reconcile.py``); nothing
        while read-only (the next writable open does it)."""
        if self.read_only:
            return
        Reconciler(self.core).run(progress)

    # --- reading -------------------------------------------------------------------------

    def path_of(self, folder: str | None, filename: str) -> Path:
        return self.core.path_of(folder, filename)

    def folder_path(self, folder: str | None) -> Path:
        return self.core.folder_path(folder)

    def get(self, image_id: str) -> ImageRecord:
        """The image; ``NotFound`` for an unknown id, ``Gone`` for a deleted one."""
        return self.core.get(image_id)

    def find_by_hash(self, sha256: str) -> list[ImageRecord]:
        with self.core.read() as conn:
            return rows.by_hash(conn, sha256)

    def list_images(
        self,
        *,
        folder: object = ALL_FOLDERS,
        search: object = None,
        undescribed: bool = False,
        page: int = 1,
        page_size: int = rules.DEFAULT_PAGE_SIZE,
        sort: Sort | str = Sort.NEWEST,
        recursive: bool = False,
        ids: Iterable[str] | None = None,
        meta: Mapping[str, str] | None = None,
        within: FolderLimit | None = None,
    ) -> Page:
        """A page of images, newest first by default, stable across pages.

        ``folder``: ``ALL_FOLDERS`` (default), ``None``/``""`` for the root only, or a
        folder path. ``search``: literal, case-insensitive substring of filename,
        original filename or alt text. ``undescribed``: only images whose alt text is
        ``None``. ``recursive``: with a folder, the folders below it too. ``ids``: only
        these (at most 100). ``meta``: ``{KEY: VALUE}``, custom_metadata matching each
        (at most 5; ``custom_metadata.MetaFilter``). ``within``: an API key's folders,
        nothing outside them."""
        rules.check_page(page, page_size)
        flt = listing_filter(folder, search, undescribed, recursive, ids, meta, within)
        order = Sort.parse(sort)
        with self.core.read() as conn:
            flt = listing.resolve(conn, flt)
            total = listing.count(conn, flt)
            offset = (page - 1) * page_size
            items = listing.page(conn, flt, offset, page_size, order, total=total)
        return Page(items=items, total=total, page=page, page_size=page_size)

    def list_by_cursor(
        self,
        *,
        folder: object = ALL_FOLDERS,
        search: object = None,
        undescribed: bool = False,
        sort: Sort | str = Sort.NEWEST,
        recursive: bool = False,
        ids: Iterable[str] | None = None,
        meta: Mapping[str, str] | None = None,
        limit: int = rules.DEFAULT_PAGE_SIZE,
        after: str | None = None,
        before: str | None = None,
        within: FolderLimit | None = None,
    ) -> cursors.CursorPage:
        """``limit`` images after the cursor ``after``, before ``before``, or from the
        start: the filters of ``list_images``, walked by keyset (``cursors.py``)."""
        flt = listing_filter(folder, search, undescribed, recursive, ids, meta, within)
        order = Sort.parse(sort)
        return cursors.page(self.core, flt, order, limit, after=after, before=before)

    def count(
        self, *, folder: object = ALL_FOLDERS, undescribed: bool = False, recursive: bool = False
    ) -> int:
        flt = Filter(folder=_scope(folder), undescribed=undescribed, recursive=recursive)
        with self.core.read() as conn:
            return listing.count(conn, flt)

    def folders(self, within: FolderLimit | None = None) -> list[str]:
        """Folders in use (holding at least one image), sorted; the root not included;
        ``within``: only those inside an API key's folders."""
        return [f.path for f in self.folder_counts() if within is None or within.allows(f.path)]

    def folder_counts(self) -> list[FolderInfo]:
        with self.core.read() as conn:
            return rows.folder_counts(conn)

    # --- folders a person handles (folder_ops.py) ------------------------------------------

    def folder_tree(self) -> list[FolderInfo]:
        """Folders to show: in use (with their own counts) and on disk (count 0)."""
        return folder_ops.folder_tree(self.core)

    def make_folder(self, folder: str) -> str:
        return folder_ops.make_folder(self.core, folder)

    def rename_folder(self, folder: str, new_name: str) -> str:
        return folder_ops.rename_folder(self.core, folder, new_name)

    def move_folder(self, folder: str, new_parent: str | None) -> str:
        return folder_ops.move_folder(self.core, folder, new_parent)

    def delete_folder(self, folder: str) -> list[str]:
        """Deletes a folder a person chose: its images (and those of the folders below)
        go to the trash, each restorable, then the folder goes. Refused, with nothing
        touched, while it holds files that are not images of the library. Returns the
        ids trashed."""
        with self.core.write_lock:  # nobody adds to it half-way
            folder_ops.check_nothing_else(self.core, folder)
            ids = self.trash_folder(folder)
            # The last image out may have taken a folder without a marker with it.
            with contextlib.suppress(NotFound):
                folder_ops.delete_folder(self.core, folder)
        return ids

    def original_path(self, image_id: str) -> tuple[ImageRecord, Path]:
        """The record and the path of its original, for streaming."""
        record = self.get(image_id)
        return record, self.path_of(record.folder, record.filename)

    def open_original(self, image_id: str) -> tuple[ImageRecord, BinaryIO]:
        """The record and its original's bytes (through the storage), for streaming."""
        return originals.open_original(self.core, image_id)

    def original_source(self, image_id: str) -> tuple[ImageRecord, Callable[[], BinaryIO]]:
        """The record and a way to open its original's bytes through the storage, for a
        server that remembers it across requests: the opener raises ``FileNotFoundError``
        once the image moved or went (ask again, after ``settled()``)."""
        return originals.source(self.core, image_id)

    def served_original(self, image_id: str) -> Served:
        """What ``/i/{id}`` sends of the original: the stored bytes, or (while *Share
        location in links* is off) the same bytes without GPS, and their ETag; the opener
        raises ``FileNotFoundError`` as ``original_source``'s does."""
        return self.core.location.served(image_id)

    def copy_with_alt_text(self, image_id: str) -> bytes:
        """The image's bytes with its alt text and long description embedded in their
        XMP, for a copy leaving the library (an export, a download), whatever the setting
        *Write alt text into image files* says; the stored file is not changed. Raises
        ``MetadataNotWritable`` for a GIF or a packet too large for a JPEG."""
        record, path = self.original_path(image_id)
        try:
            return write_back.embed_alt_text(path, record.alt_text, record.long_description)
        except xmp_read.BadContainer as exc:
            raise LibraryError(f"The file of image {image_id} is damaged: {exc}.") from None
        except OSError as exc:
            raise files.storage_error(exc, f"read the file of image {image_id}") from exc

    def caption_suggestion(self, image_id: str) -> str | None:
        """A caption, headline or EXIF description the image's file carries, to offer as
        a starting point for alt text ("Use the caption"); ``None`` when it has none or
        the image is gone. Never stored as alt text by the library itself."""
        try:
            record, path = self.original_path(image_id)
        except LibraryError:
            return None
        return xmp_read.caption_suggestion(path, record.content_type)

    @contextlib.contextmanager
    def settled(self) -> Iterator[None]:
        """Holds writes off for the body. Moves and deletes hold the write lock from their
        first file step to the commit, so a reader that found an image's file missing
        looks again in here and sees the row and the file agree: the new place, or a
        tombstone (``Gone``)."""
        with self.core.write_lock:
            yield

    def thumbnail(self, image_id: str) -> tuple[ImageRecord, Thumbnail]:
        """The image's thumbnail (fits 512×512, never enlarged), made once and cached."""
        return originals.thumbnail(self.core, image_id)

    # --- writing -------------------------------------------------------------------------

    def add(
        self,
        stream: IO[bytes],
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
        self, stream: IO[bytes], original_filename: str | None, *, allow_duplicate: bool = True
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
        self,
        prepared: Prepared,
        *,
        alt_text: str | None = None,
        folder: str | None = None,
        long_description: str | None = None,
        custom_metadata: Mapping[str, object] | None = None,
    ) -> ImageRecord:
        """The serial half of ``add``: place the prepared file and commit its row. Alt
        text and long description not given come from the file's IPTC fields, if any."""
        return intake.commit(
            self.core,
            prepared,
            alt_text=alt_text,
            folder=folder,
            long_description=long_description,
            custom_metadata=custom_metadata,
        )

    def add_from_url(
        self,
        url: object,
        *,
        alt_text: str | None = None,
        folder: str | None = None,
        file_name: object = None,
        long_description: str | None = None,
        limits: url_fetch.FetchLimits | None = None,
        custom_metadata: object = None,
        cancel: url_fetch.Cancel | None = None,
        progress: url_fetch.FetchProgress | None = None,
        allow_duplicate: bool = True,
    ) -> ImageRecord:
        """Fetches the image at ``url`` (SSRF-safe: ``url_fetch.py``) and adds it like
        an upload. Its original name is ``file_name``, else the URL's last path segment,
        else ``image``. Nothing is left behind when it raises. ``cancel`` and
        ``progress`` are the window's: a Cancel button, bytes received (and like its
        imports it refuses a duplicate: ``allow_duplicate=False``)."""
        folder = rules.normalize_folder(folder)
        alt_text = rules.normalize_alt_text(alt_text)
        long_description = rules.normalize_long_description(long_description)
        metadata = metadata_rules.check_new({} if custom_metadata is None else custom_metadata)
        if file_name is not None and not isinstance(file_name, str):
            raise InvalidInput("file_name must be a string.")
        url_fetch.parse_url(url)  # a bad URL refused before anything is made
        assert isinstance(url, str)
        incoming = self.receive()
        try:
            url_fetch.fetch(url, incoming, limits, cancel=cancel, progress=progress)
            tmp, size, sha256 = incoming.finish()
        except BaseException:
            incoming.discard()
            raise
        name = file_name or url_fetch.name_from_url(url) or "image"
        prepared = self.prepare_file(tmp, size, sha256, name, allow_duplicate=allow_duplicate)
        return self.commit(
            prepared,
            alt_text=alt_text,
            folder=folder,
            long_description=long_description,
            custom_metadata=metadata,
        )

    def discard(self, prepared: Prepared) -> None:
        """Drops a prepared upload that will not be committed, and its thumbnail unless
        an image in the library has the same bytes."""
        intake.discard(self.core, prepared)

    def update(
        self,
        image_id: str,
        *,
        alt_text: object = UNSET,
        folder: object = UNSET,
        long_description: object = UNSET,
        custom_metadata: object = UNSET,
    ) -> ImageRecord:
        """Changes alt text, long description, custom metadata (merged, RFC 7396) and/or
        folder (a folder change moves the file on disk; with *Write alt text into image
        files* on, a text change rewrites the file's XMP too: ``write_back.py``)."""
        return self.update_with_outcome(
            image_id,
            alt_text=alt_text,
            folder=folder,
            long_description=long_description,
            custom_metadata=custom_metadata,
        )[0]

    def update_with_outcome(
        self,
        image_id: str,
        *,
        alt_text: object = UNSET,
        folder: object = UNSET,
        long_description: object = UNSET,
        custom_metadata: object = UNSET,
    ) -> tuple[ImageRecord, write_back.FileWrite | None]:
        """``update``, also saying what happened to the file when text changed (written,
        the setting off, a format that cannot carry it); ``None`` when no text changed."""
        return edits.update(
            self.core,
            image_id,
            alt_text=alt_text,
            folder=folder,
            long_description=long_description,
            custom_metadata=custom_metadata,
        )

    def update_many(self, image_ids: list[str], *, folder: object) -> list[ImageRecord]:
        """Moves several images; stops at the first that fails, keeping those done."""
        return [self.update(i, folder=folder) for i in image_ids]

    def delete(self, image_id: str) -> None:
        """Moves the image to the trash (``trash.py``); its id answers 410 until it is
        restored. An image whose file is already gone is tombstoned for good."""
        self.trash.move_in(image_id)

    def delete_many(
        self, image_ids: object, within: FolderLimit | None = None
    ) -> bulk.BulkDeleteResult:
        """Moves up to 1,000 images to the trash at once (``bulk.py``): which were
        deleted, which were already, which are unknown (or outside ``within``)."""
        return bulk.delete_many(self.trash, image_ids, within)

    def trash_folder(self, folder: str) -> list[str]:
        """Deleting a folder: every image in it and in the folders below goes to the trash
        (each restorable on its own); returns their ids."""
        return self.trash.move_folder_in(folder)

    # --- the API token -------------------------------------------------------------------

    def api_token(self) -> str:
        """The bearer token kept in the library (made on first use, owner-only)."""
        with self.core.write_lock:
            return api_token.read(self.root) or api_token.regenerate(self.root)

    def regenerate_api_token(self) -> str:
        with self.core.write_lock:
            return api_token.regenerate(self.root)
