"""The thumbnail cache: derived files under ``.imageshelf/thumbs``, keyed by the content
hash of the original, so identical images share one and a moved image keeps its own.

Safe to delete at any time: a missing thumbnail is rebuilt on demand, once, however many
threads ask for it at the same moment."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .files import write_into_cache

_EXT = {"image/jpeg": ".jpg", "image/png": ".png"}


@dataclass(frozen=True, slots=True)
class Thumbnail:
    path: Path
    content_type: str
    size: int
    etag: str  # strong hash of the thumbnail's own bytes (unquoted)

    def open(self) -> BinaryIO:
        """Its bytes; ``FileNotFoundError`` once the cache was cleared (ask again)."""
        return open(self.path, "rb")


class ThumbnailCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._guard = threading.Lock()
        self._building: dict[str, threading.Lock] = {}
        self._known: dict[str, Thumbnail] = {}

    def _paths(self, sha256: str) -> list[tuple[Path, str]]:
        base = self.directory / sha256[:2]
        return [(base / (sha256 + ext), ctype) for ctype, ext in _EXT.items()]

    def store(self, sha256: str, data: bytes, content_type: str) -> Thumbnail:
        path = self.directory / sha256[:2] / (sha256 + _EXT[content_type])
        write_into_cache(path, data)
        thumb = Thumbnail(path, content_type, len(data), hashlib.sha256(data).hexdigest())
        with self._guard:
            self._known[sha256] = thumb
        return thumb

    def lookup(self, sha256: str) -> Thumbnail | None:
        thumb = self._known.get(sha256)
        if thumb is not None and thumb.path.exists():
            return thumb
        for path, ctype in self._paths(sha256):
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            thumb = Thumbnail(path, ctype, len(data), hashlib.sha256(data).hexdigest())
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
        for path, _ in self._paths(sha256):
            path.unlink(missing_ok=True)
