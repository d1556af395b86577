"""The transform cache: results under ``.imageshelf/transforms/{sha[:2]}/{sha}/{name}``,
keyed by the original's content hash (identical images share results; removing the
original's hash removes its directory) and by the canonical spec's name.

Bounded by the library's ``transform_cache_bytes`` setting, least recently used evicted.
Use is tracked in memory (an ordered index loaded from the files' modification times at
first need) and written back to a file's mtime at most once a minute, so a cached result
costs no disk write per request and the order survives a restart. Every file is written
to a temporary name, fsynced and renamed: a crash leaves a whole result or none (and
stray temporaries are removed when the index loads). Safe to delete at any time."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Final

from .files import write_into_cache

TOUCH_EVERY_S: Final = 60.0
_TMP_PREFIX: Final = ".tmp-"
# Evict down to this share of the limit, so a full cache does not evict on every store.
_LOW_WATER: Final = 0.9


class _Entry:
    __slots__ = ("size", "touched")

    def __init__(self, size: int, touched: float) -> None:
        self.size = size
        self.touched = touched  # wall time of the last mtime written


class TransformCache:
    def __init__(self, directory: Path, limit: Callable[[], int]) -> None:
        self.directory = directory
        self.limit = limit
        self._lock = threading.Lock()
        self._index: OrderedDict[str, _Entry] | None = None  # oldest use first
        self._total = 0

    def path_for(self, sha256: str, name: str) -> Path:
        return self.directory / sha256[:2] / sha256 / name

    @property
    def total_bytes(self) -> int:
        with self._lock:
            self._load()
            return self._total

    def _load(self) -> OrderedDict[str, _Entry]:
        """The index, built from the directory on first need (under ``_lock``)."""
        if self._index is not None:
            return self._index
        found: list[tuple[float, str, int]] = []
        for dirpath, _dirs, names in os.walk(self.directory):
            for name in names:
                path = os.path.join(dirpath, name)
                if name.startswith(_TMP_PREFIX):  # a write cut short by a crash
                    with contextlib.suppress(OSError):
                        os.unlink(path)
                    continue
                with contextlib.suppress(OSError):
                    st = os.stat(path)
                    found.append((st.st_mtime, path, st.st_size))
        found.sort()
        self._index = OrderedDict((path, _Entry(size, mtime)) for mtime, path, size in found)
        self._total = sum(size for _, _, size in found)
        return self._index

    def touch(self, path: str | Path) -> None:
        """Marks ``path`` as just used."""
        key = os.fspath(path)
        now = time.time()
        with self._lock:
            entry = self._load().get(key)
            if entry is None:
                return
            self._index.move_to_end(key)  # type: ignore[union-attr]
            if now - entry.touched < TOUCH_EVERY_S:
                return
            entry.touched = now
        with contextlib.suppress(OSError):
            os.utime(key)

    def store(self, sha256: str, name: str, data: bytes) -> Path:
        """Writes a result (whole or not at all), then evicts the least recently used
        results past the limit — possibly this one, when it alone is over the limit."""
        path = self.path_for(sha256, name)
        write_into_cache(path, data)  # an eviction may remove the folder meanwhile
        key = os.fspath(path)
        with self._lock:
            index = self._load()
            old = index.pop(key, None)
            if old is not None:
                self._total -= old.size
            index[key] = _Entry(len(data), time.time())
            self._total += len(data)
            victims = self._victims()
        self._remove(victims)
        return path

    def _victims(self) -> list[str]:
        """Drops the oldest entries from the index until the rest fit (under ``_lock``)."""
        limit = self.limit()
        if self._total <= limit:
            return []
        index = self._index
        assert index is not None
        goal = int(limit * _LOW_WATER)
        victims = []
        while index and self._total > goal:
            key, entry = index.popitem(last=False)
            self._total -= entry.size
            victims.append(key)
        return victims

    def _remove(self, victims: list[str]) -> None:
        # An open file stays readable after unlink: a response being sent is not cut.
        for key in victims:
            with contextlib.suppress(OSError):
                os.unlink(key)
            parent = os.path.dirname(key)
            with contextlib.suppress(OSError):
                os.rmdir(parent)  # only when it was the original's last result

    def evict(self) -> None:
        """Applies the limit now (after the setting was lowered)."""
        with self._lock:
            self._load()
            victims = self._victims()
        self._remove(victims)

    def discard(self, sha256: str) -> None:
        """Removes every result of the original with this content hash."""
        folder = self.directory / sha256[:2] / sha256
        prefix = os.fspath(folder) + os.sep
        with self._lock:
            if self._index is not None:
                for key in [k for k in self._index if k.startswith(prefix)]:
                    self._total -= self._index.pop(key).size
        shutil.rmtree(folder, ignore_errors=True)

    def clear(self) -> None:
        with self._lock:
            self._index = None
            self._total = 0
            shutil.rmtree(self.directory, ignore_errors=True)
