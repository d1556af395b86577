"""The thumbnail cache: derived files under ``thumbs/`` of the derived-file store
(``derived.py``; in a folder library ``.imageshelf/thumbs``), keyed by the content hash
of the original, so identical images share one and a moved image keeps its own.

Safe to delete at any time: a missing thumbnail is rebuilt on demand, once, however many
threads ask for it at the same moment."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from . import layout
from .derived import DerivedFiles, FolderDerived

PREFIX: Final = layout.THUMBS_DIR
_EXT = {"image/jpeg": ".jpg", "image/png": ".png"}


@dataclass(frozen=True, slots=True)
class Thumbnail:
    key: str
    store: DerivedFiles
    content_type: str
    size: int
    etag: str  # strong hash of the thumbnail's own bytes (unquoted)

    def open(self) -> BinaryIO:
        """Its bytes; ``FileNotFoundError`` once the cache was cleared (ask again)."""
        return self.store.open(self.key)

    @property
    def path(self) -> Path:
        """A local file with its bytes (the window's image loader reads files by name)."""
        return self.store.local_path(self.key)


def key_of(sha256: str, content_type: str) -> str:
    return f"{PREFIX}/{sha256[:2]}/{sha256}{_EXT[content_type]}"


class ThumbnailCache:
    def __init__(self, store: DerivedFiles) -> None:
        self.files = store
        self._guard = threading.Lock()
        self._building: dict[str, threading.Lock] = {}
        self._known: dict[str, Thumbnail] = {}

    @property
    def directory(self) -> Path | None:
        """The folder that holds them, in a folder library (``None`` elsewhere)."""
        files = self.files
        return files.path(PREFIX) if isinstance(files, FolderDerived) else None

    def make_folders(self) -> None:
        """Makes the folders thumbnails are kept in (``thumbs/00`` to ``thumbs/ff``, by the
        hash's first two digits) where missing, in a folder library: a new library's
        first drop then makes none of them, where each new folder cost its writer thread
        a failed write, a ``mkdir`` and the write again, for the first few hundred
        photos (docs/performance.md, 21). Best effort: one that is missing later (the
        cache cleared, a folder's last thumbnail removed, a disk that was full) is made
        by the write that needs it, as before."""
        directory = self.directory
        if directory is None:
            return
        for prefix in range(256):
            try:
                os.mkdir(directory / f"{prefix:02x}")
            except FileExistsError:
                continue
            except OSError:
                return  # a full or read-only disk: left to the writes, which say so

    def store(self, sha256: str, data: bytes, content_type: str) -> Thumbnail:
        key = key_of(sha256, content_type)
        self.files.put(key, data)
        thumb = Thumbnail(key, self.files, content_type, len(data), _etag(data))
        with self._guard:
            self._known[sha256] = thumb
        return thumb

    def lookup(self, sha256: str) -> Thumbnail | None:
        thumb = self._known.get(sha256)
        if thumb is not None and self.files.exists(thumb.key):
            return thumb
        for ctype in _EXT:
            key = key_of(sha256, ctype)
            data = self.files.get(key)
            if data is None:
                continue
            thumb = Thumbnail(key, self.files, ctype, len(data), _etag(data))
            with self._guard:
                self._known[sha256] = thumb
            return thumb
        return None

    def get_or_build(self, sha256: str, build: Callable[[], tuple[bytes, str]]) -> Thumbnail:
        """The cached thumbnail, or ``build()``'s result stored: one build per hash even
        when many threads ask at once."""
        thumb = self.lookup(sha256)
        if thumb is not None:
            return thumb
        with self._guard:
            lock = self._building.setdefault(sha256, threading.Lock())
        with lock:
            thumb = self.lookup(sha256)
            if thumb is None:
                data, ctype = build()
                thumb = self.store(sha256, data, ctype)
        with self._guard:
            self._building.pop(sha256, None)
        return thumb

    def discard(self, sha256: str) -> None:
        with self._guard:
            self._known.pop(sha256, None)
        for ctype in _EXT:
            self.files.remove(key_of(sha256, ctype))


def _etag(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
