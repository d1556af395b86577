"""Add from URL, paste and Export touch the library only from workers: the window runs on
``GuiThreadGuard``'s library, armed, and no call may reach it from the GUI thread. The
export of a Select All whose rows were never read gets every one of them."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtWidgets import QApplication

from imageshelf.app.library import Library, rules
from imageshelf.app.ui import paste
from imageshelf.app.ui.export_dialog import open_dialog as open_export
from imageshelf.app.ui.main_window import MainWindow
from imageshelf.app.ui.url_import import AddFromUrlDialog
from imageshelf.app.ui.url_import import open_dialog as open_url
from tests.image_upstream import ImageUpstream, running
from tests.ui.test_grid_model import replicate_rows

COPIES = 2_000


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> Iterator[ImageUpstream]:
    monkeypatch.setenv(rules.FETCH_ALLOW_ENV, "127.0.0.1")
    yield from running()


def test_export_of_a_select_all_never_read_gets_every_image_off_the_gui_thread(
    guard, guarded: MainWindow, library: Library, add, tmp_path: Path, qtbot
) -> None:
    seed = add("seed.jpg")
    replicate_rows(library, COPIES)
    for n in range(COPIES):  # each copy's file: a link to the seed's
        os.link(library.path_of(None, seed.filename), library.path_of(None, f"copy-{n:05}.jpg"))
    with qtbot.waitSignal(guarded.model.query_applied):
        guarded.model.reload()
    total = COPIES + 1
    dest = tmp_path / "everything.zip"
    with guard.arming():
        guarded.grid.setFocus()
        qtbot.keyClick(guarded.grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        dialog = open_export(guarded)
        assert f"The {total:,} selected images" in dialog.pick_selected.text()
        assert dialog.pick_selected.isChecked()
        dialog.path.setText(str(dest))
        with qtbot.waitSignal(dialog.exported, timeout=120_000) as done:
            dialog.export_button.click()
    assert guard.calls == [], guard.names()
    assert len(done.args[0].written) == total
    with zipfile.ZipFile(dest) as z:
        assert len(z.namelist()) == total + 1  # and alt-text.csv


def test_add_from_url_and_paste_read_and_write_off_the_gui_thread(
    guard, guarded: MainWindow, library: Library, upstream: ImageUpstream, qtbot
) -> None:
    with guard.arming():
        dialog = open_url(guarded)
        dialog.edit.setText(upstream.url("/img/typed.png") + " " + upstream.url("/text"))
        with qtbot.waitSignal(dialog.settled, timeout=20_000):
            dialog.add_button.click()
        mime = QMimeData()
        mime.setUrls([QUrl(upstream.url("/jpeg/pasted.jpg"))])
        QApplication.clipboard().setMimeData(mime)
        assert paste.paste(guarded) == "urls"
        with qtbot.waitSignal(guarded.findChild(AddFromUrlDialog).settled, timeout=20_000):
            pass
    assert guard.calls == [], guard.names()
    names = sorted(r.original_filename for r in library.list_images().items)
    assert names == ["pasted.jpg", "typed.png"]
