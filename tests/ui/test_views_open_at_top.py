"""A new folder, search, filter or sort opens at its first images; a resize keeps the
selected image in sight; an import shows in its own order, newest first."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel

from imageshelf.app.library import Sort
from imageshelf.app.ui.folder_tree import UNDESCRIBED, Place
from imageshelf.app.ui.jobs import ImportJob


def fill(add, n: int = 60) -> None:
    for i in range(n):
        add(f"img-{i:02}.jpg", folder="many" if i % 2 else None)


def scrolled(window, qtbot) -> None:
    bar = window.grid.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 400)
    bar.setValue(bar.maximum())
    assert bar.value() > 0


def test_each_new_view_opens_at_the_top(window, add, qtbot):
    window.resize(900, 500)
    fill(add)
    qtbot.waitUntil(lambda: window.model.total == 60)
    bar = window.grid.verticalScrollBar()
    changes = [
        lambda: window.tree.select(Place("folder", "many")),
        lambda: window.tree.select(UNDESCRIBED),
        lambda: window.sort.setCurrentIndex(window.sort.findData(Sort.NAME)),
        lambda: (window.search.setText("img"), window.apply_query()),
    ]
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "many")) is not None)
    for change in changes:
        scrolled(window, qtbot)
        with qtbot.waitSignal(window.model.query_applied):
            change()
        qtbot.waitUntil(lambda: bar.value() == 0, timeout=2000)


def test_a_reload_of_the_same_view_keeps_the_place(window, add, qtbot):
    window.resize(900, 500)
    fill(add)
    qtbot.waitUntil(lambda: window.model.total == 60)
    scrolled(window, qtbot)
    where = window.grid.verticalScrollBar().value()
    with qtbot.waitSignal(window.model.query_applied):
        window.model.reload()
    assert window.grid.verticalScrollBar().value() == where


def test_the_selection_stays_in_sight_on_resize(window, add, qtbot):
    window.resize(1200, 800)
    fill(add)
    qtbot.waitUntil(lambda: window.model.total == 60)
    last = window.model.index(59)
    window.grid.selectionModel().setCurrentIndex(
        last, QItemSelectionModel.SelectionFlag.ClearAndSelect
    )
    window.grid.scrollTo(last)
    window.resize(860, 520)

    def in_sight() -> bool:
        rect = window.grid.visualRect(last)
        return window.grid.viewport().rect().contains(rect)

    qtbot.waitUntil(in_sight)


def test_newest_first_shows_an_import_in_its_order(window, library, tmp_path: Path, qtbot):
    from tests.conftest import image_bytes

    folder = tmp_path / "Batch"
    folder.mkdir()
    names = [f"{n:02}-photo.jpg" for n in range(1, 9)]
    for n, name in enumerate(names):
        (folder / name).write_bytes(image_bytes(size=(30 + n, 20), color=(n * 30, 60, 90)))
    job = ImportJob(library, [folder], None)
    with qtbot.waitSignal(job.finished, timeout=20_000):
        window.jobs.start(job)
    listed = library.list_images(folder="Batch", sort=Sort.NEWEST).items
    assert [r.filename for r in listed] == names
