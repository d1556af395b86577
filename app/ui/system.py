"""Handing files to the desktop: the system image viewer, and the file manager with the
file selected where the platform can do that (falling back to opening its folder)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QProcess, QUrl
from PySide6.QtGui import QDesktopServices


def open_file(path: Path) -> bool:
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def _show_items_dbus(path: Path) -> bool:
    """The freedesktop FileManager1 interface (Nautilus, Dolphin, Nemo, Thunar...)."""
    try:
        from PySide6.QtDBus import QDBusConnection, QDBusInterface, QDBusMessage
    except ImportError:
        return False
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return False
    manager = QDBusInterface(
        "org.freedesktop.FileManager1",
        "/org/freedesktop/FileManager1",
        "org.freedesktop.FileManager1",
        bus,
    )
    if not manager.isValid():
        return False
    reply = manager.call("ShowItems", [QUrl.fromLocalFile(str(path)).toString()], "")
    return reply.type() != QDBusMessage.MessageType.ErrorMessage


def reveal(path: Path) -> bool:
    """Shows ``path`` selected in the file manager, or at least its folder."""
    if sys.platform == "darwin":
        return QProcess.startDetached("open", ["-R", str(path)])[0]
    if sys.platform == "win32":
        return QProcess.startDetached("explorer", [f"/select,{path}"])[0]
    if _show_items_dbus(path):
        return True
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))
