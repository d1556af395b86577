"""File → Open team library…: the dialog checks the two addresses; the session opens the
team library (a real PostgreSQL, tests/pg_server.py) on a worker while the window works,
the guard refusing any library call from the GUI thread; the settings remember it
without its password and list it among the recent libraries; a team library that cannot
be opened brings the dialog back, filled in, with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest

from imageshelf.app.library import Library
from imageshelf.app.library import library_address as addresses
from imageshelf.app.library.library_address import LibraryAddress
from imageshelf.app.ui import library_targets, team_dialog
from imageshelf.app.ui.libraries import LibrarySession, about_text, recent_targets
from imageshelf.app.ui.main_window import MainWindow
from imageshelf.app.ui.team_dialog import TeamLibraryDialog

SECRET = "s3cret-Pa55"


def test_the_dialog_checks_the_addresses_and_keeps_the_password_for_this_open(qtbot) -> None:
    dialog = TeamLibraryDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.database, "mysql://db/x")
    qtbot.keyClicks(dialog.storage, "s3://team/lib")
    QTest.keyClick(dialog.storage, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.address() is None
    assert "postgresql://" in dialog.problem.text() and dialog.problem.isVisible()
    dialog.database.clear()
    qtbot.keyClicks(dialog.database, "postgresql://ann@db.example.org/lib")
    qtbot.keyClicks(dialog.password, SECRET)
    dialog.path_style.setChecked(True)
    QTest.keyClick(dialog.storage, Qt.Key.Key_Return)
    address = dialog.address()
    assert address is not None and not dialog.isVisible()
    assert address.storage == "s3://team/lib?path_style=1"
    assert addresses.public_database_url(address.database or "") == (
        "postgresql://ann@db.example.org/lib"
    )
    assert SECRET in (address.database or "")
    # Filled in again (a reopen): no password shown, path style ticked.
    again = TeamLibraryDialog(None, address, "password authentication failed")
    qtbot.addWidget(again)
    assert again.database.text() == "postgresql://ann@db.example.org/lib"
    assert again.password.text() == "" and again.path_style.isChecked()
    assert again.storage.text() == "s3://team/lib"
    assert again.problem.text() == "password authentication failed"


@pytest.fixture
def session(
    guard, settings: QSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot
) -> Iterator[LibrarySession]:
    """A session on a folder library "first"; ``Library.open`` and ``open_team`` are
    refused on the GUI thread while the guard is armed, and what they open is guarded."""
    real_open, real_team = Library.open, Library.open_team

    def open_(path: object, **kwargs: object) -> Library:
        guard.check("Library.open")
        return guard.wrap(real_open(path, **kwargs))  # type: ignore[arg-type]

    def open_team(database: str, storage: object) -> Library:
        guard.check("Library.open_team")
        return guard.wrap(real_team(database, storage))  # type: ignore[arg-type]

    monkeypatch.setattr(Library, "open", staticmethod(open_))
    monkeypatch.setattr(Library, "open_team", staticmethod(open_team))
    session = LibrarySession(settings, "127.0.0.1", 0)
    window = session.open(tmp_path / "first")
    assert window is not None
    qtbot.waitUntil(lambda: window.server.running and window._tree_job is None)
    yield session
    if session.window is not None:
        session.window.close()
    session.close()


def test_open_team_library_on_a_worker_remembered_without_its_password(
    guard,
    session: LibrarySession,
    settings: QSettings,
    pg_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot,
) -> None:
    window = session.window
    assert window is not None
    with_secret = addresses.with_password(pg_database, SECRET)  # the test server trusts
    address = addresses.team(with_secret, str(tmp_path / "objects"))
    monkeypatch.setattr(team_dialog, "ask", lambda *_a, **_k: address)
    with guard.arming():
        with qtbot.waitSignal(session.switched, timeout=60_000) as switched:
            window.actions_by_name["open_team_library"].trigger()
            assert session.opening is not None  # on its worker; the window still here
        new = switched.args[0]
        assert isinstance(new, MainWindow) and new.library.team and new.isVisible()
        qtbot.waitUntil(lambda: new.server.running and new._tree_job is None, timeout=10_000)
    assert guard.calls == [], guard.names()
    dbname = pg_database.rsplit("/", 1)[1]
    assert new.windowTitle() == f"Team: {dbname}"
    assert SECRET not in about_text(new) and dbname in about_text(new)
    # Remembered, without the password: the last library and the first recent one.
    settings.sync()
    stored = [str(settings.value("library/last")), *map(str, settings.value("library/recent"))]
    assert all(SECRET not in value for value in stored)
    first = recent_targets(settings)[0]
    assert isinstance(first, LibraryAddress)
    assert first.database == addresses.public_database_url(with_secret)
    assert library_targets.key(first) == library_targets.key(new.target)
    # Open recent lists the folder library; choosing it goes back, then the team
    # library is listed and reopens from there without a password given.
    new.recent_menu.aboutToShow.emit()  # type: ignore[union-attr]
    labels = [a.text() for a in new.recent_menu.actions()]  # type: ignore[union-attr]
    assert any("first" in label for label in labels), labels
    with qtbot.waitSignal(session.switched, timeout=60_000) as back:
        new.open_library_requested.emit(tmp_path / "first")
    folder_window = back.args[0]
    folder_window.recent_menu.aboutToShow.emit()
    team_actions = [a for a in folder_window.recent_menu.actions() if "Team:" in a.text()]
    assert len(team_actions) == 1 and SECRET not in team_actions[0].text()
    with qtbot.waitSignal(session.switched, timeout=60_000) as reopened:
        team_actions[0].trigger()
    assert reopened.args[0].library.team


def test_a_team_library_that_cannot_open_brings_the_dialog_back(
    guard,
    session: LibrarySession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot,
) -> None:
    window = session.window
    assert window is not None
    asked: list[tuple[LibraryAddress | None, str | None]] = []
    unreachable = addresses.team(
        f"postgresql://ann:{SECRET}@127.0.0.1:1/lib", str(tmp_path / "objects")
    )

    def ask(_parent: object, filled: LibraryAddress | None = None, problem: str | None = None):
        asked.append((filled, problem))
        return unreachable if len(asked) == 1 else None  # then the person cancels

    monkeypatch.setattr(team_dialog, "ask", ask)
    with guard.arming():
        with qtbot.waitSignal(session.switch_failed, timeout=60_000) as failed:
            window.actions_by_name["open_team_library"].trigger()
        qtbot.waitUntil(lambda: len(asked) == 2)
    assert guard.calls == [], guard.names()
    assert "refused" in failed.args[0] and SECRET not in failed.args[0]
    filled, problem = asked[1]
    assert filled is not None and problem == failed.args[0]
    assert session.window is window and window.isVisible() and not window.library.closed
