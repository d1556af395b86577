"""Folders in the window: New folder (real, shown with 0, kept across restarts, its parent
said and not typed over), rename / move / delete from the tree's menu and keys, a folder
dragged onto another, totals with sub-folders, "Include sub-folders", and a folder made
in a file manager."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog

from imageshelf.app.library import Library
from imageshelf.app.ui.folder_tree import ALL, Place
from imageshelf.app.ui.main_window import MainWindow
from imageshelf.app.ui.mime import folder_to_mime
from imageshelf.app.ui.server_control import ServerController
from tests.ui.conftest import drop


def _answer(monkeypatch, text: str, asked: list | None = None) -> None:
    def get_text(_parent, title, label, _echo=None, default="", *a, **k):
        if asked is not None:
            asked.append((title, label, default))
        return text, True

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(get_text))


def _wait_idle(window, qtbot) -> None:
    qtbot.waitUntil(lambda: not window.jobs.running and not window.folder_actions.busy)


def test_new_folder_is_real_shown_with_zero_and_lasts(
    window, library: Library, settings, monkeypatch, qtbot
):
    window.tree.select(ALL)
    asked: list = []
    _answer(monkeypatch, "Trips", asked)
    window.actions_by_name["new_folder"].trigger()
    # Made on a worker; the tree selects it once its counts are read.
    qtbot.waitUntil(lambda: window.tree.current_place() == Place("folder", "Trips"))
    assert (library.root / "Trips").is_dir()
    item = window.tree.item_for(Place("folder", "Trips"))
    assert item is not None and item.text(1) == "0"
    # Inside the folder shown: the parent is said in the question, not prefilled.
    _answer(monkeypatch, "2026", asked)
    window.actions_by_name["new_folder"].trigger()
    assert asked[-1][2] == "" and "inside Trips" in asked[-1][1]
    qtbot.waitUntil(lambda: window.tree.current_place() == Place("folder", "Trips/2026"))
    assert (library.root / "Trips" / "2026").is_dir()
    window.close()
    # Another window on the same library (as after a restart) shows both.
    again = MainWindow(library, settings, ServerController(library, port=0))
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.tree.item_for(Place("folder", "Trips/2026")) is not None)
    assert again.tree.item_for(Place("folder", "Trips")).text(1) == "0"
    again.close()


def test_rename_from_the_tree_moves_the_files_keeping_ids(
    window, library: Library, add, monkeypatch, qtbot
):
    a = add("a.jpg", alt_text="Alpha", folder="old/inner")
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "old")) is not None)
    window.tree.select(Place("folder", "old"))
    _answer(monkeypatch, "Névé")
    window.folder_actions.rename.trigger()
    _wait_idle(window, qtbot)
    after = library.get(a.id)
    assert (after.folder, after.alt_text) == ("Névé/inner", "Alpha")
    assert (library.root / "Névé" / "inner" / after.filename).is_file()
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "old")) is None)
    assert window.tree.current_place() == Place("folder", "Névé")
    # Undone and redone, as any other step (Ctrl+Z / Ctrl+Shift+Z, named in the menu).
    assert window.history.undo_action.text() == "&Undo Rename folder old"
    window.history.undo_action.trigger()
    qtbot.waitUntil(lambda: library.get(a.id).folder == "old/inner")
    assert (library.root / "old" / "inner" / after.filename).is_file()
    window.history.redo_action.trigger()
    qtbot.waitUntil(lambda: library.get(a.id).folder == "Névé/inner")


def test_a_folder_dragged_onto_another_moves_into_it(window, library: Library, add, qtbot):
    a = add("a.jpg", folder="src")
    library.make_folder("dest")
    window.folder_actions.refresh_disk()
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "dest")) is not None)
    target = window.tree.item_for(Place("folder", "dest"))
    event = drop(window.tree, folder_to_mime("src"), window.tree.visualItemRect(target).center())
    assert event.isAccepted()
    _wait_idle(window, qtbot)
    assert library.get(a.id).folder == "dest/src"
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "dest/src")) is not None)
    assert window.tree.item_for(Place("folder", "dest")).text(1) == "1"
    window.history.undo_action.trigger()  # the move, taken back
    qtbot.waitUntil(lambda: library.get(a.id).folder == "src")


def test_a_folder_dropped_on_itself_is_refused(window, library: Library, qtbot):
    library.make_folder("a/b")
    window.folder_actions.refresh_disk()
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "a/b")) is not None)
    for onto in ("a", "a/b"):
        item = window.tree.item_for(Place("folder", onto))
        event = drop(window.tree, folder_to_mime("a"), window.tree.visualItemRect(item).center())
        assert not event.isAccepted()
    assert (library.root / "a" / "b").is_dir()


def test_delete_folder_with_images_sends_them_to_the_trash_undoably(
    window, library: Library, add, no_blocking_boxes, qtbot
):
    a = add("a.jpg", folder="full/inner", alt_text="kept")
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "full")) is not None)
    window.tree.select(Place("folder", "full"))
    window.folder_actions.delete.trigger()
    title, text = no_blocking_boxes[-1]  # said before it is done (the fixture says Yes)
    assert title == "Delete folder?" and "1 image (in it and its sub-folders)" in text
    assert "Trash" in text
    _wait_idle(window, qtbot)
    assert not (library.root / "full").exists()
    assert library.trash.count() == 1
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "full")) is None)
    window.history.undo_action.trigger()  # Ctrl+Z
    qtbot.waitUntil(lambda: library.count(folder="full/inner") == 1)
    back = library.get(a.id)
    assert (back.folder, back.alt_text) == ("full/inner", "kept")


def test_delete_folder_with_other_files_is_refused_with_the_reason(
    window, library: Library, add, no_blocking_boxes, qtbot
):
    a = add("a.jpg", folder="notes")
    (library.root / "notes" / "todo.txt").write_text("mine")
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "notes")) is not None)
    window.tree.select(Place("folder", "notes"))
    window.folder_actions.delete.trigger()
    _wait_idle(window, qtbot)
    title, text = no_blocking_boxes[-1]
    assert title == "The folder was not deleted" and "todo.txt" in text
    assert library.get(a.id).folder == "notes" and library.trash.count() == 0


def test_delete_empty_folder(window, library: Library, no_blocking_boxes, qtbot):
    library.make_folder("empty/child")
    window.folder_actions.refresh_disk()
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "empty")) is not None)
    window.tree.select(Place("folder", "empty"))
    window.folder_actions.delete.trigger()
    assert no_blocking_boxes[-1][0] == "Delete folder?"  # asked first (the fixture says Yes)
    _wait_idle(window, qtbot)
    assert not (library.root / "empty").exists()
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "empty")) is None)


def test_parent_total_and_include_subfolders(window, library: Library, add, qtbot):
    add("top.jpg", folder="p")
    add("mid.jpg", folder="p/q")
    add("low.jpg", folder="p/q/r")
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "p/q/r")) is not None)
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "p")).text(1) == "3")
    assert window.tree.item_for(Place("folder", "p/q")).text(1) == "2"
    with qtbot.waitSignal(window.model.query_applied):
        window.tree.select(Place("folder", "p"))
    assert window.model.rowCount() == 1
    with qtbot.waitSignal(window.model.query_applied):
        window.folder_actions.include_sub.setChecked(True)
    names = {window.model.record(r).filename for r in range(window.model.rowCount())}
    assert names == {"top.jpg", "mid.jpg", "low.jpg"}
    # Live: an image added deep inside appears while sub-folders are included.
    add("new.jpg", folder="p/q/r")
    qtbot.waitUntil(lambda: window.model.rowCount() == 4)
    assert window.settings.value("view/include_subfolders", type=bool) is True


def test_a_folder_made_in_a_file_manager_appears(window, library: Library, qtbot):
    qtbot.waitUntil(lambda: str(library.root) in window.folder_actions.disk_watch.directories())
    (library.root / "made outside").mkdir()  # beside the window, nothing clicked
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "made outside")) is not None)
    assert window.tree.item_for(Place("folder", "made outside")).text(1) == "0"
    # Inside a folder too, and gone again when removed there.
    qtbot.waitUntil(
        lambda: str(library.root / "made outside") in window.folder_actions.disk_watch.directories()
    )
    (library.root / "made outside" / "inner").mkdir()
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "made outside/inner")) is not None)
    (library.root / "made outside" / "inner").rmdir()
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "made outside/inner")) is None)
