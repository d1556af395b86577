"""The GUI thread does no library I/O during common gestures. The window gets the library
through ``GuiThreadGuard``: armed, any call on it from the GUI thread is refused and
recorded, so a gesture that reads or writes on the GUI thread fails here, structurally,
whatever the machine's speed. Each gesture is followed until its work has finished (the
worker's result is on screen or in the library), then the guard's record must be empty."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QInputDialog

from imageshelf.app.ui.folder_tree import UNDESCRIBED, Place
from imageshelf.app.ui.gui_thread_guard import GuiThreadCall
from imageshelf.app.ui.main_window import MainWindow
from tests.ui.test_actions import select_ids
from tests.ui.test_grid_model import replicate_rows

BIG = 100_000


def test_the_guard_refuses_a_call_on_the_gui_thread_and_lets_workers_through(guard, add):
    image = add("a.jpg")
    assert guard.library.get(image.id).id == image.id  # disarmed: passes
    with guard.arming():
        with pytest.raises(GuiThreadCall):
            guard.library.get(image.id)
        with pytest.raises(GuiThreadCall):
            guard.library.trash.count()  # what hangs off the library too
        assert guard.library.root == guard.target.root  # a value, not I/O
        import threading

        seen: list[object] = []
        worker = threading.Thread(target=lambda: seen.append(guard.library.count()))
        worker.start()
        worker.join()
        assert seen == [1]
    assert guard.names() == ["library.get", "library.trash.count"]


def test_select_all_on_100000_rows_reads_nothing_on_the_gui_thread(
    guard, guarded: MainWindow, library, add, qtbot
):
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        add(name)
    replicate_rows(library, BIG)
    total = BIG + 3
    with qtbot.waitSignal(guarded.model.query_applied):
        guarded.model.reload()
    assert guarded.model.rowCount() == total
    with guard.arming():
        guarded.grid.setFocus()
        qtbot.keyClick(guarded.grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        details = guarded.details
        assert details.heading.text() == f"{total:,} images selected"
        assert guarded.actions_by_name["delete"].isEnabled()
        # Copy link at once: done when every id is known (read on a worker), not before.
        QApplication.clipboard().clear()
        guarded.actions_by_name["copy_link"].trigger()
        # The summary (first 2,000) and every id (1,001 pages) come from a worker.
        qtbot.waitUntil(lambda: "Together" in details.empty.text(), timeout=60_000)
        qtbot.waitUntil(lambda: guarded.selection.ids is not None, timeout=120_000)
        assert len(guarded.selection.ids or []) == total
        qtbot.waitUntil(lambda: QApplication.clipboard().text().count("/i/") == total)
        assert details.folder.isEnabled() and details.bulk.isEnabled()
        # Scrolling to the end while it is all selected: pages read off the GUI thread.
        guarded.grid.scrollToBottom()
        qtbot.waitUntil(lambda: guarded.model.is_loaded(total - 1), timeout=30_000)
    assert guard.calls == [], guard.names()
    assert guarded.selection.resolver.pages_read >= BIG // 100


def test_common_gestures_read_and_write_off_the_gui_thread(
    guard, guarded: MainWindow, library, add, monkeypatch, qtbot, no_blocking_boxes
):
    a, b, c = add("a.jpg"), add("b.jpg", folder="trip"), add("c.jpg")
    qtbot.waitUntil(lambda: guarded.model.rowCount() == 3)
    qtbot.waitUntil(lambda: guarded.tree.item_for(Place("folder", "trip")) is not None)
    with guard.arming():
        # One image: its details, then alt text typed and saved with Ctrl+Enter.
        select_ids(guarded, [a.id], qtbot)
        assert guarded.details.record is not None and guarded.details.record.id == a.id
        editor = guarded.details.alt.edit
        editor.setFocus()
        qtbot.keyClicks(editor, "A red square")
        qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: guarded.statusBar().currentMessage().startswith("Alt text saved"))
        # Undone: the undo runs after the save, on the same worker.
        guarded.history.undo_action.trigger()
        qtbot.waitUntil(lambda: not guarded.history.queue.busy)
        # Several: their summary, a link each, copied as HTML.
        select_ids(guarded, [a.id, c.id], qtbot)
        qtbot.waitUntil(lambda: "Together" in guarded.details.empty.text())
        guarded.actions_by_name["copy_link"].trigger()
        assert QApplication.clipboard().text().count("/i/") == 2
        guarded.actions_by_name["copy_html"].trigger()
        qtbot.waitUntil(lambda: "as HTML" in guarded.statusBar().currentMessage())
        # Moved by the action, then to the trash, the tree following.
        monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *_a: ("trip", True)))
        guarded.actions_by_name["move"].trigger()
        qtbot.waitUntil(lambda: guarded.tree.item_for(Place("folder", "trip")).text(1) == "3")
        select_ids(guarded, [b.id], qtbot)
        guarded.actions_by_name["delete"].trigger()
        qtbot.waitUntil(lambda: guarded.tree.item_for(Place("folder", "trip")).text(1) == "2")
        # Another view, and the trash.
        with qtbot.waitSignal(guarded.model.query_applied):
            guarded.tree.select(UNDESCRIBED)
        guarded.tree.select(Place("trash"))
        qtbot.waitUntil(lambda: guarded.trash_view.model.rowCount() == 1)
        qtbot.waitUntil(lambda: guarded.trash_view.retention == 30)
    assert guard.calls == [], guard.names()
    assert library.get(a.id).alt_text is None  # the undo ran after the save
    assert {library.get(i).folder for i in (a.id, c.id)} == {"trip"}
    assert no_blocking_boxes == []
