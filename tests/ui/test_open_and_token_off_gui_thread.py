"""File → Open library… and Server settings → Regenerate… do their library I/O on workers:
the window runs on ``GuiThreadGuard``'s library, armed, and no call may reach a library
(the one shown, or the one being opened) from the GUI thread. Each gesture is the real
one (the menu action triggered, the button clicked) and is followed until its result is
on screen; a library that cannot be opened is a message and the old window stays."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from imageshelf.app.library import Library
from imageshelf.app.ui.main_window import MainWindow
from imageshelf.app.ui.server_dialog import ServerSettingsDialog
from imageshelf.server.auth import TOKEN_ENV


def _status(base_url: str, token: str) -> int:
    request = urllib.request.Request(
        f"{base_url}/v3/images", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as refused:
        refused.close()
        return refused.code


def test_regenerate_token_writes_on_a_worker_and_the_server_checks_the_new_one(
    guard, guarded: MainWindow, library: Library, monkeypatch: pytest.MonkeyPatch, qtbot
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    old = library.api_token()
    with guard.arming():
        # The server is off: the dialog reads the library's token on a worker.
        guarded.actions_by_name["server"].trigger()
        dialog = guarded.findChild(ServerSettingsDialog)
        assert dialog is not None and dialog.isVisible()
        qtbot.waitUntil(lambda: dialog.token.text() == old and dialog.regenerate.isEnabled())
        dialog.reject()
        # Started with the token known: nothing read on the GUI thread.
        assert guarded.server.start() is None
        guarded.actions_by_name["server"].trigger()
        dialog = next(d for d in guarded.findChildren(ServerSettingsDialog) if d.isVisible())
        assert dialog.token.text() == old
        QTest.mouseClick(dialog.regenerate, Qt.MouseButton.LeftButton)
        assert not dialog.regenerate.isEnabled()  # while the worker writes
        qtbot.waitUntil(lambda: guarded.server.token not in (None, old), timeout=10_000)
        new = dialog.token.text()
        assert new != old and guarded.server.token == new and guarded.server.running
        assert dialog.regenerate.isEnabled()
        dialog.reject()
        base = guarded.server.base_url()  # port 0: the restart may have moved it
    assert guard.calls == [], guard.names()
    assert library.api_token() == new
    assert _status(base, new) == 200
    assert _status(base, old) == 401
