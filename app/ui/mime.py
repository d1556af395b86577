"""What is dragged: files from the file manager (URLs) or images from the grid (ids)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData

IMAGE_IDS_MIME = "application/x-imageshelf-image-ids"


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
