"""Moving (by action and by dragging onto a tree folder), new folders, deleting, search,
copying links: through the window's real actions and drop handlers."""

from __future__ import annotations

import threading

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication, QInputDialog

from imageshelf.app.library import Gone, Library, Sort
from imageshelf.app.ui.folder_tree import ALL, Place
from imageshelf.app.ui.mime import ids_to_mime
from tests.ui.conftest import drop


def select_ids(window, ids: list[str], qtbot) -> None:
    qtbot.waitUntil(lambda: all(window.model.row_of(i) is not None for i in ids))
    selection = QItemSelection()
    for image_id in ids:
        index = window.model.index(window.model.row_of(image_id))
        selection.select(index, index)
    window.grid.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    assert sorted(window.selected_ids()) == sorted(ids)


def test_move_by_action(window, library: Library, add, monkeypatch, qtbot):
    a, b, c = add("a.jpg"), add("b.jpg"), add("c.jpg")
    select_ids(window, [a.id, b.id], qtbot)
    asked: list[list[str]] = []

    def get_item(_parent, _title, _label, items, *_args):
        asked.append(list(items))
        return "clients/acme", True

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(get_item))
    window.actions_by_name["move"].trigger()
    qtbot.waitUntil(lambda: library.get(a.id).folder == library.get(b.id).folder == "clients/acme")
    assert library.get(c.id).folder is None
    assert (library.root / "clients" / "acme" / "a.jpg").exists()
    acme = Place("folder", "clients/acme")
    qtbot.waitUntil(lambda: (it := window.tree.item_for(acme)) is not None and it.text(1) == "2")
    assert window.tree.item_for(Place("folder", "clients")) is not None  # nested parent


def test_move_by_dragging_onto_a_tree_folder(window, library, add, qtbot):
    target = add("t.jpg", folder="brand")
    a, b = add("a.jpg"), add("b.jpg", folder="old")
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "brand")) is not None)
    select_ids(window, [a.id, b.id], qtbot)
    item = window.tree.item_for(Place("folder", "brand"))
    event = drop(
        window.tree, ids_to_mime(window.selected_ids()), window.tree.visualItemRect(item).center()
    )
    assert event.isAccepted()
    qtbot.waitUntil(lambda: {library.get(i).folder for i in (a.id, b.id, target.id)} == {"brand"})
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "brand")).text(1) == "3")
    assert window.tree.item_for(Place("folder", "old")) is None


def test_dragging_onto_needs_alt_text_does_nothing(window, library, add, qtbot):
    from imageshelf.app.ui.folder_tree import UNDESCRIBED

    a = add("a.jpg", folder="keep")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    item = window.tree.item_for(UNDESCRIBED)
    event = drop(window.tree, ids_to_mime([a.id]), window.tree.visualItemRect(item).center())
    assert not event.isAccepted()
    assert library.get(a.id).folder == "keep"


def test_grid_shows_only_the_selected_folder(window, library, add, qtbot):
    add("in.jpg", folder="brand")
    add("out.jpg")
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "brand")) is not None)
    with qtbot.waitSignal(window.model.query_applied):  # read off the GUI thread
        window.tree.select(Place("folder", "brand"))
    assert [window.model.record(r).filename for r in range(window.model.rowCount())] == ["in.jpg"]
    # An image moved into the folder shown appears; one moved out disappears.
    other = library.list_images(folder=None).items[0]
    library.update(other.id, folder="brand")
    qtbot.waitUntil(lambda: window.model.rowCount() == 2)
    library.update(other.id, folder=None)
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)


def test_new_folder_moves_the_selection(window, library, add, monkeypatch, qtbot):
    a = add("a.jpg")
    select_ids(window, [a.id], qtbot)
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("Trips/2026", True)))
    window.actions_by_name["new_folder"].trigger()
    qtbot.waitUntil(lambda: library.get(a.id).folder == "Trips/2026")


def test_bad_folder_name_is_a_notice(window, library, add, monkeypatch, no_blocking_boxes, qtbot):
    a = add("a.jpg")
    select_ids(window, [a.id], qtbot)
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("../escape", True)))
    window.actions_by_name["new_folder"].trigger()
    qtbot.waitUntil(lambda: bool(no_blocking_boxes))  # the worker said no: it is over
    assert no_blocking_boxes[-1][0] == "Cannot use that name"
    assert library.get(a.id).folder is None


def test_delete_moves_to_the_trash_without_asking(window, library, add, no_blocking_boxes, qtbot):
    a, b, keep = add("a.jpg"), add("b.jpg"), add("keep.jpg")
    select_ids(window, [a.id, b.id], qtbot)
    window.actions_by_name["delete"].trigger()
    qtbot.waitUntil(lambda: library.count() == 1)
    assert no_blocking_boxes == []  # no "are you sure?"
    for gone in (a.id, b.id):
        try:
            library.get(gone)
        except Gone:
            pass
        else:  # pragma: no cover
            raise AssertionError("still there")
    assert library.trash.count() == 2
    qtbot.waitUntil(lambda: window.model.ids() == [keep.id])
    qtbot.waitUntil(lambda: window.tree.item_for(ALL).text(1) == "1")
    qtbot.waitUntil(lambda: window.undo_notice.isVisible())
    assert window.undo_notice.label.text() == "Moved 2 images to the trash"
    assert window.details.record is None


def test_search_filters_as_you_type(window, library, add, qtbot):
    add("sunset-beach.jpg")
    add("logo.png", alt_text="Company logo in BLUE")
    add("team.jpg", alt_text="The team at the beach")
    qtbot.waitUntil(lambda: window.model.rowCount() == 3)
    qtbot.keyClicks(window.search, "beach")
    assert window.model.rowCount() == 3  # debounced: not on every key
    qtbot.waitUntil(lambda: window.model.rowCount() == 2)
    assert {window.model.record(r).filename for r in range(2)} == {"sunset-beach.jpg", "team.jpg"}
    window.search.setText("blue")
    qtbot.waitUntil(lambda: window.model.ids() and window.model.record(0).filename == "logo.jpg")
    window.search.setText("nothing like this")
    qtbot.waitUntil(lambda: window.model.rowCount() == 0)
    assert "No image matches" in window.grid.empty_text
    window.search.clear()
    qtbot.waitUntil(lambda: window.model.rowCount() == 3)


def test_search_runs_off_the_gui_thread_and_the_last_query_wins(
    window, library, add, qtbot, monkeypatch
):
    for name in ("abacus.jpg", "abc-one.jpg", "abc-two.jpg", "other.jpg"):
        add(name)
    qtbot.waitUntil(lambda: window.model.rowCount() == 4)
    gui_thread = threading.get_ident()
    readers: list[tuple[str | None, int]] = []
    real_list = library.list_images

    def list_spy(**kwargs):  # the real read, noting which thread asked
        readers.append((kwargs.get("search"), threading.get_ident()))
        return real_list(**kwargs)

    monkeypatch.setattr(library, "list_images", list_spy)
    applied: list[str] = []
    window.model.query_applied.connect(lambda: applied.append(window.model.query.search))
    # "ab" then "abc" quickly, each applied at once (as Enter would): the "ab" answer
    # comes back after "abc" was asked for and must not show.
    answers = window.model.answers
    window.search.setText("ab")
    window.apply_query()
    assert window.model.rowCount() == 4  # the old rows stay until the new ones arrive
    window.search.setText("abc")
    window.apply_query()
    assert window.model.rowCount() == 4
    qtbot.waitUntil(lambda: applied == ["abc"])
    # Both answers are in (one reader answers in order: "ab" came first) and only the
    # one asked last was applied: the stale one arrived and was dropped.
    qtbot.waitUntil(lambda: window.model.answers >= answers + 2)
    assert applied == ["abc"]
    searched = [thread for term, thread in readers if term in ("ab", "abc")]
    assert searched and gui_thread not in searched
    assert window.model.query.search == "abc"
    expected = [r.id for r in real_list(search="abc").items]
    assert window.model.ids() == expected and len(expected) == 2
    assert "2 images" in window.count_label.text()


def test_sort_by_name(window, library, add, qtbot):
    for name in ("b.jpg", "C.jpg", "a.jpg"):
        add(name)
    with qtbot.waitSignal(window.model.query_applied):
        window.sort.setCurrentIndex(window.sort.findData(Sort.NAME))
    assert [window.model.record(r).filename for r in range(3)] == ["a.jpg", "b.jpg", "C.jpg"]
    add("bb.jpg")  # a live insert lands in sorted place
    qtbot.waitUntil(lambda: window.model.rowCount() == 4)
    assert [window.model.record(r).filename for r in range(4)] == [
        "a.jpg",
        "b.jpg",
        "bb.jpg",
        "C.jpg",
    ]


def test_copy_link_uses_the_i_url(window, library, add, qtbot):
    a = add("a.jpg")
    select_ids(window, [a.id], qtbot)
    window.actions_by_name["copy_link"].trigger()
    assert QApplication.clipboard().text() == f"http://127.0.0.1:0/i/{a.id}"


def test_many_moves_and_deletes_run_in_the_background(window, library, add, qtbot):
    records = [add(f"bulk-{i:02}.jpg") for i in range(25)]
    ids = [r.id for r in records]
    qtbot.waitUntil(lambda: window.model.rowCount() == len(ids))
    select_ids(window, ids, qtbot)
    window.images.move_images(ids, "bulk")
    assert window.jobs.running  # a job, not a frozen window
    qtbot.waitUntil(lambda: library.count(folder="bulk") == len(ids), timeout=30_000)
    qtbot.waitUntil(lambda: not window.jobs.running)
    select_ids(window, ids, qtbot)
    window.actions_by_name["delete"].trigger()
    qtbot.waitUntil(lambda: library.count() == 0, timeout=30_000)
    qtbot.waitUntil(lambda: window.model.rowCount() == 0)
    qtbot.waitUntil(lambda: window.undo_notice.isVisible())
    assert window.undo_notice.label.text() == f"Moved {len(ids)} images to the trash"


def test_open_original_and_show_in_file_manager(window, library, add, monkeypatch, qtbot):
    from PySide6.QtGui import QDesktopServices

    from imageshelf.app.ui import system

    opened: list[str] = []
    # No file manager answers on D-Bus here; the fallback opens the folder.
    monkeypatch.setattr(system, "_show_items_dbus", lambda _path: False)
    monkeypatch.setattr(
        QDesktopServices,
        "openUrl",
        staticmethod(lambda url: opened.append(url.toLocalFile()) or True),
    )
    a = add("a.jpg", folder="brand")
    select_ids(window, [a.id], qtbot)
    window.actions_by_name["open"].trigger()
    window.actions_by_name["reveal"].trigger()
    path = library.original_path(a.id)[1]
    qtbot.waitUntil(lambda: len(opened) == 2)  # each path is found on a worker
    assert sorted(opened) == sorted([str(path), str(path.parent)])


def test_links_use_the_lan_address_when_sharing(library):
    from imageshelf.app.ui.server_control import ServerController, lan_address

    sharing = ServerController(library, host="0.0.0.0", port=8765)  # not started
    assert sharing.sharing
    address = lan_address()
    link = sharing.link("img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B")
    assert link.endswith(":8765/i/img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B")
    if address is not None:
        assert link.startswith(f"http://{address}:")
        assert not address.startswith("127.")
    local = ServerController(library, host="127.0.0.1", port=8765)
    assert local.link("img_X") == "http://127.0.0.1:8765/i/img_X"


def test_right_click_offers_the_image_actions(window, add, qtbot):
    a = add("a.jpg")
    select_ids(window, [a.id], qtbot)
    from imageshelf.app.ui.menus import grid_context_menu

    assert window.grid.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu
    menu = grid_context_menu(window)  # what a right-click pops up
    texts = [act.text().replace("&", "") for act in menu.actions() if not act.isSeparator()]
    assert texts[:4] == ["View image", "Open original", "Show in file manager", "Copy link"]
    assert "Delete" in texts and all(act.isEnabled() for act in menu.actions())
    menu.deleteLater()


def test_dragging_over_the_tree_accepts_folders_only(window, library, add, qtbot):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QDragMoveEvent

    from imageshelf.app.ui.folder_tree import UNDESCRIBED

    a = add("a.jpg", folder="brand")
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "brand")) is not None)

    def drag_over(place: Place) -> bool:
        rect = window.tree.visualItemRect(window.tree.item_for(place))
        mime = ids_to_mime([a.id])  # the event does not own it: keep it alive
        event = QDragMoveEvent(
            QPointF(rect.center()).toPoint(),
            Qt.DropAction.MoveAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        window.tree.dragMoveEvent(event)
        return event.isAccepted()

    assert drag_over(Place("folder", "brand"))
    # "All images" shows every folder: a drop there must not quietly move images to the
    # top level (Move to folder… does that on purpose); the status bar says why.
    with qtbot.waitSignal(window.tree.notice):
        assert not drag_over(ALL)
    assert "Drop images on a folder" in window.statusBar().currentMessage()
    assert not drag_over(UNDESCRIBED)
    assert library.get(a.id).folder == "brand"
