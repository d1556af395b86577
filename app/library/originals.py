"""Reading an image's bytes: its original through the storage, its thumbnail from the
cache (built from the original once). A move or delete in flight holds the write lock
from its first file step to its commit, so a file found missing is looked for once more
after it (``Core.write_lock``): the row then names the new place, or a tombstone."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from . import files
from .core import Core
from .errors import NotFound
from .records import ImageRecord
from .thumbnails import Thumbnail


def source(core: Core, image_id: str) -> tuple[ImageRecord, Callable[[], BinaryIO]]:
    record = core.get(image_id)
    return record, functools.partial(core.storage.open, core.key_of(record))


def open_original(core: Core, image_id: str) -> tuple[ImageRecord, BinaryIO]:
    record, opener = source(core, image_id)
    try:
        return record, opener()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise files.storage_error(exc, f"read the file of image {image_id}") from exc
    with core.write_lock:
        record, opener = source(core, image_id)
        try:
            return record, opener()
        except FileNotFoundError:
            raise NotFound(
                f"The file of image {image_id} is missing from the library folder."
            ) from None
        except OSError as exc:
            raise files.storage_error(exc, f"read the file of image {image_id}") from exc


def thumbnail(core: Core, image_id: str) -> tuple[ImageRecord, Thumbnail]:
    record = core.get(image_id)
    return record, thumbnail_of(core, record, core.key_of(record), "missing")


def thumbnail_of(core: Core, record: ImageRecord, path: Path | str, where: str) -> Thumbnail:
    """The cached thumbnail of ``record``'s bytes, built from the file at ``path`` (or
    the storage's key, given as text) when the cache lost it (live images and trashed
    ones alike); ``where`` ends the message of a file that is gone ("missing", "missing
    from the trash")."""

    def build() -> tuple[bytes, str]:
        try:
            from . import imaging  # Pillow, imported on first use: see imaging.py

            info = imaging.inspect_path(
                path if isinstance(path, Path) else core.storage.local_path(path)
            )
        except FileNotFoundError:
            raise NotFound(f"The file of image {record.id} is {where}.") from None
        except OSError as exc:
            raise files.storage_error(exc, f"read the file of image {record.id}") from exc
        return info.thumbnail, info.thumbnail_type

    # Storing a rebuilt thumbnail on a full disk: a 507 that says so, not a 500.
    with files.disk_errors(f"save the thumbnail of image {record.id}"):
        return core.thumbnails.get_or_build(record.sha256, build)
