"""The HTTP server inside the window's process: an upload through the real API appears in
the grid at once; a taken port is a readable notice; the settings dialog regenerates the
token and restarts the server with it. Every address used is loopback."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
import uuid

import pytest
from PySide6.QtWidgets import QApplication

from imageshelf.app.library import Library
from imageshelf.app.ui.folder_tree import ALL, Place
from imageshelf.app.ui.main_window import MainWindow
from imageshelf.app.ui.server_control import ServerController
from imageshelf.app.ui.server_dialog import ServerSettingsDialog
from tests.conftest import image_bytes


def post_image(base_url: str, token: str, data: bytes, name: str, **fields: str) -> dict:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        f"{base_url}/v3/images",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_upload_through_the_api_appears_in_the_window(served_window, library, qtbot):
    window = served_window
    base = window.server.server.base_url
    assert base.startswith("http://127.0.0.1:")
    with qtbot.waitSignal(window.bridge.library_event, timeout=10_000):
        created = post_image(
            base,
            library.api_token(),
            image_bytes("PNG", color=(1, 99, 3)),
            "from-api.png",
            folder="uploads",
        )
    qtbot.waitUntil(lambda: window.model.row_of(created["id"]) is not None)
    qtbot.waitUntil(lambda: window.tree.item_for(Place("folder", "uploads")) is not None)
    assert window.tree.item_for(ALL).text(1) == "1"
    assert window.server.link(created["id"]) == created["url"]
    assert "API on http://127.0.0.1:" in window.server_label.text()


def test_a_taken_port_is_a_notice_not_a_crash(library, settings, qtbot):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ServerController(library, host="127.0.0.1", port=port)
        window = MainWindow(library, settings, server)
        qtbot.addWidget(window)
        error = server.start()
        assert error and "already in use" in error
        assert not server.running
        assert "already in use" in window.server_label.text()
        assert "already in use" in window.statusBar().currentMessage()
        window.close()


def test_regenerating_the_token_restarts_the_server_with_it(served_window, library, qtbot):
    window = served_window
    old = library.api_token()
    dialog = window.server_settings()
    assert isinstance(dialog, ServerSettingsDialog)
    assert dialog.token.text() == old
    dialog.regenerate.click()  # the confirmation is monkeypatched to Yes
    # Written on a worker: done when the server checks the token the dialog shows.
    qtbot.waitUntil(lambda: dialog.token.text() != old and window.server.token != old)
    new = dialog.token.text()
    assert new == library.api_token() == window.server.token
    assert dialog.regenerate.isEnabled()
    base = window.server.server.base_url
    data = image_bytes(color=(5, 5, 5))
    with pytest.raises(urllib.error.HTTPError) as refused:
        post_image(base, old, data, "old-token.jpg")
    assert refused.value.code == 401
    refused.value.close()
    assert post_image(base, new, data, "new-token.jpg")["original_filename"] == "new-token.jpg"
    dialog.copy_token.click()
    from PySide6.QtWidgets import QApplication

    assert QApplication.clipboard().text() == new
    dialog.reject()


def test_settings_dialog_changes_port_and_remembers_it(served_window, settings, qtbot):
    window = served_window
    with socket.socket() as probe:  # a port that was free a moment ago, on loopback
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    dialog = window.server_settings()
    dialog.port.setValue(free)
    assert dialog.url.text() == f"http://127.0.0.1:{free}"
    dialog.apply_and_close()
    assert window.server.running and window.server.actual_port == free
    assert settings.value("server/port", type=int) == free
    assert settings.value("server/share", type=bool) is False


def test_files_changed_outside_the_app_appear_in_the_window(library_path, settings, qtbot):
    # The window opens libraries with the watcher on; what another program does to the
    # folder reaches the grid through the same events, with no polling in the window.
    watched = Library.open(library_path, reconcile=False, watch=True)
    window = MainWindow(watched, settings, ServerController(watched, port=0))
    qtbot.addWidget(window)
    try:
        (library_path / "outside").mkdir()
        (library_path / "outside" / "copied-in.png").write_bytes(image_bytes("PNG"))
        qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=20_000)
        assert window.model.record(0).filename == "copied-in.png"
        qtbot.waitUntil(
            lambda: window.tree.item_for(Place("folder", "outside")) is not None, timeout=5_000
        )
        (library_path / "outside" / "copied-in.png").unlink()
        qtbot.waitUntil(lambda: window.model.rowCount() == 0, timeout=20_000)
    finally:
        window.close()
        watched.close()


def test_a_port_that_cannot_be_used_leaves_the_server_where_it_was(
    served_window, no_blocking_boxes, qtbot
):
    window = served_window
    old_port = window.server.actual_port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        dialog = window.server_settings()
        dialog.port.setValue(busy)
        dialog.apply_and_close()
        assert dialog.isVisible()  # not closed: the person reads why and chooses again
    title, text = no_blocking_boxes[-1]
    assert title == "The port could not be used"
    assert "already in use" in text and f"stays on http://127.0.0.1:{old_port}" in text
    assert window.server.running and window.server.actual_port == old_port
    assert dialog.port.value() == old_port  # the dialog shows what runs
    with urllib.request.urlopen(f"http://127.0.0.1:{old_port}/v3/openapi.json", timeout=10):
        pass
    dialog.reject()


def test_the_dialog_keeps_its_size_while_the_port_is_typed(served_window, qtbot):
    dialog = served_window.server_settings()
    qtbot.waitExposed(dialog)
    before = dialog.size()
    for digits in ("1", "12", "123", "1234", "12345", str(served_window.server.actual_port)):
        dialog.port.lineEdit().setText(digits)
        QApplication.processEvents()
        assert dialog.size() == before
        assert dialog.sizeHint().height() <= before.height()
    dialog.reject()


def test_the_token_field_shows_the_whole_token(served_window, library, qtbot):
    dialog = served_window.server_settings()
    qtbot.waitExposed(dialog)
    field = dialog.token
    assert field.echoMode() == field.EchoMode.Normal
    needed = field.fontMetrics().horizontalAdvance(library.api_token())
    assert field.width() > needed
    dialog.reject()


def test_the_window_server_honours_the_environment_token(library, settings, monkeypatch, qtbot):
    monkeypatch.setenv("IMAGESHELF_API_TOKEN", "  from-the-environment-ñ  ".strip())
    server = ServerController(library, host="127.0.0.1", port=0)
    window = MainWindow(library, settings, server)
    qtbot.addWidget(window)
    assert server.start() is None
    base = server.server.base_url
    data = image_bytes(color=(7, 7, 7))
    with pytest.raises(urllib.error.HTTPError) as refused:
        post_image(base, library.api_token(), data, "stored-token.jpg")
    assert refused.value.code == 401
    refused.value.close()
    assert post_image(base, "from-the-environment-ñ", data, "env.jpg")["id"]
    dialog = window.server_settings()
    assert dialog.token.text() == "from-the-environment-ñ"
    assert not dialog.regenerate.isEnabled()
    assert "IMAGESHELF_API_TOKEN" in dialog.token_note.text()
    dialog.reject()
    window.close()


def test_the_windows_server_has_the_same_connection_budget(library, qtbot) -> None:
    """Issue 11: 120 connections trickling request heads (98 silenced waitress) lock
    nobody out of the window's embedded server, and a foreign Host is refused."""
    import socket

    import requests

    server = ServerController(library, host="127.0.0.1", port=0)
    assert server.start() is None
    try:
        port = server.actual_port
        slow = []
        for _ in range(120):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(b"GET /v3/images HTTP/1.1\r\nHo")
            slow.append(sock)
        headers = {"Authorization": f"Bearer {library.api_token()}"}
        reply = requests.get(f"http://127.0.0.1:{port}/v3/images", headers=headers, timeout=10)
        assert reply.status_code == 200
        foreign = requests.get(
            f"http://127.0.0.1:{port}/v3/images", headers={**headers, "Host": "evil.example"}
        )
        assert foreign.status_code == 421
    finally:
        for sock in slow:
            sock.close()
        server.stop()


def test_share_location_in_links_is_a_library_setting_in_the_server_dialog(
    served_window, library, qtbot
):
    """Off by default; on, the window's own server sends an original with its GPS."""
    import io as _io

    import requests
    from PIL import Image

    from imageshelf.app.library import settings as library_settings

    exif = Image.Exif()
    exif.get_ifd(0x8825)[1] = "N"  # GPSLatitudeRef: a GPS IFD
    exif.get_ifd(0x8825)[2] = (48.0, 51.0, 30.0)
    out = _io.BytesIO()
    Image.new("RGB", (32, 24), (10, 90, 200)).save(out, "JPEG", exif=exif)
    record = library.add(_io.BytesIO(out.getvalue()), "tower.jpg")
    link = served_window.server.link(record.id)
    assert requests.get(link, timeout=30).content != out.getvalue()  # GPS taken out

    dialog = served_window.server_settings()
    # Read on a worker: the box is there at once, usable once the setting is known.
    qtbot.waitUntil(dialog.share_location.isEnabled)
    assert not dialog.share_location.isChecked()
    dialog.share_location.setChecked(True)
    assert dialog.note.text()  # takes effect on OK
    with qtbot.waitSignal(dialog.location_saved, timeout=10_000):
        dialog.apply_and_close()
    assert library_settings.share_location_in_links(library) is True
    assert requests.get(link, timeout=30).content == out.getvalue()

    again = served_window.server_settings()
    qtbot.waitUntil(again.share_location.isEnabled)
    assert again.share_location.isChecked()
    again.share_location.setChecked(False)
    with qtbot.waitSignal(again.location_saved, timeout=10_000):
        again.apply_and_close()
    assert library_settings.share_location_in_links(library) is False
    assert requests.get(link, timeout=30).content != out.getvalue()
