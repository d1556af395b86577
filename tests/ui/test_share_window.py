"""*Share…* and *Shared links* in the real window: a link to a selection or to the folder
shown is made in a worker, copied and shown with its QR code, opens through the real
server, warns while the server is on this computer only, and is revoked from the list.
Server settings show the LAN address as a QR code while shared."""

from __future__ import annotations

import requests
from PySide6.QtWidgets import QApplication

from imageshelf.app.library import Library
from imageshelf.app.ui.folder_tree import Place
from imageshelf.app.ui.server_control import ServerController, lan_address
from imageshelf.app.ui.server_dialog import ServerSettingsDialog
from imageshelf.app.ui.share_dialog import ShareDialog, is_local_only
from imageshelf.app.ui.shared_links import SharedLinksDialog
from tests.ui.test_actions import select_ids


def _make(dialog: ShareDialog, qtbot) -> str:
    dialog.create_button.click()
    qtbot.waitUntil(lambda: bool(dialog.link) or "No link" in dialog.status.text(), timeout=10000)
    assert dialog.link, dialog.status.text()
    return dialog.link


def test_share_a_selection_for_an_hour(window, library: Library, add, qtbot):
    window.server.start()
    a, b = add("a.jpg", alt_text="First"), add("b.jpg", alt_text="")
    add("c.jpg", alt_text="Not shared")
    select_ids(window, [a.id, b.id], qtbot)
    dialog = window.actions_by_name["share"].trigger() or window.findChild(ShareDialog)
    assert isinstance(dialog, ShareDialog) and dialog.isVisible()
    assert "2 selected images" in dialog.findChildren(type(dialog.status))[0].text()
    # The server listens on 127.0.0.1: the dialog says other devices cannot open the link.
    assert dialog.warning.isVisible() and "this computer only" in dialog.warning.text()
    dialog.expiry.setCurrentIndex(0)  # 1 hour
    link = _make(dialog, qtbot)
    assert QApplication.clipboard().text() == link and dialog.url.text() == link
    assert not dialog.qr.pixmap().isNull() and dialog.qr.text_shown == link
    assert "expires in 1 hour" in dialog.status.text() and is_local_only(link)
    page = requests.get(link, timeout=30)
    assert page.status_code == 200
    assert 'alt="First"' in page.text and 'alt=""' in page.text
    assert "Not shared" not in page.text
    [share] = library.shares.active()
    assert share.expires_at_us is not None
    assert 3590 * 10**6 < share.expires_at_us - share.created_at_us <= 3600 * 10**6
    dialog.close()


def test_share_a_folder_with_a_password(window, library: Library, add, qtbot):
    window.server.start()
    add("x.jpg", folder="trip", alt_text="In the trip")
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "trip")) is not None)
    with qtbot.waitSignal(window.model.query_applied):
        window.tree.select(Place("folder", "trip"))
    window.grid.clearSelection()
    dialog = window.actions_by_name["share"].trigger() or window.findChild(ShareDialog)
    assert isinstance(dialog, ShareDialog) and dialog.target.is_folder
    dialog.expiry.setCurrentIndex(3)  # never
    dialog.password.setText("open sesame")
    link = _make(dialog, qtbot)
    assert "needs the password" in dialog.status.text() and "never expires" in dialog.status.text()
    assert dialog.password.text() == ""  # not kept in the dialog
    assert requests.get(link, timeout=30).status_code == 403
    session = requests.Session()
    assert session.post(link, data={"password": "open sesame"}, timeout=30).status_code == 200
    later = add("y.jpg", folder="trip", alt_text="Added later")
    assert later.id in session.get(link, timeout=30).text  # a folder share is live
    dialog.close()


def test_shared_links_lists_and_revokes(window, library: Library, add, qtbot):
    window.server.start()
    a = add("a.jpg", alt_text="A")
    made = library.shares.create(image_ids=[a.id], expires_in=3600)
    library.shares.create(folder=None, recursive=True, folder_share=True)
    link = f"{window.server.base_url()}/s/{made.token}"
    assert requests.get(link, timeout=30).status_code == 200
    dialog = window.actions_by_name["shared_links"].trigger() or window.findChild(SharedLinksDialog)
    assert isinstance(dialog, SharedLinksDialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2)
    texts = {dialog.table.item(r, 0).text() for r in range(2)}
    assert texts == {"selected images", "the whole library"}
    row = next(r for r in range(2) if dialog.table.item(r, 0).text() == "selected images")
    assert dialog.table.item(row, 1).text() == "1" and dialog.table.item(row, 3).text() != "never"
    assert not dialog.revoke_button.isEnabled()
    dialog.table.selectRow(row)
    assert dialog.revoke_button.isEnabled()
    dialog.ask_revoke()  # the confirmation says Yes (conftest)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1)
    assert requests.get(link, timeout=30).status_code == 404
    dialog.close()


def test_server_settings_show_the_lan_address_as_a_qr_code(library: Library, qtbot):
    shared = ServerController(library, host="0.0.0.0", port=8765)  # not started
    dialog = ServerSettingsDialog(shared)
    qtbot.addWidget(dialog)
    if lan_address() is not None:
        assert not dialog.url_qr.isHidden()
        assert dialog.url_qr.text_shown == dialog.url.text()
        assert dialog.url.text().startswith("http://") and not is_local_only(dialog.url.text())
    dialog.share.setChecked(False)
    assert dialog.url_qr.isHidden() and dialog.url_qr.text_shown == ""


def test_share_and_revoke_do_no_library_io_on_the_gui_thread(
    library: Library, settings, add, qtbot
):
    """The window on a guarded library: making a link, listing and revoking it run in
    workers (the scrypt hash of a password takes a moment)."""
    from imageshelf.app.ui.gui_thread_guard import GuiThreadGuard
    from imageshelf.app.ui.main_window import MainWindow

    a = add("a.jpg", alt_text="A")
    guard = GuiThreadGuard(library)
    server = ServerController(library, host="127.0.0.1", port=0)
    win = MainWindow(guard.library, settings, server)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.model.rowCount() == 1)
    select_ids(win, [a.id], qtbot)
    try:
        with guard.arming():
            win.actions_by_name["share"].trigger()
            dialog = win.findChild(ShareDialog)
            dialog.password.setText("pw")
            _make(dialog, qtbot)
            dialog.close()
            win.actions_by_name["shared_links"].trigger()
            links = win.findChild(SharedLinksDialog)
            qtbot.waitUntil(lambda: links.table.rowCount() == 1)
            links.revoke([links.rows[0].share.id])
            qtbot.waitUntil(
                lambda: links.table.rowCount() == 0 and "No shared" in links.status.text()
            )
            links.close()
        assert guard.calls == [], guard.names()
        assert library.shares.active() == []
    finally:
        win.close()
