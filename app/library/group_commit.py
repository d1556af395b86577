"""Group commit: uploads that reach their commit at the same time share one.

Each upload's commit (``file_steps.place_new``) is a link into the library, a folder fsync
and a database commit (an fsync of SQLite's WAL), all under ``Core.write_lock``: with
several clients uploading, that section, two fsyncs long, is the queue every upload
waits in (docs/performance.md, "3 — Uploads"). Here the uploads waiting for it are
committed together: the first to arrive leads — it takes the write lock, then every
upload queued by then (``MAX_BATCH`` at most), links each file under a free name (its
copy in ``tmp/`` kept), fsyncs each folder once, inserts all the rows and commits once.
The others wait for that commit; each is answered only after it, so nothing is
acknowledged that a kill could still take away.

The order of ``place_new`` is kept, a batch at a time: each file whole and fsynced in
``tmp/`` before it gets here (``files.Incoming.finish``), linked under its new name, the
folders fsynced, then the rows committed, then the copies in ``tmp/`` removed. A kill
before the commit leaves whole files under their new names with no rows, which the next
open adopts, as after a kill inside ``place_new``, and copies in ``tmp/``, which it clears.

One upload's failure is its own: when the batch fails (a folder that is a file, one
reached through a link, a full disk), its links are taken away again and its rows rolled
back, and each upload is committed on its own (``place_new``), so each gets its own
record or its own error. Only a library on a folder batches (an object store's ``place``
uploads and removes the copy, so a failed batch could not be retried one by one)."""

from __future__ import annotations

import contextlib
import threading
import weakref
from pathlib import Path
from typing import Final

from . import files, rules
from .core import Core
from .errors import LibraryError
from .file_steps import NewImage, place_new
from .records import ImageRecord
from .sql import rows
from .storage import FolderStorage

# A batch's rows are one transaction: bounded so one commit's work (and the time the
# write lock is held for it) stays small whatever the number of clients.
MAX_BATCH: Final = 32


class _Waiter:
    """One upload in the queue; ``done`` once its record or its error is set."""

    __slots__ = ("done", "error", "new", "record")

    def __init__(self, new: NewImage) -> None:
        self.new = new
        self.record: ImageRecord | None = None
        self.error: BaseException | None = None
        self.done = False


def can_batch(core: Core) -> bool:
    """Only a library on a folder commits many at once (see above)."""
    return isinstance(core.storage, FolderStorage)


def place(core: Core, new: NewImage) -> ImageRecord:
    """``place_new(core, new)``, sharing the commit with the uploads waiting for it."""
    return queue_of(core).place(core, new)


def queue_of(core: Core) -> GroupCommit:
    """``core``'s queue (made on first use; it goes with the core)."""
    with _QUEUES_GUARD:
        queue = _QUEUES.get(core)
        if queue is None:
            queue = _QUEUES[core] = GroupCommit()
        return queue


class GroupCommit:
    """The queue of one library's uploads waiting to be committed. It holds no reference
    to its ``Core`` (the registry below is keyed weakly by it)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[_Waiter] = []
        self._leading = False
        # How many commits were made and how many uploads they held (tests read them).
        self.batches = 0
        self.committed = 0

    def waiting(self) -> int:
        """How many uploads are queued for a commit that has not yet taken them."""
        with self._cond:
            return len(self._queue)

    def place(self, core: Core, new: NewImage) -> ImageRecord:
        if not can_batch(core) or _held_here(core.write_lock):
            # A caller already under the write lock could wait for a leader who waits
            # for that lock: it commits alone (it holds the lock anyway).
            return place_new(core, new)
        waiter = _Waiter(new)
        with self._cond:
            self._queue.append(waiter)
        while True:
            with self._cond:
                while self._leading and not waiter.done:
                    self._cond.wait()
                if waiter.done:
                    break
                self._leading = True
            # Leads one commit of the first ``MAX_BATCH`` queued: its own upload among
            # them, or, behind a longer queue, in a commit it leads next.
            try:
                self._lead(core)
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()
        if waiter.error is not None:
            raise waiter.error
        assert waiter.record is not None
        return waiter.record

    def _lead(self, core: Core) -> None:
        batch: list[_Waiter] = []
        try:
            with core.write_lock:
                # Taken once the lock is ours: every upload that queued while the one
                # before held it goes into this commit.
                with self._cond:
                    batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                self.batches += 1
                self.committed += len(batch)
                _commit(core, batch)
        finally:
            for waiter in batch:  # never a follower left waiting on a leader that died
                if not waiter.done:
                    waiter.error = LibraryError("The upload was not saved; try again.")
                    waiter.done = True


def _commit(core: Core, batch: list[_Waiter]) -> None:
    """Commits ``batch`` in one transaction, or, when that fails, each on its own."""
    if len(batch) > 1:
        try:
            records = commit_together(core, [w.new for w in batch])
        except Exception:  # one of them does not fit: each on its own, below
            pass
        else:
            for waiter, record in zip(batch, records, strict=True):
                waiter.record, waiter.done = record, True
            return
    for waiter in batch:
        try:
            waiter.record = place_new(core, waiter.new)
        except Exception as exc:
            waiter.error = exc
        waiter.done = True


def commit_together(core: Core, news: list[NewImage]) -> list[ImageRecord]:
    """Every file linked under a free name, each folder fsynced once, all rows in one
    commit, then the copies in ``tmp/`` removed; the records in the order given. All or
    nothing: a failure takes the new names away again (the copies are still in ``tmp/``)
    and raises. Shared by concurrent uploads and by a batch of imports
    (``intake_batch``); the caller holds ``core.write_lock``."""
    store = core.storage
    assert isinstance(store, FolderStorage)
    linked: list[Path] = []
    made: list[list[str]] = []
    records: list[ImageRecord] = []
    try:
        with core.write_rows() as conn:  # on SQLite its own connection: see Core
            folders: set[Path] = set()
            for new in news:
                with files.disk_errors("save the image"):
                    if new.folder:
                        made.append(store.make_folder(new.folder))
                    dest_dir = store.root / new.folder if new.folder else store.root
                    names = rules.candidate_filenames(new.original_filename, new.info.format)
                    name = files.link_free(
                        new.tmp, dest_dir, core.names_free(new.folder, names, conn)
                    )
                    linked.append(dest_dir / name)
                    folders.add(dest_dir)
                    mtime_ns = linked[-1].stat().st_mtime_ns
                record = new.record(rules.new_image_id(), name)
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
    # After the commit nothing may raise (the caller would commit each again): a copy
    # that cannot go now is cleared from tmp/ at the next open.
    for new in news:
        with contextlib.suppress(OSError):
            new.tmp.unlink(missing_ok=True)
    return records


_QUEUES: Final[weakref.WeakKeyDictionary[Core, GroupCommit]] = weakref.WeakKeyDictionary()
_QUEUES_GUARD: Final = threading.Lock()


def _held_here(lock: object) -> bool:
    """Whether this thread holds ``lock`` (an ``RLock``: CPython's ``_is_owned``)."""
    is_owned = getattr(lock, "_is_owned", None)
    return bool(is_owned()) if callable(is_owned) else False
