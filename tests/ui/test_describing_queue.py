"""Describing a queue with the keyboard: Ctrl+Enter in "Needs alt text" moves on with the
focus still in the editor; text over the limit is kept as a draft (also across a
restart); no invisible Tab stop; no clashing mnemonics."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel

from imageshelf.app.library.rules import MAX_ALT_TEXT_CHARS
from imageshelf.app.ui.folder_tree import UNDESCRIBED
from imageshelf.app.ui.main_window import MainWindow
from imageshelf.app.ui.server_control import ServerController


def test_ctrl_enter_moves_to_the_next_image_keeping_the_keys_in_the_editor(
    window, library, add, qtbot
):
    images = [add(f"q{n}.jpg") for n in range(3)]
    with qtbot.waitSignal(window.model.query_applied):
        window.tree.select(UNDESCRIBED)
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow())
    window.grid.setCurrentIndex(window.model.index(0))
    first = window.details.record
    editor = window.details.alt.edit
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus)
    qtbot.keyClicks(editor, "described")
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: library.get(first.id).alt_text == "described")
    qtbot.waitUntil(lambda: window.model.rowCount() == 2)
    qtbot.waitUntil(lambda: window.details.record is not None and window.details.record != first)
    assert window.details.record.id in {i.id for i in images} - {first.id}
    qtbot.waitUntil(editor.hasFocus)
    assert editor.isEnabled() and editor.toPlainText() == ""


def show(window: MainWindow, image_id: str) -> None:
    """Selects one image (whatever modifier keys an earlier key click left "held")."""
    index = window.model.index(window.model.row_of(image_id))
    flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
    window.grid.selectionModel().setCurrentIndex(index, flags)
    assert window.details.record is not None and window.details.record.id == image_id


def test_text_over_the_limit_is_kept_as_a_draft(window, library, add, settings, qtbot):
    a, b = add("a.jpg"), add("b.jpg")
    qtbot.waitUntil(lambda: window.model.rowCount() == 2)
    show(window, a.id)
    too_long = "z" * (MAX_ALT_TEXT_CHARS + 1)
    window.details.alt.edit.setPlainText(too_long)
    show(window, b.id)
    assert "kept as a draft" in window.statusBar().currentMessage()
    assert library.get(a.id).alt_text is None
    show(window, a.id)
    assert window.details.alt.edit.toPlainText() == too_long
    assert "draft" in window.details.alt.status.text()
    # Closing the window keeps it too; the next window shows it again.
    window.close()
    again = MainWindow(library, settings, ServerController(library, port=0))
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.model.row_of(a.id) is not None)
    show(again, a.id)
    assert again.details.alt.edit.toPlainText() == too_long
    # Shortened and saved, the draft is gone.
    again.details.alt.edit.setPlainText("short")
    again.details.save_alt_text()
    assert a.id not in again.details.drafts
    qtbot.waitUntil(lambda: library.get(a.id).alt_text == "short")
    again.close()


def test_the_details_pane_itself_is_no_tab_stop(window):
    assert window.details.focusPolicy() == Qt.FocusPolicy.NoFocus


def _mnemonic(text: str) -> str | None:
    key = QKeySequence.mnemonic(text)
    return key.toString() if not key.isEmpty() else None


def test_no_two_controls_share_an_alt_key(window, add, qtbot):
    add("a.jpg")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    window.grid.setCurrentIndex(window.model.index(0))  # the details pane's controls show
    QApplication.processEvents()
    keys: dict[str, str] = {}
    texts = [a.text() for a in window.menuBar().actions()]
    for w in window.findChildren(QAbstractButton) + window.findChildren(QLabel):
        if w.isVisible() and w.window() is window:
            texts.append(w.text())
    for text in texts:
        key = _mnemonic(text)
        if key is not None:
            assert key not in keys, f"{text!r} and {keys[key]!r} share {key}"
            keys[key] = text
    assert keys["Alt+F"] == "&File"
