"""Follows what other programs do to the library folder while the library is open.

A person copies files in with a file manager, renames folders, edits an image in another
program, deletes things, or a sync client does all of it at once. The watcher (watchdog:
inotify on Linux, FSEvents on macOS, ReadDirectoryChanges on Windows) collects the paths
those changes touch, waits until the folder has been quiet for a moment, and hands the
batch to ``Reconciler`` — the same code that runs at start-up — limited to those paths.
So the rules are the same whether a change happened while the app ran or while it was
closed: moved files keep their id (by content hash), edited files get new facts and a new
thumbnail, deleted files become tombstones, new images are adopted, and every change is
announced through the library's events with ``source="disk"``.

How to use it (the GUI and ``imageshelf serve`` do this)::

    lib = Library.open(path, watch=True)      # watcher started before start-up reconcile
    # or, to open the window first and reconcile in the background:
    lib = Library.open(path, reconcile=False)
    lib.start_watching()                       # changes from now on are queued
    lib.reconcile(progress)                    # on a worker thread, with progress
    ...
    lib.close()                                # stops the watcher first

Why batching: a move is often reported as a delete and a create (other platforms, other
tools, moves between watched trees); only when both halves are reconciled together can the
new file's hash be matched to the row whose file vanished. The quiet period (debounce)
also lets a burst of a thousand copied files become one reconcile, not a thousand.

Why files must settle: a file still being copied in has an inode and a name long before
it has all its bytes. A file whose size or mtime still changes over a short interval is
put back in the queue and tried again later, so it is adopted once, complete. A file that
never becomes a valid image is remembered (``ignored_files``) with its size and mtime and
is not looked at again until it changes.

Why a vanished file is not tombstoned at once: the platform may report a move's two
halves far apart (inotify holds a move's first half while a new destination folder is
still being watched), and an editor saving in place leaves a broken file for a moment. A
known image whose file is missing or invalid is held and looked at again after
``WatchTimings.hold``; meanwhile a new file with its content found anywhere takes it over as a
move. Only when nothing changed is it tombstoned. If the library folder itself vanishes
(a drive unplugged), nothing is tombstoned at all.

Why the app's own writes never echo: ``Library`` places a file and commits its row under
its write lock, and every step of the reconciler re-checks the database under that same
lock before it changes anything; a file the app has just written is found already known.

Thread-safety: ``start``/``stop`` may be called from any thread; the watchdog thread only
records paths; one worker thread reconciles. Nothing an event carries can crash it: every
failure is logged and the watcher goes on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from . import rules
from .core import Core
from .disk_scan import ancestors, in_scope, storable
from .errors import LibraryError
from .reconcile import Reconciler

log = logging.getLogger(__name__)


def _not_the_stop_race(record: logging.LogRecord) -> bool:
    """watchdog 7 logs an ERROR when its inotify thread reads once more while the
    observer is being stopped; nothing is lost (we stop it on purpose), yet a person would
    see "ERROR" on every ``serve`` that ends early. Everything else it logs passes."""
    return not record.getMessage().startswith("InotifyEmitter.queue_events() called when")


logging.getLogger("watchdog.observers.inotify").addFilter(_not_the_stop_race)


@dataclass(frozen=True, slots=True)
class WatchTimings:
    """How long the watcher waits, in seconds; tests pass shorter ones (they wait on
    ``wait_idle``, never on a sleep)."""

    # The folder must be quiet this long before a batch is reconciled.
    debounce: float = 0.4
    # Between the two looks that decide whether a file is still being written.
    settle: float = 0.25
    # The longest a noticed path waits for the folder to become quiet.
    max_batch_delay: float = 2.0
    # Before a known image whose file is missing or not (yet) valid is looked at again;
    # only a file that stayed gone, or the same and invalid, costs the image its id.
    hold: float = 1.5


# Events worth waking up for; opens, attribute changes and "a directory's listing changed"
# carry nothing the events of its children do not.
_INTERESTING = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileDeletedEvent,
    FileClosedEvent,
    DirCreatedEvent,
    DirMovedEvent,
    DirDeletedEvent,
]


class _Handler(FileSystemEventHandler):
    """Runs on watchdog's thread: only records which paths were touched."""

    def __init__(self, watcher: LibraryWatcher) -> None:
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        try:
            self._watcher.notice(event.src_path)
            if event.dest_path:
                self._watcher.notice(event.dest_path)
        except Exception:  # an odd event must never stop the observer thread
            log.exception("watcher could not record %r", event)


class LibraryWatcher:
    """Keeps the library in step with changes made to its folder by other programs."""

    def __init__(
        self,
        core: Core,
        timings: WatchTimings | None = None,
    ) -> None:
        self._core = core
        self._root = str(core.root)
        self._meta_name = core.meta.name
        self._timings = timings or WatchTimings()
        self._cond = threading.Condition()
        self._pending: set[str] = set()
        self._last_event = 0.0
        self._first_event = 0.0  # when the oldest pending path was noticed
        self._busy = False  # a batch is being reconciled
        self._retry_at: dict[str, float] = {}  # held paths and when to look again
        # held path -> its size and mtime when held (None: it was missing)
        self._held: dict[str, tuple[int, int] | None] = {}
        self._stopping = threading.Event()
        self._observer: Observer | None = None  # type: ignore[valid-type]
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()  # start/stop

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Starts watching; returns once the folder is being watched. Idempotent."""
        with self._guard:
            if self._thread is not None:
                return
            self._stopping.clear()
            observer = Observer()
            observer.daemon = True
            try:
                observer.schedule(
                    _Handler(self), self._root, recursive=True, event_filter=_INTERESTING
                )
                observer.start()
            except BaseException:
                # e.g. the inotify limits: leave no half-started observer behind.
                with contextlib.suppress(Exception):
                    observer.stop()
                raise
            thread = threading.Thread(target=self._work, name="imageshelf-watcher", daemon=True)
            thread.start()
            self._observer, self._thread = observer, thread

    def stop(self, timeout: float = 10.0) -> None:
        """Stops watching; changes not yet reconciled are left for the next start-up."""
        with self._guard:
            observer, thread = self._observer, self._thread
            self._observer = self._thread = None
        if thread is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        if observer is not None:
            observer.stop()
            if threading.current_thread() is not observer:
                observer.join(timeout)
        # A listener on the worker thread may close the library: never join oneself.
        if threading.current_thread() is not thread:
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None

    def wait_idle(self, timeout: float) -> bool:
        """Waits until every path noticed so far has been reconciled (held ones decided);
        False on timeout. (Paths the platform has not delivered yet are not known here.)"""
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._pending and not self._busy and not self._retry_at, timeout
            )

    # --- recording -----------------------------------------------------------------------

    def notice(self, path: bytes | str) -> None:
        """Queues one path reported by the platform (absolute)."""
        rel = self._relative(os.fsdecode(path))
        if rel is None:
            return
        with self._cond:
            now = time.monotonic()
            if not self._pending:
                self._first_event = now
            self._pending.add(rel)
            self._last_event = now
            self._cond.notify_all()

    def _relative(self, path: str) -> str | None:
        """The library-relative path with ``/`` separators, or None for paths outside
        the library or inside ``.imageshelf`` (our own database, thumbnails and tmp)."""
        if path == self._root:
            return ""
        prefix = self._root.rstrip(os.sep) + os.sep
        if not path.startswith(prefix):
            return None
        rel = path[len(prefix) :].replace(os.sep, "/").strip("/")
        if not rel or rel.split("/", 1)[0] == self._meta_name or not storable(rel):
            return None
        return rel

    # --- the worker ----------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stopping.is_set():
            batch = self._next_batch()
            if not batch:
                continue
            try:
                self._process(batch)
            except LibraryError as exc:
                if self._core.closed or self._stopping.is_set():
                    return
                log.warning("could not follow changes in the library folder: %s", exc)
            except Exception:  # keep watching whatever one batch did
                log.exception("could not follow changes in the library folder")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _next_batch(self) -> set[str]:
        """Waits for paths (new ones, or held ones whose time has come), then for the
        folder to be quiet; returns them (empty on stop)."""
        with self._cond:
            while not self._stopping.is_set():
                now = time.monotonic()
                for rel in [r for r, at in self._retry_at.items() if at <= now]:
                    del self._retry_at[rel]
                    self._pending.add(rel)
                if self._pending:
                    quiet_for = now - self._last_event
                    waited = now - self._first_event
                    # Quiet, or busy for too long (a stream of uploads must not starve
                    # an outside change of its turn).
                    t = self._timings
                    if quiet_for >= t.debounce or waited >= t.max_batch_delay:
                        batch, self._pending = self._pending, set()
                        self._busy = True
                        return batch
                    timeout: float | None = min(t.debounce - quiet_for, t.max_batch_delay - waited)
                elif self._retry_at:
                    timeout = min(self._retry_at.values()) - now
                else:
                    timeout = None
                self._cond.wait(timeout)
            return set()

    def _process(self, batch: set[str]) -> None:
        scope = _outermost(batch)
        unsettled = self._unsettled(batch)
        if unsettled:
            # Still being written: try again once they have been quiet for a while.
            with self._cond:
                if not self._pending:
                    self._first_event = time.monotonic()
                self._pending |= unsettled
                self._last_event = time.monotonic()
                self._cond.notify_all()
        if self._stopping.is_set() or self._core.closed:
            return
        reconciler = Reconciler(self._core, hold_doubtful=True, stop=self._stopping)
        reconciler.run(scope=scope, source="disk", skip=unsettled)
        self._decide_held(reconciler.held, set(scope))

    def _decide_held(self, held: set[str], looked_at: set[str]) -> None:
        """Known images whose file is, for now, missing or not a valid image: asked about
        again after ``WatchTimings.hold``; if nothing changed since (still missing and no
        file with its content appeared; or the same invalid file), the image is
        tombstoned (a file that is not an image is itself left alone)."""
        give_up: list[str] = []
        with self._cond:
            for rel in list(self._held):
                if rel not in held and in_scope(rel, looked_at):
                    del self._held[rel]  # valid again, or gone
            for rel in held:
                now_stat = _stat(Path(self._root, rel))
                if rel in self._held and self._held[rel] == now_stat:
                    del self._held[rel]
                    give_up.append(rel)
                else:
                    self._held[rel] = now_stat
                    self._retry_at[rel] = time.monotonic() + self._timings.hold
            if self._retry_at:
                self._cond.notify_all()
        if give_up:
            Reconciler(self._core, stop=self._stopping).run(scope=give_up, source="disk")

    def _unsettled(self, batch: set[str]) -> set[str]:
        """Image files in ``batch`` whose size or mtime changes over ``settle`` seconds."""
        first: dict[str, tuple[int, int]] = {}
        for rel in batch:
            if not rules.is_adoptable_filename(rel.rsplit("/", 1)[-1]):
                continue
            seen = _stat(Path(self._root, rel))
            if seen is not None:
                first[rel] = seen
        if not first:
            return set()
        if self._stopping.wait(self._timings.settle):
            return set()
        return {rel for rel, seen in first.items() if _stat(Path(self._root, rel)) != seen}


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None


def _outermost(paths: set[str]) -> list[str]:
    """``paths`` without those already inside another one of them (a renamed folder's
    files are reconciled through the folder)."""
    if "" in paths:
        return [""]
    return sorted(p for p in paths if not any(a in paths for a in ancestors(p)))
