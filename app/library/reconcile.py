"""Folder and database brought back into agreement: after a crash, after changes made
while the library was closed, and (for a few paths at a time) by the watcher.

Cheap first: a file whose size and mtime match its row is trusted without reading it.
Only files that are new or changed are hashed, and a new file whose hash matches a row
whose file went missing is that image moved, so it keeps its id and alt text.

Every step re-checks under the write lock before it changes anything, so the app's own
writes (placed and committed under that lock) are found already known, never echoed."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import exif_read, file_steps, files
from .adoption import BatchAdoption, new_record
from .core import Core
from .decode_workers import MIN_FILES_FOR_PROCESSES, Examined
from .disk_scan import DiskFile, KnownRow, in_scope, split, storable
from .errors import LibraryError, StorageError
from .events import Event, EventKind
from .progress_estimate import ProgressLog
from .records import now_us
from .sql import disk_rows, rows

log = logging.getLogger(__name__)

# Beyond this many paths one pass over all rows is cheaper than a query per path.
_SCOPED_QUERY_LIMIT = 64


class Reconciler:
    def __init__(
        self,
        core: Core,
        *,
        hold_doubtful: bool = False,
        stop: threading.Event | None = None,
    ) -> None:
        """``hold_doubtful``: a known image whose file is, for now, missing or not a valid
        image is left as it is and listed in ``held`` instead of being tombstoned: the
        watcher may be looking half-way through an in-place save, or at the first half
        of a move the platform reports as a delete and, later, a create. The watcher
        asks again later and lets go only once nothing changed meanwhile.

        ``stop``: once set (or once the library is closed) the run ends after the file at
        hand, raising ``LibraryError``; every step done so far is complete."""
        self.core = core
        self.hold_doubtful = hold_doubtful
        self.stop = stop
        self.held: set[str] = set()
        # Tests set these to take the worker-process path with a few files.
        self.min_files_for_processes = MIN_FILES_FOR_PROCESSES
        self.workers: int | None = None

    # --- what is where -------------------------------------------------------------------

    def known_rows(self, scope: list[str] | None = None) -> dict[str, KnownRow]:
        wanted = None if scope is None else {p for p in scope if storable(p)}
        out: dict[str, KnownRow] = {}
        with self.core.read() as conn:
            if wanted is None or "" in wanted or len(wanted) > _SCOPED_QUERY_LIMIT:
                found = disk_rows.all_known(conn)
            else:
                # A few paths (the watcher's usual batch): only the rows they can hold.
                found = (t for rel in wanted for t in disk_rows.known_under(conn, rel))
            if wanted is None:
                return {t[1]: KnownRow._make(t) for t in found}
            for t in found:
                if in_scope(t[1], wanted):
                    out[t[1]] = KnownRow._make(t)
        return out

    def ignored(self) -> dict[str, tuple[int, int]]:
        with self.core.read() as conn:
            return disk_rows.ignored(conn)

    # --- the run -------------------------------------------------------------------------

    def run(
        self,
        progress: Callable[[int, int], None] | None = None,
        scope: list[str] | None = None,
        source: str = "disk",
        skip: set[str] | None = None,
    ) -> int:
        """Reconciles everything (or ``scope``: relative paths of files or folders).
        ``skip``: files to leave alone this time (the watcher's files still being
        written). Returns how many images changed.

        Raises ``StorageError`` when the library folder itself is gone (a drive
        unplugged, the folder moved or deleted): an absent folder is not a folder of
        deleted images, and nothing is tombstoned."""
        if not (self.core.root.is_dir() and self.core.meta.is_dir()):
            raise StorageError(
                f"The library folder {self.core.root} is no longer there (moved, deleted "
                "or on a drive that was disconnected)."
            )
        if scope is None:
            # Only a whole run may finish moves: a scoped one could race the app's own.
            file_steps.finish_pending_moves(self.core)
        disk = self.core.storage.list_files(scope)
        rows = self.known_rows(scope)
        for rel in skip or ():
            disk.pop(rel, None)
            rows.pop(rel, None)
        ignored = self.ignored()

        missing = [row for rel, row in rows.items() if rel not in disk]
        # One pass over the folder's files (every image's, at every start-up), and only
        # the new ones sorted: sorting all 100,000 to find none new was ≈ 10 % of an open.
        changed: list[tuple[KnownRow, DiskFile]] = []
        unknown: list[DiskFile] = []
        for rel, f in disk.items():
            row = rows.get(rel)
            if row is None:
                if ignored.get(rel) != (f.size, f.mtime_ns):
                    unknown.append(f)
            elif row.size != f.size or row.mtime_ns != f.mtime_ns:
                changed.append((row, f))
        unknown.sort()  # by path: a folder adopted in the order a person lists it
        total = len(changed) + len(unknown) + len(missing)
        done = 0
        changes = 0
        logged = ProgressLog(log, "Checking the library folder")

        def tick() -> None:
            nonlocal done
            done += 1
            logged(done, total)
            if progress is not None:
                progress(done, total)
            if self.core.closed or (self.stop is not None and self.stop.is_set()):
                raise LibraryError("The reconciliation stopped: the library is closing.")

        if progress is not None:
            progress(0, total)

        for row, f in changed:
            changes += self.step(self._refresh, row, f, source)
            tick()

        missing_by_hash: dict[str, list[KnownRow]] = {}
        for row in missing:
            missing_by_hash.setdefault(row.sha256, []).append(row)
        if len(unknown) >= self.min_files_for_processes:
            # Many new files (a photo folder opened as a library): decoded in worker
            # processes, committed in batches (adoption.py).
            changes += BatchAdoption(
                self, source, tick, scoped=scope is not None, workers=self.workers
            ).run(unknown, missing, missing_by_hash, rows)
        else:
            changes += self._adopt_few(unknown, missing, missing_by_hash, rows, source, tick)

        for row in missing:
            if self.hold_doubtful:
                self.held.add(row.relpath)
            else:
                changes += self.step(self._tombstone_missing, row, source)
            tick()

        self._forget_ignored_not_on_disk(disk, scope)
        return changes

    def _adopt_few(
        self,
        unknown: list[DiskFile],
        missing: list[KnownRow],
        missing_by_hash: dict[str, list[KnownRow]],
        rows: dict[str, KnownRow],
        source: str,
        tick: Callable[[], None],
    ) -> int:
        """A few new files, in this process: hashed in parallel (hashlib and Pillow
        release the GIL), each adopted (decoded) or followed as a move alone."""
        changes = 0
        pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 2))
        try:
            hashed = pool.map(self._hash, unknown)
            for f, sha in zip(unknown, hashed, strict=True):
                if sha is None:
                    tick()
                    continue
                candidates = missing_by_hash.get(sha)
                if candidates:
                    # Identical copies moved together (a renamed folder): keep each id
                    # with the file of the same name where there is one.
                    same_name = [c for c in candidates if split(c.relpath)[1] == f.filename]
                    moved_row = (same_name or candidates)[0]
                    candidates.remove(moved_row)
                    changes += self.step(self.follow_move, moved_row, f, source)
                    missing.remove(moved_row)
                    tick()  # the vanished file is accounted for by the one found
                else:
                    vanished = self.vanished_elsewhere(sha, f, rows)
                    if vanished is not None:
                        changes += self.step(self.follow_move, vanished, f, source)
                    else:
                        changes += self.step(self.adopt, f, sha, source)
                tick()
        finally:
            # A stop mid-way must not wait for every remaining file to be hashed.
            pool.shutdown(wait=True, cancel_futures=True)
        return changes

    # --- the single steps ----------------------------------------------------------------

    def step(self, step: Callable[..., int], *args: Any) -> int:
        """One file's step; a failure there (a disk error, an odd file) is logged and the
        others go on. Each step commits alone, so a failed one changed nothing."""
        try:
            return step(*args)
        except Exception as exc:
            if self.core.closed:
                raise
            log.warning("could not reconcile %s: %s", getattr(args[0], "relpath", args[0]), exc)
            return 0

    def _hash(self, f: DiskFile) -> str | None:
        try:
            return files.hash_file(self.core.root / f.relpath)[1]
        except OSError:
            return None

    def vanished_elsewhere(
        self, sha: str, f: DiskFile, considered: dict[str, KnownRow]
    ) -> KnownRow | None:
        """A row outside this run's scope with the same content whose file is gone: the
        new file is that image moved, even though the platform has not (yet) told us
        about the other half of the move."""
        with self.core.read() as conn:
            same = list(disk_rows.settled_with_hash(conn, sha))
        gone = [
            KnownRow(*t)
            for t in same
            if t[1] not in considered and not (self.core.root / t[1]).exists()
        ]
        same_name = [r for r in gone if split(r.relpath)[1] == f.filename]
        return (same_name or gone)[0] if gone else None

    def current(self, f: DiskFile) -> DiskFile | None:
        """The file as it is now (it may have changed since the scan)."""
        try:
            st = (self.core.root / f.relpath).stat()
        except OSError:
            return None
        return DiskFile(f.relpath, st.st_size, st.st_mtime_ns)

    def adopt(self, f: DiskFile, sha: str, source: str) -> int:
        path = self.core.root / f.relpath
        folder, name = split(f.relpath)
        with self.core.read() as conn:
            if rows.exists_at(conn, folder, name):
                return 0  # the app's own file, committed since the scan: no need to decode
        from . import imaging  # Pillow, imported on first use: see imaging.py

        try:
            info = imaging.inspect_path(path)
        except LibraryError as exc:
            self.ignore(f, exc.code)
            return 0
        except OSError:
            return 0
        described, exif = exif_read.texts_and_facts(path, info.format.content_type)
        with contextlib.suppress(OSError):
            self.core.thumbnails.store(sha, info.thumbnail, info.thumbnail_type)
        with self.core.write_lock:
            now_file = self.current(f)
            if now_file != f:
                return 0  # gone or changed since it was hashed: its next event tells
            assert now_file is not None
            with self.core.write() as conn:
                if rows.exists_at(conn, folder, name):
                    return 0  # the app itself wrote it, a moment before we looked
                examined = Examined(now_file.size, now_file.mtime_ns, sha, info, described, exif)
                record = new_record(now_file, examined)
                rows.insert(conn, record, now_file.mtime_ns)
                disk_rows.unignore(conn, [f.relpath])
        self.core.events.emit(Event(EventKind.ADDED, record.id, record, source=source))
        return 1

    def _refresh(self, row: KnownRow, f: DiskFile, source: str) -> int:
        """A known file whose size or mtime changed: edited outside, or only touched."""
        path = self.core.root / f.relpath
        try:
            size, sha = files.hash_file(path)
        except OSError:
            return 0
        if sha == row.sha256:
            with self.core.write() as conn:
                rows.set_stat(conn, row.id, sha, f.size, f.mtime_ns)
            return 0
        from . import imaging  # Pillow, imported on first use: see imaging.py

        try:
            info = imaging.inspect_path(path)
        except (LibraryError, OSError):
            if self.hold_doubtful:
                self.held.add(f.relpath)
                return 0
            # No longer an image we accept: the image is gone; the file is left alone.
            changed = self._tombstone_missing(row, source, file_may_remain=True)
            self.ignore(f, "replaced_by_invalid_file")
            return changed
        # An edit may change both.
        described, exif = exif_read.texts_and_facts(path, info.format.content_type)
        with contextlib.suppress(OSError):
            self.core.thumbnails.store(sha, info.thumbnail, info.thumbnail_type)
        with self.core.write() as conn:
            before = rows.get(conn, row.id)
            now_file = self.current(f)
            if (
                before is None
                or before.relpath != row.relpath
                or before.sha256 != row.sha256
                or now_file is None
                or now_file.size != size
            ):
                return 0  # changed again meanwhile; the next look will see it as it is
            # An image still undescribed takes the description the edited file carries
            # (IPTC alt text written by another tool); a description given here stays.
            text_from_file = None
            if before.alt_text is None and described.alt_text is not None:
                long = before.long_description or described.long_description
                text_from_file = (before, described.alt_text, long)
            rows.set_content(
                conn,
                row.id,
                size=size,
                mtime_ns=now_file.mtime_ns,
                sha256=sha,
                width=info.width,
                height=info.height,
                content_type=info.format.content_type,
                now=now_us(),
                described=text_from_file,
                exif=exif,
            )
            after = rows.get(conn, row.id)
        self.core.forget_thumbnail_if_unused(row.sha256)
        self.core.events.emit(Event(EventKind.UPDATED, row.id, after, before, source=source))
        return 1

    def follow_move(self, row: KnownRow, f: DiskFile, source: str) -> int:
        folder, name = split(f.relpath)
        with self.core.write() as conn:
            before = rows.get(conn, row.id)
            if (
                before is None
                or before.relpath != row.relpath
                or (self.core.root / row.relpath).exists()
                or self.current(f) is None
                or rows.exists_at(conn, folder, name)
            ):
                return 0  # the app moved or wrote it meanwhile: not an outside move
            now = max(now_us(), before.updated_at_us + 1)
            rows.set_place(conn, before, folder, name, now, stat=(f.size, f.mtime_ns))
            after = rows.get(conn, row.id)
        self.core.events.emit(Event(EventKind.UPDATED, row.id, after, before, source=source))
        return 1

    def _tombstone_missing(
        self, row: KnownRow, source: str, *, file_may_remain: bool = False
    ) -> int:
        with self.core.write_lock:
            # Re-check under the lock: the app may have moved it meanwhile.
            with self.core.read() as conn:
                current = rows.get(conn, row.id)
            if current is None or current.relpath != row.relpath:
                return 0
            if current.sha256 != row.sha256:
                return 0
            if not file_may_remain and (self.core.root / row.relpath).exists():
                return 0
            with self.core.write() as conn:
                rows.tombstone(conn, row.id, now_us())
        self.core.forget_thumbnail_if_unused(row.sha256)
        self.core.events.emit(Event(EventKind.DELETED, row.id, None, current, source=source))
        return 1

    def ignore(self, f: DiskFile, reason: str) -> None:
        # Said once: the file is not looked at again until its size or mtime changes.
        log.info("left alone, not an image the library accepts: %s (%s)", f.relpath, reason)
        with self.core.write() as conn:
            disk_rows.ignore(conn, f.relpath, f.size, f.mtime_ns, reason)

    def _forget_ignored_not_on_disk(
        self, disk: dict[str, DiskFile], scope: list[str] | None
    ) -> None:
        wanted = None if scope is None else set(scope)
        stale = [p for p in self.ignored() if in_scope(p, wanted) and p not in disk]
        if stale:
            with self.core.write() as conn:
                disk_rows.unignore(conn, stale)
