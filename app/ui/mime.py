"""What is dragged: files from the file manager (URLs) or images from the grid (ids, and
for other programs the files as URLs and the image itself)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QMetaType, QMimeData, QUrl

IMAGE_IDS_MIME = "application/x-imageshelf-image-ids"
FOLDER_MIME = "application/x-imageshelf-folder"


def folder_to_mime(folder: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(FOLDER_MIME, folder.encode())
    return mime


def dragged_folder(mime: QMimeData) -> str | None:
    if not mime.hasFormat(FOLDER_MIME):
        return None
    return bytes(mime.data(FOLDER_MIME).data()).decode() or None


class ImagesMime(QMimeData):
    """Images dragged from the grid: their ids (for our own folder tree), their files as
    ``text/uri-list`` (file managers, browsers, editors) and, for one image, the image
    itself under its own type (image/jpeg...). The image's bytes are read only when a
    program asks for them, on the drop, never on every drag."""

    def __init__(self, ids: list[str], paths: list[Path], image: tuple[str, Path] | None) -> None:
        super().__init__()
        self.setData(IMAGE_IDS_MIME, "\n".join(ids).encode())
        self.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
        self._image = image

    def formats(self) -> list[str]:
        extra = [self._image[0]] if self._image is not None else []
        return [*super().formats(), *extra]

    def hasFormat(self, mimetype: str) -> bool:
        return mimetype in self.formats()

    def retrieveData(self, mimetype: str, preferred: QMetaType | QMetaType.Type) -> Any:
        if self._image is not None and mimetype == self._image[0]:
            try:
                return QByteArray(self._image[1].read_bytes())
            except OSError:
                return QByteArray()  # moved or deleted since the drag began
        return super().retrieveData(mimetype, preferred)


def ids_to_mime(ids: list[str]) -> QMimeData:
    mime = QMimeData()
    mime.setData(IMAGE_IDS_MIME, "\n".join(ids).encode())
    return mime


def image_ids(mime: QMimeData) -> list[str]:
    if not mime.hasFormat(IMAGE_IDS_MIME):
        return []
    return [i for i in bytes(mime.data(IMAGE_IDS_MIME).data()).decode().split("\n") if i]


def local_paths(mime: QMimeData) -> list[Path]:
    if not mime.hasUrls():
        return []
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
