"""The Trash view and Undo/Redo in the real window: delete without a question, get it
back with Ctrl+Z or from the Trash, moves and alt text undone and redone, and a purge of
10,000 images that leaves the window's event loop turning."""

from __future__ import annotations

import shutil
import threading

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy import text

from imageshelf.app.library import EventKind, Gone, Library
from imageshelf.app.library.records import now_us
from imageshelf.app.ui.folder_tree import ALL, TRASH, Place
from tests.ui.test_actions import select_ids


def show_trash(window, qtbot, rows: int) -> None:
    window.tree.select(TRASH)
    assert window.center.currentWidget() is window.trash_view
    qtbot.waitUntil(lambda: window.trash_view.model.rowCount() == rows, timeout=10_000)
    qtbot.waitUntil(lambda: window.trash_view.retention is not None)  # read on a worker


def select_trash_rows(window, ids: list[str]) -> None:
    view = window.trash_view
    selection = view.list.selectionModel()
    selection.clearSelection()
    for row, image_id in enumerate(view.model.ids()):
        if image_id in ids:
            selection.select(
                view.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
            )
    assert sorted(view.selected_ids()) == sorted(ids)


def idle(window, qtbot) -> None:
    qtbot.waitUntil(lambda: not window.history.queue.busy, timeout=30_000)


def test_delete_then_ctrl_z_brings_it_back_and_ctrl_shift_z_deletes_again(
    window, library: Library, add, qtbot
):
    a, b = add("a.jpg", alt_text="Alpha", folder="f"), add("b.jpg")
    select_ids(window, [a.id], qtbot)
    window.grid.setFocus()
    qtbot.waitUntil(window.grid.hasFocus)
    qtbot.keyClick(window.grid, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: library.trash.count() == 1)
    qtbot.waitUntil(lambda: window.undo_notice.isVisible())
    assert window.undo_notice.label.text() == "Moved a.jpg to the trash"
    assert window.history.undo_action.text() == "&Undo Delete a.jpg"
    qtbot.waitUntil(lambda: window.model.ids() == [b.id])

    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.history.queue.busy  # on the worker, not here
    idle(window, qtbot)
    assert library.trash.count() == 0
    assert library.get(a.id) == a  # same id, name, folder, alt text, dates
    qtbot.waitUntil(lambda: sorted(window.model.ids()) == sorted([a.id, b.id]))
    assert window.history.redo_action.text() == "&Redo Delete a.jpg"
    assert not window.undo_notice.isVisible()

    qtbot.keyClick(
        window.grid,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    idle(window, qtbot)
    assert library.trash.count() == 1
    try:
        library.get(a.id)
        raise AssertionError("not deleted again")
    except Gone:
        pass


def test_the_undo_button_of_the_notice(window, library: Library, add, qtbot):
    records = [add(f"n{i}.jpg") for i in range(3)]
    select_ids(window, [r.id for r in records], qtbot)
    window.actions_by_name["delete"].trigger()
    qtbot.waitUntil(lambda: window.undo_notice.isVisible())
    assert window.undo_notice.label.text() == "Moved 3 images to the trash"
    window.undo_notice.button.click()
    idle(window, qtbot)
    assert library.count() == 3
    assert library.trash.count() == 0


def test_trash_view_lists_restores_purges_and_empties(
    window, library: Library, add, qtbot, no_blocking_boxes
):
    a, b, c, d = (add(f"{n}.jpg", folder="trip") for n in "abcd")
    for r in (a, b, c, d):
        library.delete(r.id)
    qtbot.waitUntil(lambda: window.tree.item_for(TRASH).text(1) == "4")
    assert window.tree.item_for(Place("folder", "trip")) is None
    show_trash(window, qtbot, 4)
    model = window.trash_view.model
    assert model.ids() == [d.id, c.id, b.id, a.id]  # most recently deleted first
    assert model.data(model.index(0, 1)) == "trip"
    assert model.data(model.index(0, 3)) == "30 days"
    assert window.trash_view.summary.text() == "4 images in the trash (purged after 30 days)"

    select_trash_rows(window, [b.id])
    window.trash_view.restore_button.click()
    qtbot.waitUntil(lambda: model.rowCount() == 3)
    assert library.get(b.id) == b
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "trip")) is not None)
    assert window.history.undo_action.text() == "&Undo Restore b.jpg"

    select_trash_rows(window, [c.id])
    window.trash_view.purge_button.click()
    assert no_blocking_boxes[-1][0] == "Delete permanently?"
    qtbot.waitUntil(lambda: model.rowCount() == 2)
    try:
        library.trash.restore(c.id)
        raise AssertionError("not purged")
    except Gone:
        pass

    window.trash_view.empty_button.click()
    assert no_blocking_boxes[-1][0] == "Empty the trash?"
    qtbot.waitUntil(lambda: model.rowCount() == 0)
    assert library.trash.count() == 0
    assert window.trash_view.summary.text() == "The trash is empty."
    qtbot.waitUntil(lambda: window.tree.item_for(TRASH).text(1) == "")
    assert not window.trash_view.empty_button.isEnabled()


def test_undo_of_a_restore_and_of_a_move_whose_folder_was_removed(
    window, library: Library, add, qtbot
):
    a = add("a.jpg", folder="trip/day 1")
    select_ids(window, [a.id], qtbot)
    window.images.move_images([a.id], "archive")
    # The step is recorded once the move has run (on a worker).
    qtbot.waitUntil(lambda: window.history.undo_action.text() == "&Undo Move a.jpg to archive")
    # "trip/day 1" held only a: it is gone from disk and from the tree.
    assert not (library.root / "trip").exists()
    window.history.undo_action.trigger()
    idle(window, qtbot)
    assert library.get(a.id).folder == "trip/day 1"  # the folder made again
    assert (library.root / "trip" / "day 1" / "a.jpg").exists()
    assert not (library.root / "archive").exists()
    window.history.redo_action.trigger()
    idle(window, qtbot)
    assert library.get(a.id).folder == "archive"

    library.delete(a.id)
    show_trash(window, qtbot, 1)
    select_trash_rows(window, [a.id])
    window.trash_view.restore_selected()
    idle(window, qtbot)
    assert library.get(a.id).folder == "archive"
    window.history.undo_action.trigger()  # undo the restore: back in the trash
    idle(window, qtbot)
    assert library.trash.count() == 1
    qtbot.waitUntil(lambda: window.trash_view.model.ids() == [a.id])
    # The step before is the move; its image is in the trash now, so it cannot be
    # undone: said in the status bar, nothing else changes.
    window.history.undo_action.trigger()
    idle(window, qtbot)
    assert window.statusBar().currentMessage().startswith("Undo Move a.jpg to archive failed")
    assert library.trash.count() == 1


def test_alt_text_saves_are_undone_and_redone(window, library: Library, add, qtbot):
    a = add("a.jpg", alt_text="First")
    select_ids(window, [a.id], qtbot)
    qtbot.waitUntil(lambda: window.details.record is not None)
    window.details.alt.edit.setPlainText("Second")
    window.details.save_alt_text()
    # The step is there at once, the save still on its way: an undo queues behind it.
    assert window.history.undo_action.text() == "&Undo Alt text of a.jpg"
    window.history.undo_action.trigger()
    idle(window, qtbot)
    assert library.get(a.id).alt_text == "First"
    qtbot.waitUntil(lambda: window.details.alt.edit.toPlainText() == "First")
    window.history.redo_action.trigger()
    idle(window, qtbot)
    assert library.get(a.id).alt_text == "Second"


def test_dropping_images_on_the_trash_deletes_them(window, library: Library, add, qtbot):
    from imageshelf.app.ui.mime import ids_to_mime
    from tests.ui.conftest import drop

    a = add("a.jpg")
    qtbot.waitUntil(lambda: window.model.row_of(a.id) is not None)
    item = window.tree.item_for(TRASH)
    event = drop(window.tree, ids_to_mime([a.id]), window.tree.visualItemRect(item).center())
    assert event.isAccepted()
    qtbot.waitUntil(lambda: library.trash.count() == 1)
    assert window.tree.current_place() == ALL  # the view shown did not change


def fill_trash(library: Library, template, n: int) -> None:
    """``n`` copies of ``template`` in the trash, rows and files, written directly."""
    source = library.path_of(None, template.filename)
    now = now_us()
    with library.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO trash (id, folder, filename, original_filename, content_type, "
                "size, width, height, sha256, mtime_ns, alt_text, search_text, created_at, "
                "updated_at, deleted_at) SELECT :id, folder, filename, original_filename, "
                "content_type, size, width, height, sha256, mtime_ns, alt_text, search_text, "
                "created_at, updated_at, :now FROM images WHERE id = :src"
            ),
            [{"id": f"img_{i:026d}", "now": now - i, "src": template.id} for i in range(n)],
        )
        conn.execute(
            text("INSERT INTO tombstones (id, deleted_at) VALUES (:id, :now)"),
            [{"id": f"img_{i:026d}", "now": now} for i in range(n)],
        )
    for i in range(n):
        shutil.copyfile(source, library.trash.dir / f"img_{i:026d}.jpg")


def test_a_big_trash_is_read_a_page_at_a_time_as_the_list_scrolls(window, library, add, qtbot):
    fill_trash(library, add("one.jpg"), 1_000)
    window.refresh_tree()
    model = window.trash_view.model
    show_trash(window, qtbot, 100)
    for _ in range(3):  # every read under way answered, every layout it caused done
        window.jobs.pool.waitForDone(10_000)
        QApplication.processEvents()
    assert model.rowCount() == 100 and model.total == 1_000  # not read whole unseen
    window.trash_view.list.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() == 200, timeout=10_000)


def test_emptying_10000_images_runs_on_a_worker_and_the_window_keeps_turning(
    window, library: Library, add, qtbot
):
    n = 10_000
    fill_trash(library, add("one.jpg"), n)
    window.refresh_tree()
    show_trash(window, qtbot, 100)  # the first page; more as the list scrolls
    assert window.trash_view.model.total == n

    ticks = 0

    def tick() -> None:
        nonlocal ticks
        ticks += 1

    timer = QTimer(window, interval=0)
    timer.timeout.connect(tick)
    seen: list[tuple[int, bool]] = []  # (GUI ticks so far, on the GUI thread?) per purge
    gui = threading.current_thread()

    def on_event(event) -> None:
        if event.kind is EventKind.PURGED:
            seen.append((ticks, threading.current_thread() is gui))

    unsubscribe = library.subscribe(on_event)
    timer.start()
    try:
        with qtbot.waitSignal(window.history.queue.done, timeout=120_000) as done:
            assert window.trash_view.empty() is not None
            assert library.trash.count() > 0  # returned at once: the purge is on a worker
    finally:
        timer.stop()
        unsubscribe()
    assert done.args == ["Empty trash", n]
    assert len(seen) == n
    assert not any(on_gui for _t, on_gui in seen)  # every purge on a worker
    # The event loop went on turning while the purge ran: the GUI's timer fired between
    # the first batch and the last one.
    assert seen[-1][0] > seen[0][0]
    assert library.trash.count() == 0
    assert list(library.trash.dir.iterdir()) == []
    qtbot.waitUntil(lambda: window.trash_view.model.rowCount() == 0, timeout=10_000)


def test_how_long_the_trash_keeps_images_is_set_in_the_view(window, library: Library, add, qtbot):
    a = add("a.jpg")
    library.delete(a.id)
    show_trash(window, qtbot, 1)
    assert window.trash_view.keep_days.value() == 30
    window.trash_view.keep_days.setValue(0)
    idle(window, qtbot)
    assert library.trash.retention_days() == 0
    qtbot.waitUntil(
        lambda: (
            window.trash_view.model.data(window.trash_view.model.index(0, 3))
            == "kept until emptied"
        )
    )
    assert window.trash_view.keep_days.text() == "until emptied"
    window.trash_view.keep_days.setValue(7)
    idle(window, qtbot)
    assert library.trash.retention_days() == 7
    qtbot.waitUntil(
        lambda: window.trash_view.model.data(window.trash_view.model.index(0, 3)) == "7 days"
    )


def test_a_failed_read_of_the_trash_is_said_and_read_again(window, library: Library, add, qtbot):
    """A reload whose read fails (it can race a purge) left the rows as they were, with
    nothing to read them again: after the last purge of an "Empty trash" the view kept
    showing images that were gone. Now the failure is said and the page read once more."""
    a, b = add("a.jpg"), add("b.jpg")
    for r in (a, b):
        library.delete(r.id)
    show_trash(window, qtbot, 2)
    view = window.trash_view
    library.trash.purge(a.id)  # its event reloads the view RELOAD_MS later
    # The next read fails for real: the table is away (until put back below; all of this
    # on the GUI thread, so no timer fires in between).
    with library.engine.begin() as conn:
        conn.execute(text("ALTER TABLE trash RENAME TO trash_away"))
    try:
        with qtbot.waitSignal(
            view.notice, timeout=10_000, check_params_cb=lambda m: "Could not read" in m
        ):
            pass
        assert view.model.ids() == [b.id, a.id]  # as they were: stale
    finally:
        with library.engine.begin() as conn:
            conn.execute(text("ALTER TABLE trash_away RENAME TO trash"))
    qtbot.waitUntil(lambda: view.model.ids() == [b.id], timeout=10_000)
