"""The details pane's camera box (from the record the pane holds: no reads) and the
window's "Date taken" sort, live as images come in."""

from __future__ import annotations

import io

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtTest import QTest

from imageshelf.app.library import Library, Sort
from imageshelf.app.ui.exif_panel import LOCATION_MARK, NO_EXIF_TEXT
from tests.exif_samples import camera_jpeg, plain_jpeg, xmp_gps


def select(window, image_id: str, qtbot) -> None:
    """Only this image (whatever modifier keys an earlier test left down: setCurrentIndex
    would extend the selection under a stuck Ctrl)."""
    qtbot.waitUntil(lambda: window.model.row_of(image_id) is not None)
    index = window.model.index(window.model.row_of(image_id))
    flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
    window.grid.selectionModel().setCurrentIndex(index, flags)
    assert window.details.record is not None and window.details.record.id == image_id


def test_the_camera_box_shows_what_the_file_said(window, library: Library, qtbot) -> None:
    photo = library.add(
        io.BytesIO(camera_jpeg(gps=(48.8582, 2.2945, 35.0), subsec="5")), "paris.jpg"
    )
    qtbot.waitUntil(lambda: window.model.ids() == [photo.id])
    select(window, photo.id, qtbot)
    box = window.details.exif
    assert box.isVisible()
    # Below the alt text editor, which stays in sight in a small window.
    assert box.y() > window.details.alt.parentWidget().y()
    assert box.text_of("camera") == "Canon EOS R5"
    assert box.text_of("lens") == "RF24-105mm F4 L IS USM"
    assert box.text_of("exposure") == "1/250 s · f/2.8 · ISO 400 · 50 mm"
    # The camera's own clock and offset, not this computer's zone.
    assert box.text_of("taken") == "2026-04-23 10:00 (UTC+02:00)"
    assert box.text_of("location") == f"{LOCATION_MARK} 48.85820° N, 2.29450° E, 35 m"
    assert not box.none.isVisible()


def test_missing_facts_hide_their_rows(window, library: Library, qtbot) -> None:
    scan = library.add(
        io.BytesIO(
            camera_jpeg(
                lens=None,
                exposure=None,
                f_number=None,
                iso=None,
                focal=None,
                offset=None,
                make="EPSON",
                model="Perfection V600",
            )
        ),
        "scan.jpg",
    )
    edited = library.add(
        io.BytesIO(plain_jpeg(seed=3, xmp=xmp_gps("33,51,24S", "151,12,55W"))), "edited.jpg"
    )
    bare = library.add(io.BytesIO(plain_jpeg(seed=4)), "bare.jpg")
    box = window.details.exif
    # All three in the grid first: a read after the last commit would reset the selection.
    qtbot.waitUntil(lambda: window.model.ids() == [bare.id, edited.id, scan.id])
    select(window, scan.id, qtbot)
    assert box.text_of("camera") == "EPSON Perfection V600"
    assert box.text_of("taken") == "2026-04-23 10:00"  # no offset in the file: none shown
    assert box.text_of("lens") == box.text_of("exposure") == box.text_of("location") == ""
    select(window, edited.id, qtbot)
    assert box.text_of("location").startswith(f"{LOCATION_MARK} 33.85667° S, 151.21528° W")
    assert box.text_of("camera") == ""
    select(window, bare.id, qtbot)
    assert not box.isVisible()  # nothing to show: no box taking the alt text's room
    assert box.none.text() == NO_EXIF_TEXT


def test_sort_by_date_taken_from_the_view_menu(window, library: Library, qtbot) -> None:
    old = library.add(io.BytesIO(camera_jpeg(seed=1, taken="2019:01:01 09:00:00")), "old.jpg")
    undated = library.add(io.BytesIO(plain_jpeg(seed=2)), "undated.jpg")
    new = library.add(io.BytesIO(camera_jpeg(seed=3, taken="2025:01:01 09:00:00")), "new.jpg")
    QTest.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.sort.currentText() == "Date taken"
    qtbot.waitUntil(lambda: window.model.query.sort is Sort.TAKEN)
    expected = [new.id, old.id, undated.id]
    qtbot.waitUntil(lambda: window.model.ids() == expected)
    # An image added while sorted by date lands in its place, not at the top.
    middle = library.add(io.BytesIO(camera_jpeg(seed=4, taken="2022:06:01 12:00:00")), "middle.jpg")
    qtbot.waitUntil(lambda: window.model.ids() == [new.id, middle.id, old.id, undated.id])
