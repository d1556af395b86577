"""Thumbnails of the rows on screen come first (issue 21), and a folder adopted while the
window is open shows its progress with a count and the time left."""

from __future__ import annotations

import io
from pathlib import Path

from PySide6.QtCore import Qt

from imageshelf.app.library import Library
from imageshelf.app.library.progress_estimate import Estimate
from imageshelf.app.ui.grid_query import Role
from imageshelf.app.ui.jobs import ReconcileJob
from tests.conftest import image_bytes


def visible_shas(window) -> set[str]:  # type: ignore[no-untyped-def]
    grid, model = window.grid, window.model
    area = grid.viewport().rect()
    out = set()
    for row in range(model.rowCount()):
        if grid.visualRect(model.index(row, 0)).intersects(area):
            record = model.index(row, 0).data(Role.Record)
            assert record is not None
            out.add(record.sha256)
    return out


def test_the_rows_on_screen_get_their_thumbnails_first(window, library, qtbot):  # type: ignore[no-untyped-def]
    n = 160
    for i in range(n):
        data = image_bytes("JPEG", size=(64 + i % 7, 48), color=(i, 255 - i, (i * 7) % 256))
        library.add(io.BytesIO(data), f"p{i:03d}.jpg")
    window.resize(900, 600)
    qtbot.waitUntil(lambda: window.model.rowCount() == n, timeout=10_000)
    loader, grid = window.loader, window.grid
    side = grid.thumb_side()

    def screen_loaded() -> bool:
        shas = visible_shas(window)
        return bool(shas) and all((s, side) in loader._cache for s in shas)

    qtbot.waitUntil(lambda: screen_loaded() and not loader._pending, timeout=15_000)
    top = visible_shas(window)
    order: list[str] = []
    loader.ready.connect(order.append)
    bar = grid.verticalScrollBar()
    bar.setValue(bar.maximum())  # far down: nothing there was shown before
    qtbot.waitUntil(
        lambda: bool(visible_shas(window)) and not (visible_shas(window) & top), timeout=5000
    )
    qtbot.waitUntil(screen_loaded, timeout=15_000)
    shown = visible_shas(window)
    assert len(shown) >= 6
    # Every thumbnail loaded up to the screen being complete was one on screen.
    assert set(order[: len(shown)]) == shown


def test_the_folder_check_reports_count_and_time_left(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    root.mkdir()
    for i in range(40):
        (root / f"photo-{i:02d}.jpg").write_bytes(
            image_bytes("JPEG", size=(900, 600), color=(i * 6, 90, 200 - i))
        )
    with Library.open(root, reconcile=False) as library:
        job = ReconcileJob(library)
        # The pace from a clock that moves half a second a step: a small folder on a
        # fast machine is adopted within the second the estimate waits before it speaks.
        ticks = iter(range(10_000))
        job._estimate = Estimate(clock=lambda: next(ticks) * 0.5)
        seen: list[tuple[int, int, object]] = []
        job.progress_left.connect(
            lambda d, t, s: seen.append((d, t, s)), Qt.ConnectionType.DirectConnection
        )
        job.execute()  # 40 files: the worker-process path
        assert library.count() == 40
    assert seen[0][:2] == (0, 40) and seen[-1][:2] == (40, 40)
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)  # counts only go up
    estimates = [s for _, _, s in seen if s is not None]
    assert estimates, "no time-left estimate was ever given"
    assert all(isinstance(s, float) and s >= 0 for s in estimates)
    assert estimates[-1] == 0.0  # nothing left at the end
