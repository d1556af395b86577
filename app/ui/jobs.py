"""Long work off the GUI thread: a job is a ``QObject`` whose signals report progress and
the result; it runs on a ``QThreadPool`` and its signals reach GUI-thread slots queued.

Only the GUI thread touches widgets and models; a job only calls the core and emits."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QElapsedTimer, QObject, QRunnable, QThreadPool, QTimer, Signal

from imageshelf.app.library import ImageRecord, Library, LibraryError
from imageshelf.app.library.importer import ImportReport, ImportSession, Rejection, collect_all
from imageshelf.app.library.progress_estimate import Estimate

from . import gc_pauses

log = logging.getLogger(__name__)


class Job(QObject):
    """Subclasses implement ``work()``; ``progress``/``finished``/``failed`` do the rest."""

    progress = Signal(int, int)  # done, total
    # done, total, seconds left (float) or None while the pace is not yet known
    progress_left = Signal(int, int, object)
    finished = Signal(object)  # whatever work() returned
    failed = Signal(str)  # a message a person can read

    _estimate: Estimate | None = None

    def report_progress(self, done: int, total: int) -> None:
        """Both progress signals, the time left estimated from the job's own pace."""
        if self._estimate is None:
            self._estimate = Estimate()
        left = self._estimate.update(done, total)
        self.progress.emit(done, total)
        self.progress_left.emit(done, total, left)

    def work(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def cancel(self) -> None:
        """Asks the job to stop soon; what was done stays consistent."""

    def execute(self) -> None:
        try:
            result = self.work()
        except LibraryError as exc:
            self.failed.emit(exc.message)
        except OSError as exc:
            self.failed.emit(f"The disk refused: {exc.strerror or exc}.")
        except Exception as exc:  # a bug: logged with its traceback, shown as a notice
            log.exception("background job %s failed", type(self).__name__)
            self.failed.emit(f"Something went wrong: {exc}")
        else:
            self.finished.emit(result)


class _Runnable(QRunnable):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job

    def run(self) -> None:
        self.job.execute()


_J = TypeVar("_J", bound="Job")

# How often ``JobRunner.start_when`` asks whether a waiting job may start.
READY_POLL_MS = 10


class JobRunner(QObject):
    """Starts jobs and keeps them alive (a Python reference) until they end."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        # Reconciling, an import and a bulk move may all be under way at once.
        self.pool.setMaxThreadCount(3)
        self._running: set[Job] = set()
        self._waiting: dict[Job, QTimer] = {}  # start_when's jobs, not started yet

    def start(self, job: Job) -> Job:
        self._running.add(job)
        job.finished.connect(lambda _result, j=job: self._running.discard(j))
        job.failed.connect(lambda _msg, j=job: self._running.discard(j))
        self.pool.start(_Runnable(job))
        return job

    def start_when(self, job: _J, ready: Callable[[], bool], wait_ms: int) -> _J:
        """Starts ``job`` once ``ready()`` says so (asked now, then every
        ``READY_POLL_MS``), or ``wait_ms`` from now, whichever comes first. A job still
        waiting when the runner shuts down is never started."""
        if ready():
            self.start(job)
            return job
        waited = QElapsedTimer()
        waited.start()
        poll = QTimer(self)
        poll.setInterval(READY_POLL_MS)
        self._waiting[job] = poll

        def check() -> None:
            if ready() or waited.elapsed() >= wait_ms:
                poll.stop()
                poll.deleteLater()
                del self._waiting[job]
                self.start(job)

        poll.timeout.connect(check)
        poll.start()
        return job

    @property
    def running(self) -> set[Job]:
        return set(self._running)

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        for poll in self._waiting.values():
            poll.stop()
        self._waiting.clear()
        for job in list(self._running):
            job.cancel()
        self.pool.waitForDone(timeout_ms)


# The GUI thread shares the GIL with every worker. Python hands it over every 5 ms by
# default, and a paint of the grid takes it back dozens of times: with a worker busy in
# Python (reconciling 100,000 rows, reading pages) one paint stretched past 50 ms.
# Handing over every millisecond keeps the window's event loop within ~20 ms.
GUI_SWITCH_INTERVAL_S = 0.001


# Qt's raster engine hands a big fill, blend or image scaling to helper threads and waits
# for them (QLatch::waitInternal in a profile of the window during a drop). On two cores
# busy with decode workers, each such paint waited for a core twice: a 200-photo drop at
# load 10 had event-loop gaps of p99 41-108 ms with the helpers, 19-28 ms without (same
# CPU). Qt reads this switch once, when its paint helpers are first wanted.
NO_PAINT_HELPERS = "QT_NO_GUI_THREADPOOL"


def favour_the_gui_thread() -> None:
    """Called by the launcher before Qt starts and by the window before its first paint:
    shorter GIL turns, so workers cannot starve the GUI thread, and every paint done on
    the GUI thread itself."""
    sys.setswitchinterval(min(sys.getswitchinterval(), GUI_SWITCH_INTERVAL_S))
    os.environ.setdefault(NO_PAINT_HELPERS, "1")


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Reconciling 100,000 images makes some 300,000 short-lived objects; each full
    collection they trigger stops every thread, the GUI's too, for 50-100 ms (the window
    froze while it scrolled). Reference counting still frees all of them; only the cycle
    collector waits until the last pause ends (``gc_pauses``: a launch pauses it too)."""
    with gc_pauses.paused():
        yield


class ReconcileJob(Job):
    """Brings the database in line with the folder after the window is already shown,
    then has it follow the folder: the watcher starts first, so a change made while
    the folder is walked is seen by one or the other. Starting the watcher (inotify on
    every folder, watchdog's threads) took 80-240 ms at 100,000 images, which a launch
    spent before its first paint while the library was opened watched."""

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.library = library

    def work(self) -> None:
        with cyclic_gc_paused():
            try:
                self.library.start_watching()  # False (logged): the next open reconciles
                self.library.reconcile(self.report_progress)
            except LibraryError:
                # The window closed the library under us: stopping half-way is what was
                # asked for (every finished step is whole), not a failure to report.
                if not self.library.closed:
                    raise


class ImportJob(Job):
    """Imports dropped or chosen paths into ``folder`` through the core's session."""

    item_done = Signal(object, object)  # ImageRecord | None, Rejection | None

    def __init__(self, library: Library, paths: list[Path], folder: str | None) -> None:
        super().__init__()
        self.library = library
        self.paths = paths
        self.folder = folder
        self._session: ImportSession | None = None
        self._cancel_requested = False

    def cancel(self) -> None:
        self._cancel_requested = True
        if self._session is not None:
            self._session.cancel()

    def work(self) -> ImportReport:
        # Added last file first: the grid's newest-first view (its default) then shows an
        # import in its own order (a folder's files by name), not upside down.
        items, skipped = collect_all(self.paths, self.folder)
        items = items[::-1]
        self._session = ImportSession(self.library, items, skipped=skipped)
        if self._cancel_requested:
            self._session.cancel()
        self.report_progress(0, len(items))
        with cyclic_gc_paused():  # as a reconcile: its collections stopped the window
            return self._session.run(self._reporter())

    def _reporter(self) -> Callable[[int, int, ImageRecord | None, Rejection | None], None]:
        def report(
            done: int, total: int, record: ImageRecord | None, rejection: Rejection | None
        ) -> None:
            self.report_progress(done, total)
            self.item_done.emit(record, rejection)

        return report


class CallJob(Job):
    """Any one core call (a move or delete of many images) off the GUI thread."""

    def __init__(self, call: Callable[[], Any]) -> None:
        super().__init__()
        self.call = call

    def work(self) -> Any:
        return self.call()
