"""Search inside a folder says so and offers "Search all images"; Ctrl+F reaches the
search field however narrow the window; the window keeps two columns at 800×600."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication, QToolBar

from imageshelf.app.ui.folder_tree import ALL, Place
from imageshelf.app.ui.window_state import first_size


def test_a_search_in_a_folder_says_so(window, add, qtbot):
    add("café.jpg", folder="Trip")
    add("café-2.jpg")
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "Trip")) is not None)
    with qtbot.waitSignal(window.model.query_applied):
        window.tree.select(Place("folder", "Trip"))
    assert window.grid_pane.scope.isHidden()  # no search yet: nothing to say
    assert "Trip" in window.search.placeholderText()
    with qtbot.waitSignal(window.model.query_applied):
        window.search.setText("café")
        window.apply_query()
    assert window.model.total == 1
    assert not window.grid_pane.scope.isHidden()
    assert "“Trip”" in window.grid_pane.scope_label.text()
    with qtbot.waitSignal(window.model.query_applied):
        window.grid_pane.everywhere.click()
    assert window.tree.current_place() == ALL and window.search.text() == "café"
    assert window.model.total == 2 and window.grid_pane.scope.isHidden()


def test_ctrl_f_reaches_the_search_field_in_a_narrow_window(window, qtbot):
    window.resize(560, 500)
    toolbar = window.findChild(QToolBar, "main-toolbar")
    assert not toolbar.isAncestorOf(window.search)  # an overflowing toolbar cannot hide it
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.actions_by_name["find"].trigger()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.search)
    assert window.search.isVisible()


def test_two_columns_at_800_by_600(window, add, qtbot):
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.grid.width() >= window.grid.columns_width(2))


def test_the_first_window_fits_a_small_screen():
    assert first_size(QSize(1920, 1080)) == QSize(1280, 800)
    assert first_size(QSize(1024, 600)) == QSize(921, 540)
