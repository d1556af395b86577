"""Adopting many new files at once (a library opened on a photo folder, a folder copied
in while the library was closed): the reconciler's new files, decoded in worker processes
(``decode_workers``) and committed here, in the library process, a batch per transaction.

What each file becomes is what ``Reconciler.adopt`` makes of it one at a time (the same
row, EXIF, description and thumbnail); what differs is where the work runs and how often
the database commits. A batch is all-or-nothing, so a kill leaves every file either
adopted whole or not at all, and the next open adopts the rest. A file whose content is
that of a known image gone missing is hashed only, and followed as a move."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any, Final, Protocol

from . import rules
from .core import Core
from .decode_workers import Examined, Refused, WorkerPool, examine_in_place
from .derived import FolderDerived
from .disk_scan import DiskFile, KnownRow, split
from .events import Event, EventKind
from .records import ImageRecord, now_us
from .sql import disk_rows, rows

log = logging.getLogger(__name__)

# A transaction per this many files or this long, whichever comes first: commits are
# cheap batched (0.02 ms a row against 0.2 ms alone), and the grid fills steadily. Each
# batch reaches the window as a burst of events its thread handles in one go, so a batch
# stays small enough not to hold the event loop (16 rows inserted: a few ms).
BATCH_FILES: Final = 16
BATCH_SECONDS: Final = 0.25


def new_record(
    f: DiskFile, ex: Examined, *, image_id: str | None = None, now: int | None = None
) -> ImageRecord:
    """The row a file found on disk becomes."""
    assert ex.info is not None
    folder, name = split(f.relpath)
    now = now if now is not None else now_us()
    return ImageRecord(
        id=image_id or rules.new_image_id(),
        folder=folder,
        filename=name,
        original_filename=name,
        content_type=ex.info.format.content_type,
        size=f.size,
        width=ex.info.width,
        height=ex.info.height,
        sha256=ex.sha256,
        alt_text=ex.described.alt_text,
        created_at_us=now,
        updated_at_us=now,
        long_description=ex.described.long_description,
        exif=ex.exif,
    )


class OneAtATime(Protocol):
    """What a batch asks of the reconciler (``reconcile.Reconciler``) for the files it
    does not adopt itself; a protocol so that the reconciler can import this module."""

    core: Core
    stop: threading.Event | None

    def step(self, step: Callable[..., int], *args: Any) -> int: ...
    def adopt(self, f: DiskFile, sha: str, source: str) -> int: ...
    def follow_move(self, row: KnownRow, f: DiskFile, source: str) -> int: ...
    def ignore(self, f: DiskFile, reason: str) -> None: ...
    def current(self, f: DiskFile) -> DiskFile | None: ...
    def vanished_elsewhere(
        self, sha: str, f: DiskFile, considered: dict[str, KnownRow]
    ) -> KnownRow | None: ...


class BatchAdoption:
    def __init__(
        self,
        rec: OneAtATime,
        source: str,
        tick: Callable[[], None],
        *,
        scoped: bool,
        workers: int | None = None,
    ) -> None:
        self.rec = rec
        self.core = rec.core
        self.source = source
        self.tick = tick
        self.scoped = scoped
        self.workers = workers
        self._batch: list[tuple[DiskFile, Examined]] = []
        self._batch_started = 0.0
        self._flushed = False

    def _stopping(self) -> bool:
        stop = self.rec.stop
        return self.core.closed or (stop is not None and stop.is_set())

    def run(
        self,
        unknown: list[DiskFile],
        missing: list[KnownRow],
        missing_by_hash: dict[str, list[KnownRow]],
        known: dict[str, KnownRow],
    ) -> int:
        """Adopts (or follows as moves) ``unknown``; removes from ``missing`` the rows
        found moved. Returns how many images changed."""
        changes = 0
        root = self.core.root
        hash_only = frozenset(missing_by_hash)
        # The workers store the thumbnails in a library on a folder: a write and an fsync
        # a photo off this process, whose threads share the window's GIL.
        derived = self.core.thumbnails.files
        thumbs_root = os.fspath(derived.root) if isinstance(derived, FolderDerived) else None
        with WorkerPool(self.workers, hash_only) as pool:
            try:
                for f, result in pool.run(
                    examine_in_place,
                    unknown,
                    lambda f: (str(root / f.relpath), thumbs_root),
                    lambda f: root / f.relpath,
                    stop=self._stopping,
                ):
                    changes += self._one(f, result, missing, missing_by_hash, known)
                    if self._batch and (
                        not self._flushed  # the first photo shows at once
                        or len(self._batch) >= BATCH_FILES
                        or time.monotonic() - self._batch_started >= BATCH_SECONDS
                    ):
                        changes += self._flush()
            finally:
                # What was decoded is committed even when the run stops here.
                if self._batch and not self.core.closed:
                    changes += self._flush()
        if self._stopping():
            self.tick()  # raises: the run stopped before its end
        return changes

    def _one(
        self,
        f: DiskFile,
        result: Examined | Refused,
        missing: list[KnownRow],
        missing_by_hash: dict[str, list[KnownRow]],
        known: dict[str, KnownRow],
    ) -> int:
        rec = self.rec
        if isinstance(result, Refused):
            if not result.unreadable:
                try:
                    rec.ignore(f, result.code)
                except Exception as exc:  # as Reconciler.step: logged, the others go on
                    if self.core.closed:
                        raise
                    log.warning("could not reconcile %s: %s", f.relpath, exc)
            self.tick()
            return 0
        sha = result.sha256
        candidates = missing_by_hash.get(sha)
        if candidates:
            # As in the one-at-a-time path: identical copies moved together keep each id
            # with the file of the same name where there is one.
            same_name = [c for c in candidates if split(c.relpath)[1] == f.filename]
            moved = (same_name or candidates)[0]
            candidates.remove(moved)
            changed = rec.step(rec.follow_move, moved, f, self.source)
            missing.remove(moved)
            self.tick()  # the vanished file is accounted for by the one found
            self.tick()
            return changed
        if self.scoped:
            vanished = rec.vanished_elsewhere(sha, f, known)
            if vanished is not None:
                changed = rec.step(rec.follow_move, vanished, f, self.source)
                self.tick()
                return changed
        if result.info is None:
            # Hashed only (its twin's row was taken by an identical file): decode here.
            changed = rec.step(rec.adopt, f, sha, self.source)
            self.tick()
            return changed
        info = result.info
        if result.thumbnail_etag:  # its worker wrote it (``examine_in_place``)
            self.core.thumbnails.note_stored(
                sha, info.thumbnail_type, len(info.thumbnail), result.thumbnail_etag
            )
        elif not result.thumbnail_in_cache:
            with contextlib.suppress(OSError):
                self.core.thumbnails.store(sha, info.thumbnail, info.thumbnail_type)
        if not self._batch:
            self._batch_started = time.monotonic()
        self._batch.append((f, result))
        return 0

    def _flush(self) -> int:
        batch, self._batch = self._batch, []
        self._flushed = True
        try:
            added = self._commit(batch)
        except Exception as exc:
            if self.core.closed:
                raise
            # One bad row must not cost the others: each alone, as the slow path does.
            log.warning("a batch of %d adoptions failed (%s); adopting one by one", len(batch), exc)
            added = []
            for one in batch:
                with contextlib.suppress(Exception):
                    added += self._commit([one])
        for record in added:
            self.core.events.emit(Event(EventKind.ADDED, record.id, record, source=self.source))
        for _ in batch:
            self.tick()
        return len(added)

    def _commit(self, batch: list[tuple[DiskFile, Examined]]) -> list[ImageRecord]:
        added: list[ImageRecord] = []
        with self.core.write_lock:
            # Gone or changed since it was read: its next event (or run) tells.
            still = [
                (f, ex)
                for f, ex in batch
                if (ex.size, ex.mtime_ns) == (f.size, f.mtime_ns) and self.rec.current(f) == f
            ]
            with self.core.write() as conn:
                for f, ex in still:
                    folder, name = split(f.relpath)
                    if rows.exists_at(conn, folder, name):
                        continue  # the app itself wrote it, a moment before we looked
                    record = new_record(f, ex)
                    rows.insert(conn, record, f.mtime_ns)
                    added.append(record)
                disk_rows.unignore(conn, [f.relpath for f, _ in still])
        return added
