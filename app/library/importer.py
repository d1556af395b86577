"""Importing files from disk: many at once, using every core, with progress and cancel.

Files are prepared (read, hashed, validated, thumbnailed) in worker processes when there
are many (``decode_workers``), else on a thread pool — Pillow and hashlib release the
GIL, so two threads import nearly twice as fast as one — and committed in the calling
thread: many at a time in one transaction (``intake_batch``), a few one at a time.
Cancelling stops new work and discards whatever was prepared but not committed: every
image is either fully in the library or not at all. What each face does about duplicates
is its own policy, given here."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from . import adoption, files, group_commit, intake, intake_batch, rules, thumbnails
from .decode_workers import (
    MIN_FILES_FOR_PROCESSES,
    Examined,
    Refused,
    WorkerPool,
    examine_copy,
    worker_count,
)
from .derived import FolderDerived
from .errors import Duplicate, LibraryError, StorageError
from .import_collect import HIDDEN, ImportItem, Rejection, collect, collect_all
from .records import ImageRecord
from .sql import rows

if TYPE_CHECKING:
    from .core import Core
    from .library import Library, Prepared

log = logging.getLogger(__name__)

__all__ = [
    "HIDDEN",
    "ImportItem",
    "ImportReport",
    "ImportSession",
    "Progress",
    "Rejection",
    "collect",
    "collect_all",
]


@dataclass
class ImportReport:
    added: list[ImageRecord] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    cancelled: bool = False
    total: int = 0


# (done, total, record or None, rejection or None)
Progress = Callable[[int, int, ImageRecord | None, Rejection | None], None]


class ImportSession:
    """``ImportSession(library, items).run(progress)``; ``cancel()`` from any thread."""

    # Many files are committed a batch per transaction: this many, or what arrived in
    # this long (adoption's sizes: the grid fills steadily, each batch a short burst).
    batch_files = adoption.BATCH_FILES
    batch_seconds = adoption.BATCH_SECONDS

    def __init__(
        self,
        library: Library,
        items: list[ImportItem],
        *,
        allow_duplicates: bool = False,
        workers: int | None = None,
        skipped: Iterable[Rejection] = (),
        processes: bool | None = None,
    ) -> None:
        """``skipped``: files left out while collecting, reported first. ``processes``:
        decode in worker processes (default: when there are many files)."""
        self.library = library
        self.items = items
        self.skipped = list(skipped)
        self.allow_duplicates = allow_duplicates
        self.workers = workers or max(2, os.cpu_count() or 2)
        self._workers_given = bool(workers)
        # Many files: decoded in worker processes (both cores, and the GIL left to the
        # window); a few: in threads here, without a process's start-up.
        self.processes = (
            processes if processes is not None else (len(items) >= MIN_FILES_FOR_PROCESSES)
        )
        self._cancel = threading.Event()
        # Contents a batch found already in the library: (id, place) of the first there.
        self._in_library: dict[str, tuple[str, str]] = {}

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _prepare(self, item: ImportItem) -> Prepared:
        with open(item.path, "rb") as fp:
            return self.library.prepare(fp, item.path.name, allow_duplicate=self.allow_duplicates)

    def _from_worker(
        self, item: ImportItem, result: Examined | Refused, *, batched: bool = False
    ) -> Prepared:
        """What ``_prepare`` gives, from a worker process's examination of ``item``: the
        duplicate check and the thumbnail's store happen here, in the library process,
        unless ``batched``: then both are the caller's (``_run_in_processes``)."""
        if isinstance(result, Refused):
            if result.unreadable:
                raise OSError(result.message.removeprefix("Could not read the file: "))
            refused = LibraryError(result.message)
            refused.code = result.code  # the worker's error, by its stable code
            raise refused
        assert result.tmp is not None and result.info is not None
        core = self.library.core
        try:
            if not self.allow_duplicates and not batched:
                with core.read() as conn:
                    existing = rows.by_hash(conn, result.sha256)
                if existing:
                    raise Duplicate(
                        f"The same image is already in the library as {existing[0].relpath}.",
                        existing[0].id,
                    )
            if not batched:
                with files.disk_errors("save the thumbnail"):
                    core.thumbnails.store(
                        result.sha256, result.info.thumbnail, result.info.thumbnail_type
                    )
        except BaseException:
            result.tmp.unlink(missing_ok=True)
            raise
        return intake.Prepared(
            result.tmp,
            result.size,
            result.sha256,
            result.info,
            rules.clean_original_filename(item.path.name),
            result.described,
            result.exif,
        )

    def _accept(
        self,
        fut: Callable[[], Prepared],
        item: ImportItem,
        seen_hashes: set[str],
        finish: Callable[[ImageRecord | None, Rejection | None], None],
        *,
        batched: bool = False,
        thumbnail_stored: bool = False,
    ) -> Prepared | None:
        """``item`` prepared, or ``None`` when it was refused (and reported) or the import
        was cancelled meanwhile (its copy discarded). ``batched``: its thumbnail is not
        stored yet, so only the copy goes, unless ``thumbnail_stored`` (by a worker): a
        cancel takes that away too (a duplicate leaves it: its twin has that thumbnail)."""
        try:
            prepared = fut()
        except LibraryError as exc:
            finish(None, Rejection(item.path, exc.code, exc.message))
            return None
        except OSError as exc:
            finish(None, Rejection(item.path, "unreadable", f"Could not read the file: {exc}."))
            return None
        discard = (
            partial(prepared.tmp.unlink, missing_ok=True)
            if batched
            else partial(self.library.discard, prepared)
        )
        if self._cancel.is_set():
            if thumbnail_stored:  # by a worker: it goes too, unless a row holds that content
                self.library.discard(prepared)
            else:
                discard()
            return None
        if not self.allow_duplicates:
            twin = self._in_library.get(prepared.sha256)
            if twin is not None:  # a batch found its content in the library
                err = Duplicate(f"The same image is already in the library as {twin[1]}.", twin[0])
            elif prepared.sha256 in seen_hashes:
                err = Duplicate("The same image is already in this import.", "")
            else:
                return prepared
            discard()
            finish(None, Rejection(item.path, err.code, err.message))
            return None
        return prepared

    def _commit(
        self,
        fut: Callable[[], Prepared],
        item: ImportItem,
        seen_hashes: set[str],
        finish: Callable[[ImageRecord | None, Rejection | None], None],
    ) -> None:
        prepared = self._accept(fut, item, seen_hashes, finish)
        if prepared is not None and self._commit_one(item, prepared, finish):
            seen_hashes.add(prepared.sha256)

    def _commit_one(
        self,
        item: ImportItem,
        prepared: Prepared,
        finish: Callable[[ImageRecord | None, Rejection | None], None],
    ) -> bool:
        """Commits one prepared file on its own; whether it was added."""
        if self._cancel.is_set():
            self.library.discard(prepared)
            return False
        try:
            record = self.library.commit(prepared, folder=item.folder)
        except LibraryError as exc:
            # Refused before its copy was taken over (a folder the library cannot hold):
            # the copy and the thumbnail go here.
            self.library.discard(prepared)
            finish(None, Rejection(item.path, exc.code, exc.message))
            if isinstance(exc, StorageError):
                self._cancel.set()  # a full or read-only disk fails every next one
            return False
        finish(record, None)
        return True

    def run(self, progress: Progress | None = None) -> ImportReport:
        report = ImportReport(total=len(self.items), rejected=list(self.skipped))
        seen_hashes: set[str] = set()
        pending: dict[Future[Prepared], ImportItem] = {}
        queue = iter(self.items)
        done = 0

        def finish(record: ImageRecord | None, rejection: Rejection | None) -> None:
            nonlocal done
            done += 1
            if record is not None:
                report.added.append(record)
            if rejection is not None:
                report.rejected.append(rejection)
            if progress is not None:
                progress(done, report.total, record, rejection)

        if self.processes:
            self._run_in_processes(seen_hashes, finish)
            report.cancelled = self._cancel.is_set()
            return report

        with ThreadPoolExecutor(self.workers, thread_name_prefix="import") as pool:

            def refill() -> None:
                # A bounded window keeps tmp/ and memory small on huge imports.
                while len(pending) < self.workers * 2 and not self._cancel.is_set():
                    item = next(queue, None)
                    if item is None:
                        return
                    pending[pool.submit(self._prepare, item)] = item

            refill()
            while pending:
                # Committed in the order given (prepared in parallel, up to the window
                # ahead): an import lands in the library in its own order.
                fut = next(iter(pending))
                item = pending.pop(fut)
                self._commit(fut.result, item, seen_hashes, finish)
                refill()
        report.cancelled = self._cancel.is_set()
        return report

    def _run_in_processes(
        self,
        seen_hashes: set[str],
        finish: Callable[[ImageRecord | None, Rejection | None], None],
    ) -> None:
        """Copied, hashed, decoded and read in worker processes (decode_workers.py),
        committed here in the order given, a batch per transaction (``intake_batch``)
        where the storage allows: each file is reported only once its batch committed."""
        tmp_dir = str(self.library.core.tmp_dir)
        core = self.library.core
        batching = group_commit.can_batch(core)
        batch: list[tuple[ImportItem, Prepared, Future[Any]]] = []
        started = 0.0
        flushed = False

        def unused(result: Examined | Refused) -> None:
            if isinstance(result, Examined) and result.tmp is not None:
                result.tmp.unlink(missing_ok=True)
                if result.thumbnail_etag:  # written for it by the worker
                    with contextlib.suppress(Exception):
                        core.forget_thumbnail_if_unused(result.sha256)

        # The workers store the thumbnails where the library keeps them in a folder: a
        # write and an fsync a photo off this process (its threads share the window's GIL).
        derived = core.thumbnails.files
        thumbs_root = (
            os.fspath(derived.root) if batching and isinstance(derived, FolderDerived) else None
        )

        # A worker waits for its copy's fsync now and then: one more than the cores keeps
        # both busy meanwhile (adoption writes nothing in its workers, so it needs none).
        workers = self.workers if self._workers_given else worker_count() + 1
        # The thumbnails are written (and fsynced) by a few threads while the next photos
        # arrive: one after the other here, their fsyncs were a third of each file's turn.
        with (
            WorkerPool(workers) as pool,
            ThreadPoolExecutor(4, thread_name_prefix="import-thumbnails") as thumbnail_writers,
        ):
            try:
                for item, result in pool.run(
                    examine_copy,
                    self.items,
                    lambda it: (str(it.path), tmp_dir, thumbs_root),
                    lambda it: it.path,
                    stop=self._cancel.is_set,
                    unused=unused,
                ):
                    if self._cancel.is_set():
                        unused(result)
                        continue
                    if not batching:
                        fut = partial(self._from_worker, item, result)
                        self._commit(fut, item, seen_hashes, finish)
                        continue
                    fut = partial(self._from_worker, item, result, batched=True)
                    in_cache = isinstance(result, Examined) and result.thumbnail_in_cache
                    prepared = self._accept(
                        fut, item, seen_hashes, finish, batched=True, thumbnail_stored=in_cache
                    )
                    if prepared is None:
                        continue
                    assert isinstance(result, Examined) and result.info is not None
                    seen_hashes.add(prepared.sha256)  # a twin later in the import: refused
                    if not batch:
                        started = time.monotonic()
                    stored = _thumbnail_of(core, result, thumbnail_writers)
                    batch.append((item, prepared, stored))
                    if (
                        not flushed  # the first photo shows at once
                        or len(batch) >= self.batch_files
                        or time.monotonic() - started >= self.batch_seconds
                    ):
                        self._flush(batch, seen_hashes, finish)
                        batch, flushed = [], True
                if batch:
                    self._flush(batch, seen_hashes, finish)
                    batch = []
            finally:
                for _item, prepared, stored in batch:  # a failure or a stop: never committed
                    with contextlib.suppress(Exception):
                        stored.result()
                    self.library.discard(prepared)

    def _flush(
        self,
        batch: list[tuple[ImportItem, Prepared, Future[Any]]],
        seen_hashes: set[str],
        finish: Callable[[ImageRecord | None, Rejection | None], None],
    ) -> None:
        ready: list[tuple[ImportItem, Prepared]] = []
        for item, prepared, stored in batch:
            try:
                with files.disk_errors("save the thumbnail"):
                    stored.result()
            except LibraryError as exc:
                self.library.discard(prepared)
                seen_hashes.discard(prepared.sha256)
                finish(None, Rejection(item.path, exc.code, exc.message))
            else:
                ready.append((item, prepared))
        if self._cancel.is_set():
            for _item, prepared in ready:
                self.library.discard(prepared)
            return
        if not self.allow_duplicates:
            ready = self._refuse_known(ready, finish)
        if not ready:
            return
        try:
            records = intake_batch.commit_many(
                self.library.core, [(prepared, item.folder) for item, prepared in ready]
            )
        except Exception as exc:
            if self.library.closed:
                raise
            # One that does not fit must not cost the others: each alone, as before.
            log.warning("a batch of %d imports failed (%s); committing one by one", len(ready), exc)
            for item, prepared in ready:
                if not self._commit_one(item, prepared, finish):
                    seen_hashes.discard(prepared.sha256)
            return
        for (_item, _prepared), record in zip(ready, records, strict=True):
            finish(record, None)

    def _refuse_known(
        self,
        ready: list[tuple[ImportItem, Prepared]],
        finish: Callable[[ImageRecord | None, Rejection | None], None],
    ) -> list[tuple[ImportItem, Prepared]]:
        """``ready`` less the files already in the library (each refused as a duplicate):
        one read for the batch, where a read a file was, on the import thread, as much
        as the batch's whole commit. A twin within the import is refused as it arrives
        (``_accept``), and so is a later copy of one found here."""
        with self.library.core.read() as conn:
            known = rows.first_places_by_hash(conn, [p.sha256 for _item, p in ready])
        if not known:
            return ready
        self._in_library.update(known)
        kept: list[tuple[ImportItem, Prepared]] = []
        for item, prepared in ready:
            place = known.get(prepared.sha256)
            if place is None:
                kept.append((item, prepared))
                continue
            prepared.tmp.unlink(missing_ok=True)  # its twin's thumbnail was left as it was
            err = Duplicate(f"The same image is already in the library as {place[1]}.", place[0])
            finish(None, Rejection(item.path, err.code, err.message))
        return kept


# What a batch waits on for a thumbnail a worker stored: nothing.
_DONE: Future[Any] = Future()
_DONE.set_result(None)


def _thumbnail_of(core: Core, result: Examined, writers: ThreadPoolExecutor) -> Future[Any]:
    """A batched import's thumbnail: noted where its worker stored it, else written by
    one of ``writers`` (a library whose derived files are not in a folder)."""
    info = result.info
    assert info is not None
    if not result.thumbnail_in_cache:
        return writers.submit(
            _store_thumbnail, core, result.sha256, info.thumbnail, info.thumbnail_type
        )
    if result.thumbnail_etag:  # written now, not found there
        core.thumbnails.note_stored(
            result.sha256, info.thumbnail_type, len(info.thumbnail), result.thumbnail_etag
        )
    return _DONE


def _store_thumbnail(core: Core, sha256: str, data: bytes, content_type: str) -> None:
    """A batched import's thumbnail, stored before its duplicate check: where one of the
    same content is kept (a twin already in the library) it is left as it is, never
    replaced under a reader (its ETag and size stay what the server answered)."""
    if not core.thumbnails.files.exists(thumbnails.key_of(sha256, content_type)):
        core.thumbnails.store(sha256, data, content_type)
