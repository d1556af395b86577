"""Fixtures for the window tests: a real library in a temp folder, real images on disk,
settings in a temp file (never the real user's), and the real main window."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from imageshelf.app.library import ImageRecord, Library
from imageshelf.app.ui.gui_thread_guard import GuiThreadGuard
from imageshelf.app.ui.main_window import MainWindow
from imageshelf.app.ui.server_control import ServerController
from tests.conftest import image_bytes


class Paints(QObject):
    """Counts the paint events a widget gets (installed as its event filter)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, _obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture(autouse=True)
def empty_clipboard_after() -> Iterator[None]:
    """Each test leaves the clipboard empty. Mime data a test put there (or the window's
    Copy link / Copy as HTML) outlives the test, and PySide6 6.11 on the offscreen
    platform crashes freeing it when the interpreter exits (exit 139 after every test had
    passed, so make test failed)."""
    yield
    app = QApplication.instance()
    if isinstance(app, QApplication):
        app.clipboard().clear()


@pytest.fixture(autouse=True)
def no_blocking_boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Message boxes would block a test: record them instead. Confirmations say Yes."""
    shown: list[tuple[str, str]] = []

    def warning(_parent: object, title: str, text: str, *_a: object) -> object:
        shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    def question(_parent: object, title: str, text: str, *_a: object) -> object:
        shown.append((title, text))
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(warning))
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(warning))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return shown


@pytest.fixture
def window(library: Library, settings: QSettings, qtbot) -> Iterator[MainWindow]:
    server = ServerController(library, host="127.0.0.1", port=0)
    win = MainWindow(library, settings, server)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


@pytest.fixture
def served_window(library: Library, settings: QSettings, qtbot) -> Iterator[MainWindow]:
    """The window with its HTTP server up on a free loopback port."""
    server = ServerController(library, host="127.0.0.1", port=0)
    win = MainWindow(library, settings, server)
    qtbot.addWidget(win)
    assert server.start() is None
    win.show()
    yield win
    win.close()
    assert not server.running


def status_with(url: str, secret: str) -> int:
    """The HTTP status ``url`` answers a request bearing ``secret``."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as refused:
        refused.close()
        return refused.code


@pytest.fixture
def write_image(tmp_path: Path) -> Callable[..., Path]:
    """``write_image("ñame.png", fmt="PNG", color=...)``: a real image file to import."""
    outside = tmp_path / "outside"

    def _write(name: str, fmt: str = "JPEG", **kwargs: object) -> Path:
        outside.mkdir(exist_ok=True)
        path = outside / name
        path.write_bytes(image_bytes(fmt, **kwargs))  # type: ignore[arg-type]
        return path

    return _write


@pytest.fixture
def add(library: Library) -> Callable[..., ImageRecord]:
    counter = iter(range(1, 1_000_000))

    def _add(name: str = "photo.jpg", alt_text: str | None = None, folder: str | None = None):
        n = next(counter)
        data = image_bytes("JPEG", size=(40 + n, 30), color=(n * 37 % 256, n * 11 % 256, 90))
        return library.add(io.BytesIO(data), name, alt_text=alt_text, folder=folder)

    return _add


def drop(widget: QWidget, mime: QMimeData, pos: QPoint | None = None) -> QDropEvent:
    """Delivers a real drop event to ``widget``'s drop handler, as a drag would end."""
    point = QPointF(pos if pos is not None else widget.rect().center())
    event = QDropEvent(
        point,
        Qt.DropAction.CopyAction | Qt.DropAction.MoveAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dropEvent(event)
    return event


def file_mime(paths: list[Path]) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


@pytest.fixture
def guard(library: Library) -> GuiThreadGuard:
    """Wraps the test's library: armed, it refuses any call from the GUI thread."""
    return GuiThreadGuard(library)


@pytest.fixture
def guarded(
    guard: GuiThreadGuard, settings: QSettings, library: Library, qtbot
) -> Iterator[MainWindow]:
    """The real window on the guarded library, shown, its first reads landed."""
    server = ServerController(library, host="127.0.0.1", port=0)
    win = MainWindow(guard.library, settings, server)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win._tree_job is None and win.trash_view.retention is None)
    yield win
    guard.armed = False
    win.close()


@pytest.fixture
def guarded_opens(guard: GuiThreadGuard, monkeypatch: pytest.MonkeyPatch) -> list[Library]:
    """``Library.open`` watched by ``guard`` too: called on the GUI thread while armed it
    is refused, and each library it opens comes back guarded (so the window that shows
    it is watched as well). The list holds the real libraries opened, in order."""
    opened: list[Library] = []
    real_open = Library.open

    def open_(path: object, **kwargs: object) -> Library:
        guard.check("Library.open")
        library = real_open(path, **kwargs)  # type: ignore[arg-type]
        opened.append(library)
        return guard.wrap(library)

    monkeypatch.setattr(Library, "open", staticmethod(open_))
    return opened
