"""What is dragged: files from the file manager (URLs) or images from the grid (ids)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData

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
