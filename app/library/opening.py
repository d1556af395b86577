"""Opening a library folder as far as the core needs it: the folders, the process lock,
the database (migrated), the leftovers of a crash in ``tmp/`` — writable, or read-only
on a disk that refuses writes. ``Library.open`` then recovers the trash, starts the
watcher and reconciles."""

from __future__ import annotations

import os
from pathlib import Path

from . import file_steps, files, layout
from .core import Core
from .errors import StorageError
from .lock import ProcessLock
from .sql.engine import at_head, database_errors, make_engine, migrate
from .storage import Storage


def open_core(
    path: str | os.PathLike[str], storage: Storage | None = None
) -> tuple[Core, ProcessLock]:
    """Creates or opens the folder and its database; the lock is held on return.
    ``LibraryLocked`` when another process has it, ``StorageError`` when the folder
    cannot be created or written. ``storage``: where the images are kept when not in
    the folder itself (an S3 bucket: the folder then holds the database and ``tmp/``)."""
    root = Path(path).expanduser().resolve()
    meta = root / layout.META_DIR
    with files.disk_errors(f"open the library at {root}"):
        for d in (root, meta, meta / layout.THUMBS_DIR, meta / layout.TMP_DIR):
            d.mkdir(parents=True, exist_ok=True)
    lock = ProcessLock(meta / layout.LOCK_FILE)
    with files.disk_errors(f"open the library at {root}"):
        lock.acquire()
    engine = None
    try:
        engine = make_engine(meta / layout.DB_FILE)
        with database_errors(f"open the library at {root}"):
            migrate(engine)
        core = Core(root, engine, storage)
        file_steps.clear_tmp(core)
        core.thumbnails.make_folders()
    except BaseException:
        if engine is not None:
            engine.dispose()
        lock.release()
        raise
    return core, lock


def open_core_read_only(
    path: str | os.PathLike[str], error: StorageError
) -> tuple[Core, ProcessLock]:
    """An existing, up-to-date library opened without writing anything; ``error`` (why
    the writable open failed) is raised again where that is impossible."""
    root = Path(path).expanduser().resolve()
    meta = root / layout.META_DIR
    db_path = meta / layout.DB_FILE
    if not db_path.is_file():
        raise error  # nothing to show: a new library needs a writable disk
    lock = ProcessLock(meta / layout.LOCK_FILE)
    try:
        lock.acquire()
    except OSError:
        raise error from None
    engine = make_engine(db_path, read_only=True)
    try:
        if not at_head(engine):
            raise error  # a migration would have to write
    except BaseException:
        engine.dispose()
        lock.release()
        raise
    return Core(root, engine), lock
