"""The start-up reconciliation job, as the window runs it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt

from imageshelf.app.library import ImageRecord, Library
from imageshelf.app.ui.jobs import READY_POLL_MS, Job, JobRunner, ReconcileJob
from imageshelf.app.ui.libraries import open_for_window
from imageshelf.app.ui.main_window import MainWindow
from tests.conftest import image_bytes
from tests.library.test_watcher_support import EventLog, added_at


def test_closing_the_library_mid_reconcile_is_not_reported_as_a_failure(
    tmp_path: Path,
) -> None:
    root = tmp_path / "lib"
    Library.open(root).close()
    for i in range(12):  # files copied in while closed: each one a reconcile step
        (root / f"copied-{i}.png").write_bytes(image_bytes("PNG", color=(i * 20, 40, 90)))
    library = Library.open(root, reconcile=False)
    job = ReconcileJob(library)
    failures: list[str] = []
    finished: list[object] = []
    job.failed.connect(failures.append, Qt.ConnectionType.DirectConnection)
    job.finished.connect(finished.append, Qt.ConnectionType.DirectConnection)

    def close_after_the_first_step(done: int, total: int) -> None:
        if done == 1:
            library.close()  # what the window does when it is closed mid-run

    job.progress.connect(close_after_the_first_step, Qt.ConnectionType.DirectConnection)
    job.execute()

    assert failures == []
    assert finished == [None]
    with Library.open(root, reconcile=False) as reopened:
        adopted = reopened.count()
    assert 1 <= adopted < 12  # it really stopped half-way


def test_the_window_watches_its_folder_from_the_reconcile_not_before_its_first_screen(
    tmp_path: Path,
) -> None:
    root = tmp_path / "lib"
    Library.open(root).close()
    (root / "while-closed.png").write_bytes(image_bytes("PNG", color=(10, 40, 90)))
    library = open_for_window(root).library  # as a launch opens it, before the window
    assert library is not None
    try:
        assert not library.watching  # starting inotify's watches is not on the launch's clock
        log = EventLog(library)
        ReconcileJob(library).execute()
        assert library.watching
        log.wait_for(added_at("while-closed.png"))  # the reconcile's
        (root / "copied-later.png").write_bytes(image_bytes("PNG", color=(90, 40, 10)))
        log.wait_for(added_at("copied-later.png"))  # the watcher's
    finally:
        library.close()


def test_a_real_reconcile_failure_is_still_reported(tmp_path: Path) -> None:
    library = Library.open(tmp_path / "lib", reconcile=False)
    job = ReconcileJob(library)
    failures: list[str] = []
    job.failed.connect(failures.append, Qt.ConnectionType.DirectConnection)
    # The folder vanishing (an unplugged drive) is refused, and the library is still open.
    (tmp_path / "lib").rename(tmp_path / "gone")
    job.execute()
    library.close()
    assert len(failures) == 1


class _Noted(Job):
    """A job that only notes that it ran."""

    def __init__(self, ran: list[str]) -> None:
        super().__init__()
        self.ran = ran

    def work(self) -> None:
        self.ran.append("ran")


def test_a_job_started_when_ready_waits_for_it_and_not_past_the_wait(qtbot) -> None:
    runner = JobRunner()
    ready = [False]
    ran: list[str] = []
    job = runner.start_when(_Noted(ran), lambda: ready[0], wait_ms=600_000)
    for _ in range(5):  # several polls: still waiting
        qtbot.wait(READY_POLL_MS * 2)
    assert ran == [] and job not in runner.running
    ready[0] = True
    with qtbot.waitSignal(job.finished, timeout=10_000):
        pass
    assert ran == ["ran"]

    never: list[str] = []
    late = runner.start_when(_Noted(never), lambda: False, wait_ms=50)
    with qtbot.waitSignal(late.finished, timeout=10_000):
        pass  # never ready: it starts once the wait is over
    assert never == ["ran"]
    runner.shutdown()


def test_a_job_still_waiting_at_shutdown_never_starts(qtbot) -> None:
    runner = JobRunner()
    ran: list[str] = []
    runner.start_when(_Noted(ran), lambda: False, wait_ms=100)
    runner.shutdown()
    qtbot.wait(300)  # past the wait: the poll would have started it
    assert ran == []


def test_the_start_up_reconcile_waits_until_the_grid_has_placed_every_row(
    window: MainWindow, add: Callable[..., ImageRecord], qtbot
) -> None:
    for i in range(24):
        add(f"photo-{i}.jpg")
    grid = window.grid
    qtbot.waitUntil(lambda: window.model.rowCount() == 24, timeout=10_000)
    # A layout in many turns, as 100,000 rows take 50 of 2,000.
    grid.setBatchSize(1)
    grid.doItemsLayout()
    assert not grid.laid_out()
    laid_out_when_started: dict[Job, bool] = {}
    start = window.jobs.start

    def noting_start(job: Job) -> Job:
        laid_out_when_started[job] = grid.laid_out()
        return start(job)

    window.jobs.start = noting_start  # type: ignore[method-assign]
    job = window.start_reconcile()
    assert job not in window.jobs.running  # the Python walk would share the GIL with it
    with qtbot.waitSignal(job.finished, timeout=30_000):
        pass
    assert laid_out_when_started[job] is True
