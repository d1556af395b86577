from __future__ import annotations

from imageshelf.app.ui.folder_tree import ALL


def test_window_shows_library(window, add, qtbot):
    add("a.jpg", folder="brand")
    add("b.jpg")
    qtbot.waitUntil(lambda: window.model.rowCount() == 2)
    qtbot.waitUntil(lambda: window.tree.item_for(ALL).text(1) == "2")
