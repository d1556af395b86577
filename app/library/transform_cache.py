"""The transform cache: results under ``transforms/{sha[:2]}/{sha}/{name}`` of the
derived-file store (``derived.py``; in a folder library ``.imageshelf/transforms``),
keyed by the original's content hash (identical images share results; removing the
original's hash removes its prefix) and by the canonical spec's name.

Bounded by the library's ``transform_cache_bytes`` setting, least recently used evicted.
Use is tracked in memory (an ordered index loaded from the store's listing — sizes and
modification times — at first need) and written back to the store (a file's mtime) at
most once a minute, so a cached result costs no write per request and the order survives
a restart. The store writes atomically: a crash leaves a whole result or none (and a
folder store removes the stray temporaries when it lists). Safe to delete at any time."""

from __future__ import annotations

import functools
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Final, cast

from . import layout
from .derived import DerivedFiles, FolderDerived
from .storage import opens_at_once

PREFIX: Final = layout.TRANSFORMS_DIR
TOUCH_EVERY_S: Final = 60.0
# Evict down to this share of the limit, so a full cache does not evict on every store.
_LOW_WATER: Final = 0.9


class _Entry:
    __slots__ = ("size", "touched")

    def __init__(self, size: int, touched: float) -> None:
        self.size = size
        self.touched = touched  # wall time of the last mtime written


class TransformCache:
    def __init__(self, store: DerivedFiles, limit: Callable[[], int]) -> None:
        self.store = store
        self.limit = limit
        self._lock = threading.Lock()
        self._index: OrderedDict[str, _Entry] | None = None  # oldest use first
        self._total = 0
        # The index's newest key and its entry: marking it used again changes nothing
        # until its mtime is due, so ``touch`` then skips the lock (a cached result asked
        # for again and again, the server's loop answering it each time).
        self._newest: tuple[str, _Entry] | None = None

    @staticmethod
    def key_for(sha256: str, name: str) -> str:
        return f"{PREFIX}/{sha256[:2]}/{sha256}/{name}"

    @property
    def directory(self) -> Path | None:
        """The folder that holds them, in a folder library (``None`` elsewhere)."""
        store = self.store
        return store.path(PREFIX) if isinstance(store, FolderDerived) else None

    @property
    def total_bytes(self) -> int:
        with self._lock:
            self._load()
            return self._total

    def _load(self) -> OrderedDict[str, _Entry]:
        """The index, built from the store's listing on first need (under ``_lock``)."""
        if self._index is not None:
            return self._index
        found = sorted((e.mtime, e.key, e.size) for e in self.store.list(PREFIX + "/"))
        self._index = OrderedDict((key, _Entry(size, mtime)) for mtime, key, size in found)
        self._total = sum(size for _, _, size in found)
        return self._index

    def opener_at_once(self, key: str) -> Callable[[], BinaryIO] | None:
        """A way to open ``key`` that is only a local file's ``open`` (the path joined
        once, here), for a caller that keeps it (the server's socket loop); ``None`` where
        the store's ``open`` may wait (``storage.opens_at_once``). What it opens is not
        marked used: ``touch``. ``FileNotFoundError`` once the result is evicted."""
        store = self.store
        if not (opens_at_once(store) and isinstance(store, FolderDerived)):
            return None
        opener = functools.partial(open, os.fspath(store.path(key)), "rb")
        return cast("Callable[[], BinaryIO]", opener)  # partial loses open()'s "rb" overload

    def touch(self, key: str, *, wait: bool = True) -> None:
        """Marks ``key`` as just used. ``wait=False`` (the server's socket loop, which must
        not wait): not marked when another thread holds the index or it is not built yet
        — a result in use is marked again at its next use."""
        now = time.time()
        newest = self._newest  # one read: another thread may replace it meanwhile
        if newest is not None and newest[0] == key and now - newest[1].touched < TOUCH_EVERY_S:
            return  # already the newest use, mtime not due (if a put just passed it: next use)
        if not self._lock.acquire(blocking=wait):
            return
        try:
            index = self._load() if wait else self._index
            entry = None if index is None else index.get(key)
            if entry is None:
                return
            self._index.move_to_end(key)  # type: ignore[union-attr]
            self._newest = (key, entry)
            if now - entry.touched < TOUCH_EVERY_S:
                return
            entry.touched = now
        finally:
            self._lock.release()
        self.store.touch(key)

    def put(self, sha256: str, name: str, data: bytes) -> str:
        """Writes a result (whole or not at all), then evicts the least recently used
        results past the limit — possibly this one, when it alone is over the limit."""
        key = self.key_for(sha256, name)
        self.store.put(key, data)
        with self._lock:
            index = self._load()
            old = index.pop(key, None)
            if old is not None:
                self._total -= old.size
            index[key] = entry = _Entry(len(data), time.time())
            self._newest = (key, entry)
            self._total += len(data)
            victims = self._victims()
        self._remove(victims)
        return key

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
        if self._newest is not None and self._newest[0] not in index:
            self._newest = None
        return victims

    def _remove(self, victims: list[str]) -> None:
        # An open file stays readable after unlink: a response being sent is not cut.
        for key in victims:
            self.store.remove(key)  # a folder store drops the original's emptied folder

    def evict(self) -> None:
        """Applies the limit now (after the setting was lowered)."""
        with self._lock:
            self._load()
            victims = self._victims()
        self._remove(victims)

    def discard(self, sha256: str) -> None:
        """Removes every result of the original with this content hash."""
        prefix = self.key_for(sha256, "")
        with self._lock:
            self._newest = None
            if self._index is not None:
                for key in [k for k in self._index if k.startswith(prefix)]:
                    self._total -= self._index.pop(key).size
        self.store.remove_prefix(prefix)

    def clear(self) -> None:
        with self._lock:
            self._index = None
            self._newest = None
            self._total = 0
            self.store.remove_prefix(PREFIX + "/")
