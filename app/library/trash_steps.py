"""The trash's crash-safe file steps, in the order the core's move uses — intent, file,
commit — so that ``trash_recovery.py`` can finish or undo, at the next open, whatever a
kill interrupted. ``trash.py`` (the ``Trash`` operations) calls these under the write
lock; nothing else writes ``.imageshelf/trash/``.

- trash (``move_in``): intent (a ``trash`` row, ``intent='trashing'``) → rename into
  ``trash/`` → commit (``images`` row out, tombstone in, intent cleared). At open: the
  file in ``trash/`` means finish; else the intent is dropped (the image stays live).
- restore (``restore_file``): intent (``'restoring'`` + the destination) → hard link
  there (never clobbers) → unlink from ``trash/`` → commit (row back in ``images``, trash
  row and tombstone out). At open: both names → undo; only the destination → finish.
- purge (``purge``): commit (trash row out; the tombstone stays) → unlink. A kill in
  between leaves a file no row owns, which recovery removes; a purge of many is done in
  batches, each whole, so an interrupted "empty" or retention run just goes on at the
  next open.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

from . import files, rules, trash_keyed
from .core import Core
from .errors import LibraryError
from .events import Event, EventKind
from .records import ImageRecord, now_us
from .sql import rows
from .sql import trash_rows as sql
from .trash_recovery import trashed_path

Moved = list[tuple[ImageRecord, bool]]  # (record, whether its file was there)
Failed = list[tuple[ImageRecord, LibraryError]]


def move_in(core: Core, trash_dir: Path, records: list[ImageRecord]) -> tuple[Moved, Failed]:
    """The trash protocol for a batch, under the write lock: 1. the intents (one
    commit), 2. each file renamed into ``trash/`` (same filesystem) and the folders
    fsynced, 3. one commit (rows out, tombstones in, intents cleared). Returns
    (record, whether its file was there) for those done, and the failures: a file
    that cannot be renamed stays live, its intent dropped."""
    if not core.storage.keys_follow_names:  # an object store: the rows alone, one commit
        return trash_keyed.move_rows(core, records), []
    with core.write() as conn:  # 1. the intents
        now = now_us()
        for record in records:
            sql.copy_in(conn, record.id, now)
    moved: list[ImageRecord] = []
    missing: list[ImageRecord] = []
    failed: Failed = []

    def src(r: ImageRecord) -> Path:
        return core.path_of(r.folder, r.filename)

    def dest(r: ImageRecord) -> Path:
        return trashed_path(trash_dir, r.id, r.filename)

    try:
        with files.disk_errors("move the images to the trash"):
            trash_dir.mkdir(exist_ok=True)
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
                files.fsync_dir(trash_dir)
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


def restore_file(core: Core, trash_dir: Path, trashed: ImageRecord) -> ImageRecord:
    """The restore protocol, under the write lock, for a trashed image whose file is in
    ``trash/``: back in its folder (made again if it is gone) under its name or the next
    free one; a failure at any step leaves it whole in the trash."""
    src = trashed_path(trash_dir, trashed.id, trashed.filename)
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
            files.fsync_dir(trash_dir)
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
    return restored


def purge(core: Core, trash_dir: Path, ids: Iterable[str]) -> int:
    """One batch: commit first (rows out; the tombstones stay), then the files. A kill
    between the two leaves files no row owns; recovery removes them. Returns how many."""
    with core.write_lock:
        if core.closed:
            return 0
        with core.write() as conn:
            gone = sql.purge(conn, list(ids), now_us())
        for image_id, filename, _sha in gone:
            with contextlib.suppress(Exception):
                if core.storage.keys_follow_names:
                    trashed_path(trash_dir, image_id, filename).unlink(missing_ok=True)
                else:
                    trash_keyed.remove_object(core, image_id)
    for sha in {sha for _i, _f, sha in gone}:
        with contextlib.suppress(Exception):
            _forget_thumbnail_if_unused(core, sha)
    for image_id, _f, _s in gone:
        core.events.emit(Event(EventKind.PURGED, image_id))
    return len(gone)


def _forget_thumbnail_if_unused(core: Core, sha256: str) -> None:
    with core.read() as conn:
        used = sql.hash_in_use(conn, sha256)
    if not used:
        core.thumbnails.discard(sha256)
        core.transforms.discard(sha256)  # derived results go with the last one
