"""``imageshelf [--library DIR] [--host H] [--port P]``: opens the library (without the
slow reconciliation, so the window shows at once), shows the window, then, once it has
painted, starts the HTTP server in this process on the same ``Library`` and reconciles in
the background."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from imageshelf.app.library import Library, rules
from imageshelf.app.library.library_address import LibraryAddress
from imageshelf.app.library.locations import default_library_path

from ..logs import setup_logging
from ..resources import APP_ID
from . import gc_pauses, library_targets, notices
from .jobs import favour_the_gui_thread
from .libraries import LibrarySession
from .library_targets import Target
from .resources import app_icon
from .server_control import ALL_INTERFACES, LOOPBACK

if TYPE_CHECKING:
    from .main_window import MainWindow

DEFAULT_PORT = rules.DEFAULT_PORT
ORGANIZATION = "Imageshelf"
APPLICATION = "Imageshelf"


def app_settings() -> QSettings:
    return QSettings(ORGANIZATION, APPLICATION)


def choose_library(args: argparse.Namespace, settings: QSettings) -> Target:
    """``--database``/``--storage``, ``--library``, the last library (a folder still
    there, or a team library), else the default folder."""
    address = getattr(args, "address", None)
    if isinstance(address, LibraryAddress):
        return address
    if getattr(args, "library", None):
        return Path(args.library)
    last = library_targets.decode(settings.value("library/last"))
    if isinstance(last, LibraryAddress) or (last is not None and last.is_dir()):
        return last
    return default_library_path()


def server_address(args: argparse.Namespace, settings: QSettings) -> tuple[str, int]:
    """The command line wins over what was remembered."""
    host = getattr(args, "host", None)
    if not host:
        host = ALL_INTERFACES if settings.value("server/share", False, type=bool) else LOOPBACK
    port = getattr(args, "port", None)
    if port is None:
        port = cast(int, settings.value("server/port", DEFAULT_PORT, type=int))
    return host, port


def open_window(
    args: argparse.Namespace, settings: QSettings | None = None
) -> tuple[MainWindow, Library] | None:
    """Opens the library and shows the window with the server started; ``None`` (after a
    readable message box) when the library cannot be opened, e.g. locked by another
    Imageshelf. The window's File → Open library… switches through the same session."""
    settings = settings if settings is not None else app_settings()
    host, port = server_address(args, settings)
    session = LibrarySession(settings, host, port)
    window = session.open(choose_library(args, settings))
    if window is None or session.library is None:
        return None
    return window, session.library


def start_services(window: MainWindow) -> None:
    """The HTTP server, then the background reconciliation of the library folder, and
    the decode workers' fork server (a drop of many photos then starts decoding at once)."""
    from imageshelf.app.library import decode_workers  # after the first paint, as the rest

    window.server.start()
    gc_pauses.settle_start()  # the launch's objects, Flask's too, frozen (gc_pauses.py)
    decode_workers.start_ahead()
    if not window.library.team:  # nothing outside writes to a team library's storage
        window.start_reconcile()


def close_on_signals(session: LibrarySession) -> None:
    """Ctrl+C in the terminal or a TERM from the system closes the window properly
    (alt text saved, server stopped, settings kept) instead of killing it mid-write."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: session.window.close() if session.window else None)
    # Python runs signal handlers only between bytecodes: wake it now and then.
    waker = QTimer(session)
    waker.timeout.connect(lambda: None)
    waker.start(300)


def gui_command(args: argparse.Namespace) -> int:
    setup_logging()
    favour_the_gui_thread()  # before Qt paints anything
    app = cast(QApplication, QApplication.instance() or QApplication(sys.argv[:1]))
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationDisplayName("Imageshelf")
    app.setDesktopFileName(APP_ID)  # the desktop entry, so shells find its icon
    icon: QIcon = app_icon()
    app.setWindowIcon(icon)
    opened = open_window(args)
    if opened is None:
        return 1
    session = cast(LibrarySession, opened[0].session)
    showing: list[bool] = []

    def show(text: str) -> None:
        # One box at a time: an error that repeats (in a paint, say) must not bury the
        # window under boxes; the others go to the status bar.
        window = session.window
        if showing and window is not None:
            window.notify(text, 15000)
            return
        showing.append(True)
        try:
            QMessageBox.warning(window, "Something went wrong", text)
        finally:
            showing.clear()

    notices.install_excepthook(show)
    close_on_signals(session)
    try:
        return app.exec()
    finally:
        session.close()
