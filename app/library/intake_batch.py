"""Many imported files committed at once (a card's worth of photos dropped on the window):
one transaction and one fsync of each folder per batch, where ``intake.commit`` spends a
database commit (an fsync of the journal) and a folder fsync on every file.

Crash safety is that of ``file_steps.place_new``, a batch at a time. Each file's copy in
``tmp/`` is whole and fsynced before it gets here (``decode_workers.examine_copy``); it is
given its name in the library by a hard link, the copy in ``tmp/`` kept, the folders are
fsynced, the rows committed together, and only then the copies in ``tmp/`` go. A kill
before the commit leaves whole files under their new names with no rows (the next open
adopts them, as it would after a kill inside ``place_new``) and copies in ``tmp/`` (the
next open clears them); after it, every row has its file. A failure takes the new names
away again and raises: the copies are still in ``tmp/``, so the caller can commit each on
its own (``intake.commit``) and learn which one does not fit.

Only a library on a folder batches: an object store's ``place`` uploads the copy and
removes it, so a failed batch could not be retried file by file (``can_batch``)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from . import files, rules
from .core import Core
from .events import Event, EventKind
from .intake import Prepared
from .records import ImageRecord, now_us
from .sql import rows
from .storage import FolderStorage


def can_batch(core: Core) -> bool:
    return isinstance(core.storage, FolderStorage)


def commit_many(core: Core, entries: list[tuple[Prepared, str | None]]) -> list[ImageRecord]:
    """Places every ``(prepared, folder)`` under a free name and commits all their rows in
    one transaction; the records in the order given. All or nothing (see above)."""
    store = core.storage
    assert isinstance(store, FolderStorage)
    linked: list[Path] = []
    made: list[list[str]] = []
    records: list[ImageRecord] = []
    with core.write_lock:
        try:
            with core.write() as conn:
                folders: set[Path] = set()
                for prepared, wanted in entries:
                    folder = rules.normalize_folder(wanted)
                    with files.disk_errors("save the image"):
                        if folder:
                            made.append(store.make_folder(folder))
                        dest_dir = store.root / folder if folder else store.root
                        names = rules.candidate_filenames(
                            prepared.original_filename, prepared.info.format
                        )
                        name = files.link_free(
                            prepared.tmp, dest_dir, core.names_free(folder, names, conn)
                        )
                        linked.append(dest_dir / name)
                        folders.add(dest_dir)
                        mtime_ns = linked[-1].stat().st_mtime_ns
                    record = _record(prepared, folder, name)
                    rows.insert(conn, record, mtime_ns)
                    records.append(record)
                with files.disk_errors("save the image"):
                    for dest_dir in folders:
                        files.fsync_dir(dest_dir)  # the new names durable before the rows
        except BaseException:
            with contextlib.suppress(OSError):
                for path in linked:
                    path.unlink(missing_ok=True)
                for folders_made in reversed(made):
                    store.remove_folders(folders_made)
            raise
    for prepared, _folder in entries:
        prepared.tmp.unlink(missing_ok=True)
    for record in records:
        core.events.emit(Event(EventKind.ADDED, record.id, record))
    return records


def _record(prepared: Prepared, folder: str | None, name: str) -> ImageRecord:
    """The row ``intake.commit`` makes of an import (no texts given: the file's own)."""
    now = now_us()
    info = prepared.info
    return ImageRecord(
        id=rules.new_image_id(),
        folder=folder,
        filename=name,
        original_filename=prepared.original_filename,
        content_type=info.format.content_type,
        size=prepared.size,
        width=info.width,
        height=info.height,
        sha256=prepared.sha256,
        alt_text=prepared.described.alt_text,
        created_at_us=now,
        updated_at_us=now,
        long_description=prepared.described.long_description,
        exif=prepared.exif,
    )
