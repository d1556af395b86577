"""The *API keys* page of Server settings: lists the keys, makes one from a preset and
shows its secret once (Copy), revokes after a confirmation — and the window's server
refuses a revoked key at its next request. Every address used is loopback."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from imageshelf.app.library import Library
from imageshelf.app.ui.server_dialog import ServerSettingsDialog
from tests.ui.conftest import status_with


def _cells(dialog: ServerSettingsDialog, row: int) -> list[str]:
    table = dialog.keys_page.table
    return [table.item(row, c).text() for c in range(table.columnCount())]


def test_make_copy_and_revoke_a_key(served_window, library: Library, qtbot) -> None:
    library.keys.create("existing", "read", ["birds"], 30)
    dialog = served_window.server_settings()
    assert isinstance(dialog, ServerSettingsDialog)
    page = dialog.keys_page
    dialog.tabs.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.table.rowCount() == 1)
    name, scope, folders, expires, used = _cells(dialog, 0)
    assert (name, scope, folders, used) == ("existing", "read", "birds", "Not yet")
    assert expires != "Never"

    page.create_key("phone", "upload", ["inbox"], 7)
    qtbot.waitUntil(lambda: page.secret_box.isVisible() and page.table.rowCount() == 2)
    secret = page.secret.text()
    assert secret.startswith("isk_") and "only this once" in page.secret_note.text()
    page.copy_secret.click()
    assert QApplication.clipboard().text() == secret
    base = served_window.server.server.base_url
    assert status_with(f"{base}/v3/keys/me", secret) == 200
    qtbot.waitUntil(lambda: page.table.rowCount() == 2)
    page.refresh()
    qtbot.waitUntil(lambda: _cells(dialog, 1)[4] != "Not yet")  # its use is shown

    page.create_key("phone", "read", None, None)  # the name is taken: said, not raised
    qtbot.waitUntil(lambda: "already a key named 'phone'" in page.status.text())

    page.table.selectRow(1)
    assert page.selected_name() == "phone" and page.revoke.isEnabled()
    page.revoke.click()  # the confirmation is monkeypatched to Yes
    qtbot.waitUntil(lambda: page.table.rowCount() == 1)
    assert page.status.text() == "Revoked phone."
    assert status_with(f"{base}/v3/keys/me", secret) == 401
    dialog.reject()


def test_admin_preset_has_no_folders(qtbot) -> None:
    from imageshelf.app.ui.api_keys_page import NewKeyDialog

    dialog = NewKeyDialog()
    qtbot.addWidget(dialog)
    dialog.name.setText("  ops ")
    dialog.folders.setText("inbox, clients/acme ,")
    dialog.expires.setCurrentIndex(2)
    assert dialog.values() == ("ops", "read", ["inbox", "clients/acme"], 7)
    dialog.preset.setCurrentIndex(3)
    assert not dialog.folders.isEnabled()
    assert dialog.values() == ("ops", "admin", None, 7)
