"""Icons and the style sheet, found next to the package or inside a bundle."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle


def resources_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)  # PyInstaller unpacks data here
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent.parent / "resources"


def app_icon() -> QIcon:
    icon = QIcon()
    for name in ("imageshelf.svg", "imageshelf.png"):
        path = resources_dir() / name
        if path.exists():
            icon.addFile(str(path))
    return icon


def themed_icon(theme_name: str, fallback: QStyle.StandardPixmap) -> QIcon:
    """The desktop theme's icon where there is one, else Qt's own built-in one."""
    style = QApplication.style()
    return QIcon.fromTheme(theme_name, style.standardIcon(fallback))
