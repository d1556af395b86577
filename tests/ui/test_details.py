"""The details pane: alt text saved on focus-out and Ctrl+Enter, the decorative state
stored as "" and shown again, undo and revert, the character count, the folder combo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from imageshelf.app.library import Library
from imageshelf.app.library.rules import MAX_ALT_TEXT_CHARS
from imageshelf.app.ui.folder_tree import ALL, UNDESCRIBED, Place


def select(window, image_id: str, qtbot) -> None:
    qtbot.waitUntil(lambda: window.model.row_of(image_id) is not None)
    window.grid.setCurrentIndex(window.model.index(window.model.row_of(image_id)))
    assert window.details.record is not None and window.details.record.id == image_id


def test_alt_text_saved_with_ctrl_enter(window, library: Library, add, qtbot):
    image = add("chart.png")
    select(window, image.id, qtbot)
    editor = window.details.alt.edit
    editor.setFocus()
    qtbot.keyClicks(editor, "Bar chart: sales rose 20% in 2025")
    editor.insertPlainText(" — ñ")  # QTest types ASCII only
    assert library.get(image.id).alt_text is None  # not saved while typing
    assert window.details.alt.status.text() == "Not saved yet"
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    saved = "Bar chart: sales rose 20% in 2025 — ñ"
    qtbot.waitUntil(lambda: library.get(image.id).alt_text == saved)
    assert "\n" not in editor.toPlainText()  # Ctrl+Enter saved; it did not add a line
    qtbot.waitUntil(lambda: window.tree.item_for(UNDESCRIBED).text(1) == "0")
    assert window.details.alt.status.text() == "Saved"


def test_alt_text_saved_when_focus_leaves(window, library, add, qtbot):
    image = add("photo.jpg")
    select(window, image.id, qtbot)
    window.activateWindow()
    editor = window.details.alt.edit
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus)
    qtbot.keyClicks(editor, "A red square")
    window.grid.setFocus()
    qtbot.waitUntil(lambda: library.get(image.id).alt_text == "A red square")


def test_switching_images_saves_the_pending_text(window, library, add, qtbot):
    first, second = add("one.jpg"), add("two.jpg")
    select(window, first.id, qtbot)
    window.details.alt.edit.setPlainText("First description")
    select(window, second.id, qtbot)
    assert window.details.alt.edit.toPlainText() == ""
    qtbot.waitUntil(lambda: library.get(first.id).alt_text == "First description")


def test_decorative_round_trips(window, library, add, qtbot):
    image, other = add("divider.png"), add("other.png")
    select(window, image.id, qtbot)
    alt = window.details.alt
    alt.decorative.click()
    assert not alt.edit.isEnabled()
    qtbot.waitUntil(lambda: library.get(image.id).alt_text == "")
    qtbot.waitUntil(lambda: window.model.record(window.model.row_of(image.id)).alt_text == "")
    select(window, other.id, qtbot)
    assert not alt.decorative.isChecked() and alt.edit.isEnabled()
    select(window, image.id, qtbot)
    assert alt.decorative.isChecked() and not alt.edit.isEnabled()
    assert alt.status.text() == "Decorative"
    alt.decorative.click()  # no longer decorative, no text yet: back to "needs alt text"
    qtbot.waitUntil(lambda: library.get(image.id).alt_text is None)
    assert alt.edit.isEnabled()


def test_undo_and_revert(window, library, add, qtbot):
    image = add("cat.jpg", alt_text="A cat")
    select(window, image.id, qtbot)
    editor = window.details.alt.edit
    editor.setFocus()
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(editor, " asleep")
    assert editor.toPlainText() == "A cat asleep"
    editor.undo()
    assert editor.toPlainText() == "A cat"
    qtbot.keyClicks(editor, " on a mat")
    window.details.alt.revert_button.click()
    assert editor.toPlainText() == "A cat"
    assert library.get(image.id).alt_text == "A cat"
    editor.undo()  # even a revert can be undone
    assert editor.toPlainText() == "A cat on a mat"


def test_character_count_and_the_limit(window, library, add, qtbot):
    image = add("long.jpg")
    select(window, image.id, qtbot)
    alt = window.details.alt
    alt.edit.setPlainText("x" * 12)
    assert alt.count.text() == f"12 / {MAX_ALT_TEXT_CHARS:,} characters"
    alt.edit.setPlainText("y" * (MAX_ALT_TEXT_CHARS + 1))
    assert not alt.save_button.isEnabled()
    assert alt.status.text().startswith("Too long to save")
    window.details.save_alt_text()  # refused: a notice, not a crash
    assert library.get(image.id).alt_text is None
    assert "not saved" in window.statusBar().currentMessage()


def test_needs_alt_text_shows_exactly_the_undescribed(window, library, add, qtbot):
    undescribed = {add("a.jpg").id, add("b.jpg", folder="x").id}
    add("c.jpg", alt_text="described")
    add("d.jpg", alt_text="")  # decorative counts as described
    qtbot.waitUntil(lambda: window.tree.item_for(UNDESCRIBED).text(1) == "2")
    with qtbot.waitSignal(window.model.query_applied):
        window.tree.select(UNDESCRIBED)
    assert set(window.model.ids()) == undescribed
    # Describing one makes it leave this view at once.
    library.update(next(iter(undescribed)), alt_text="now described")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    with qtbot.waitSignal(window.model.query_applied):
        window.tree.select(ALL)
    assert window.model.rowCount() == 4


def test_external_alt_text_change_shows_in_the_editor(window, library, add, qtbot):
    image = add("api.jpg")
    select(window, image.id, qtbot)
    library.update(image.id, alt_text="Written through the API")
    qtbot.waitUntil(lambda: window.details.alt.edit.toPlainText() == "Written through the API")


def test_folder_combo_moves_the_image(window, library, add, qtbot):
    image = add("logo.png", folder="brand")
    select(window, image.id, qtbot)
    combo = window.details.folder
    combo.setEditText("clients/acme")
    combo.lineEdit().returnPressed.emit()
    qtbot.waitUntil(lambda: library.get(image.id).folder == "clients/acme")
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "clients/acme")) is not None)
    assert window.tree.item_for(Place("folder", "brand")) is None  # emptied folders go


def test_escape_goes_back_to_the_saved_text(window, library, add, qtbot):
    image = add("dog.jpg", alt_text="A dog")
    select(window, image.id, qtbot)
    editor = window.details.alt.edit
    editor.setFocus()
    qtbot.keyClicks(editor, "xyz")
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert editor.toPlainText() == "A dog"
    assert not window.details.alt.is_dirty()


def test_many_selected_move_together_from_the_details_pane(window, library, add, qtbot):
    from tests.ui.test_actions import select_ids

    a, b = add("a.jpg"), add("b.jpg", folder="old")
    select_ids(window, [a.id, b.id], qtbot)
    assert window.details.record is None
    assert window.details.heading.text() == "2 images selected"
    assert not window.details.alt.edit.isEnabled()
    combo = window.details.folder
    combo.setEditText("together")
    combo.lineEdit().returnPressed.emit()
    qtbot.waitUntil(lambda: library.get(a.id).folder == library.get(b.id).folder == "together")


def test_describing_in_needs_alt_text_moves_on_to_the_next_image(window, library, add, qtbot):
    first, second = add("first.jpg"), add("second.jpg")
    qtbot.waitUntil(lambda: window.tree.item_for(UNDESCRIBED).text(1) == "2")
    with qtbot.waitSignal(window.model.query_applied):
        window.tree.select(UNDESCRIBED)
    select(window, second.id, qtbot)  # newest first: the top one
    editor = window.details.alt.edit
    editor.setFocus()
    qtbot.keyClicks(editor, "The second one")
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.model.ids() == [first.id])
    qtbot.waitUntil(lambda: window.details.record is not None)
    assert window.details.record.id == first.id
    assert editor.toPlainText() == ""
    assert library.get(second.id).alt_text == "The second one"


def test_many_selected_show_a_summary(window, library, add, qtbot):
    from tests.ui.test_actions import select_ids

    a = add("first.jpg", folder="brand", alt_text="Logo")
    b = add("second.jpg")
    c = add("third.jpg", folder="brand")
    select_ids(window, [a.id, b.id, c.id], qtbot)
    details = window.details
    assert details.heading.isVisible() and details.heading.text() == "3 images selected"
    qtbot.waitUntil(lambda: "Together" in details.empty.text())  # read on a worker
    text = details.empty.text()
    assert "In folders: (top level), brand" in text
    assert "Need alt text: 2" in text
    assert all(name in text for name in ("first.jpg", "second.jpg", "third.jpg"))
    total = sum(r.size for r in (a, b, c))
    from imageshelf.app.ui.details_summary import human_size

    assert f"Together: {human_size(total)}" in text
    assert not details.preview.isVisible() and details.folder.isVisible()


@pytest.mark.qt_log_ignore("does not support QPlatformServices")
def test_show_in_file_manager_without_one_says_so(window, library, add, no_blocking_boxes, qtbot):
    # Under the offscreen platform there is no file manager to hand the file to.
    image = add("here.jpg", folder="brand")
    select(window, image.id, qtbot)
    window.actions_by_name["reveal"].trigger()
    qtbot.waitUntil(lambda: bool(no_blocking_boxes))  # the path is found on a worker
    title, text = no_blocking_boxes[-1]
    assert title == "No file manager was found"
    assert str(library.root / "brand" / "here.jpg") in text
    window.actions_by_name["open"].trigger()
    qtbot.waitUntil(lambda: len(no_blocking_boxes) == 2)
    assert no_blocking_boxes[-1][0] == "No program to show images was found"
