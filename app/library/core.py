"""``Core``: what every step of a write shares — the storage (the folder), the database,
the one write lock, the thumbnails and the events — handed to the file steps, the reconciler and the
watcher so that none of them needs ``Library`` (and ``Library`` needs none of its own
privates shared).

The write lock is held from a write's first file step to its commit, so that a file on
disk and its row are committed together before anyone else (the watcher included)
looks; reads do not take it (SQLite WAL)."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine

from . import layout, rules, settings
from .derived import DerivedFiles
from .errors import Gone, LibraryError, NotFound
from .events import EventBus
from .free_names import FreeNames
from .location_privacy import LocationPrivacy
from .records import ImageRecord
from .sql import pg_engine, rows
from .sql.engine import database_errors, driver_write, write_transaction
from .sql.lookup import EngineLookup, RecordLookup
from .sql.owners import ProcessOwner
from .storage import FolderStorage, Storage
from .thumbnails import ThumbnailCache
from .transforms import Transforms

log = logging.getLogger(__name__)


class Core:
    def __init__(self, root: Path, engine: Engine, storage: Storage | None = None) -> None:
        """``storage``: where originals live when not the folder ``root`` itself (a team
        library's, ``Library.open_team``); ``root`` then holds the uploads being staged,
        and derived files live where the storage says (``derived_files``)."""
        self.root = root
        self.meta = root / layout.META_DIR
        self.tmp_dir = self.meta / layout.TMP_DIR
        self.engine = engine
        # Originals and uploads (the storage seam); derived files (thumbnails, transform
        # results, location-free copies) through the derived-file seam.
        if storage is None:
            storage = FolderStorage(root, self.tmp_dir)
        self.storage: Storage = storage
        # Uploads are staged where the storage receives them (``receive``): an S3
        # storage has its own folder, and ``prepare_file`` takes files from there only.
        staging = getattr(storage, "tmp_dir", None)
        if isinstance(staging, Path):
            self.tmp_dir = staging
        self.derived: DerivedFiles = self.storage.derived_files(self.meta)
        self.thumbnails = ThumbnailCache(self.derived)
        self.transforms = Transforms(self.derived, lambda: settings.transform_cache_bytes(self))
        self.events = EventBus()
        self.free_names = FreeNames()  # where a repeated name's next free one is
        self.events.subscribe(self.free_names.on_event)
        self.settings_version = 0  # bumped by settings.put
        self.location = LocationPrivacy(self)
        self.write_lock = threading.RLock()
        self.closed = False
        # Called when another process changed the folders that stand without images
        # (``pg_notify``); the window reads them again (``Library.on_folders_changed``).
        self.folder_listeners: list[Callable[[], None]] = []
        # A team library's process as the owner of its work in flight (sql/owners.py).
        self.owner: ProcessOwner | None = None
        # The one-row read of every /i request and grid thumbnail, off SQLAlchemy.
        # DIALECT: SQLite's plain sqlite3 reader; another database reads through the engine.
        self.lookup: RecordLookup | EngineLookup = (
            RecordLookup(str(engine.url.database))
            if engine.dialect.name == "sqlite"
            else EngineLookup(engine)
        )

    def close(self) -> None:
        with self.write_lock:
            self.closed = True
            self.lookup.close()
            if self.owner is not None:
                self.owner.close()
            self.engine.dispose()

    def folders_changed(self) -> None:
        for listener in list(self.folder_listeners):
            try:
                listener()
            except Exception:  # one listener's failure must not stop the others
                log.exception("A folder listener failed")

    # --- the database --------------------------------------------------------------------

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction under the write lock; refused once the library is closed."""
        with self.write_lock:
            if self.closed:
                raise LibraryError("The library is closed.")
            try:
                with database_errors("save the change"), write_transaction(self.engine) as conn:
                    yield conn
            except BaseException:
                # Rolled back: names it took may be free again (a batch of drops undone).
                self.free_names.forget()
                raise

    @contextlib.contextmanager
    def write_rows(self) -> Iterator[Connection | sqlite3.Connection]:
        """``write()`` for the few statements of a new image's commit (``rows.insert``,
        ``names_free``): on SQLite the driver's own connection (``driver_write``),
        elsewhere ``write()``'s."""
        if self.engine.dialect.name != "sqlite":
            with self.write() as conn:
                yield conn
            return
        with self.write_lock:
            if self.closed:
                raise LibraryError("The library is closed.")
            try:
                with database_errors("save the change"), driver_write(self.engine) as raw:
                    yield raw
            except BaseException:
                self.free_names.forget()  # as in write()
                raise

    @contextlib.contextmanager
    def singleton(self, name: str) -> Iterator[bool]:
        """Whether this process is the one to do the background work ``name`` now: always
        on SQLite (the process lock makes it the only one); on PostgreSQL the process
        that holds the work's advisory lock (``pg_engine.singleton``)."""
        if self.engine.dialect.name == "sqlite":
            yield True
            return
        with pg_engine.singleton(self.engine, name) as mine:
            yield mine

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            if self.engine.dialect.name != "sqlite":
                # DIALECT (PostgreSQL): READ COMMITTED gives every statement its own
                # snapshot, in a transaction or not; without one a read saves the BEGIN
                # and ROLLBACK round trips (2 of a page's 4-5).
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    def get(self, image_id: str) -> ImageRecord:
        """The image; ``NotFound`` for an unknown id, ``Gone`` for a deleted one. The
        fast path first (one indexed read off SQLAlchemy), then the full answer."""
        if isinstance(image_id, str) and rules.is_image_id(image_id):
            record = self.lookup.image(image_id)
            if record is not None:
                return record
        with self.read() as conn:
            return self.require(conn, image_id)

    def require(self, conn: Connection, image_id: str) -> ImageRecord:
        """The image; ``NotFound`` for an unknown id, ``Gone`` for a deleted one."""
        if not isinstance(image_id, str) or not rules.is_image_id(image_id):
            raise NotFound(f"There is no image with id {image_id!r}.")
        record = rows.get(conn, image_id)
        if record is not None:
            return record
        if rows.is_tombstoned(conn, image_id):
            raise Gone(f"The image {image_id} was deleted (it may be in the trash).")
        raise NotFound(f"There is no image with id {image_id}.")

    def names_free(
        self,
        folder: str | None,
        names: Iterator[str],
        conn: Connection | sqlite3.Connection | None = None,
    ) -> Iterator[str]:
        """Skips names a row already holds: its file may have vanished behind our back
        (deleted outside, not yet reconciled), and reusing the name would break the
        unique (folder, filename) of the rows. Called under the write lock.

        Every candidate (``logo.png``, ``logo-2.png``, ...) starts with the first one's
        stem, so one range query finds all taken ones; after that ``FreeNames``
        remembers how far along the candidates the search went, and the hundredth
        ``image.png`` pasted in costs a one-row read or two, not a hundred rows."""
        first = next(names)
        stem = first.rsplit(".", 1)[0]
        with contextlib.ExitStack() as stack:
            if conn is None:
                conn = stack.enter_context(self.read())
            found = self.free_names.search(
                conn, folder, first, names, lambda: rows.taken_names(conn, folder, stem)
            )
            yield from found

    # --- the folder ----------------------------------------------------------------------

    def key_of(self, record: ImageRecord) -> str:
        """The storage key of ``record``'s original (its path in a folder library, its
        id in a team one)."""
        return self.storage.key(record.id, record.relpath)

    def path_of(self, folder: str | None, filename: str) -> Path:
        return self.root / folder / filename if folder else self.root / filename

    def folder_path(self, folder: str | None) -> Path:
        return self.root / folder if folder else self.root

    def forget_thumbnail_if_unused(self, sha256: str) -> None:
        with self.read() as conn:
            used = rows.by_hash(conn, sha256)
        if not used:
            self.thumbnails.discard(sha256)
            self.transforms.discard(sha256)  # derived results go with their last original
