"""Icons for the window, read from the package data (see ``app/resources``)."""

from __future__ import annotations

from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QApplication, QStyle

from ..resources import ICON_PNG, ICON_SVG, resource


def app_icon() -> QIcon:
    """The application icon: the SVG for every size where it is a plain file (an
    installed wheel, a bundle), and the 256 px PNG from its bytes in any case."""
    icon = QIcon()
    svg = resource(ICON_SVG)
    if svg.is_file() and hasattr(svg, "__fspath__"):
        icon.addFile(svg.__fspath__())
    pixmap = QPixmap()
    if pixmap.loadFromData(resource(ICON_PNG).read_bytes(), "PNG"):
        icon.addPixmap(pixmap)
    return icon


def themed_icon(theme_name: str, fallback: QStyle.StandardPixmap) -> QIcon:
    """The desktop theme's icon where there is one, else Qt's own built-in one."""
    style = QApplication.style()
    return QIcon.fromTheme(theme_name, style.standardIcon(fallback))
