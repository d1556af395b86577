"""Folder and database brought back into agreement: after a crash, after changes made
while the library was closed, and (for a few paths at a time) by the watcher.

Cheap first: a file whose size and mtime match its row is trusted without reading it.
Only files that are new or changed are hashed, and a new file whose hash matches a row
whose file went missing is that image moved, so it keeps its id and alt text."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from . import files, imaging, queries, rules, xmp_read
from .errors import LibraryError, StorageError
from .events import Event, EventKind
from .records import folder_from_db, folder_to_db, now_us

if TYPE_CHECKING:
    from .library import Library

log = logging.getLogger(__name__)

# Beyond this many paths one pass over all rows is cheaper than a query per path.
_SCOPED_QUERY_LIMIT = 64


@dataclass(frozen=True, slots=True)
class DiskFile:
    relpath: str
    size: int
    mtime_ns: int

    @property
    def folder(self) -> str | None:
        return self.relpath.rsplit("/", 1)[0] if "/" in self.relpath else None

    @property
    def filename(self) -> str:
        return self.relpath.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class KnownRow:
    id: str
    relpath: str
    size: int
    mtime_ns: int
    sha256: str


def split(relpath: str) -> tuple[str | None, str]:
    if "/" in relpath:
        folder, name = relpath.rsplit("/", 1)
        return folder, name
    return None, relpath


def ancestors(relpath: str) -> list[str]:
    """``a/b/c.jpg`` → ``["a", "a/b"]``: the folders a path lies in."""
    parts = relpath.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def in_scope(relpath: str, scope: list[str] | set[str] | frozenset[str] | None) -> bool:
    """Whether ``relpath`` is one of ``scope``'s paths or lies in one of its folders.
    A set lookup per ancestor, so a batch of thousands of paths stays cheap."""
    if scope is None:
        return True
    wanted = scope if isinstance(scope, set | frozenset) else set(scope)
    if "" in wanted or relpath in wanted:
        return True
    return any(a in wanted for a in ancestors(relpath))


def storable(name: str) -> bool:
    """Names the platform could not decode (stray bytes on Linux) cannot be stored or
    served; such files are left alone rather than breaking the whole reconciliation."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Reconciler:
    def __init__(
        self,
        library: Library,
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
        self.lib = library
        self.hold_doubtful = hold_doubtful
        self.stop = stop
        self.held: set[str] = set()

    # --- what is where -------------------------------------------------------------------

    def scan_disk(self, scope: list[str] | None = None) -> dict[str, DiskFile]:
        """Every candidate image file under the library (or under ``scope``)."""
        found: dict[str, DiskFile] = {}
        starts = [""] if scope is None else scope
        for start in starts:
            base = self.lib.root / start if start else self.lib.root
            if base.is_file():
                self._consider_file(start, base, found)
            elif base.is_dir():
                self._walk(start, base, found)
        return found

    def _walk(self, rel: str, path: Path, found: dict[str, DiskFile]) -> None:
        if rel and not rules.is_valid_folder(rel):
            return  # hidden, too deep or badly named folders are not part of the library
        try:
            entries = list(os.scandir(path))
        except OSError:
            return
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            if not storable(entry.name):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != ".imageshelf":
                        self._walk(child, Path(entry.path), found)
                elif entry.is_file(follow_symlinks=False) and rules.is_adoptable_filename(
                    entry.name
                ):
                    st = entry.stat(follow_symlinks=False)
                    found[child] = DiskFile(child, st.st_size, st.st_mtime_ns)
            except OSError:
                continue

    def _consider_file(self, rel: str, path: Path, found: dict[str, DiskFile]) -> None:
        folder, name = split(rel)
        if folder is not None and not rules.is_valid_folder(folder):
            return
        if not storable(rel) or not rules.is_adoptable_filename(name) or path.is_symlink():
            return
        with contextlib.suppress(OSError):
            st = path.stat()
            found[rel] = DiskFile(rel, st.st_size, st.st_mtime_ns)

    def known_rows(self, scope: list[str] | None = None) -> dict[str, KnownRow]:
        wanted = None if scope is None else {p for p in scope if storable(p)}
        columns = "SELECT id, folder, filename, size, mtime_ns, sha256 FROM images"
        out: dict[str, KnownRow] = {}

        def keep(rows: Iterable[Any]) -> None:
            # Plain tuples: this runs once per image at every start-up.
            for image_id, folder, filename, size, mtime_ns, sha in rows:
                rel = f"{folder}/{filename}" if folder else filename
                if wanted is None or in_scope(rel, wanted):
                    out[rel] = KnownRow(image_id, rel, size, mtime_ns, sha)

        with self.lib.engine.connect() as conn:
            if wanted is None or "" in wanted or len(wanted) > _SCOPED_QUERY_LIMIT:
                # The driver's own cursor: SQLAlchemy's row objects cost ~10x per row.
                driver = conn.connection.driver_connection
                keep(driver.execute(columns) if driver is not None else conn.execute(text(columns)))
                return out
            # A few paths (the watcher's usual batch): ask only for the rows they can hold,
            # each question answered by an index (the path's unique key, or a range of
            # the folder index: "a/" <= folder < "a0" is everything inside "a/").
            for rel in wanted:
                folder, name = split(rel)
                keep(
                    conn.execute(
                        text(columns + " WHERE folder = :f AND filename = :n"),
                        {"f": folder_to_db(folder), "n": name},
                    )
                )
                keep(
                    conn.execute(
                        text(columns + " WHERE folder = :f OR (folder >= :lo AND folder < :hi)"),
                        {"f": rel, "lo": rel + "/", "hi": rel + "0"},
                    )
                )
        return out

    def ignored(self) -> dict[str, tuple[int, int]]:
        with self.lib.engine.connect() as conn:
            return {
                r.path: (r.size, r.mtime_ns)
                for r in conn.execute(text("SELECT path, size, mtime_ns FROM ignored_files"))
            }

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
        if not (self.lib.root.is_dir() and self.lib.meta.is_dir()):
            raise StorageError(
                f"The library folder {self.lib.root} is no longer there (moved, deleted "
                "or on a drive that was disconnected)."
            )
        if scope is None:
            # Only a whole run may finish moves: a scoped one could race the app's own.
            self._finish_pending_moves()
        disk = self.scan_disk(scope)
        rows = self.known_rows(scope)
        for rel in skip or ():
            disk.pop(rel, None)
            rows.pop(rel, None)
        ignored = self.ignored()

        missing = [row for rel, row in rows.items() if rel not in disk]
        changed = [
            (rows[rel], f)
            for rel, f in disk.items()
            if rel in rows and (rows[rel].size, rows[rel].mtime_ns) != (f.size, f.mtime_ns)
        ]
        unknown = [
            f
            for rel, f in disk.items()
            if rel not in rows and ignored.get(rel) != (f.size, f.mtime_ns)
        ]
        total = len(changed) + len(unknown) + len(missing)
        done = 0
        changes = 0

        def tick() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, total)
            if self.lib.closed or (self.stop is not None and self.stop.is_set()):
                raise LibraryError("The reconciliation stopped: the library is closing.")

        if progress is not None:
            progress(0, total)

        for row, f in changed:
            changes += self._step(self._refresh, row, f, source)
            tick()

        # Hash the new files in parallel (hashlib and Pillow release the GIL).
        missing_by_hash: dict[str, list[KnownRow]] = {}
        for row in missing:
            missing_by_hash.setdefault(row.sha256, []).append(row)
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
                    changes += self._step(self._follow_move, moved_row, f, source)
                    missing.remove(moved_row)
                    tick()  # the vanished file is accounted for by the one found
                else:
                    vanished = self._vanished_elsewhere(sha, f, rows)
                    if vanished is not None:
                        changes += self._step(self._follow_move, vanished, f, source)
                    else:
                        changes += self._step(self._adopt, f, sha, source)
                tick()
        finally:
            # A stop mid-way must not wait for every remaining file to be hashed.
            pool.shutdown(wait=True, cancel_futures=True)

        for row in missing:
            if self.hold_doubtful:
                self.held.add(row.relpath)
            else:
                changes += self._step(self._tombstone_missing, row, source)
            tick()

        self._forget_ignored_not_on_disk(disk, scope)
        return changes

    # --- the single steps ----------------------------------------------------------------

    def _step(self, step: Callable[..., int], *args: Any) -> int:
        """One file's step; a failure there (a disk error, an odd file) is logged and the
        others go on. Each step commits alone, so a failed one changed nothing."""
        try:
            return step(*args)
        except Exception as exc:
            if self.lib.closed:
                raise
            log.warning("could not reconcile %s: %s", getattr(args[0], "relpath", args[0]), exc)
            return 0

    def _hash(self, f: DiskFile) -> str | None:
        try:
            return files.hash_file(self.lib.root / f.relpath)[1]
        except OSError:
            return None

    def _vanished_elsewhere(
        self, sha: str, f: DiskFile, considered: dict[str, KnownRow]
    ) -> KnownRow | None:
        """A row outside this run's scope with the same content whose file is gone: the
        new file is that image moved, even though the platform has not (yet) told us
        about the other half of the move."""
        with self.lib.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, folder, filename, size, mtime_ns, sha256 FROM images "
                    "WHERE sha256 = :h AND pending_path IS NULL"
                ),
                {"h": sha},
            ).all()
        gone = []
        for image_id, folder, filename, size, mtime_ns, row_sha in rows:
            rel = f"{folder}/{filename}" if folder else filename
            if rel in considered or (self.lib.root / rel).exists():
                continue
            gone.append(KnownRow(image_id, rel, size, mtime_ns, row_sha))
        same_name = [r for r in gone if split(r.relpath)[1] == f.filename]
        return (same_name or gone or [None])[0]

    def _row_at(self, relpath: str) -> bool:
        folder, name = split(relpath)
        with self.lib.engine.connect() as conn:
            return (
                conn.execute(
                    text("SELECT 1 FROM images WHERE folder = :f AND filename = :n"),
                    {"f": folder_to_db(folder), "n": name},
                ).first()
                is not None
            )

    def _current(self, f: DiskFile) -> DiskFile | None:
        """The file as it is now (it may have changed since the scan)."""
        try:
            st = (self.lib.root / f.relpath).stat()
        except OSError:
            return None
        return DiskFile(f.relpath, st.st_size, st.st_mtime_ns)

    def _adopt(self, f: DiskFile, sha: str, source: str) -> int:
        path = self.lib.root / f.relpath
        if self._row_at(f.relpath):
            return 0  # the app's own file, committed since the scan: no need to decode it
        try:
            info = imaging.inspect_path(path)
        except LibraryError as exc:
            self._ignore(f, exc.code)
            return 0
        except OSError:
            return 0
        folder, name = split(f.relpath)
        described = xmp_read.describe_file(path, info.format.content_type)
        with contextlib.suppress(OSError):
            self.lib.thumbnails.store(sha, info.thumbnail, info.thumbnail_type)
        with self.lib._write_lock:
            now_file = self._current(f)
            if now_file != f:
                return 0  # gone or changed since it was hashed: its next event tells
            assert now_file is not None
            with self.lib._write() as conn:
                exists = conn.execute(
                    text("SELECT 1 FROM images WHERE folder = :f AND filename = :n"),
                    {"f": folder_to_db(folder), "n": name},
                ).first()
                if exists:
                    return 0  # the app itself wrote it, a moment before we looked
                now = now_us()
                image_id = rules.new_image_id()
                conn.execute(
                    text(
                        "INSERT INTO images (id, folder, filename, original_filename, "
                        "content_type, size, width, height, sha256, mtime_ns, alt_text, "
                        "long_description, search_text, created_at, updated_at) VALUES (:id, "
                        ":folder, :name, :name, :ctype, :size, :w, :h, :sha, :mtime, :alt, "
                        ":long, :search, :now, :now)"
                    ),
                    {
                        "id": image_id,
                        "folder": folder_to_db(folder),
                        "name": name,
                        "ctype": info.format.content_type,
                        "size": now_file.size,
                        "w": info.width,
                        "h": info.height,
                        "sha": sha,
                        "mtime": now_file.mtime_ns,
                        "alt": described.alt_text,
                        "long": described.long_description,
                        "search": queries.search_text(name, name, described.alt_text),
                        "now": now,
                    },
                )
                conn.execute(text("DELETE FROM ignored_files WHERE path = :p"), {"p": f.relpath})
                record = self.lib._row(conn, image_id)
        self.lib.events.emit(Event(EventKind.ADDED, image_id, record, source=source))
        return 1

    def _refresh(self, row: KnownRow, f: DiskFile, source: str) -> int:
        """A known file whose size or mtime changed: edited outside, or only touched."""
        path = self.lib.root / f.relpath
        try:
            size, sha = files.hash_file(path)
        except OSError:
            return 0
        if sha == row.sha256:
            with self.lib._write() as conn:
                conn.execute(
                    text(
                        "UPDATE images SET size = :s, mtime_ns = :m "
                        "WHERE id = :id AND sha256 = :sha"
                    ),
                    {"s": f.size, "m": f.mtime_ns, "id": row.id, "sha": sha},
                )
            return 0
        try:
            info = imaging.inspect_path(path)
        except (LibraryError, OSError):
            if self.hold_doubtful:
                self.held.add(f.relpath)
                return 0
            # No longer an image we accept: the image is gone; the file is left alone.
            changed = self._tombstone_missing(row, source, file_may_remain=True)
            self._ignore(f, "replaced_by_invalid_file")
            return changed
        described = xmp_read.describe_file(path, info.format.content_type)
        with contextlib.suppress(OSError):
            self.lib.thumbnails.store(sha, info.thumbnail, info.thumbnail_type)
        with self.lib._write() as conn:
            before = self.lib._row(conn, row.id)
            now_file = self._current(f)
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
            alt, long = before.alt_text, before.long_description
            if alt is None:
                alt = described.alt_text
                long = long if long is not None else described.long_description
            conn.execute(
                text(
                    "UPDATE images SET size = :s, mtime_ns = :m, sha256 = :sha, width = :w, "
                    "height = :h, content_type = :ct, alt_text = :alt, long_description = :long, "
                    "search_text = :search, updated_at = :now WHERE id = :id"
                ),
                {
                    "alt": alt,
                    "long": long,
                    "search": queries.search_text(before.filename, before.original_filename, alt),
                    "s": size,
                    "m": now_file.mtime_ns,
                    "sha": sha,
                    "w": info.width,
                    "h": info.height,
                    "ct": info.format.content_type,
                    "now": now_us(),
                    "id": row.id,
                },
            )
            after = self.lib._row(conn, row.id)
        self.lib._forget_thumbnail_if_unused(row.sha256)
        self.lib.events.emit(Event(EventKind.UPDATED, row.id, after, before, source=source))
        return 1

    def _follow_move(self, row: KnownRow, f: DiskFile, source: str) -> int:
        folder, name = split(f.relpath)
        with self.lib._write() as conn:
            before = self.lib._row(conn, row.id)
            if (
                before is None
                or before.relpath != row.relpath
                or (self.lib.root / row.relpath).exists()
                or self._current(f) is None
                or conn.execute(
                    text("SELECT 1 FROM images WHERE folder = :f AND filename = :n"),
                    {"f": folder_to_db(folder), "n": name},
                ).first()
            ):
                return 0  # the app moved or wrote it meanwhile: not an outside move
            conn.execute(
                text(
                    "UPDATE images SET folder = :f, filename = :n, mtime_ns = :m, size = :s, "
                    "search_text = :search, updated_at = :now WHERE id = :id"
                ),
                {
                    "f": folder_to_db(folder),
                    "n": name,
                    "m": f.mtime_ns,
                    "s": f.size,
                    "search": queries.search_text(name, before.original_filename, before.alt_text),
                    "now": max(now_us(), before.updated_at_us + 1),
                    "id": row.id,
                },
            )
            after = self.lib._row(conn, row.id)
        self.lib.events.emit(Event(EventKind.UPDATED, row.id, after, before, source=source))
        return 1

    def _tombstone_missing(
        self, row: KnownRow, source: str, *, file_may_remain: bool = False
    ) -> int:
        with self.lib._write_lock:
            # Re-check under the lock: the app may have moved it meanwhile.
            with self.lib.engine.connect() as conn:
                current = self.lib._row(conn, row.id)
            if current is None or current.relpath != row.relpath:
                return 0
            if current.sha256 != row.sha256:
                return 0
            if not file_may_remain and (self.lib.root / row.relpath).exists():
                return 0
            self.lib._tombstone(row.id)
        self.lib._forget_thumbnail_if_unused(row.sha256)
        self.lib.events.emit(Event(EventKind.DELETED, row.id, None, current, source=source))
        return 1

    def _ignore(self, f: DiskFile, reason: str) -> None:
        # Said once: the file is not looked at again until its size or mtime changes.
        log.info("left alone, not an image the library accepts: %s (%s)", f.relpath, reason)
        with self.lib._write() as conn:
            conn.execute(
                text(
                    "INSERT OR REPLACE INTO ignored_files (path, size, mtime_ns, reason) "
                    "VALUES (:p, :s, :m, :r)"
                ),
                {"p": f.relpath, "s": f.size, "m": f.mtime_ns, "r": reason},
            )

    def _forget_ignored_not_on_disk(
        self, disk: dict[str, DiskFile], scope: list[str] | None
    ) -> None:
        wanted = None if scope is None else set(scope)
        stale = [p for p in self.ignored() if in_scope(p, wanted) and p not in disk]
        if stale:
            with self.lib._write() as conn:
                for p in stale:
                    conn.execute(text("DELETE FROM ignored_files WHERE path = :p"), {"p": p})

    def _finish_pending_moves(self) -> None:
        """A move killed between its link and its commit: undo it if the original is still
        there (the commit never happened), else complete it."""
        from .library import PENDING_SEP

        with self.lib._write_lock:  # never while the app's own move is half-way
            self._finish_pending_moves_locked(PENDING_SEP)

    def _finish_pending_moves_locked(self, sep: str) -> None:
        with self.lib.engine.connect() as conn:
            pending = conn.execute(
                text(
                    "SELECT id, folder, filename, pending_path FROM images "
                    "WHERE pending_path IS NOT NULL"
                )
            ).all()
        for r in pending:
            dest_folder, dest_name = r.pending_path.split(sep, 1)
            src = self.lib.path_of(folder_from_db(r.folder), r.filename)
            dest = self.lib.path_of(folder_from_db(dest_folder), dest_name)
            with self.lib._write() as conn:
                if src.exists():
                    if dest.exists() and _same_file(src, dest):
                        dest.unlink()
                    conn.execute(
                        text("UPDATE images SET pending_path = NULL WHERE id = :id"),
                        {"id": r.id},
                    )
                elif dest.exists():
                    # Finish it exactly as the move itself would have: new name searchable,
                    # the change dated, the folder it left removed if now empty.
                    before = self.lib._row(conn, r.id)
                    assert before is not None
                    conn.execute(
                        text(
                            "UPDATE images SET folder = :f, filename = :n, pending_path = NULL, "
                            "search_text = :search, updated_at = :now WHERE id = :id"
                        ),
                        {
                            "f": dest_folder,
                            "n": dest_name,
                            "search": queries.search_text(
                                dest_name, before.original_filename, before.alt_text
                            ),
                            "now": max(now_us(), before.updated_at_us + 1),
                            "id": r.id,
                        },
                    )
                    if r.folder and r.folder != dest_folder:
                        files.remove_empty_folders(self.lib.root, r.folder)
                else:
                    conn.execute(
                        text("UPDATE images SET pending_path = NULL WHERE id = :id"),
                        {"id": r.id},
                    )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
