"""Importing by dropping files on the grid or on a folder in the tree: images appear in
the grid and the counts, rejected files are listed with the reason, and the window keeps
responding while a big import runs."""

from __future__ import annotations

import io
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel

from imageshelf.app.library import Library
from imageshelf.app.ui.folder_tree import ALL, UNDESCRIBED, Place
from tests.conftest import image_bytes
from tests.ui.conftest import drop, file_mime


def test_files_dropped_on_grid_are_imported_and_shown(window, library: Library, write_image, qtbot):
    files = [
        write_image("café.jpg", color=(10, 200, 30)),
        write_image("logo.png", fmt="PNG", color=(0, 0, 255)),
        write_image("anim.gif", fmt="GIF", frames=3),
    ]
    with qtbot.waitSignal(window.import_finished, timeout=30_000) as blocker:
        event = drop(window.grid, file_mime(files))
    assert event.isAccepted()
    report = blocker.args[0]
    assert len(report.added) == 3 and not report.rejected
    assert library.count() == 3
    qtbot.waitUntil(lambda: window.model.rowCount() == 3)
    names = {window.model.record(r).original_filename for r in range(3)}
    assert names == {"café.jpg", "logo.png", "anim.gif"}
    qtbot.waitUntil(lambda: window.tree.item_for(ALL).text(1) == "3")
    assert window.tree.item_for(UNDESCRIBED).text(1) == "3"
    assert window.imports.summary_dialog is None  # nothing to report: no dialog in the way


def test_files_dropped_on_a_tree_folder_go_into_it(window, library, add, write_image, qtbot):
    add("existing.jpg", folder="brand")
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "brand")) is not None)
    item = window.tree.item_for(Place("folder", "brand"))
    pos = window.tree.visualItemRect(item).center()
    folder = write_image("new.jpg").parent / "shoot"
    folder.mkdir()
    (folder / "one.jpg").write_bytes(image_bytes(color=(1, 2, 3)))
    (folder / "two.png").write_bytes(image_bytes("PNG", color=(4, 5, 6)))
    with qtbot.waitSignal(window.import_finished, timeout=30_000):
        drop(window.tree, file_mime([folder]), pos)
    assert sorted(i.relpath for i in library.list_images(folder="brand/shoot").items) == [
        "brand/shoot/one.jpg",
        "brand/shoot/two.png",
    ]

    # The tree's counts are read on a worker after each batch of changes: the folder may
    # first show with one image, and its count follows.
    def shoot_count() -> str | None:
        item = window.tree.item_for(Place("folder", "brand/shoot"))
        return None if item is None else item.text(1)

    qtbot.waitUntil(lambda: shoot_count() == "2")


def test_rejected_files_are_listed_with_the_reason(window, library, write_image, tmp_path, qtbot):
    good = write_image("good.jpg", color=(9, 9, 9))
    already = write_image("already.jpg", color=(50, 60, 70))
    with already.open("rb") as fp:
        library.add(fp, "already.jpg")
    copy = write_image("copy-of-good.jpg", color=(50, 60, 70))
    text = tmp_path / "outside" / "notes.pdf"
    text.write_bytes(b"%PDF-1.4 not an image")
    broken = tmp_path / "outside" / "broken.jpg"
    broken.write_bytes(image_bytes()[:60])
    with qtbot.waitSignal(window.import_finished, timeout=30_000) as blocker:
        drop(window.grid, file_mime([good, copy, text, broken]))
    report = blocker.args[0]
    assert [r.original_filename for r in report.added] == ["good.jpg"]
    assert {r.path.name for r in report.rejected} == {"copy-of-good.jpg", "notes.pdf", "broken.jpg"}
    assert window.imports.summary_dialog is not None and window.imports.summary_dialog.isVisible()
    rows = dict(window.imports.summary_dialog.rows())
    assert set(rows) == {"copy-of-good.jpg", "notes.pdf", "broken.jpg"}
    assert "already" in rows["copy-of-good.jpg"].lower()
    assert all(reason for reason in rows.values())
    assert "not imported" in window.statusBar().currentMessage()
    assert library.count() == 2


def test_event_loop_keeps_running_during_a_200_image_import(window, library, tmp_path, qtbot):
    source = tmp_path / "many"
    source.mkdir()
    for i in range(200):
        (source / f"img-{i:03}.jpg").write_bytes(
            image_bytes(size=(64, 48), color=(i, 255 - i, (i * 7) % 256))
        )
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(1))
    progress: list[int] = []
    timer.start()
    try:
        with qtbot.waitSignal(window.import_finished, timeout=120_000) as blocker:
            job = window.imports.import_paths([source], None)
            assert job is not None
            job.progress.connect(lambda done, _total: progress.append(len(ticks)))
        ticks_during = len(ticks)
    finally:
        timer.stop()
    assert len(blocker.args[0].added) == 200
    # The timer kept firing while the import ran on its worker: ticks arrived between
    # progress reports, not only after the import ended.
    assert ticks_during > 0
    assert len(set(progress)) > 1
    qtbot.waitUntil(lambda: window.model.total == 200)
    assert library.count(folder="many") == 200


def test_cancel_leaves_only_whole_images(window, library, tmp_path, qtbot):
    source = tmp_path / "batch"
    source.mkdir()
    for i in range(60):
        (source / f"p{i:02}.png").write_bytes(image_bytes("PNG", size=(300, 200), color=(i, i, 0)))
    with qtbot.waitSignal(window.import_finished, timeout=120_000) as blocker:
        window.imports.import_paths([source], None)
        dialog = window.imports.progress_dialogs[0]
        dialog.cancel_button.click()
    report = blocker.args[0]
    assert report.cancelled
    assert library.count() == len(report.added) < 60
    assert not any((library.root / ".imageshelf" / "tmp").iterdir())
    on_disk = list((library.root / "batch").glob("*")) if (library.root / "batch").exists() else []
    assert len(on_disk) == len(report.added)
    assert not window.imports.progress_dialogs


def test_add_images_dialog_imports_chosen_files(window, library, write_image, monkeypatch, qtbot):
    from PySide6.QtWidgets import QFileDialog

    chosen = [str(write_image("picked.webp", fmt="WEBP"))]
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: (chosen, "")))
    with qtbot.waitSignal(window.import_finished, timeout=30_000):
        window.actions_by_name["add"].trigger()
    assert [r.original_filename for r in library.list_images().items] == ["picked.webp"]
    assert Path(chosen[0]).exists()  # imported as a copy; the original stays


def test_every_file_left_out_of_a_folder_is_listed_in_words(
    window, library, tmp_path, qtbot
) -> None:
    from imageshelf.app.library import rules

    source = tmp_path / "shoot"
    (source / ".cache").mkdir(parents=True)
    (source / "good.jpg").write_bytes(image_bytes(color=(1, 200, 3)))
    (source / "twin.jpg").write_bytes(image_bytes(color=(90, 20, 3)))
    library.add(io.BytesIO(image_bytes(color=(90, 20, 3))), "first copy.jpg", folder="kept")
    (source / ".secret.jpg").write_bytes(image_bytes(color=(9, 9, 9)))
    (source / ".cache" / "x.jpg").write_bytes(image_bytes(color=(8, 8, 8)))
    (source / "notes.txt").write_text("not an image")
    (source / "damaged.png").write_bytes(image_bytes("PNG")[:50])
    (source / "huge.jpg").write_bytes(b"\xff\xd8" + b"0" * rules.MAX_UPLOAD_BYTES)
    with qtbot.waitSignal(window.import_finished, timeout=30_000) as blocker:
        window.imports.import_paths([source], None)
    report = blocker.args[0]
    assert [r.original_filename for r in report.added] == ["good.jpg"]
    rows = dict(window.imports.summary_dialog.rows())
    assert set(rows) == {
        "twin.jpg",
        ".secret.jpg",
        ".cache",
        "notes.txt",
        "damaged.png",
        "huge.jpg",
    }
    assert rows[".secret.jpg"] == "Hidden file, skipped on purpose"
    assert rows[".cache"].startswith("Hidden folder")
    assert rows["notes.txt"].startswith("Not an image the library keeps")
    assert rows["damaged.png"].startswith("Damaged")
    assert rows["huge.jpg"].startswith("Too large")
    assert rows["twin.jpg"] == "Already in the library as kept/first copy.jpg"
    # A desktop's words: nothing about uploads, requests or fields.
    assert not any(w in " ".join(rows.values()).lower() for w in ("upload", "request", "field"))
    text = window.imports.summary_dialog.findChild(QLabel).text()
    assert "6 files were not imported (2 of them hidden, skipped on purpose)" in text
    # Nothing cut off: the reason column gets the room left after the names.
    header = window.imports.summary_dialog.table.header()
    assert header.sectionSize(1) > header.sectionSize(0)


def test_file_dialogs_open_where_the_last_one_was(window, write_image, monkeypatch, qtbot):
    from PySide6.QtWidgets import QFileDialog

    picked = write_image("first.jpg")
    starts: list[str] = []

    def choose(_parent, _title, start, *a, **k):
        starts.append(start)
        return [str(picked)], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(choose))
    with qtbot.waitSignal(window.import_finished, timeout=30_000):
        window.actions_by_name["add"].trigger()
    monkeypatch.setattr(
        QFileDialog,
        "getExistingDirectory",
        staticmethod(lambda _p, _t, start: starts.append(start)),
    )
    window.actions_by_name["add_folder"].trigger()
    assert starts == [str(Path.home()), str(picked.parent)]


def test_phone_scanner_and_icon_files_dropped_on_the_grid_are_imported(
    window, library: Library, write_image, qtbot
):
    """The formats of "More formats" come in by a drop like the others, named by their
    bytes; the file dialogs offer their extensions."""
    from imageshelf.app.library import codecs
    from imageshelf.app.ui.import_gestures import IMAGE_FILTER

    assert codecs  # HEIF registered for writing the test's file
    files = [
        write_image("IMG_0042.HEIC", fmt="HEIF", color=(200, 30, 30)),
        write_image("scan.tif", fmt="TIFF", color=(30, 200, 30)),
        write_image("picture.bmp", fmt="BMP", color=(30, 30, 200)),
        write_image("app.ico", fmt="ICO", color=(90, 90, 90)),
        write_image("photo.avif", fmt="AVIF", color=(90, 30, 90)),
    ]
    with qtbot.waitSignal(window.import_finished, timeout=30_000) as blocker:
        drop(window.grid, file_mime(files))
    report = blocker.args[0]
    assert not report.rejected and len(report.added) == 5
    assert {r.content_type for r in report.added} == {
        "image/heic",
        "image/tiff",
        "image/bmp",
        "image/vnd.microsoft.icon",
        "image/avif",
    }
    qtbot.waitUntil(lambda: window.model.rowCount() == 5)
    for ext in ("*.heic", "*.heif", "*.avif", "*.tif", "*.tiff", "*.bmp", "*.ico"):
        assert ext in IMAGE_FILTER.split("(")[1]
