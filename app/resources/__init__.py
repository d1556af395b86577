"""Files shipped inside the package: the icons, the desktop entry and the AppStream
metadata. Read them with ``resource(name)`` (importlib.resources), never by a path
relative to the source tree: that path does not exist in a wheel or a bundle."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Final

# The reverse-DNS application id: the desktop entry's and the metadata's file names, the
# icon name, the AppStream component id and the window's desktop file name. Lower case:
# AppStream's pedantic check asks for it.
APP_ID: Final = "io.github.imageshelf.imageshelf"

DESKTOP_ENTRY: Final = f"{APP_ID}.desktop"
METAINFO: Final = f"{APP_ID}.metainfo.xml"
ICON_SVG: Final = f"{APP_ID}.svg"
ICON_PNG: Final = f"{APP_ID}.png"


def resource(name: str) -> Traversable:
    return files(__name__).joinpath(name)
