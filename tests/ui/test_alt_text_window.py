"""The window's alt-text work: one alt text or "decorative" for a multi-selection, IPTC's
guidance beside the limit, Copy as HTML / Markdown on the clipboard (and the HTML a drag
of thumbnails carries), the long description, "Use the caption", and the setting that
writes alt text into the files — through real widgets, keys and clicks (pytest-qt)."""

from __future__ import annotations

import io

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication

from imageshelf.app.library import Library, settings, xmp_read
from imageshelf.app.ui.alt_text_copy import img_html, img_markdown
from tests.library.xmp_samples import caption, make, xmp_packet
from tests.ui.test_details import select


def select_all_of(window, ids: list[str], qtbot) -> None:
    qtbot.waitUntil(lambda: all(window.model.row_of(i) is not None for i in ids))
    selection = QItemSelection()
    for image_id in ids:
        index = window.model.index(window.model.row_of(image_id))
        selection.select(index, index)
    window.grid.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    qtbot.waitUntil(lambda: sorted(window.selected_ids()) == sorted(ids))


def test_one_alt_text_for_many_then_decorative(window, library: Library, add, qtbot):
    images = [add(f"shot-{i}.jpg") for i in range(3)]
    ids = [r.id for r in images]
    select_all_of(window, ids, qtbot)
    bulk = window.details.bulk
    assert bulk.isVisible() and bulk.apply_button.text() == "&Apply to 3"
    bulk.edit.setFocus()
    qtbot.keyClicks(bulk.edit, "Team photo at the offsite")
    qtbot.mouseClick(bulk.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: all(library.get(i).alt_text == "Team photo at the offsite" for i in ids)
    )
    qtbot.mouseClick(bulk.decorative_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: all(library.get(i).alt_text == "" for i in ids))
    # The job's answer arrives on the GUI thread after the last save: wait for it.
    qtbot.waitUntil(lambda: "marked decorative" in window.statusBar().currentMessage())


def test_guidance_beside_the_limit(window, add, qtbot):
    image = add()
    select(window, image.id, qtbot)
    alt = window.details.alt
    alt.edit.setPlainText("x" * 251)
    assert "IPTC's guidance of about 250" in alt.guidance.text()
    assert "8a5a00" in alt.guidance.styleSheet()  # past the guidance: amber, still savable
    assert alt.save_button.isEnabled()
    alt.edit.setPlainText("x" * 20)
    assert alt.guidance.text() == "IPTC suggests about 250 characters."


def test_copy_as_html_and_markdown(window, library: Library, add, qtbot):
    described = add("kite.jpg", alt_text='A "red" kite <over> the dunes & sea')
    decorative = add("rule.jpg", alt_text="")
    undescribed = add("new.jpg")
    ids = [described.id, decorative.id, undescribed.id]
    select_all_of(window, ids, qtbot)
    window.grid.setFocus()
    qtbot.keyClick(
        window.grid,
        Qt.Key.Key_C,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    # The records are read on a worker; the status line says when the copy is made.
    qtbot.waitUntil(lambda: "as HTML" in window.statusBar().currentMessage())
    mime = QApplication.clipboard().mimeData()
    html = mime.html()
    link = window.server.link
    assert img_html(link(described.id), described.alt_text) in html
    assert 'alt="A &quot;red&quot; kite &lt;over&gt; the dunes &amp; sea"' in html
    assert f'<img src="{link(decorative.id)}" alt="">' in html
    assert f'<img src="{link(undescribed.id)}">' in html  # no alt: not claimed decorative
    assert "no alt text yet" in window.statusBar().currentMessage()

    qtbot.keyClick(
        window.grid,
        Qt.Key.Key_M,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: "as Markdown" in window.statusBar().currentMessage())
    text = QApplication.clipboard().text()
    assert img_markdown(link(described.id), described.alt_text) in text
    assert '![A "red" kite \\<over\\> the dunes & sea](' in text
    assert f"![]({link(decorative.id)})" in text


def test_a_drag_of_thumbnails_carries_the_html(window, add, qtbot):
    image = add("drag.jpg", alt_text="Dragged kite")
    select(window, image.id, qtbot)
    mime = window.grid.drag_mime(window.selected_ids())
    assert mime.hasHtml()
    assert f'<img src="{window.server.link(image.id)}" alt="Dragged kite">' in mime.html()
    assert 'alt="Dragged kite"' in mime.text()  # a plain text editor gets the same HTML
    assert mime.hasFormat("application/x-imageshelf-image-ids")  # still movable to a folder


def test_long_description_edited_in_the_details_pane(window, library: Library, add, qtbot):
    image = add("chart.png")
    select(window, image.id, qtbot)
    edit = window.details.long.edit
    edit.setFocus()
    qtbot.keyClicks(edit, "Sales by quarter: 10, 12, 15, 20.")
    qtbot.mouseClick(window.details.long.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: library.get(image.id).long_description == "Sales by quarter: 10, 12, 15, 20."
    )
    assert "10,000" in window.details.long.count.text()


def test_use_the_caption_is_offered_never_taken(window, library: Library, qtbot):
    data = make("jpeg", xmp_packet(caption("Sunset at Tarifa beach")))
    image = library.add(io.BytesIO(data), "sunset.jpg")
    assert image.alt_text is None  # a caption is not alt text
    select(window, image.id, qtbot)
    button = window.details.use_caption
    qtbot.waitUntil(button.isVisible)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.details.alt.edit.toPlainText() == "Sunset at Tarifa beach"
    assert library.get(image.id).alt_text is None  # in the editor, not saved yet
    qtbot.keyClick(window.details.alt.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert not button.isVisible()
    qtbot.waitUntil(lambda: library.get(image.id).alt_text == "Sunset at Tarifa beach")


def test_the_setting_writes_alt_text_into_the_file(window, library: Library, add, qtbot):
    action = window.actions_by_name["write_alt_to_files"]
    assert action.isCheckable() and not action.isChecked()
    action.trigger()
    qtbot.waitUntil(lambda: settings.write_alt_text_to_files(library))
    image = add("into-file.jpg")
    select(window, image.id, qtbot)
    editor = window.details.alt.edit
    editor.setFocus()
    qtbot.keyClicks(editor, "Carried by the file")
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: library.get(image.id).alt_text == "Carried by the file")
    record = library.get(image.id)
    path = library.path_of(record.folder, record.filename)
    assert xmp_read.describe_file(path, record.content_type).alt_text == "Carried by the file"
