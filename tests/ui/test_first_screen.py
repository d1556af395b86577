"""What a launch starts after the window shows (the server, the reconcile) waits for the
grid's first screen of thumbnails, so it does not delay them; it never waits forever."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSettings

from imageshelf.app.library import Library
from imageshelf.app.ui.first_screen import AfterFirstScreen
from imageshelf.app.ui.grid_query import Role
from imageshelf.app.ui.main_window import MainWindow
from imageshelf.app.ui.server_control import ServerController


def _window(library: Library, settings: QSettings, qtbot) -> MainWindow:
    win = MainWindow(library, settings, ServerController(library, host="127.0.0.1", port=0))
    qtbot.addWidget(win)
    return win


class _Paints(QObject):
    """Counts the grid's paints, and the count when each thumbnail arrived."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__()
        self.count = 0
        self.at_arrival: list[int] = []
        win.grid.viewport().installEventFilter(self)
        win.loader.ready.connect(lambda _sha: self.at_arrival.append(self.count))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def test_what_waits_starts_once_the_first_screens_thumbnails_are_painted(
    library: Library, settings: QSettings, add, qtbot
):
    for i in range(12):
        add(f"photo-{i}.jpg")
    win = _window(library, settings, qtbot)
    paints = _Paints(win)
    # Painted since the last thumbnail came: what waits must not come between a
    # thumbnail's arrival and the paint that shows it (the server's start took ≈ 0.2 s).
    painted_since: list[int] = []
    seen: list[tuple[bool, bool]] = []  # (thumbnails still loading, every visible one cached)

    def started() -> None:
        grid, model = win.grid, win.model
        area = grid.viewport().rect()
        side = max(grid.iconSize().width(), grid.iconSize().height())
        shown = [
            model.index(row, 0).data(Role.Record)
            for row in range(model.rowCount())
            if grid.visualRect(model.index(row, 0)).intersects(area)
        ]
        cached = bool(shown) and all(win.loader.is_cached(rec, side) for rec in shown)
        seen.append((win.loader.loading(), cached))
        painted_since.append(paints.count - paints.at_arrival[-1])

    AfterFirstScreen(win, started, wait_ms=60_000)  # the bound is not what is tested here
    win.show()
    qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
    assert seen == [(False, True)]
    assert paints.at_arrival  # the first paint asked for thumbnails, and they came
    assert painted_since[0] >= 1
    win.close()


def test_what_waits_starts_by_the_bound_when_the_grid_never_paints(
    library: Library, settings: QSettings, add, qtbot
):
    add("photo.jpg")
    win = _window(library, settings, qtbot)  # never shown: no paint will come
    calls: list[int] = []
    AfterFirstScreen(win, lambda: calls.append(1), wait_ms=100)
    qtbot.waitUntil(lambda: calls == [1], timeout=5_000)
    assert not win.grid.viewport().isVisible()
    win.close()
