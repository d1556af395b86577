"""Which library the window shows: File → Open library…, the recent libraries, Help →
About (which library, which server), and the switch itself. The new library is opened
first (a locked or unreadable one is a message and the old one stays); then the old
window saves its state and closes cleanly (alt text saved, jobs stopped, its server and
watcher stopped), the old library is closed, and the new window takes its place with
the server on the same address."""

from __future__ import annotations

import html
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox

from imageshelf.app.library import Library, LibraryError, Page
from imageshelf.app.library import library_address as addresses
from imageshelf.app.library.library_address import LibraryAddress

from . import gc_pauses, library_targets, notices, probe, team_dialog, window_state
from .grid_query import Query, read_page
from .jobs import CallJob, Job, JobRunner
from .library_targets import Target
from .server_control import ServerController

if TYPE_CHECKING:
    from .main_window import MainWindow

RECENT_KEY = "library/recent"
MAX_RECENT = 8


def recent_targets(settings: QSettings) -> list[Target]:
    """Libraries opened before, the latest first: folders still on disk, and team
    libraries (kept without their password, ``library_targets``)."""
    value = settings.value(RECENT_KEY) or []
    found = [library_targets.decode(v) for v in ([value] if isinstance(value, str) else value)]
    return [t for t in found if t is not None and (not isinstance(t, Path) or t.is_dir())]


def recent_libraries(settings: QSettings) -> list[Path]:
    """The library folders among the recent libraries."""
    return [t for t in recent_targets(settings) if isinstance(t, Path)]


def remember(settings: QSettings, target: Target) -> None:
    target = library_targets.without_password(target)
    first = library_targets.key(target)
    rest = [t for t in recent_targets(settings) if library_targets.key(t) != first]
    kept = [library_targets.encode(t) for t in [target, *rest][:MAX_RECENT]]
    settings.setValue(RECENT_KEY, kept)
    settings.setValue("library/last", kept[0])


def open_library_dialog(window: MainWindow) -> None:
    """File → Open library…: a folder, then the session switches to it."""
    folder = QFileDialog.getExistingDirectory(
        window, "Open library", str(window.library.root.parent)
    )
    if folder:
        window.open_library_requested.emit(Path(folder))


def open_team_library_dialog(window: MainWindow) -> None:
    """File → Open team library…: the two addresses, then the session opens it (on a
    worker) and switches to it."""
    address = team_dialog.ask(window)
    if address is not None:
        window.open_library_requested.emit(address)


def fill_recent_menu(window: MainWindow) -> None:
    """File → Open recent, filled each time it opens: the other libraries still there."""
    menu = window.recent_menu
    assert menu is not None
    menu.clear()
    shown = library_targets.key(window.target)
    others = [t for t in recent_targets(window.settings) if library_targets.key(t) != shown]
    for target in others:
        if isinstance(target, Path):
            label = f"{target.name}  —  {target}"
        else:
            label = f"{library_targets.title(target)}  —  {target.describe()}"
        action = menu.addAction(label)
        action.triggered.connect(lambda _c=False, t=target: window.open_library_requested.emit(t))
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
        f"<p><b>Library:</b> {html.escape(library_targets.describe(window.target))}<br>"
        f"<b>Server:</b> {html.escape(address)}</p>"
    )


def show_about(window: MainWindow) -> None:
    QMessageBox.about(window, "About Imageshelf", about_text(window))


@dataclass(frozen=True)
class Opened:
    """What the worker of File → Open library… hands back: the folder as resolved, and
    the library opened there with its token read (``None`` when it is the one shown)."""

    root: Target  # the folder as resolved, or the team library's addresses
    library: Library | None = None
    token: str | None = None
    first_page: Page | None = None  # the grid's, so the new window paints at once


def open_for_window(path: Target, current: Target | None = None) -> Opened:
    """On a worker: the library at ``path`` (a folder, or a team library's addresses)
    opened as the window wants it (neither reconciled nor watched yet: a big library
    would keep the window from showing; ``jobs.ReconcileJob`` starts both after the
    first screen), its API token and the grid's first page read, so the
    new window and its server start without reading on the GUI thread. Raises the core's
    ``LibraryLocked`` / ``StorageError`` when it cannot be opened. ``current``: the
    library shown; the same one again is not reopened."""
    if isinstance(path, LibraryAddress):
        if current is not None and library_targets.key(path) == library_targets.key(current):
            return Opened(path)
        return _read_first(path, addresses.open_library(path))
    root = Path(path).expanduser().resolve()
    if current is not None and library_targets.key(root) == library_targets.key(current):
        return Opened(root)
    return _read_first(root, Library.open(root, reconcile=False))


def _read_first(root: Target, library: Library) -> Opened:
    try:
        token: str | None = library.api_token()
    except LibraryError:  # a read-only library without a token: the server says so
        token = None
    try:
        first_page = read_page(library, Query(), 0)
    except BaseException:
        library.close()  # not shown after all: its lock and watcher go with it
        raise
    return Opened(root, library, token, first_page)


class OpenLibraryJob(Job):
    """``open_for_window`` on a worker; what it opened stays readable after the job
    (``opened``), so a library opened while the app quit is still closed."""

    def __init__(self, path: Target, current: Target) -> None:
        super().__init__()
        self.path, self.current = path, current
        self.opened: Opened | None = None

    def work(self) -> Opened:
        self.opened = open_for_window(self.path, self.current)
        return self.opened


class LibrarySession(QObject):
    """The one open library and its window; ``switch(path)`` goes to another."""

    switched = Signal(object)  # the new MainWindow
    switch_failed = Signal(str)  # the message shown: the old window stays

    def __init__(self, settings: QSettings, host: str, port: int) -> None:
        super().__init__()
        self.settings = settings
        self.host = host
        self.port = port
        self.window: MainWindow | None = None
        self.library: Library | None = None
        # Opening the next library and closing the last one run here, off the GUI thread.
        self.jobs = JobRunner(self)
        self.opening: OpenLibraryJob | None = None
        self.opening_label: QLabel | None = None  # in the status bar while it runs

    def open(self, path: Target) -> MainWindow | None:
        """Opens the first library and shows its window; ``None`` after a message. (No
        window is shown yet, so there is nothing to keep responsive.)"""
        while True:
            try:
                opened = open_for_window(path)
                break
            except LibraryError as exc:
                if not isinstance(path, LibraryAddress):
                    QMessageBox.critical(None, "Imageshelf cannot open the library", exc.message)
                    return None
                # A team library remembered without its password: asked for here.
                again = team_dialog.ask(None, path, exc.message)
                if again is None:
                    return None
                path = again
        return self._show(opened)

    def _show(self, opened: Opened) -> MainWindow:
        from .first_screen import AfterFirstScreen
        from .launch import start_services
        from .main_window import MainWindow

        library = opened.library
        assert library is not None
        server = ServerController(
            library, host=self.host, port=self.port, library_token=opened.token
        )
        window = MainWindow(library, self.settings, server, first_page=opened.first_page)
        window.target = library_targets.without_password(opened.root)
        window.setWindowTitle(library_targets.title(window.target))
        window.open_library_requested.connect(self.switch)
        window.session = self
        probe.install(window)  # only for the real-input tests, when they ask for it
        self.window, self.library = window, library
        remember(self.settings, opened.root)
        window.show()
        # Once the first screen of thumbnails is shown (first_screen.py): importing Flask
        # and waitress, binding and the reconcile's worker delayed it. A taken port is a
        # notice in the status bar, not a failure.
        AfterFirstScreen(window, lambda: start_services(window))
        return window

    def switch(self, path: Target) -> Job | None:
        """Opens ``path`` on a worker while the window goes on working; then the window
        is replaced (``_switch_to``), or a message says why not and the old one stays."""
        window, library = self.window, self.library
        assert window is not None and library is not None
        if self.opening is not None:
            window.notify("Another library is being opened; wait for it first.")
            return None
        # Said where other notices do not cover it (the status bar's message is theirs).
        where = library_targets.describe(path)
        label = library_targets.title(path) if isinstance(path, LibraryAddress) else None
        if isinstance(path, Path):
            label = path.name or where
        self.opening_label = QLabel(f"Opening the library “{label}”…", window)
        self.opening_label.setToolTip(where)
        self.opening_label.setAccessibleName("Opening a library")
        window.statusBar().addPermanentWidget(self.opening_label)
        window.setCursor(Qt.CursorShape.BusyCursor)  # busy, and still answering
        job = OpenLibraryJob(path, window.target)
        job.finished.connect(lambda opened: self._switch_to(window, cast(Opened, opened)))
        job.failed.connect(lambda message: self._not_opened(window, message, path))
        self.opening = job
        return self.jobs.start(job)

    def _opened(self, window: MainWindow) -> None:
        """The open has ended, either way: the window is no longer busy with it."""
        self.opening = None
        if self.opening_label is not None:
            window.statusBar().removeWidget(self.opening_label)
            self.opening_label.deleteLater()
            self.opening_label = None
        window.unsetCursor()

    def _not_opened(self, window: MainWindow, message: str, path: Target) -> None:
        self._opened(window)
        if window is self.window and window.isVisible():
            if isinstance(path, LibraryAddress):
                # Filled in again with the reason: a password to give, an address to fix.
                self.switch_failed.emit(message)
                again = team_dialog.ask(window, path, message)
                if again is not None:
                    self.switch(again)
                return
            notices.warn(window, "Imageshelf cannot open that library", message)
        self.switch_failed.emit(message)

    def _switch_to(self, old_window: MainWindow, opened: Opened) -> None:
        self._opened(old_window)
        old_library, library = self.library, opened.library
        if library is None:
            old_window.notify(
                f"{library_targets.describe(opened.root)} is the library already open."
            )
            return
        if old_window is not self.window or not old_window.isVisible():
            # The window was closed (the app is quitting) while the library opened.
            self.jobs.start(CallJob(library.close))
            return
        assert old_library is not None
        # The server keeps its address; the new window opens where the old one was.
        self.host, self.port = old_window.server.host, old_window.server.port
        window_state.save(old_window)
        window = self._show(opened)  # shown first: closing the last window would quit
        gc_pauses.thaw()  # the old window's cycles are garbage now (gc_pauses.py)
        old_window.close()  # saves alt text, stops jobs, the server and the events
        old_window.deleteLater()
        # Stopping its watcher and closing its database may wait for a write in flight.
        self.jobs.start(CallJob(old_library.close))
        remember(self.settings, opened.root)  # the old window's close wrote its own
        self.switched.emit(window)

    def close(self) -> None:
        """At exit: waits for an opening or closing under way, then closes the library."""
        self.jobs.shutdown()
        job, self.opening = self.opening, None
        if job is not None and job.opened is not None and job.opened.library is not None:
            job.opened.library.close()  # opened, but the loop ended before it was shown
        if self.library is not None:
            self.library.close()
