"""The details pane's custom metadata box (``app/ui/metadata_panel.py``): shows the
selected image's ``custom_metadata``, edits, adds and removes keys, saves on a worker
thread (never the GUI thread), keeps what the core refuses on screen with its reason, and
saves pending edits when the selection moves on."""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from imageshelf.app.library import Event, Library
from imageshelf.app.ui.metadata_panel import NUMBER, YES_NO
from tests.ui.test_details import select


def _with_meta(library: Library, add: Any, name: str, meta: dict[str, Any]) -> Any:
    image = add(name)
    return library.update(image.id, custom_metadata=meta)


def _cells(panel: Any) -> list[tuple[str, str, str]]:
    out = []
    for row in range(panel.table.rowCount()):
        combo = panel.table.cellWidget(row, 2)
        assert isinstance(combo, QComboBox)
        out.append(
            (panel.table.item(row, 0).text(), panel.table.item(row, 1).text(), combo.currentText())
        )
    return out


def test_shows_edits_and_saves_on_a_worker(window, library: Library, add, qtbot) -> None:
    image = _with_meta(library, add, "kite.png", {"sku": "A-12", "count": 3, "print": True})
    select(window, image.id, qtbot)
    panel = window.details.meta
    assert panel.isVisible() and not panel.table.isVisible()  # folded to its header
    assert panel.header.text() == "Custom metadata (3)"
    qtbot.mouseClick(panel.header, Qt.MouseButton.LeftButton)
    assert panel.table.isVisible()
    assert _cells(panel) == [
        ("sku", "A-12", "Text"),
        ("count", "3", NUMBER),
        ("print", "true", YES_NO),
    ]
    assert not panel.save_button.isEnabled()
    writers: list[threading.Thread] = []

    def on_event(event: Event) -> None:
        if event.image_id == image.id:
            writers.append(threading.current_thread())

    library.subscribe(on_event)
    panel.table.item(1, 1).setText("4")  # count: 3 -> 4
    panel.table.selectRow(2)
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)  # print removed
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    panel.table.item(2, 0).setText("ratio")
    panel.table.item(2, 1).setText("1.5")
    panel.table.cellWidget(2, 2).setCurrentText(NUMBER)
    assert panel.save_button.isEnabled()
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: library.get(image.id).custom_metadata == {"sku": "A-12", "count": 4, "ratio": 1.5}
    )
    qtbot.waitUntil(lambda: not panel.is_dirty())
    assert writers and all(t is not threading.main_thread() for t in writers)
    assert _cells(panel) == [
        ("sku", "A-12", "Text"),
        ("count", "4", NUMBER),
        ("ratio", "1.5", NUMBER),
    ]


def test_what_cannot_be_saved_stays_with_its_reason(window, library: Library, add, qtbot) -> None:
    image = _with_meta(library, add, "a.png", {"sku": "A"})
    select(window, image.id, qtbot)
    panel = window.details.meta
    panel.expand(True)
    panel.table.item(0, 1).setText("many")
    panel.table.cellWidget(0, 2).setCurrentText(NUMBER)
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert panel.error.isVisible() and "not a number" in panel.error.text()
    assert library.get(image.id).custom_metadata == {"sku": "A"}
    panel.table.cellWidget(0, 2).setCurrentText("Text")
    panel.table.item(0, 0).setText("bad key!")  # the core's rule, refused on the worker
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(panel.error.isVisible)
    assert "bad key!" in panel.error.text()
    assert panel.table.item(0, 0).text() == "bad key!"  # the edit is still there
    assert library.get(image.id).custom_metadata == {"sku": "A"}


def test_moving_on_saves_pending_edits(window, library: Library, add, qtbot) -> None:
    first = _with_meta(library, add, "one.png", {"a": "1"})
    second = add("two.png")
    select(window, first.id, qtbot)
    window.details.meta.table.item(0, 1).setText("2")
    select(window, second.id, qtbot)
    qtbot.waitUntil(lambda: library.get(first.id).custom_metadata == {"a": "2"})
    assert window.details.meta.table.rowCount() == 0  # the second image has none


def test_changes_made_elsewhere_are_shown(window, library: Library, add, qtbot) -> None:
    image = _with_meta(library, add, "x.png", {"a": "1"})
    select(window, image.id, qtbot)
    library.update(image.id, custom_metadata={"b": False})
    qtbot.waitUntil(lambda: window.details.meta.table.rowCount() == 2)
    assert _cells(window.details.meta) == [("a", "1", "Text"), ("b", "false", YES_NO)]
