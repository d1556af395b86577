"""The window, launched as a person launches it, measured from inside (offscreen):

    python -m benchmarks.gui_probe window LIBRARY_DIR LAUNCHED_AT
    python -m benchmarks.gui_probe bare   LIBRARY_DIR LAUNCHED_AT

``LAUNCHED_AT`` is the parent's ``time.time()`` just before it started this process, so
the first-paint time includes Python's start and every import, as a real launch does.
``window`` does what ``imageshelf`` does (open without reconciling, start the server,
show the window, reconcile in the background), waits until every grid cell on screen has
its thumbnail painted, then scrolls programmatically from the top to the very bottom (the
model fetches pages as the view reaches its end) while a 5 ms heartbeat timer records the
longest gap between its ticks (``BENCH_PAINT_ONLY=1`` stops after the first paint,
``BENCH_NO_RECONCILE=1`` leaves reconciliation out: diagnostics). ``bare`` shows an
empty ``QListView``: the floor of starting Python and Qt. Prints one JSON line of figures."""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import itertools

from PySide6.QtCore import QEvent, QModelIndex, QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QListView

if TYPE_CHECKING:
    from imageshelf.app.library import Library
    from imageshelf.app.ui.main_window import MainWindow
    from imageshelf.app.ui.server_control import ServerController

HEARTBEAT_MS = 5
SCROLL_EVERY_MS = 10
SCROLL_TIME_LIMIT_S = 240.0


def peak_rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


class PaintWatch(QObject):
    """Calls ``check()`` after each paint of the watched widget."""

    def __init__(self, check) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.check = check

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, self.check)
        return False


def bare(launched_at: float) -> dict[str, float]:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    view = QListView()
    view.resize(1400, 900)
    result: dict[str, float] = {}

    def painted() -> None:
        if "first_paint_s" not in result:
            result["first_paint_s"] = time.time() - launched_at
            app.quit()

    watch = PaintWatch(painted)
    view.viewport().installEventFilter(watch)
    view.show()
    app.exec()
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def app_imported_at() -> float:
    """Imports the window's modules (what a launch pays before any window: the callers
    time it from the launch) and says when that was done. The cycle collector paused
    first, as ``imageshelf`` does (app/ui/gc_pauses.py; here after PySide6's import)."""
    from imageshelf.app.ui import gc_pauses

    gc_pauses.pause_for_start()
    import imageshelf.app.ui.main_window
    import imageshelf.app.ui.server_control  # noqa: F401

    return time.time()


def open_window(library_dir: Path) -> tuple[QApplication, Library, ServerController, MainWindow]:
    """The window as the app builds it (not shown), on ``library_dir`` opened without a
    reconcile, with throw-away settings and its server not started (port 0)."""
    from imageshelf.app.library import Library
    from imageshelf.app.ui.main_window import MainWindow
    from imageshelf.app.ui.server_control import ServerController

    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings_dir = tempfile.mkdtemp()
    settings = QSettings(str(Path(settings_dir) / "settings.ini"), QSettings.Format.IniFormat)
    library = Library.open(library_dir, reconcile=False)
    server = ServerController(library, port=0)
    win = MainWindow(library, settings, server)
    win.resize(1400, 900)
    return app, library, server, win


def window(library_dir: Path, launched_at: float) -> dict[str, float]:
    result: dict[str, float] = {"imported_s": app_imported_at() - launched_at}
    app, library, server, win = open_window(library_dir)
    grid, model, loader = win.grid, win.model, win.loader
    result["window_built_s"] = time.time() - launched_at
    beats: list[float] = []

    def visible_rows() -> list[int]:
        area = grid.viewport().rect()
        rows = []
        for row in range(min(model.rowCount(), 400)):
            if grid.visualRect(model.index(row, 0)).intersects(area):
                rows.append(row)
        return rows

    def side() -> int:
        return max(grid.iconSize().width(), grid.iconSize().height())

    def check_first_paint() -> None:
        if "first_paint_s" in result:
            return
        rows = visible_rows()
        if not rows:
            return
        from imageshelf.app.ui.grid_query import Role

        records = [model.index(r, 0).data(Role.Record) for r in rows]
        if all(rec is not None and loader.is_cached(rec, side()) for rec in records):
            # This paint (queued just now) drew them all.
            result["first_paint_s"] = time.time() - launched_at
            result["rows_on_screen"] = len(rows)
            # CPU to this paint (every thread, and the GUI thread): on a busy machine the
            # wall time above varies with the load, these much less.
            result["first_paint_cpu_s"] = time.process_time()
            result["first_paint_gui_cpu_s"] = time.thread_time()
            if os.environ.get("BENCH_PAINT_ONLY"):
                QTimer.singleShot(0, app.quit)
            else:
                QTimer.singleShot(200, start_scrolling)

    heartbeat = QTimer()
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(lambda: beats.append(time.perf_counter()))
    scroller = QTimer()
    scroller.setInterval(SCROLL_EVERY_MS)
    scroll_started = [0.0]

    def start_scrolling() -> None:
        beats.clear()
        scroll_started[0] = time.perf_counter()
        heartbeat.start()
        scroller.start()

    def scroll_step() -> None:
        bar = grid.verticalScrollBar()
        # At the end once the bar is at its bottom and the last row's page has been read
        # (the model counts every row up front and reads pages as they are shown).
        at_end = (
            bar.value() >= bar.maximum()
            and not model.canFetchMore(QModelIndex())
            and model.is_loaded(model.total - 1)
        )
        timed_out = time.perf_counter() - scroll_started[0] > SCROLL_TIME_LIMIT_S
        if at_end or timed_out:
            scroller.stop()
            heartbeat.stop()
            result["scroll_s"] = time.perf_counter() - scroll_started[0]
            result["rows_loaded"] = model.rowCount()
            result["total_rows"] = model.total
            result["scroll_complete"] = 0.0 if timed_out else 1.0
            gaps = [b - a for a, b in itertools.pairwise(beats)]
            result["longest_gap_ms"] = max(gaps) * 1000 if gaps else float("nan")
            result["heartbeats"] = len(beats)
            QTimer.singleShot(0, app.quit)
            return
        bar.setValue(bar.maximum())

    scroller.timeout.connect(scroll_step)
    watch = PaintWatch(check_first_paint)
    win.show()

    from imageshelf.app.ui.first_screen import AfterFirstScreen

    def start_services() -> None:  # as app/ui/launch.py does: after the first screen
        from imageshelf.app.ui import gc_pauses

        server.start()
        gc_pauses.settle_start()
        if not os.environ.get("BENCH_NO_RECONCILE"):  # diagnostics: what the reconcile costs
            win.start_reconcile()

    AfterFirstScreen(win, start_services)  # when app/ui/libraries.py starts them
    # Installed after it, so asked first: after the paint that shows the first screen,
    # the figure is read before the services start (which that paint does not wait for).
    grid.viewport().installEventFilter(watch)
    app.exec()
    result["peak_rss_mb"] = peak_rss_mb()
    loader.shutdown()
    server.stop()
    library.close()
    return result


def main(argv: list[str]) -> None:
    kind, library_dir, launched_at = argv[0], Path(argv[1]), float(argv[2])
    figures = bare(launched_at) if kind == "bare" else window(library_dir, launched_at)
    print("RESULT " + json.dumps(figures), flush=True)
    os._exit(0)  # the figures are out; skip Qt's teardown of 100,000 rows


if __name__ == "__main__":
    main(sys.argv[1:])
