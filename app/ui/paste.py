"""Ctrl+V on the grid (Edit → Paste images or links) adds what the clipboard holds to the
folder shown: image files copied in a file manager (``file://`` URLs, or their paths as
text) are imported as a drop would be; an image copied in a browser or an editor
(``image/png``..., or Qt's image) is added as it is; web addresses (``text/uri-list`` or
text with ``http(s)://`` words) are fetched as *Add from URL…* does."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, QUrl
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from imageshelf.app.library import ImageRecord, rules

from . import notices, url_import
from .jobs import CallJob

if TYPE_CHECKING:
    from .main_window import MainWindow


@dataclass
class Pasted:
    paths: list[Path] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    data: tuple[bytes, str] | None = None  # encoded image bytes, extension
    image: QImage | None = None  # only decoded pixels on offer (encoded on a worker)

    def __bool__(self) -> bool:
        return bool(self.paths or self.urls or self.data or self.image)


def read(mime: QMimeData) -> Pasted:
    """What of the clipboard can become images: files first (the originals), then an
    image's own bytes, then web addresses."""
    pasted = Pasted()
    for url in mime.urls() if mime.hasUrls() else []:
        if url.isLocalFile():
            pasted.paths.append(Path(url.toLocalFile()))
        elif url.scheme() in ("http", "https"):
            # Encoded as it came: toString() would turn %20 back into a space.
            pasted.urls.append(url.toString(QUrl.ComponentFormattingOption.FullyEncoded))
    if not pasted.paths and not pasted.urls and mime.hasText():
        for line in mime.text().splitlines():
            line = line.strip()
            if line.startswith("file://"):
                pasted.paths.append(Path(QUrl(line).toLocalFile()))
            elif line.startswith("/"):
                pasted.paths.append(Path(line))
        if not pasted.paths:
            pasted.urls = url_import.web_addresses(mime.text())
    for fmt in rules.FORMATS:
        if mime.hasFormat(fmt.content_type):
            data = bytes(mime.data(fmt.content_type).data())
            if data:
                pasted.data = (data, fmt.extension)
                break
    if pasted.data is None and mime.hasImage():
        image = mime.imageData()
        if isinstance(image, QImage) and not image.isNull():
            pasted.image = image
    return pasted


def _png(image: QImage) -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stub says bytes; PySide wants str
    return bytes(QByteArray(buffer.data()).data())


def paste(window: MainWindow, mime: QMimeData | None = None) -> str:
    """Adds what ``mime`` (the clipboard) holds; says which kind it took."""
    pasted = read(mime if mime is not None else QApplication.clipboard().mimeData())
    folder = window.target_folder()
    if pasted.paths:
        window.imports.import_paths(pasted.paths, folder)
        return "files"
    if pasted.data is not None or pasted.image is not None:
        add_image(window, pasted, folder)
        return "image"
    if pasted.urls:
        url_import.open_dialog(window, pasted.urls)
        return "urls"
    window.notify("Nothing to paste here: the clipboard holds no image, image file or web address.")
    return ""


def add_image(window: MainWindow, pasted: Pasted, folder: str | None) -> CallJob:
    data, image = pasted.data, pasted.image
    name = time.strftime("Pasted image %Y-%m-%d %H.%M.%S")

    def add() -> ImageRecord:
        body, ext = data if data is not None else (_png(image), ".png")  # type: ignore[arg-type]
        return window.library.add(
            io.BytesIO(body), name + ext, folder=folder, allow_duplicate=False
        )

    job = CallJob(add)
    job.finished.connect(
        lambda record: window.notify(f"Added the pasted image as {record.relpath}.")
    )
    job.failed.connect(lambda message: notices.warn(window, "The image was not added", message))
    window.jobs.start(job)
    return job
