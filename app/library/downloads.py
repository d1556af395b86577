"""Download jobs (contract Part 2, "Bulk downloads"): ``library.downloads``.

A job is asked for by ids or by folder. Its list of entries — which image, its file, the
name it gets in the archive (``downloads_names``) — is frozen in one read transaction
and stored with the job row (``PENDING``), so the archive never depends on what happens
to the library later, and a restart keeps the job. A background thread then prepares
it (``PROCESSING``): it reads every file once to compute its CRC-32 and record the size
and mtime it read; from these the archive's every header and exact size follow, and the
job is ``READY`` (or ``FAILED`` with the reason, say an unreadable disk). An image whose
file vanished before it was read joins ``missing``; one moved meanwhile is read where it
is now (the name it was frozen with stays).

The archive (``archive`` → ``Archive.stream``) is a seekable stream laid out by
``downloads_zip`` over ``downloads_source``, which checks every file against what was
read while it streams. Jobs expire ``DOWNLOAD_KEEP_S`` after they were made (``Gone``);
the housekeeper drops their entries then, and their rows ``DOWNLOAD_TOMBSTONE_S``
later (then ``NotFound``). The job rows are bookkeeping, like idempotency keys: written
in their own short transactions, never under the library's write lock."""

from __future__ import annotations

import collections
import enum
import logging
import os
import queue
import threading
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Final

from . import rules
from .core import Core
from .downloads_names import name_in_archive, unique_entry_names
from .downloads_source import FrozenFile, OriginalsSource
from .downloads_zip import ArchiveLayout, ArchiveStream, ZipEntry
from .errors import Gone, InvalidInput, LibraryError, NotFound, NotReady, StorageError
from .folder_limit import FolderLimit
from .records import now_us
from .sql import download_rows, owners
from .sql.download_rows import EntryRow, JobRow
from .sql.engine import database_errors, write_transaction
from .storage import Storage

log = logging.getLogger(__name__)


class _Absent(enum.Enum):
    """A keyword not given (``None`` is a value: the folder at the top level)."""

    ABSENT = "absent"


_ABSENT: Final = _Absent.ABSENT
_READ_BLOCK: Final = 1024 * 1024
_CACHED_ARCHIVES: Final = 4


class JobStatus(enum.StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    READY = "READY"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class DownloadJob:
    id: str
    status: JobStatus
    error: str | None
    count: int  # images in the archive
    size: int | None  # the archive's exact byte count once READY
    missing: list[str]
    created_at_us: int
    expires_at_us: int

    @classmethod
    def of(cls, row: JobRow) -> DownloadJob:
        return cls(
            row.id,
            JobStatus(row.status),
            row.error,
            row.count,
            row.size,
            row.missing,
            row.created_at,
            row.expires_at,
        )


@dataclass(frozen=True, slots=True)
class Archive:
    """A READY job's archive: its layout and the files it reads."""

    job: DownloadJob
    layout: ArchiveLayout
    files: tuple[FrozenFile, ...]
    core: Core

    @property
    def size(self) -> int:
        return self.layout.size

    def _locate(self, image_id: str) -> str | None:
        try:
            return self.core.get(image_id).relpath
        except LibraryError:
            return None

    def stream(self, start: int = 0, end: int | None = None) -> ArchiveStream:
        """The bytes ``start`` .. ``end`` (exclusive; the whole archive by default), read
        as they are asked for. Not thread-safe: one stream per response."""
        source = OriginalsSource(self.core.storage, self.files, self.job.id, self._locate)
        return ArchiveStream(self.layout, source, start, end)


_DONE: Final = (JobStatus.READY, JobStatus.FAILED)


class DownloadJobs:
    def __init__(self, core: Core) -> None:
        self.core = core
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._guard = threading.Lock()
        self._archives: collections.OrderedDict[str, Archive] = collections.OrderedDict()

    # --- asking ----------------------------------------------------------------------------

    def create(
        self,
        *,
        image_ids: object = _ABSENT,
        folder: object = _ABSENT,
        recursive: object = False,
        within: FolderLimit | None = None,
    ) -> DownloadJob:
        """A new job of ``image_ids`` (1..10,000 ids; unknown or deleted ones become
        ``missing``) or of the images of ``folder`` (``None``/``""``: the root; with
        ``recursive`` the folders below it too; a folder without images is ``NotFound``).
        ``InvalidInput`` for anything else; nothing is stored then. ``within``: an API
        key's folders; images outside them are as if they were not there (missing, or
        not in the folder)."""
        missing: list[str] = []
        with database_errors("read the images to download"), self.core.read() as conn:
            if image_ids is not _ABSENT:
                if folder is not _ABSENT or recursive is not False:
                    raise InvalidInput(
                        "Send either image_ids or folder (with recursive), not both."
                    )
                ids = rules.check_bulk_ids(image_ids, rules.MAX_DOWNLOAD_IDS)
                found = download_rows.sources_by_id(conn, ids)
                if within is not None:
                    found = {i: s for i, s in found.items() if within.allows(s.folder)}
                sources = [found[i] for i in ids if i in found]
                missing = [i for i in ids if i not in found]
            elif folder is not _ABSENT:
                if not isinstance(recursive, bool):
                    raise InvalidInput("recursive must be true or false.")
                where = rules.normalize_folder(folder)
                limit = rules.MAX_DOWNLOAD_ENTRIES
                sources = download_rows.sources_in_folder(conn, where, recursive, limit + 1)
                if within is not None:
                    sources = [s for s in sources if within.allows(s.folder)]
                if len(sources) > limit:
                    raise InvalidInput(
                        f"An archive holds at most {limit:,} images; this folder has more. "
                        "Ask for its sub-folders one by one."
                    )
                if not sources:
                    raise NotFound(f"There are no images in the folder {where or '(root)'!r}.")
            else:
                raise InvalidInput(
                    'Send {"image_ids": [...]} or {"folder": "...", "recursive": false}.'
                )
        names = unique_entry_names(name_in_archive(s.folder, s.filename) for s in sources)
        entries = [
            EntryRow(n, s.image_id, s.relpath, name, s.size, s.mtime_ns, s.sha256, None)
            for n, (s, name) in enumerate(zip(sources, names, strict=True))
        ]
        now = now_us()
        row = JobRow(
            rules.new_download_id(),
            JobStatus.PENDING,
            None,
            len(entries),
            None,
            missing,
            now,
            now + rules.DOWNLOAD_KEEP_S * 1_000_000,
        )
        with database_errors("save the download job"), write_transaction(self.core.engine) as c:
            download_rows.insert_job(c, row, entries)
        self._submit(row.id)
        return DownloadJob.of(row)

    def get(self, job_id: str) -> DownloadJob:
        """The job; ``NotFound`` for an unknown id, ``Gone`` once it expired."""
        if not isinstance(job_id, str) or not rules.is_download_id(job_id):
            raise NotFound(f"There is no download job with id {job_id!r}.")
        with database_errors("read the download job"), self.core.read() as conn:
            row = download_rows.get_job(conn, job_id)
        if row is None:
            raise NotFound(f"There is no download job with id {job_id}.")
        if row.expires_at <= now_us():
            raise Gone(f"The download job {job_id} has expired; ask for a new one.")
        return DownloadJob.of(row)

    def wait(self, job_id: str, timeout: float) -> DownloadJob:
        """The job once it is READY or FAILED, or as it is after ``timeout`` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self.get(job_id).status in _DONE, timeout)
        return self.get(job_id)

    def archive(self, job_id: str) -> Archive:
        """The archive of a READY job; ``NotReady`` while it is prepared or if it failed."""
        job = self.get(job_id)
        if job.status is JobStatus.FAILED:
            raise NotReady(f"The download job {job_id} failed: {job.error}")
        if job.status is not JobStatus.READY:
            raise NotReady(f"The archive of {job_id} is being prepared; ask again shortly.")
        with self._guard:
            cached = self._archives.get(job_id)
            if cached is not None:
                self._archives.move_to_end(job_id)
                return cached
        with database_errors("read the download job"), self.core.read() as conn:
            rows = download_rows.entries(conn, job_id)
        files = tuple(
            FrozenFile(e.image_id, e.relpath, e.size, e.mtime_ns, e.crc32 or 0) for e in rows
        )
        layout = ArchiveLayout(
            [ZipEntry(e.name, e.size, e.crc32 or 0, e.mtime_ns // 1_000_000_000) for e in rows]
        )
        archive = Archive(job, layout, files, self.core)
        with self._guard:
            self._archives[job_id] = archive
            while len(self._archives) > _CACHED_ARCHIVES:
                self._archives.popitem(last=False)
        return archive

    # --- the preparing thread ------------------------------------------------------------

    def resume(self, alive: set[int] | None = None) -> int:
        """Jobs a stop or kill left unprepared are prepared (again): at open, all of them
        (``alive`` None: a folder library has one process); on a team library those
        whose owner is not in ``alive`` (``sql/owners.py``), each taken over first, so
        a job a live process is preparing is left to it. Returns how many."""
        with self.core.read() as conn:
            unfinished = download_rows.unfinished_jobs(conn)
        taken = 0
        for job_id, owner in unfinished:
            if alive is not None:
                if not owners.is_dead(owner, alive):
                    continue
                with write_transaction(self.core.engine) as conn:
                    if not download_rows.take_over(conn, job_id, owner):
                        continue  # another process took it first
            self._submit(job_id)
            taken += 1
        return taken

    def _submit(self, job_id: str) -> None:
        with self._guard:
            if self._stop.is_set():
                return
            self._queue.put(job_id)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="imageshelf-downloads", daemon=True
                )
                self._thread.start()

    def close(self) -> None:
        with self._guard:
            self._stop.set()
            thread, self._thread = self._thread, None
        self._queue.put(None)
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self) -> None:
        while (job_id := self._queue.get()) is not None and not self._stop.is_set():
            try:
                self._prepare(job_id)
            except _Stopped:
                return  # left PROCESSING: prepared again at the next open
            except Exception as exc:  # never kill the thread: the next job still runs
                log.exception("Preparing the download %s failed", job_id)
                self._fail(job_id, f"The archive could not be prepared ({exc}).")
            with self._changed:
                self._changed.notify_all()

    def _prepare(self, job_id: str) -> None:
        with write_transaction(self.core.engine) as conn:
            download_rows.set_status(conn, job_id, JobStatus.PROCESSING)
        with self.core.read() as conn:
            row = download_rows.get_job(conn, job_id)
            entries = download_rows.entries(conn, job_id)
        if row is None:
            return
        prepared: list[EntryRow] = []
        dropped: list[EntryRow] = []
        try:
            for entry in entries:
                read = self._read_entry(entry)
                (prepared if read is not None else dropped).append(read or entry)
        except (LibraryError, OSError) as exc:
            self._fail(job_id, str(exc) if isinstance(exc, LibraryError) else f"{exc}")
            return
        layout = ArchiveLayout(
            [ZipEntry(e.name, e.size, e.crc32 or 0, e.mtime_ns // 1_000_000_000) for e in prepared]
        )
        missing = row.missing + [e.image_id for e in dropped]
        with write_transaction(self.core.engine) as conn:
            download_rows.finish(conn, job_id, prepared, dropped, missing, layout.size)

    def _read_entry(self, entry: EntryRow) -> EntryRow | None:
        """The entry as its file is now (size, mtime, CRC-32); ``None`` when the
        image or its file is gone. A file moved since the list was frozen is looked for
        where its row says it is now."""
        relpath = entry.relpath
        for _attempt in range(3):
            try:
                return self._read_file(entry, relpath)
            except FileNotFoundError:
                pass
            except _Changed:
                continue  # written to while we read it: read it again
            try:
                record = self.core.get(entry.image_id)
            except (NotFound, Gone):
                return None
            if record.relpath == relpath:
                return None  # its row says it is here, and it is not: missing
            relpath = record.relpath
        raise StorageError(f"{entry.relpath} kept changing while the archive was prepared.")

    def _read_file(self, entry: EntryRow, relpath: str) -> EntryRow:
        store = self.core.storage
        key = store.key(entry.image_id, relpath)
        try:
            fp = store.open(key)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise StorageError(f"{relpath} cannot be read: {exc.strerror or exc}.") from exc
        with fp:
            before = _stat(fp, store, key)
            crc, size = 0, 0
            while block := fp.read(_READ_BLOCK):
                if self._stop.is_set():
                    raise _Stopped
                crc = zlib.crc32(block, crc)
                size += len(block)
            after = _stat(fp, store, key)
        if before != after or size != after[0]:
            raise _Changed
        return EntryRow(
            entry.position,
            entry.image_id,
            relpath,
            entry.name,
            size,
            after[1],
            entry.sha256,  # the library's hash when the list was frozen (not re-hashed)
            crc,
        )

    def _fail(self, job_id: str, error: str) -> None:
        try:
            with write_transaction(self.core.engine) as conn:
                download_rows.set_status(conn, job_id, JobStatus.FAILED, error)
        except Exception:
            log.exception("Could not record that the download %s failed", job_id)

    # --- housekeeping --------------------------------------------------------------------

    def expire(self) -> int:
        """Drops what expired jobs kept (a housekeeping chore); returns how many expired."""
        with write_transaction(self.core.engine) as conn:
            expired = download_rows.expire(conn, now_us(), rules.DOWNLOAD_TOMBSTONE_S * 1_000_000)
        with self._guard:
            for job_id in expired:
                self._archives.pop(job_id, None)
        return len(expired)


class _Stopped(Exception):
    """The library is closing: the job is left to be prepared at the next open."""


class _Changed(Exception):
    """The file changed while it was read."""


def _stat(fp: BinaryIO, store: Storage, key: str) -> tuple[int, int]:
    """``(size, mtime_ns)`` of an open original: from its descriptor, or from the store
    for an object (which has none)."""
    try:
        st = os.fstat(fp.fileno())
    except (AttributeError, OSError, ValueError):
        return store.stat(key)
    return st.st_size, st.st_mtime_ns
