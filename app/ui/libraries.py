"""Which library the window shows: File → Open library…, the recent libraries, Help →
About (which library, which server), and the switch itself. The new library is opened
first (a locked or unreadable one is a message and the old one stays); then the old
window saves its state and closes cleanly (alt text saved, jobs stopped, its server and
watcher stopped), the old library is closed, and the new window takes its place with
the server on the same address."""

from __future__ import annotations

import html
import importlib.metadata
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox

from imageshelf.app.library import Library, LibraryError

from . import notices, probe, window_state
from .server_control import ServerController

if TYPE_CHECKING:
    from .main_window import MainWindow

RECENT_KEY = "library/recent"
MAX_RECENT = 8


def recent_libraries(settings: QSettings) -> list[Path]:
    """Libraries opened before, the latest first, those still on disk only."""
    value = settings.value(RECENT_KEY) or []
    paths = [value] if isinstance(value, str) else list(value)
    return [Path(str(p)) for p in paths if p and Path(str(p)).is_dir()]


def remember(settings: QSettings, root: Path) -> None:
    paths = [root] + [p for p in recent_libraries(settings) if p != root]
    settings.setValue(RECENT_KEY, [str(p) for p in paths[:MAX_RECENT]])
    settings.setValue("library/last", str(root))


def open_library_dialog(window: MainWindow) -> None:
    """File → Open library…: a folder, then the session switches to it."""
    folder = QFileDialog.getExistingDirectory(
        window, "Open library", str(window.library.root.parent)
    )
    if folder:
        window.open_library_requested.emit(Path(folder))


def fill_recent_menu(window: MainWindow) -> None:
    """File → Open recent, filled each time it opens: the other libraries still there."""
    menu = window.recent_menu
    assert menu is not None
    menu.clear()
    others = [p for p in recent_libraries(window.settings) if p != window.library.root]
    for path in others:
        action = menu.addAction(f"{path.name}  —  {path}")
        action.triggered.connect(lambda _c=False, p=path: window.open_library_requested.emit(p))
    if not others:
        menu.addAction("No other library opened yet").setEnabled(False)


def about_text(window: MainWindow) -> str:
    try:
        version = importlib.metadata.version("imageshelf")
    except importlib.metadata.PackageNotFoundError:
        version = "(not installed)"
    server = window.server
    address = server.base_url() if server.running else f"off ({server.error or 'not started'})"
    return (
        f"<h3>Imageshelf {html.escape(version)}</h3>"
        "<p>A desktop image library with alt text.</p>"
        f"<p><b>Library:</b> {html.escape(str(window.library.root))}<br>"
        f"<b>Server:</b> {html.escape(address)}</p>"
    )


def show_about(window: MainWindow) -> None:
    QMessageBox.about(window, "About Imageshelf", about_text(window))


class LibrarySession(QObject):
    """The one open library and its window; ``switch(path)`` goes to another."""

    switched = Signal(object)  # the new MainWindow

    def __init__(self, settings: QSettings, host: str, port: int) -> None:
        super().__init__()
        self.settings = settings
        self.host = host
        self.port = port
        self.window: MainWindow | None = None
        self.library: Library | None = None

    def open(self, path: Path) -> MainWindow | None:
        """Opens the first library and shows its window; ``None`` after a message."""
        try:
            # No reconciliation here: a big library would keep the window from showing.
            library = Library.open(path, reconcile=False, watch=True)
        except LibraryError as exc:
            QMessageBox.critical(None, "Imageshelf cannot open the library", exc.message)
            return None
        return self._show(library)

    def _show(self, library: Library) -> MainWindow:
        from .launch import start_services
        from .main_window import MainWindow

        server = ServerController(library, host=self.host, port=self.port)
        window = MainWindow(library, self.settings, server)
        window.open_library_requested.connect(self.switch)
        window.session = self
        probe.install(window)  # only for the real-input tests, when they ask for it
        self.window, self.library = window, library
        remember(self.settings, library.root)
        window.show()
        # Once the event loop runs, after the first paint: importing Flask and waitress
        # and binding take a fifth of a second that the window need not wait for. A taken
        # port is a notice in the status bar, not a failure.
        QTimer.singleShot(0, window, lambda: start_services(window))
        return window

    def switch(self, path: Path) -> MainWindow | None:
        old_window, old_library = self.window, self.library
        assert old_window is not None and old_library is not None
        root = Path(path).expanduser().resolve()
        if root == old_library.root:
            old_window.notify(f"{root} is the library already open.")
            return old_window
        try:
            library = Library.open(root, reconcile=False, watch=True)
        except LibraryError as exc:
            notices.warn(old_window, "Imageshelf cannot open that library", exc.message)
            return None
        # The server keeps its address; the new window opens where the old one was.
        self.host, self.port = old_window.server.host, old_window.server.port
        window_state.save(old_window)
        window = self._show(library)  # shown first: closing the last window would quit
        old_window.close()  # saves alt text, stops jobs, the server and the events
        old_window.deleteLater()
        old_library.close()
        remember(self.settings, library.root)  # the old window's close wrote its own
        self.switched.emit(window)
        return window

    def close(self) -> None:
        if self.library is not None:
            self.library.close()
