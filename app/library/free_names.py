"""Where the next free name of a repeated upload starts looking.

Every candidate for ``image.jpg`` (``image.jpg``, ``image-2.jpg``, …) starts with the
same stem, and the first free one is taken. Read from scratch that is one range query
returning every name taken so far and a walk past them: an iPhone sends every photo as
``image.jpg``, so the ten-thousandth upload read ten thousand rows — milliseconds per
upload that grew with the library, under the write lock (``docs/performance.md``, 3).

``FreeNames`` remembers, per folder and first candidate, how far along the candidates
the last search went: every candidate before that position was taken then. The next
search starts there and asks about the next few candidates in one indexed read; the
first free one is usually the second (the first is the name the last search gave).
Names only become free again when an image leaves a folder or changes its name, or a
write is rolled back: any event but an addition, and any failed write, forgets it all,
and the next search reads from scratch (so a freed ``image-5.jpg`` is given again, as
before). A name freed by another process (a
team library) may be passed over for a later free one: still a free name, and the
unique (folder, filename) of the rows and the never-clobbering link stay the guards
against a taken one."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections.abc import Callable, Iterator
from typing import Final

from sqlalchemy import Connection

from . import rules
from .events import Event, EventKind
from .sql import rows

REMEMBERED: Final = 4096  # (folder, name) pairs; past it, forget and read from scratch
_BATCH: Final = 4


class FreeNames:
    def __init__(self) -> None:
        self._start: dict[tuple[str | None, str], int] = {}
        self._lock = threading.Lock()

    def on_event(self, event: Event) -> None:
        if event.kind is not EventKind.ADDED:
            self.forget()

    def forget(self) -> None:
        """After anything that may have freed a name: a removal, a rename, a write
        rolled back (the names its search went past were never taken)."""
        with self._lock:
            self._start.clear()

    def search(
        self,
        conn: Connection | sqlite3.Connection,
        folder: str | None,
        first: str,
        names: Iterator[str],
        read_taken: Callable[[], set[str]],
    ) -> Iterator[str]:
        """The candidates (``first``, then ``names``) that no row holds, in order.
        ``read_taken``: every taken name that starts with the stem (the full read).
        The caller holds the write lock while it consumes them."""
        key = (folder, first)
        with self._lock:
            start = self._start.get(key)
        candidates = _chain(first, names)
        position = 0
        if start is None:
            taken = read_taken()
        elif start > 0:
            if isinstance(names, rules.CandidateNames):
                next(candidates)
                names.skip(start - 1)  # no need to make the names passed over
            else:
                for _ in itertools.islice(candidates, start):
                    pass
            position = start
        size = 1 if start is None else _BATCH
        while batch := list(itertools.islice(candidates, size)):
            if start is not None:  # a few at a time, one indexed read for them
                taken = rows.taken_among(conn, folder, batch)
            for name in batch:
                if name not in taken:
                    # Every candidate before this one is taken (by a row, or by a file
                    # the caller could not link over): the next search may start here.
                    self._remember(key, position)
                    yield name
                position += 1

    def _remember(self, key: tuple[str | None, str], position: int) -> None:
        with self._lock:
            if len(self._start) >= REMEMBERED and key not in self._start:
                self._start.clear()
            self._start[key] = position


def _chain(first: str, names: Iterator[str]) -> Iterator[str]:
    yield first
    yield from names
