"""*Add from URL…* and Ctrl+V on the grid, against a real HTTP server on 127.0.0.1
(allowed with IMAGESHELF_FETCH_ALLOW, as a NAS would be): the image lands in the folder
shown through the core's add_from_url; each refusal is said in words next to its
address; Stop ends a fetch from a silent server at once; pasted files, image data and
addresses all become images."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtWidgets import QApplication

from imageshelf.app.library import Library, rules
from imageshelf.app.ui import paste
from imageshelf.app.ui.folder_tree import Place
from imageshelf.app.ui.url_import import AddFromUrlDialog, open_dialog
from tests.conftest import image_bytes
from tests.image_upstream import ImageUpstream, running


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> Iterator[ImageUpstream]:
    monkeypatch.setenv(rules.FETCH_ALLOW_ENV, "127.0.0.1")
    yield from running()


def _results(dialog: AddFromUrlDialog) -> list[tuple[str, str]]:
    rows = [dialog.list.topLevelItem(i) for i in range(dialog.list.topLevelItemCount())]
    return [(r.text(0), r.text(1)) for r in rows if r is not None]


def test_an_address_typed_is_fetched_into_the_folder_shown(
    window, library: Library, add, upstream: ImageUpstream, qtbot
) -> None:
    add("old.jpg", folder="Web ñ")
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "Web ñ")) is not None)
    window.tree.select(Place("folder", "Web ñ"))
    window.actions_by_name["add_url"].trigger()
    dialog = window.findChild(AddFromUrlDialog)
    assert dialog is not None and dialog.isVisible()
    assert "Web ñ" in dialog.where.text()
    dialog.edit.setText(upstream.url("/jpeg/blue%20kite.jpg"))
    with qtbot.waitSignal(dialog.accepted, timeout=20_000):
        dialog.add_button.click()
    [record] = library.list_images(folder="Web ñ", search="kite").items
    assert record.original_filename == "blue kite.jpg"
    assert library.path_of(record.folder, record.filename).read_bytes() == upstream.jpeg
    assert "Added Web ñ/blue kite.jpg" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: window.model.row_of(record.id) is not None)


def test_each_refusal_is_said_in_words_next_to_its_address(
    window, library: Library, upstream: ImageUpstream, qtbot
) -> None:
    dialog = open_dialog(window)
    urls = [
        upstream.url("/text"),
        upstream.url("/big"),
        "http://10.255.255.1/private.png",  # a LAN address, not allowed
        upstream.url("/missing.png"),
        upstream.url("/img/kite.png"),
        upstream.url("/img/kite-again.png"),  # the same bytes
    ]
    dialog.edit.setText(" ".join(urls))
    with qtbot.waitSignal(dialog.settled, timeout=30_000):
        dialog.add_button.click()
    assert [result for _url, result in _results(dialog)] == [
        "Not an image",
        "Too big (over 10 MB)",
        "Refused: a local address",
        "Could not fetch it",
        "Added as kite.png",
        "Already in the library",
    ]
    assert dialog.isVisible()  # stays open: the person reads why and can fix an address
    assert "5 addresses were not added" in dialog.status.text()
    dialog.list.setCurrentItem(dialog.list.topLevelItem(2))
    assert "on this computer or its local network" in dialog.status.text()
    dialog.list.setCurrentItem(dialog.list.topLevelItem(3))
    assert "404" in dialog.status.text()
    assert library.count() == 1
    assert list(library.tmp_dir.iterdir()) == []


def test_a_malformed_address_is_refused_before_anything_starts(window, qtbot) -> None:
    dialog = open_dialog(window)
    dialog.edit.setText("ftp://example.com/a.png")
    dialog.add_button.click()
    assert "Only http and https" in dialog.status.text()
    assert dialog.job is None and not _results(dialog)


def test_stop_ends_a_fetch_from_a_silent_server_at_once(
    window, library: Library, upstream: ImageUpstream, qtbot
) -> None:
    dialog = open_dialog(window)
    dialog.edit.setText(upstream.url("/stall/slow.png") + " " + upstream.url("/img/next.png"))
    dialog.add_button.click()
    qtbot.waitUntil(upstream.stalled.is_set, timeout=10_000)
    # The time limit is 30 s; only the shut socket can settle it within 5.
    with qtbot.waitSignal(dialog.settled, timeout=5_000):
        dialog.cancel_button.click()
    assert _results(dialog) == [
        (upstream.url("/stall/slow.png"), "Stopped"),
        (upstream.url("/img/next.png"), "Stopped"),
    ]
    assert library.count() == 0
    assert list(library.tmp_dir.iterdir()) == []
    assert "/img/next.png" not in upstream.requests


def _clipboard(mime: QMimeData) -> None:
    QApplication.clipboard().setMimeData(mime)


def test_pasting_addresses_fetches_them(window, library: Library, upstream, qtbot) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl(upstream.url("/img/a%20b.png")), QUrl(upstream.url("/jpeg/b.jpg"))])
    _clipboard(mime)
    window.grid.setFocus()
    assert paste.paste(window) == "urls"
    dialog = window.findChild(AddFromUrlDialog)
    with qtbot.waitSignal(dialog.settled, timeout=20_000):
        pass
    names = sorted(r.original_filename for r in library.list_images().items)
    assert names == ["a b.png", "b.jpg"]


def test_pasted_text_with_addresses_among_words(window, library, upstream, qtbot) -> None:
    mime = QMimeData()
    mime.setText(f"look: <{upstream.url('/img/c.png')}>, nice")
    _clipboard(mime)
    assert paste.paste(window) == "urls"
    with qtbot.waitSignal(window.findChild(AddFromUrlDialog).settled, timeout=20_000):
        pass
    assert [r.original_filename for r in library.list_images().items] == ["c.png"]


def test_pasting_files_imports_them(window, library: Library, write_image, qtbot) -> None:
    files = [write_image("one.jpg", color=(1, 2, 3)), write_image("two.png", fmt="PNG")]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in files])
    _clipboard(mime)
    with qtbot.waitSignal(window.import_finished, timeout=20_000):
        assert paste.paste(window) == "files"
    assert sorted(r.original_filename for r in library.list_images().items) == [
        "one.jpg",
        "two.png",
    ]


def test_pasting_image_data_adds_it_as_it_is(window, library: Library, qtbot) -> None:
    data = image_bytes("PNG", size=(33, 22), color=(200, 10, 10))
    mime = QMimeData()
    mime.setData("image/png", data)
    mime.setHtml("<img src='https://example.com/x.png'>")  # a browser adds this too
    _clipboard(mime)
    assert paste.paste(window) == "image"
    qtbot.waitUntil(lambda: library.count() == 1, timeout=10_000)
    [record] = library.list_images().items
    assert record.original_filename.startswith("Pasted image") and record.filename.endswith(".png")
    assert library.path_of(record.folder, record.filename).read_bytes() == data


def test_pasting_a_copied_picture_without_its_bytes_encodes_it(window, library, qtbot) -> None:
    from PySide6.QtGui import QColor, QImage

    image = QImage(20, 10, QImage.Format.Format_RGB32)
    image.fill(QColor(0, 128, 0))
    mime = QMimeData()
    mime.setImageData(image)
    mime.removeFormat("image/png")  # only Qt's own image type on offer
    pasted = paste.read(mime)
    assert pasted.image is not None or pasted.data is not None
    assert paste.paste(window, mime) == "image"
    qtbot.waitUntil(lambda: library.count() == 1, timeout=10_000)
    assert library.list_images().items[0].width == 20


def test_pasting_plain_words_says_there_is_nothing_to_add(window, library: Library) -> None:
    mime = QMimeData()
    mime.setText("just some words")
    assert paste.paste(window, mime) == ""
    assert "Nothing to paste" in window.statusBar().currentMessage()
    assert library.count() == 0


def test_ctrl_v_on_the_grid_is_the_paste_command(window) -> None:
    action = window.actions_by_name["paste"]
    assert action in window.grid.actions()
    assert action.shortcut().toString() == "Ctrl+V"


def test_a_link_copied_from_this_window_is_not_fetched_again(
    window, library: Library, add, qtbot, upstream
) -> None:
    record = add("mine.jpg")
    dialog = open_dialog(window)
    dialog.fetch([f"http://127.0.0.1:9/i/{record.id}.jpg"])
    with qtbot.waitSignal(dialog.settled, timeout=10_000):
        pass
    assert _results(dialog)[0][1] == "Already in the library"
    assert library.count() == 1
