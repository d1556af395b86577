"""New images and their thumbnails reach the grid a few times a second, together.

A drop of 500 photos commits them in batches; each commit is a burst of events, and each
thumbnail loaded afterwards asked for a paint of its cell. Inserted one row at a time and
painted per commit and per thumbnail, that was 167 paints of the grid for 200 photos
(session 7's profile of the window during a drop), on the same two cores the photos
decode on. So the grid model holds the new images (``Arrivals``) and inserts them
together at most every ``ROWS_MS`` (one ``beginInsertRows`` per stretch of rows landing
side by side: ``plan_inserts``; in the default newest-first view, all of them at the
top), and the thumbnails loaded meanwhile reach it together (``ThumbnailsTogether``): one
repaint for a screen of them. A person still sees photos appear a few times a second."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QTimer

from imageshelf.app.library import ImageRecord

from .grid_pages import PageStore
from .thumbnails import ThumbnailLoader

# New rows are inserted at most this often while they stream in, and less often in a big
# view: QListView lays every row out again after an insert (0.2 s of CPU at 100,000 rows,
# 2 ms at 500), so the interval grows by a millisecond per ROWS_PER_MS rows.
ROWS_MS = 400
ROWS_PER_MS = 100
# Thumbnails loaded are shown when the loader has nothing more under way (a screen of new
# rows loads in a few ms), or at most this long after the first of them was ready.
THUMBS_MS = 100

Run = tuple[int, list[ImageRecord | None]]


def rows_interval_ms(total: int) -> int:
    """How long new rows wait at most, in a view of ``total`` rows."""
    return ROWS_MS + total // ROWS_PER_MS


def plan_inserts(
    store: PageStore,
    key: Callable[[ImageRecord], tuple[object, ...]],
    total: int,
    records: Iterable[ImageRecord],
) -> list[Run]:
    """Where ``records`` (not held yet, each in the view) go among ``total`` rows: runs of
    (first row, rows) to insert, the last run first, so each run's row stays right while
    the runs after it are inserted. Records that fall between the same two loaded rows
    form one run, in sort order; where unread rows lie between those two, the exact place
    is unknown and the run's rows are ``None`` (read when shown)."""
    groups: dict[tuple[int | None, int | None], list[ImageRecord]] = {}
    for record in sorted(records, key=key):
        groups.setdefault(store.bracket(record, key), []).append(record)
    runs: list[Run] = []
    for (before, after), group in groups.items():
        rows: list[ImageRecord | None] = list(group)
        if after is not None and (after == 0 or before == after - 1):
            runs.append((after, rows))  # between two known rows: their exact place
        elif after is None and (total == 0 or before == total - 1):
            runs.append((total, rows))  # after the last row
        else:
            # Somewhere in rows not read yet: every loaded row after that stretch moves
            # down; the new rows themselves are read when shown.
            at = after if after is not None else 0 if before is None else before + 1
            runs.append((at, [None] * len(group)))
    runs.sort(key=lambda run: run[0], reverse=True)
    return runs


class Arrivals(QObject):
    """New images held for ``insert``: the first of a stream at the next turn of the
    event loop (after the rest of its burst), then at most every ``interval_ms()``."""

    def __init__(
        self,
        insert: Callable[[list[ImageRecord]], None],
        interval_ms: Callable[[], int],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._insert = insert
        self._interval_ms = interval_ms
        self._held: list[ImageRecord] = []
        self._last: float | None = None  # when the last insert was made (monotonic)
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.flush)

    def hold(self, image: ImageRecord) -> None:
        self._held.append(image)
        if not self._timer.isActive():
            wait = 0.0
            if self._last is not None:
                wait = self._last + self._interval_ms() / 1000 - time.monotonic()
            self._timer.start(max(0, round(wait * 1000)))

    def __len__(self) -> int:
        return len(self._held)

    def flush(self) -> None:
        """Inserts what is held, now."""
        self._timer.stop()
        held, self._held = self._held, []
        if held:
            self._last = time.monotonic()
            self._insert(held)

    def cancel(self) -> None:
        self._timer.stop()
        self._held = []


class ThumbnailsTogether(QObject):
    """The loader's ``ready`` signals handed to ``show`` as one set: when it has nothing
    more under way, else ``THUMBS_MS`` after the first of them."""

    def __init__(
        self,
        loader: ThumbnailLoader,
        show: Callable[[set[str]], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._loader, self._show = loader, show
        self._ready: set[str] = set()
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self._flush)
        loader.ready.connect(self._on_ready)

    def _on_ready(self, sha256: str) -> None:
        self._ready.add(sha256)
        if not self._loader.loading():
            self._timer.start(0)  # the last asked for: the others ready this turn too
        elif not self._timer.isActive():
            self._timer.start(THUMBS_MS)

    def __bool__(self) -> bool:
        return bool(self._ready)

    def _flush(self) -> None:
        ready, self._ready = self._ready, set()
        if ready:
            self._show(ready)

    def cancel(self) -> None:
        self._timer.stop()
        self._ready = set()
