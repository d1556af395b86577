"""``Library``: the one service object the GUI, the server and the watcher call.

A facade: each method checks its input against ``rules``, then hands over to the module
that does the work — ``sql`` (every statement), ``file_steps`` (the crash-safe file
operations), ``intake`` (uploads and imports), ``reconcile`` and ``watcher`` (changes
made by other programs) — and announces what changed after it is committed.

This module holds opening, closing, watching and housekeeping; the reading methods are
``LibraryReads`` (``library_reads.py``), the writing ones ``LibraryWrites``
(``library_writes.py``), both inherited: callers only ever see ``Library``.

Thread-safe: reads run concurrently (SQLite WAL); writes are serialised by one lock
(``Core.write_lock``) so that a file placed on disk and its row are committed together,
before anyone else — the watcher included — looks. Every write follows the same order:
bytes into ``tmp/``, hash, validate, fsync, place under a name that cannot clobber,
commit, announce."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from . import (
    api_token,
    changes,
    downloads,
    exif_fill,
    file_steps,
    files,
    idempotency,
    keys,
    opening,
    rules,
    shares,
    team_open,
)
from .core import Core
from .edits import UNSET
from .errors import StorageError
from .events import EventBus, Listener
from .housekeeping import Housekeeper
from .intake import Prepared
from .library_reads import LibraryReads, listing_filter
from .library_writes import LibraryWrites
from .lock import ProcessLock
from .pg_notify import ChangeBridge
from .reconcile import Reconciler
from .sql import order_marks, owners
from .storage import Storage
from .thumbnails import ThumbnailCache
from .transforms import Transforms
from .trash import Trash
from .watcher import LibraryWatcher, WatchTimings

log = logging.getLogger(__name__)

_RECOVER = "recover what stopped processes left"


__all__ = ["UNSET", "Library", "Prepared", "listing_filter"]


class Library(LibraryReads, LibraryWrites):
    """Open with ``Library.open(path)``; close with ``close()`` (or use ``with``)."""

    def __init__(self, core: Core, lock: ProcessLock | None) -> None:
        self.core = core
        self._lock = lock  # None: a team library (the database arbitrates)
        # A team library (``open_team``): PostgreSQL + shared storage, several processes.
        self.team = False
        self._bridge: ChangeBridge | None = None
        self._watcher: LibraryWatcher | None = None
        self._watch_guard = threading.Lock()
        self.trash = Trash(core)  # delete, restore, purge, retention: see trash.py
        self.changes = changes.ChangeFeed(core)  # the numbered change log: changes.py
        self.idempotency = idempotency.IdempotencyStore(core)  # idempotency.py
        self.keys = keys.KeyStore(core.engine, core.write_lock, core.lookup)  # API keys: keys.py
        self.shares = shares.ShareStore(core)  # share links: shares.py
        self.downloads = downloads.DownloadJobs(core)  # download jobs: downloads.py
        self._housekeeper: Housekeeper | None = None
        # Opened on a full or read-only disk (see ``open``): nothing can be written.
        self.read_only = False

    # --- the parts callers and tests look at --------------------------------------------

    @property
    def root(self) -> Path:
        return self.core.root

    @property
    def meta(self) -> Path:
        return self.core.meta

    @property
    def tmp_dir(self) -> Path:
        return self.core.tmp_dir

    @property
    def engine(self) -> Engine:
        return self.core.engine

    @property
    def thumbnails(self) -> ThumbnailCache:
        return self.core.thumbnails

    @property
    def events(self) -> EventBus:
        return self.core.events

    @property
    def transforms(self) -> Transforms:
        return self.core.transforms

    # --- opening and closing -------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        reconcile: bool = True,
        watch: bool = False,
        watch_timings: WatchTimings | None = None,
        storage: Storage | None = None,
    ) -> Library:
        """Creates or opens the library folder at ``path``.

        ``storage``: where the images are kept when not in that folder (an
        ``S3Storage``, ``storage_from_url``); the folder then holds the database and the
        uploads being staged. Nothing outside the library writes to such a store: no
        watcher, no folder reconcile; its reconcile job (orphans collected, rows without
        an object reported) runs with the housekeeping instead.

        ``watch=True`` follows changes other programs make to the folder until
        ``close()`` (see ``watcher.py``); the GUI and ``imageshelf serve`` want it;
        ``watch_timings`` changes how long it waits (tests make it quick).
        Raises ``LibraryLocked`` when another process has it open, ``StorageError`` when
        the folder cannot be created or read.

        An existing library on a disk that is full or read-only still opens, read-only
        (``read_only``): browsing, listings and ``/i`` work, every write is a
        ``StorageError`` (507); nothing is reconciled or watched until the next open."""
        try:
            core, lock = opening.open_core(path, storage)
        except StorageError as exc:
            if storage is not None:
                raise
            return cls._read_only(*opening.open_core_read_only(path, exc), exc)
        if not core.storage.keys_follow_names:
            reconcile = watch = False
        lib = cls(core, lock)
        try:
            lib.trash.recover()  # before anyone looks: a trash or restore killed mid-way
            lib.idempotency.recover()  # claims of requests a kill interrupted
            if watch:
                # First, so nothing changed during the reconcile is missed.
                lib.start_watching(watch_timings)
            if reconcile:
                lib.reconcile()
            lib.trash.start_keeper()  # expired trash purged now and hourly
            lib._start_housekeeping()
            lib.downloads.resume()  # jobs a stop or kill left unprepared
        except BaseException as exc:
            lib.downloads.close()
            lib._stop_housekeeping()
            lib.trash.stop_keeper()
            lib.stop_watching()
            core.engine.dispose()
            lock.release()
            if isinstance(exc, StorageError) and storage is None:
                return cls._read_only(*opening.open_core_read_only(path, exc), exc)
            raise
        return lib

    @classmethod
    def open_team(cls, database_url: str, storage: Storage) -> Library:
        """Opens (creating or migrating the schema of) the team library whose database
        is at ``database_url`` (``postgresql://user:password@host/db``) and whose
        originals are in ``storage``; several processes may have it open at once.

        No process lock and no watcher (nothing outside writes to a team library's
        storage); changes other processes commit reach ``events`` within a second
        (``pg_notify.ChangeBridge``); singleton background work (trash purge, EXIF
        fill, pruning, download jobs left over) runs in one process at a time.
        ``StorageError`` (in words) when the database cannot be reached or used."""
        core = team_open.open_team_core(database_url, storage)
        lib = cls(core, None)
        lib.team = True
        try:
            # What processes killed mid-step left: requests, trash steps, moves, and
            # download jobs (prepared here now).
            lib.recover_dead_owners()
            lib._bridge = ChangeBridge(core)
            lib._bridge.start()
            lib.trash.start_keeper()
            lib._start_housekeeping()
        except BaseException:
            lib.close()
            raise
        return lib

    @classmethod
    def _read_only(cls, core: Core, lock: ProcessLock, why: StorageError) -> Library:
        log.warning("%s The library is open read-only.", why)
        lib = cls(core, lock)
        lib.read_only = True
        return lib

    def close(self) -> None:
        if self.core.closed:
            return
        self.stop_watching()  # outside the write lock: the watcher may be waiting for it
        self.trash.stop_keeper()  # likewise
        self._stop_housekeeping()
        self.downloads.close()  # its thread reads files: stopped before the core closes
        self.changes.close()  # wakes readers waiting for changes
        bridge, self._bridge = self._bridge, None
        if bridge is not None:
            bridge.stop()
        with self.core.write_lock:
            self.core.close()
            if self._lock is not None:
                self._lock.release()

    @property
    def closed(self) -> bool:
        return self.core.closed

    def _start_housekeeping(self) -> None:
        keeper = Housekeeper(
            {
                "prune changes": self.changes.prune,
                "expire idempotency keys": self.idempotency.expire,
                "expire download jobs": self.downloads.expire,
            },
            rules.HOUSEKEEPING_INTERVAL_S,
        )
        # Older images' EXIF (exif_fill.py); stops between files when the library closes.
        keeper.chores["read EXIF of older images"] = lambda: exif_fill.fill(
            self.core, keeper.stopping
        )
        if not self.core.storage.keys_follow_names:
            keeper.chores["collect the store's orphans"] = self.collect_storage
        if self.core.owner is not None:  # a team library: processes may die any time
            keeper.chores[_RECOVER] = self._recover_dead
        if self.core.engine.dialect.name == "postgresql":  # DIALECT: 0022's page ranges
            keeper.chores["re-cut the page ranges"] = self._rebalance_order_marks
        # One process at a time does each (a team library; always this one on SQLite).
        for name, chore in keeper.chores.items():
            keeper.chores[name] = self._singleton(name, chore)
        self._housekeeper = keeper
        keeper.start()

    def _rebalance_order_marks(self) -> bool:
        """A team library: the ranges deep pages are read from, re-cut when uploads or
        removals have left them far from their size (``sql/order_marks.py``)."""
        with self.core.read() as conn:
            if not order_marks.unbalanced(conn):
                return False
        with self.core.write() as conn:
            return order_marks.rebalance(conn)

    def _singleton(self, name: str, chore: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            with self.core.singleton(name) as mine:
                if mine:
                    chore()

        return run

    def recover_dead_owners(self) -> int:
        """A team library: finishes or undoes what processes that died mid-step left
        (idempotency claims, trash and restore steps, moves on a folder storage, download
        jobs being prepared), and nothing of a live process's (``sql/owners.py``). At
        open and with the housekeeping; one process at a time. Returns how many steps
        were decided."""
        with self.core.singleton(_RECOVER) as mine:
            return self._recover_dead() if mine else 0

    def _recover_dead(self) -> int:
        owner = self.core.owner
        if owner is None:
            return 0
        owner.check()  # our own lock, taken again if the server restarted
        with self.core.read() as conn:
            alive = owners.live(conn) | {owner.number}
        done = self.idempotency.recover(alive) + self.trash.recover(alive)
        if self.core.storage.keys_follow_names:  # an object store never leaves one
            done += file_steps.finish_pending_moves(self.core, alive)
        done += self.downloads.resume(alive)  # last: its files where the rows now say
        if done:
            log.warning("Finished or undid %d step(s) of stopped processes", done)
        return done

    def collect_storage(self, now: float | None = None) -> object:
        """The reconcile job of a library whose storage is an object store
        (``storage_s3_collect``): objects no row holds, older than the grace, removed;
        rows whose object is missing, reported. Returns its ``Collected``."""
        from . import storage_s3_collect
        from .storage_s3 import S3Storage

        storage = self.core.storage
        if not isinstance(storage, S3Storage):
            raise TypeError("Only an object store has orphans to collect.")
        return storage_s3_collect.collect(
            storage, lambda: storage_s3_collect.known_ids(self.core), now=now
        )

    def wait_housekeeping(self, timeout: float) -> bool:
        """Runs the periodic chores (old changes pruned, older images' EXIF read) now and
        waits until they have run; False on timeout or when there is no housekeeper
        (read-only)."""
        keeper = self._housekeeper
        if keeper is None:
            return False
        return keeper.run_now(timeout)

    def _stop_housekeeping(self) -> None:
        keeper, self._housekeeper = self._housekeeper, None
        if keeper is not None:
            keeper.stop()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start_watching(self, timings: WatchTimings | None = None) -> bool:
        """Follows changes other programs make to the folder, until ``close()``.

        Returns False (and logs why) when the system refuses to watch, e.g. inotify's
        watch limit reached: the library works on, and the next open reconciles."""
        with self._watch_guard:
            if self.core.closed or self.read_only:
                return False
            if self._watcher is not None:
                return True
            watcher = LibraryWatcher(self.core, timings)
            try:
                watcher.start()
            except OSError as exc:
                watcher.stop()
                log.warning(
                    "Changes made to %s by other programs will be found at the next start "
                    "only: %s (on Linux, raising fs.inotify.max_user_watches helps).",
                    self.root,
                    files.storage_error(exc, "watch the library folder"),
                )
                return False
            self._watcher = watcher
            return True

    def stop_watching(self) -> None:
        with self._watch_guard:
            watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    @property
    def watching(self) -> bool:
        return self._watcher is not None

    def wait_watcher_idle(self, timeout: float) -> bool:
        """Waits until every change the watcher has noticed so far is reconciled; False
        on timeout (True at once when not watching)."""
        watcher = self._watcher
        return watcher is None or watcher.wait_idle(timeout)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Calls ``listener(event)`` after every committed change, on the thread that made
        it. Returns a function that unsubscribes."""
        return self.core.events.subscribe(listener)

    def on_folders_changed(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Calls ``listener()`` (on a background thread) when another process of a team
        library made, renamed, moved or deleted a folder that stands without images
        (``standing_folders``). Returns a function that unsubscribes."""
        self.core.folder_listeners.append(listener)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self.core.folder_listeners.remove(listener)

        return unsubscribe

    def reconcile(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Brings the database in line with the folder (see ``reconcile.py``); nothing
        while read-only (the next writable open does it)."""
        if self.read_only:
            return
        Reconciler(self.core).run(progress)

    # --- the API token -------------------------------------------------------------------

    def api_token(self) -> str:
        """The bearer token kept in the library (made on first use, owner-only)."""
        with self.core.write_lock:
            return api_token.read(self.root) or api_token.regenerate(self.root)

    def regenerate_api_token(self) -> str:
        with self.core.write_lock:
            return api_token.regenerate(self.root)
