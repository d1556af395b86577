"""The crash-safe steps that change files in the library folder, each with its row:
place a new file, move one (with its intent recorded first), and at open finish or undo
what a crash left half-way (a delete is a move into the trash: ``trash_steps.py``). A
kill at any instant leaves either the state before or the state after, once the next
open has run ``finish_pending_moves``.

Each step holds ``Core.write_lock`` from its first file operation to its commit; events
are the caller's (``Library`` announces after the step returns)."""

from __future__ import annotations

import contextlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from . import files, rules
from .core import Core
from .errors import InvalidInput, LibraryError, NotFound, StorageError
from .exif_facts import NO_EXIF, ExifFacts
from .records import ImageRecord, now_us
from .sql import owners, rows

if TYPE_CHECKING:
    from . import imaging

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Kept:
    """What an image copied from another library keeps (``library_copy.py``): its id,
    its name where that is free here, and its times."""

    id: str
    filename: str
    created_at_us: int
    updated_at_us: int


@dataclass(frozen=True, slots=True)
class NewImage:
    """A new image ready to be placed: its fsynced file in ``tmp/`` and its row's values."""

    tmp: Path
    size: int
    sha256: str
    info: imaging.ImageInfo
    original_filename: str
    alt_text: str | None
    folder: str | None
    long_description: str | None = None
    metadata_json: str | None = None
    exif: ExifFacts = NO_EXIF

    def record(self, image_id: str, name: str, kept: Kept | None = None) -> ImageRecord:
        """Its row, placed as ``name`` (a copy keeps its times)."""
        now = now_us()
        return ImageRecord(
            id=image_id,
            folder=self.folder,
            filename=name,
            original_filename=self.original_filename,
            content_type=self.info.format.content_type,
            size=self.size,
            width=self.info.width,
            height=self.info.height,
            sha256=self.sha256,
            alt_text=self.alt_text,
            created_at_us=now if kept is None else kept.created_at_us,
            updated_at_us=now if kept is None else kept.updated_at_us,
            long_description=self.long_description,
            metadata_json=self.metadata_json,
            exif=self.exif,
        )


def place_new(core: Core, new: NewImage, kept: Kept | None = None) -> ImageRecord:
    """Gives the fsynced ``new.tmp`` file a free name in its folder (never clobbering) and
    commits its row. A failure removes the placed file and any folder made for it.
    ``kept``: a copied image's id and times (an id known here already is refused).
    Concurrent uploads share one commit instead (``group_commit.py``)."""
    store = core.storage
    folder = new.folder
    # First: an object store keys the bytes by it. A copy keeps its own.
    image_id = rules.new_image_id() if kept is None else kept.id
    with core.write_lock:
        made: list[str] = []
        placed: str | None = None
        try:
            # One transaction from the look at the taken names to the commit: the
            # write lock already keeps every other writer out, so the names read are
            # still free when the row goes in (and it saves a connection checkout).
            # A new image's few statements go on SQLite's own connection
            # (``write_rows``); a copy's id check reads through SQLAlchemy.
            with core.write() if kept is not None else core.write_rows() as conn:
                if kept is not None:
                    assert isinstance(conn, Connection)
                    _check_new_id(conn, kept.id)
                with files.disk_errors("save the image"):
                    # A copy keeps its name where free (made safe, as every name here).
                    wanted = new.original_filename if kept is None else kept.filename
                    candidates = rules.candidate_filenames(wanted, new.info.format)
                    free = core.names_free(folder, candidates, conn)
                    name, made = store.place(new.tmp, folder, free, image_id=image_id)
                    placed = store.key(image_id, key_of(folder, name))
                    mtime_ns = store.stat(placed)[1]
                record = new.record(image_id, name, kept)
                rows.insert(conn, record, mtime_ns)
            return record
        except BaseException:
            with contextlib.suppress(OSError):
                if placed is not None:
                    store.remove(placed)
                store.remove_folders(made)
            raise


def _check_new_id(conn: Connection, image_id: str) -> None:
    """A copied id must be new here: never a second row, never a deleted id reused."""
    if rows.get(conn, image_id) is not None or rows.is_tombstoned(conn, image_id):
        raise InvalidInput(f"The image id {image_id} is already known to this library.")


def move(core: Core, record: ImageRecord, folder: str | None) -> ImageRecord:
    """Moves the file, crash-safely: the destination is recorded as an intent first,
    so a kill between the link and the commit is finished or undone at next open:
    undone while the old name still exists, finished once it is gone. The old name
    therefore goes before the commit, never after (a kill after the commit would leave
    two names for one image, and the next open would adopt the second as a copy).
    Call under ``core.write_lock``. On a storage whose keys do not follow names (an
    object store) the bytes stay where they are: the row alone changes, in one commit."""
    store = core.storage
    if not store.keys_follow_names:
        return _move_row(core, record, folder)
    src = record.relpath
    fmt = rules.FORMAT_BY_CONTENT_TYPE[record.content_type]
    made: list[str] = []
    store.check_writable(record.folder)  # unlinking through a link: outside
    with files.disk_errors("move the image"):
        if not store.exists(src):
            raise NotFound(f"The file of image {record.id} is missing from the library.")
        if folder:
            made = store.make_folder(folder)
        placed: str | None = None
        src_removed = False
        try:
            # Keep the name where it is free; suffix it where the folder has one already.
            names = rules.candidate_filenames(record.filename, fmt)
            for name in core.names_free(folder, names):
                with core.write() as conn:
                    rows.set_pending(conn, record.id, folder, name)
                if store.link(src, key_of(folder, name)):
                    placed = name
                    break
            assert placed is not None
            store.remove(src)
            src_removed = True
            with core.write() as conn:
                now = max(now_us(), record.updated_at_us + 1)
                rows.set_place(conn, record, folder, placed, now)
                moved = rows.get(conn, record.id)
        except BaseException:
            with contextlib.suppress(OSError):
                if placed is not None and src_removed:
                    store.move(key_of(folder, placed), src)  # back where its row says it is
                elif placed is not None:
                    store.remove(key_of(folder, placed))
                store.remove_folders(made)
            with contextlib.suppress(Exception), core.write() as conn:
                rows.clear_pending(conn, record.id)
            raise
        if record.folder:
            store.remove_empty_folders(record.folder)
    assert moved is not None
    return moved


def _move_row(core: Core, record: ImageRecord, folder: str | None) -> ImageRecord:
    """A move on a storage keyed by image id: the first free name in ``folder``, one
    commit. Nothing to finish or undo after a kill: the row says the old place or the
    new one, and the bytes are the same object either way."""
    fmt = rules.FORMAT_BY_CONTENT_TYPE[record.content_type]
    with core.write() as conn:
        names = rules.candidate_filenames(record.filename, fmt)
        name = next(core.names_free(folder, names, conn))
        now = max(now_us(), record.updated_at_us + 1)
        rows.set_place(conn, record, folder, name, now)
        moved = rows.get(conn, record.id)
    assert moved is not None
    return moved


def finish_pending_moves(core: Core, alive: set[int] | None = None) -> int:
    """A move killed between its link and its commit: undone if the original is still
    there (the commit never happened), else completed exactly as the move would have
    (new name searchable, the change dated, the folder it left removed if now empty).
    ``alive`` (a team library): only the moves whose owner is not in it
    (``sql/owners.py``). Returns how many were decided."""
    with core.write_lock:  # never while the app's own move is half-way
        with core.read() as conn:
            pending = rows.pending_moves(conn)
        if alive is not None:
            pending = [p for p in pending if owners.is_dead(p.owner, alive)]
        if not pending:
            return 0
        # First all in one commit: a folder rename leaves an intent on each of its
        # images, and a commit (an fsync) each made 2,000 of them 12 s at open (2.2 s
        # so). Each step is decided from the disk alone, so whatever this commit does
        # not keep (a kill, one intent that no longer fits) is decided again below.
        try:
            with core.write() as conn:
                for p in pending:
                    _finish_pending_move(core, p, conn)
            return len(pending)
        except StorageError:
            raise  # the disk refuses writes: Library.open falls back to read-only
        except (OSError, SQLAlchemyError, AssertionError, LibraryError):
            pass  # one of them does not fit: each on its own, as below
        for p in pending:
            try:
                _finish_pending_move(core, p)
            except StorageError:
                raise  # the disk refuses writes: Library.open falls back to read-only
            except (OSError, SQLAlchemyError, AssertionError, LibraryError) as exc:
                # A move whose clean-up failed half-way can leave an intent that no
                # longer fits (its destination taken since, a file in its way): give
                # the intent up and let the reconcile that follows judge the files.
                log.warning("Gave up an unfinished move of %s: %s", p.id, exc)
                with contextlib.suppress(Exception), core.write() as conn:
                    rows.clear_pending(conn, p.id)
        return len(pending)


def _finish_pending_move(core: Core, p: rows.PendingMove, conn: Connection | None = None) -> None:
    """One intent decided, in ``conn``'s transaction or in one of its own."""
    store = core.storage
    src = key_of(p.folder, p.filename)
    dest = key_of(p.dest_folder, p.dest_filename)
    with contextlib.ExitStack() as stack:
        if conn is None:
            conn = stack.enter_context(core.write())
        if store.exists(src):
            if store.exists(dest) and store.same_file(src, dest):
                store.remove(dest)
            rows.clear_pending(conn, p.id)
        elif store.exists(dest):
            before = rows.get(conn, p.id)
            assert before is not None
            now = max(now_us(), before.updated_at_us + 1)
            rows.set_place(conn, before, p.dest_folder, p.dest_filename, now)
            if p.folder and p.folder != p.dest_folder:
                store.remove_empty_folders(p.folder)
        else:
            rows.clear_pending(conn, p.id)


def clear_tmp(core: Core) -> None:
    """Removes what a crash left in ``tmp/``: unfinished uploads, files parked for a
    delete whose row is already a tombstone (or, killed before the commit, whose row
    the reconcile that follows tombstones: its file is no longer in the folder)."""
    with files.disk_errors(f"clean up the library at {core.root}"):
        for leftover in core.tmp_dir.iterdir():
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)


def key_of(folder: str | None, filename: str) -> str:
    return f"{folder}/{filename}" if folder else filename
