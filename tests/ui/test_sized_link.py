"""Copy sized link: the dialog's presets, remembered in the settings; *Copy link* copies
at that size and format; the details pane shows the link it copies; and the copied link,
fetched from the window's own server, is the image at that size in that format."""

from __future__ import annotations

import io
import urllib.request
from collections.abc import Callable

from PIL import Image
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QRadioButton

from imageshelf.app.library import Library
from imageshelf.app.ui.main_window import MainWindow
from imageshelf.app.ui.server_control import ServerController
from imageshelf.app.ui.sized_link import LinkPreset, SizedLinkDialog
from tests.conftest import image_bytes
from tests.ui.test_actions import select_ids


def _answer_dialog(choose: tuple[str, ...], accept: bool) -> list[str]:
    """When the dialog opens: click the radio buttons named in ``choose``, then Copy or
    Cancel. Returns (filled in later) the link the dialog showed."""
    seen: list[str] = []

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SizedLinkDialog):
            QTimer.singleShot(10, answer)  # not shown yet: look again on the next turn
            return
        for button in dialog.findChildren(QRadioButton):
            if button.text().replace("&", "") in choose:
                button.click()
        seen.append(dialog.preview.text())
        buttons = dialog.findChild(QDialogButtonBox)
        role = (
            QDialogButtonBox.StandardButton.Ok if accept else QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(role).click()

    QTimer.singleShot(0, answer)
    return seen


def test_presets_and_the_link_each_gives(qtbot) -> None:
    base = "http://127.0.0.1:8765/i/img_01M836850G58FB4Q09DY9XJK81"
    dialog = SizedLinkDialog(LinkPreset(), base, 1)
    qtbot.addWidget(dialog)
    assert dialog.preview.text() == base  # the original by default
    buttons = {b.text().replace("&", ""): b for b in dialog.findChildren(QRadioButton)}
    assert set(buttons) == {"Original size", "320 px", "800 px", "1600 px",
                            "Original format", "WebP", "JPEG"}  # fmt: skip
    expected: list[tuple[str, str, str]] = [
        ("800 px", "WebP", f"{base}.webp?w=800&h=800"),
        ("320 px", "JPEG", f"{base}.jpg?w=320&h=320"),
        ("1600 px", "Original format", f"{base}?w=1600&h=1600"),
        ("Original size", "WebP", f"{base}.webp"),
        ("Original size", "Original format", base),
    ]
    for size, fmt, link in expected:
        buttons[size].click()
        buttons[fmt].click()
        assert dialog.preview.text() == link


def test_the_choice_is_remembered(tmp_path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    assert LinkPreset.load(settings) == LinkPreset()
    LinkPreset(800, "webp").save(settings)
    settings.sync()
    again = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    assert LinkPreset.load(again) == LinkPreset(800, "webp")
    again.setValue("links/size", 777)  # not offered (a hand edit): the original size
    again.setValue("links/format", "tiff")
    assert LinkPreset.load(again) == LinkPreset()


def _fetch(url: str) -> tuple[str, Image.Image]:
    with urllib.request.urlopen(url, timeout=30) as reply:
        ctype, body = reply.headers["Content-Type"], reply.read()
    return ctype, Image.open(io.BytesIO(body))


def test_copy_sized_link_copies_remembers_and_shows_it(
    library: Library, settings: QSettings, qtbot, add: Callable[..., object]
) -> None:
    server = ServerController(library, host="127.0.0.1", port=0)
    window = MainWindow(library, settings, server)
    qtbot.addWidget(window)
    assert server.start() is None
    window.show()
    try:
        record = library.add(io.BytesIO(image_bytes("JPEG", (2000, 1000))), "wide.jpg")
        select_ids(window, [record.id], qtbot)
        plain = server.link(record.id)
        assert window.details.link.text() == plain

        seen = _answer_dialog(("800 px", "WebP"), accept=True)
        window.actions_by_name["copy_sized_link"].trigger()
        sized = f"{plain}.webp?w=800&h=800"
        assert seen == [sized]
        assert QApplication.clipboard().text() == sized
        assert LinkPreset.load(settings) == LinkPreset(800, "webp")
        assert window.details.link.text() == sized
        ctype, img = _fetch(sized)
        assert (ctype, img.format, img.size) == ("image/webp", "WEBP", (800, 400))

        # Copy link now copies at the remembered size, for every selected image.
        QApplication.clipboard().clear()
        window.actions_by_name["copy_link"].trigger()
        assert QApplication.clipboard().text() == sized

        # Cancel changes nothing and copies nothing.
        QApplication.clipboard().setText("untouched")
        seen = _answer_dialog(("320 px", "JPEG"), accept=False)
        window.actions_by_name["copy_sized_link"].trigger()
        assert seen == [f"{plain}.jpg?w=320&h=320"]
        assert QApplication.clipboard().text() == "untouched"
        assert LinkPreset.load(settings) == LinkPreset(800, "webp")

        # Back to the original: the plain link, the original bytes.
        _answer_dialog(("Original size", "Original format"), accept=True)
        window.actions_by_name["copy_sized_link"].trigger()
        assert QApplication.clipboard().text() == plain == window.details.link.text()
        ctype, img = _fetch(plain)
        assert (ctype, img.size) == ("image/jpeg", (2000, 1000))
    finally:
        window.close()


def test_sized_link_is_offered_where_copy_link_is(window, add, qtbot) -> None:
    from imageshelf.app.ui.menus import grid_context_menu

    action = window.actions_by_name["copy_sized_link"]
    assert not action.isEnabled()  # nothing selected
    a = add("a.jpg")
    select_ids(window, [a.id], qtbot)
    assert action.isEnabled()
    menu = grid_context_menu(window)
    texts = [act.text().replace("&", "") for act in menu.actions() if not act.isSeparator()]
    at = texts.index("Copy link")
    assert texts[at : at + 2] == ["Copy link", "Copy sized link…"]
    menu.deleteLater()
