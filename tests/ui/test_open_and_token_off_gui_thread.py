"""File → Open library… and Server settings → Regenerate… do their library I/O on workers:
the window runs on ``GuiThreadGuard``'s library, armed, and no call may reach a library
(the one shown, or the one being opened) from the GUI thread. Each gesture is the real
one (the menu action triggered, the button clicked) and is followed until its result is
on screen; a library that cannot be opened is a message and the old window stays."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from imageshelf.app.library import Library
from imageshelf.app.ui.libraries import LibrarySession
from imageshelf.app.ui.main_window import MainWindow
from imageshelf.app.ui.server_dialog import ServerSettingsDialog
from imageshelf.server.auth import TOKEN_ENV
from tests.ui.conftest import status_with


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
    assert status_with(f"{base}/v3/images", new) == 200
    assert status_with(f"{base}/v3/images", old) == 401


@pytest.fixture
def session(
    guarded_opens: list[Library], settings: QSettings, tmp_path: Path, qtbot
) -> Iterator[LibrarySession]:
    """A session as the app makes it, on a guarded library "first" with its server up."""
    session = LibrarySession(settings, "127.0.0.1", 0)
    window = session.open(tmp_path / "first")
    assert window is not None
    # The start's reconcile done too: its "up to date" notice would take the status bar
    # from what a test waits for.
    qtbot.waitUntil(
        lambda: (
            window.server.running and window._tree_job is None and window.reconcile_bar.isHidden()
        ),
        timeout=15_000,
    )
    yield session
    if session.window is not None:
        session.window.close()
    session.close()


def _choose(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """The folder dialog answers ``folder``, as a person picking it would."""
    chosen = staticmethod(lambda *_a, **_k: str(folder))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", chosen)


def test_open_library_opens_on_a_worker_while_the_window_goes_on(
    guard,
    guarded_opens: list[Library],
    session: LibrarySession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot,
) -> None:
    window = session.window
    assert window is not None
    second = tmp_path / "second"
    second.mkdir()
    _choose(monkeypatch, second)
    # The open waits until the test has seen the window answer a gesture meanwhile.
    gate = threading.Event()
    guarded_open = Library.open

    def gated_open(path: object, **kwargs: object) -> Library:
        assert gate.wait(20), "the window never answered while the library opened"
        return guarded_open(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Library, "open", staticmethod(gated_open))
    with guard.arming():
        with qtbot.waitSignal(session.switched, timeout=30_000) as switched:
            window.actions_by_name["open_library"].trigger()
            assert session.opening is not None and session.window is window
            assert session.opening_label is not None and session.opening_label.isVisible()
            assert "Opening the library" in session.opening_label.text()
            assert window.cursor().shape() == Qt.CursorShape.BusyCursor
            # The window is still at work: a search typed now is applied (on a worker).
            with qtbot.waitSignal(window.model.query_applied, timeout=10_000):
                qtbot.keyClicks(window.search, "nothing")
                QTest.keyClick(window.search, Qt.Key.Key_Return)
            assert window.model.query.search == "nothing"
            gate.set()
        new = switched.args[0]
        assert isinstance(new, MainWindow) and session.window is new
        assert new.library.root == second.resolve() and new.isVisible()
        assert not window.isVisible()
        qtbot.waitUntil(lambda: new.server.running and new._tree_job is None, timeout=10_000)
        # The first library is closed on a worker, then free for anyone.
        qtbot.waitUntil(lambda: guarded_opens[0].closed, timeout=10_000)
        assert session.opening is None
    assert guard.calls == [], guard.names()
    assert guarded_opens[1].root == second.resolve() and not guarded_opens[1].closed
    Library.open(tmp_path / "first", reconcile=False).close()


@pytest.mark.parametrize("why", ["locked", "unreadable"])
def test_a_library_that_cannot_open_is_a_message_and_the_window_stays(
    why: str,
    guard,
    guarded_opens: list[Library],
    session: LibrarySession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_blocking_boxes: list[tuple[str, str]],
    qtbot,
) -> None:
    window = session.window
    assert window is not None
    other = tmp_path / why
    holder = None
    if why == "locked":  # as another Imageshelf would hold it
        holder = Library.open(other, reconcile=False)
        expected = "already open"
    else:  # the library's own folder cannot be made: a file sits in its place
        other.mkdir()
        (other / ".imageshelf").write_bytes(b"not a folder")
        expected = f"Could not open the library at {other.resolve()}"
    _choose(monkeypatch, other)
    try:
        with guard.arming():
            with qtbot.waitSignal(session.switch_failed, timeout=10_000) as failed:
                window.actions_by_name["open_library"].trigger()
            assert expected in failed.args[0]
            assert no_blocking_boxes[-1] == ("Imageshelf cannot open that library", failed.args[0])
            assert session.window is window and window.isVisible()
            assert session.opening is None and not window.library.closed
            assert session.opening_label is None
            assert window.cursor().shape() == Qt.CursorShape.ArrowCursor
            # Still the working window: the tree counts its library again.
            with qtbot.waitSignal(window.tree_refreshed, timeout=10_000):
                window.refresh_tree()
        assert guard.calls == [], guard.names()
    finally:
        if holder is not None:
            holder.close()


def test_opening_the_library_already_shown_says_so(
    guard, session: LibrarySession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot
) -> None:
    window = session.window
    assert window is not None
    _choose(monkeypatch, tmp_path / "first" / ".." / "first")  # resolved on the worker
    with guard.arming():
        window.actions_by_name["open_library"].trigger()
        qtbot.waitUntil(lambda: session.opening is None)
        assert session.window is window and not window.library.closed
        assert window.statusBar().currentMessage().endswith("is the library already open.")
    assert guard.calls == [], guard.names()
