"""Libraries: File → Open library… switches (the old library and its server closed, the
new one opened and served), a library another program holds is a message and the old
one stays, recent libraries, Help → About, and the title naming the library once."""

from __future__ import annotations

import argparse
import socket
import urllib.request
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from imageshelf.app.library import Library
from imageshelf.app.ui.launch import open_window
from imageshelf.app.ui.libraries import fill_recent_menu, recent_libraries


def _args(library: Path) -> argparse.Namespace:
    return argparse.Namespace(library=library, host="127.0.0.1", port=0)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _open(path: Path, settings, qtbot):
    opened = open_window(_args(path), settings)
    assert opened is not None
    window, _library = opened
    # Not handed to qtbot: the session deletes the windows it replaces.
    qtbot.waitUntil(lambda: window.server.running)
    return window


def test_open_library_switches_cleanly(tmp_path, settings, monkeypatch, qtbot):
    first, second = tmp_path / "Første", tmp_path / "Second library"
    window = _open(first, settings, qtbot)
    session = window.session
    old_port = window.server.actual_port
    second.mkdir()
    chosen = staticmethod(lambda *_a, **_k: str(second))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", chosen)
    # Opened on a worker (test_open_and_token_off_gui_thread.py), then switched to.
    with qtbot.waitSignal(session.switched, timeout=20_000):
        window.actions_by_name["open_library"].trigger()
    new = session.window
    assert new is not window and new.library.root == second.resolve()
    assert not window.isVisible() and new.isVisible()
    qtbot.waitUntil(lambda: window.library.closed)  # closed on a worker too
    assert not new.library.closed
    assert not _listening(old_port) or new.server.actual_port == old_port
    qtbot.waitUntil(lambda: new.server.running)
    with urllib.request.urlopen(f"{new.server.base_url()}/v3/openapi.json", timeout=10):
        pass
    # The first library is free again: another process could open it now.
    Library.open(first, reconcile=False).close()
    assert new.windowTitle() == "Second library"
    assert recent_libraries(settings)[:2] == [second.resolve(), first.resolve()]
    fill_recent_menu(new)
    labels = [a.text() for a in new.recent_menu.actions()]
    assert len(labels) == 1 and "Første" in labels[0]
    # Back through the recent menu.
    with qtbot.waitSignal(session.switched, timeout=20_000):
        new.recent_menu.actions()[0].trigger()
    assert session.window.library.root == first.resolve()
    session.window.close()
    session.close()


def test_a_library_held_elsewhere_is_a_message_and_the_old_one_stays(
    tmp_path, settings, no_blocking_boxes, qtbot
):
    window = _open(tmp_path / "mine", settings, qtbot)
    holder = Library.open(tmp_path / "held", reconcile=False)
    try:
        with qtbot.waitSignal(window.session.switch_failed, timeout=20_000):
            window.open_library_requested.emit(tmp_path / "held")
    finally:
        holder.close()
    assert window.session.window is window and not window.library.closed
    assert no_blocking_boxes[-1][0] == "Imageshelf cannot open that library"
    assert "already open" in no_blocking_boxes[-1][1]
    window.close()
    window.session.close()


def test_about_says_version_library_and_server(window, library, monkeypatch, qtbot):
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", staticmethod(lambda _p, _t, text: said.append(text)))
    window.actions_by_name["about"].trigger()
    assert "Imageshelf 0.1.0" in said[-1] and str(library.root) in said[-1]
    assert "off" in said[-1]  # the fixture's server was not started
    assert window.server.start() is None
    window.actions_by_name["about"].trigger()
    assert window.server.base_url() in said[-1]


def test_the_title_names_the_library_once(window, library):
    assert window.windowTitle() == library.root.name
