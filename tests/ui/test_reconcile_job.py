"""The start-up reconciliation job, as the window runs it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from imageshelf.app.library import Library
from imageshelf.app.ui.jobs import ReconcileJob
from tests.conftest import image_bytes


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
