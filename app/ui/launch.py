"""``imageshelf [--library DIR] [--host H] [--port P]``: opens the library (without the
slow reconciliation, so the window shows at once), starts the HTTP server in this process
on the same ``Library``, shows the window, then reconciles in the background."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from app.library import Library, LibraryError
from app.library.locations import default_library_path

from . import notices
from .resources import app_icon
from .server_control import ALL_INTERFACES, LOOPBACK, ServerController

DEFAULT_PORT = 8765
ORGANIZATION = "Imageshelf"
APPLICATION = "Imageshelf"


def app_settings() -> QSettings:
    return QSettings(ORGANIZATION, APPLICATION)


def choose_library(args: argparse.Namespace, settings: QSettings) -> Path:
    if getattr(args, "library", None):
        return Path(args.library)
    last = settings.value("library/last")
    if last and Path(str(last)).is_dir():
        return Path(str(last))
    return default_library_path()


def server_address(args: argparse.Namespace, settings: QSettings) -> tuple[str, int]:
    """The command line wins over what was remembered."""
    host = getattr(args, "host", None)
    if not host:
        host = ALL_INTERFACES if settings.value("server/share", False, type=bool) else LOOPBACK
    port = getattr(args, "port", None)
    if port is None:
        port = int(settings.value("server/port", DEFAULT_PORT, type=int))
    return host, port


def gui_command(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationDisplayName("Imageshelf")
    app.setDesktopFileName("imageshelf")
    icon: QIcon = app_icon()
    app.setWindowIcon(icon)
    settings = app_settings()
    path = choose_library(args, settings)
    try:
        library = Library.open(path, reconcile=False)
    except LibraryError as exc:
        QMessageBox.critical(None, "Imageshelf cannot open the library", exc.message)
        return 1

    from .main_window import MainWindow

    host, port = server_address(args, settings)
    server = ServerController(library, host=host, port=port)
    window = MainWindow(library, settings, server)
    notices.install_excepthook(
        lambda text: QMessageBox.warning(window, "Something went wrong", text)
    )
    window.show()
    server.start()  # a taken port is a notice in the status bar, not a failure
    window.start_reconcile()
    try:
        return app.exec()
    finally:
        library.close()
