"""Starting the window (a locked library is a message, not a traceback), settings kept
between runs in a temp location, the exception hook, keyboard operation and accessible
names on every control."""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from imageshelf.app.library import Library
from imageshelf.app.ui import notices
from imageshelf.app.ui.launch import choose_library, open_window, server_address
from imageshelf.app.ui.main_window import MainWindow
from imageshelf.app.ui.server_control import ServerController


def args(**kw: object) -> argparse.Namespace:
    return argparse.Namespace(**({"library": None, "host": None, "port": None} | kw))


def test_a_locked_library_is_a_message_and_no_window(library_path, settings, no_blocking_boxes):
    holder = Library.open(library_path, reconcile=False)
    try:
        assert open_window(args(library=library_path, port=0), settings) is None
    finally:
        holder.close()
    title, text = no_blocking_boxes[-1]
    assert title == "Imageshelf cannot open the library"
    assert "already open" in text


def test_open_window_serves_the_same_library_and_reconciles(library_path, settings, qtbot):
    # A file copied into the folder while the app was closed is found by the background
    # reconciliation after the window is already up.
    lib = Library.open(library_path)
    lib.close()
    from tests.conftest import image_bytes

    (library_path / "dropped-in.png").write_bytes(image_bytes("PNG"))
    opened = open_window(args(library=library_path, host="127.0.0.1", port=0), settings)
    assert opened is not None
    window, library = opened
    qtbot.addWidget(window)
    try:
        assert window.isVisible()
        # The server starts once the window has painted, not before.
        qtbot.waitUntil(lambda: window.server.running)
        assert window.server.running and window.server.server.library is library
        qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=20_000)
        assert window.model.record(0).filename == "dropped-in.png"
    finally:
        window.close()
        library.close()


def test_launch_on_a_taken_port_still_says_so(library_path, settings, qtbot):
    # The server starts after the window is shown: its "port taken" notice must not be
    # lost on the way.
    Library.open(library_path).close()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        opened = open_window(args(library=library_path, host="127.0.0.1", port=port), settings)
        assert opened is not None
        window, library = opened
        qtbot.addWidget(window)
        messages: list[str] = []
        window.statusBar().messageChanged.connect(messages.append)
        try:
            assert window.isVisible()
            qtbot.waitUntil(lambda: "already in use" in window.server_label.text())
            assert any("already in use" in m for m in messages)
            assert not window.server.running
        finally:
            window.close()
            library.close()


def test_settings_are_remembered(library, settings, qtbot, tmp_path):
    first = MainWindow(library, settings, ServerController(library, port=0))
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    first.resize(700, 500)  # the offscreen screen is 800×600
    first.sort.setCurrentIndex(2)
    first.server.reconfigure(port=0, sharing=False)
    first.server_settings().accept()  # OK in Server settings remembers what runs
    first.close()
    assert Path(str(settings.value("library/last"))) == library.root
    second = MainWindow(library, settings, ServerController(library, port=0))
    qtbot.addWidget(second)
    assert second.sort.currentIndex() == 2
    assert (second.width(), second.height()) == (700, 500)
    second.close()
    assert choose_library(args(), settings) == library.root
    assert choose_library(args(library=tmp_path / "other"), settings) == tmp_path / "other"
    settings.setValue("server/port", 9999)
    settings.setValue("server/share", True)
    assert server_address(args(), settings) == ("0.0.0.0", 9999)
    assert server_address(args(host="127.0.0.1", port=1234), settings) == ("127.0.0.1", 1234)


def test_uncaught_errors_become_readable_notices(monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    notices.install_excepthook(shown.append)
    from imageshelf.app.library import StorageError

    try:
        raise StorageError("The disk is full: could not save the image.")
    except StorageError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    try:
        raise KeyError("boom")
    except KeyError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    assert shown[0] == "The disk is full: could not save the image."
    assert shown[1].startswith("Something went wrong") and "log" in shown[1]


def test_delete_key_works_in_the_grid_but_not_in_the_editor(window, library, add, qtbot):
    a, b = add("a.jpg"), add("b.jpg")
    qtbot.waitUntil(lambda: window.model.rowCount() == 2)
    window.activateWindow()
    window.grid.setFocus()
    qtbot.waitUntil(window.grid.hasFocus)
    window.grid.setCurrentIndex(window.model.index(window.model.row_of(a.id)))
    window.details.alt.edit.setFocus()
    qtbot.waitUntil(window.details.alt.edit.hasFocus)
    qtbot.keyClick(window.details.alt.edit, Qt.Key.Key_Delete)
    assert library.count() == 2
    window.grid.setFocus()
    qtbot.waitUntil(window.grid.hasFocus)
    qtbot.keyClick(window.grid, Qt.Key.Key_Delete)  # to the trash, on a worker
    qtbot.waitUntil(lambda: library.count() == 1)
    assert library.list_images().items[0].id == b.id


def test_tab_reaches_search_tree_grid_and_editor(window, add, qtbot):
    add("a.jpg")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    window.grid.setCurrentIndex(window.model.index(0))
    chain: list[QWidget] = []
    w: QWidget = window.search
    for _ in range(40):
        chain.append(w)
        w = w.nextInFocusChain()
        if w is window.search:
            break
    order = [chain.index(x) for x in (window.search, window.tree, window.grid)]
    assert order == sorted(order)
    assert window.details.alt.edit in chain and window.details.folder in chain


def unnamed_controls(root: QWidget) -> list[str]:
    kinds = (
        QAbstractButton,
        QAbstractItemView,
        QAbstractSpinBox,
        QComboBox,
        QLineEdit,
        QPlainTextEdit,
    )
    unnamed = []
    for w in root.findChildren(QWidget):
        if not isinstance(w, kinds) or not w.isVisibleTo(root):
            continue
        if isinstance(w, QAbstractItemView) and isinstance(w.parent(), QComboBox):
            continue  # a combo's popup list is named through its combo
        if isinstance(w.parent(), QAbstractSpinBox):
            continue  # a spin box's own text field is named through the spin box
        text = w.text() if isinstance(w, QAbstractButton) else ""
        if not (w.accessibleName() or text.replace("&", "").strip()):
            unnamed.append(f"{type(w).__name__} {w.objectName()} {w.toolTip()}")
    return unnamed


def test_every_control_has_an_accessible_name(window, add, qtbot):
    add("a.jpg")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    window.grid.setCurrentIndex(window.model.index(0))
    assert unnamed_controls(window) == []
    dialog = window.server_settings()
    assert unnamed_controls(dialog) == []
    dialog.reject()
