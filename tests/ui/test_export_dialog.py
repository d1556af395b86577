"""*Export…* in the window: the selection or the folder shown, to a zip or a folder, with
the alt-text.csv columns ticked; a destination inside the library is refused in the
dialog; Cancel removes what was written."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt

from imageshelf.app.library import Library
from imageshelf.app.ui.export_dialog import ExportDialog, open_dialog, time_left
from imageshelf.app.ui.folder_tree import Place


def _select(window, ids: list[str], qtbot) -> None:
    qtbot.waitUntil(lambda: all(window.model.row_of(i) is not None for i in ids))
    selection = window.grid.selectionModel()
    selection.clear()
    for image_id in ids:
        index = window.model.index(window.model.row_of(image_id))
        selection.select(index, QItemSelectionModel.SelectionFlag.Select)


def _columns(dialog: ExportDialog, names: tuple[str, ...]) -> None:
    dialog.csv.setChecked(True)
    for name, box in dialog.columns.items():
        box.setChecked(name in names)


def test_the_selection_goes_into_a_zip_with_the_columns_ticked(
    window, library: Library, add, tmp_path: Path, qtbot
) -> None:
    a = add("a.jpg", alt_text='First, "quoted"', folder="Trip")
    b = add("b.jpg", folder="Trip/Day 2")
    add("not-chosen.jpg")
    _select(window, [a.id, b.id], qtbot)
    dialog = open_dialog(window)
    assert dialog.pick_selected.isChecked() and "2 selected" in dialog.pick_selected.text()
    assert dialog.as_zip.isChecked()
    dest = tmp_path / "out ñ.zip"
    dialog.path.setText(str(dest))
    _columns(dialog, ("path", "id", "alt_status"))
    with qtbot.waitSignal(dialog.exported, timeout=20_000) as done:
        dialog.export_button.click()
    report = done.args[0]
    assert sorted(report.written) == ["Trip/Day 2/b.jpg", "Trip/a.jpg"]
    with zipfile.ZipFile(dest) as z:
        assert z.testzip() is None
        assert sorted(z.namelist()) == ["Trip/Day 2/b.jpg", "Trip/a.jpg", "alt-text.csv"]
        assert z.read("Trip/a.jpg") == library.path_of("Trip", "a.jpg").read_bytes()
        rows = list(csv.reader(io.StringIO(z.read("alt-text.csv").decode())))
    assert rows[0] == ["path", "id", "alt_status"]
    assert sorted(rows[1:]) == [["Trip/Day 2/b.jpg", b.id, "missing"],
                                ["Trip/a.jpg", a.id, "described"]]  # fmt: skip
    assert f"Exported 2 images to {dest}" in window.statusBar().currentMessage()
    assert window.settings.value("export/columns") == "path,id,alt_status"


def test_the_folder_shown_goes_into_a_new_folder(
    window, library: Library, add, tmp_path: Path, qtbot
) -> None:
    add("top.jpg")
    add("in.jpg", folder="Trip")
    add("below.jpg", folder="Trip/Day 2")
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "Trip")) is not None)
    window.tree.select(Place("folder", "Trip"))
    dialog = open_dialog(window)
    assert dialog.pick_folder.isChecked() and "Trip" in dialog.pick_folder.text()
    dialog.sub_folders.setChecked(False)
    dialog.as_folder.setChecked(True)
    dest = tmp_path / "Shared copy"
    dialog.path.setText(str(dest))
    dialog.csv.setChecked(False)
    with qtbot.waitSignal(dialog.exported, timeout=20_000):
        dialog.export_button.click()
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*")) == ["Trip", "Trip/in.jpg"]


def test_a_destination_inside_the_library_is_refused_in_the_dialog(
    window, library: Library, add, qtbot
) -> None:
    add("a.jpg")
    dialog = open_dialog(window)
    dialog.path.setText(str(library.root / "copies.zip"))
    with qtbot.waitSignal(dialog.error_shown, timeout=20_000):
        dialog.export_button.click()
    assert "inside the library" in dialog.error.text()
    assert dialog.isVisible() and dialog.pages.currentIndex() == 0
    assert dialog.export_button.isEnabled()
    assert not (library.root / "copies.zip").exists()


def test_cancel_leaves_nothing_written(window, library: Library, add, tmp_path, qtbot) -> None:
    for n in range(5):
        add(f"p{n}.jpg")
    dialog = open_dialog(window)
    dialog.pick_all.setChecked(True)
    out = tmp_path / "exports"
    out.mkdir()
    dialog.path.setText(str(out / "all.zip"))
    dialog.csv.setChecked(True)
    # Cancel as the first progress is reported, from the worker itself: the export is
    # then surely under way (tiny files would otherwise be done before a click lands).
    dialog.starting.connect(
        lambda job: job.moved.connect(job.cancel, Qt.ConnectionType.DirectConnection)
    )
    with qtbot.waitSignal(dialog.rejected, timeout=20_000):
        job = dialog.start()
        assert job is not None and dialog.pages.currentIndex() == 1
    assert job.stop.is_set()
    assert list(out.iterdir()) == []
    assert "cancelled" in window.statusBar().currentMessage()


def test_the_cancel_button_asks_the_job_to_stop(window, add, tmp_path, qtbot) -> None:
    add("a.jpg")
    dialog = open_dialog(window)
    dialog.path.setText(str(tmp_path / "a.zip"))
    job = dialog.start()
    assert job is not None
    with qtbot.waitSignal(dialog.finished, timeout=20_000):
        dialog.cancel_button.click()  # the job may finish first: either way it ends
    assert job.stop.is_set()


def test_time_left_in_words() -> None:
    assert time_left(0.5, 10, 100) == ""  # no pace yet
    assert time_left(10, 50, 100) == "about 10 s left"
    assert time_left(60, 10, 100) == "about 9 min left"
    assert time_left(600, 10, 100) == "about 1.5 h left"
    assert time_left(10, 100, 100) == ""


def test_nothing_to_export_is_said_and_nothing_is_written(window, tmp_path: Path, qtbot) -> None:
    dialog = open_dialog(window)
    assert dialog.pick_all.isChecked() and not dialog.pick_selected.isEnabled()
    dialog.path.setText(str(tmp_path / "empty.zip"))
    with qtbot.waitSignal(dialog.error_shown, timeout=20_000):
        dialog.export_button.click()
    assert "no images to export" in dialog.error.text()
    assert not (tmp_path / "empty.zip").exists()


def test_a_zip_already_there_is_replaced_after_asking(
    window, add, tmp_path: Path, qtbot, no_blocking_boxes
) -> None:
    add("a.jpg")
    dest = tmp_path / "old.zip"
    dest.write_bytes(b"not a zip")
    dialog = open_dialog(window)
    dialog.path.setText(str(dest))
    with qtbot.waitSignal(dialog.exported, timeout=20_000):
        dialog.export_button.click()
    assert no_blocking_boxes == [("Replace the zip file?", f"{dest} already exists. Replace it?")]
    assert zipfile.ZipFile(dest).namelist()[0] == "a.jpg"
