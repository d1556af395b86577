"""Thumbnails for the grid and the preview, decoded off the GUI thread.

A worker asks the core for the cached thumbnail file, decodes it to a ``QImage`` and
scales it (``QImage`` is safe on any thread; ``QPixmap`` is not). The GUI thread turns it
into a ``QPixmap`` once and keeps it in a bounded least-recently-used cache, so scrolling
through 100,000 images neither blocks nor grows memory without end."""

from __future__ import annotations

import itertools
import logging
import math
from collections import OrderedDict

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QImage, QImageReader, QPainter, QPixmap

from imageshelf.app.library import ImageRecord, Library, LibraryError

log = logging.getLogger(__name__)

# (content hash, longest side): identical images share an entry; a moved one keeps it.
Key = tuple[str, int]


class _Signals(QObject):
    # [(Key, image)] of one task, a null image where the thumbnail could not be read
    loaded = Signal(list)


# A thumbnail to decode: (image id, content hash, key, longest side in device pixels).
_Job = tuple[str, str, Key, int]


class _Decode(QRunnable):
    """The thumbnails of one burst of requests (or its share of it), decoded one after the
    other and handed to the GUI thread in one queued call: during a drop a load a photo
    was a task of its own, a thread woken and a signal delivered each (docs/performance.md,
    21)."""

    def __init__(self, library: Library, jobs: list[_Job], signals: _Signals) -> None:
        super().__init__()
        self.library, self.jobs, self.signals = library, jobs, signals

    def run(self) -> None:
        loaded = [(key, self._read(image_id, sha, px)) for image_id, sha, key, px in self.jobs]
        self.signals.loaded.emit(loaded)

    def _read(self, image_id: str, sha256: str, side: int) -> QImage:
        """``side``: the longest side in device pixels (sharp on HiDPI screens)."""
        try:
            # The cache's file when it has one (an image just imported: the row is not
            # read again); else the core's way, which rebuilds a lost thumbnail.
            thumb = self.library.thumbnails.lookup(sha256)
            if thumb is None:
                _record, thumb = self.library.thumbnail(image_id)
            reader = QImageReader(str(thumb.path))
            size = reader.size()
            if size.isValid() and (size.width() > side or size.height() > side):
                # Decoded at the size shown: a JPEG is then decoded at a fraction of its
                # scale (libjpeg's DCT scaling) instead of whole and shrunk after, 0.5
                # against 1.4 ms a thumbnail, on threads that share the cores with the
                # window's while the grid scrolls; other formats are shrunk smoothly.
                shown = size.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio)
                reader.setScaledSize(shown.expandedTo(QSize(1, 1)))  # a sliver stays a pixel
            return reader.read()
        except (LibraryError, OSError):
            return QImage()
        except Exception:
            log.exception("thumbnail of %s failed", image_id)
            return QImage()


def placeholder(size: int, *, broken: bool = False) -> QPixmap:
    """A quiet square shown while a thumbnail loads (or where it cannot be read)."""
    pix = QPixmap(size, size)
    pix.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#f3d6d6") if broken else QColor(128, 128, 128, 40))
    inset = size // 10
    painter.drawRoundedRect(inset, inset, size - 2 * inset, size - 2 * inset, 8, 8)
    if broken:
        painter.setPen(QColor("#a33"))
        painter.drawText(pix.rect(), Qt.AlignmentFlag.AlignCenter, "?")
    painter.end()
    return pix


class ThumbnailLoader(QObject):
    """``pixmap(record, side)`` returns at once: the cached pixmap, or ``None`` after
    queueing a load; ``ready(sha256)`` tells the views when to ask again."""

    ready = Signal(str)  # sha256 whose thumbnail is now cached (or known broken)

    def __init__(
        self,
        library: Library,
        capacity: int = 800,
        parent: QObject | None = None,
        *,
        scale: float | None = None,
    ):
        super().__init__(parent)
        self.library = library
        if scale is None:
            screen = QGuiApplication.primaryScreen()
            scale = screen.devicePixelRatio() if screen is not None else 1.0
        self.scale = max(1.0, scale)
        self.capacity = capacity
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self._cache: OrderedDict[Key, QPixmap] = OrderedDict()
        self._broken: set[Key] = set()
        self._pending: set[Key] = set()
        self._signals = _Signals(self)
        self._signals.loaded.connect(self._on_loaded)
        # Most recent requests first: what the person scrolled to now matters more than
        # what flew past a second ago.
        self._priority = itertools.count()
        # Requests made while the grid paints start once the paint is over: decoding
        # threads started mid-paint compete with it for the GIL and stretch one paint of
        # a screenful of new thumbnails past 50 ms.
        self._queued: list[tuple[ImageRecord, Key]] = []
        self._submit_timer = QTimer(self, singleShot=True, interval=0)
        self._submit_timer.timeout.connect(self._submit)

    def pixmap(self, record: ImageRecord, side: int) -> QPixmap | None:
        key = (record.sha256, side)
        pix = self._cache.get(key)
        if pix is not None:
            self._cache.move_to_end(key)
            return pix
        if key in self._broken:
            return placeholder(side, broken=True)
        if key not in self._pending:
            self._pending.add(key)
            self._queued.append((record, key))
            if not self._submit_timer.isActive():
                self._submit_timer.start()
        return None

    def _submit(self) -> None:
        """The requests of one turn as one task per thread of the pool (in the order
        asked), not one task each."""
        queued, self._queued = self._queued, []
        jobs = [(r.id, r.sha256, key, math.ceil(key[1] * self.scale)) for r, key in queued]
        threads = max(1, self.pool.maxThreadCount())
        share = -(-len(jobs) // threads)
        for start in range(0, len(jobs), share):
            priority = min(next(self._priority), 2**30)
            self.pool.start(
                _Decode(self.library, jobs[start : start + share], self._signals), priority
            )

    def loading(self) -> bool:
        """Whether a thumbnail asked for is still being loaded."""
        return bool(self._pending)

    def is_cached(self, record: ImageRecord, side: int) -> bool:
        return (record.sha256, side) in self._cache

    def __len__(self) -> int:
        return len(self._cache)

    def _on_loaded(self, loaded: list[tuple[Key, QImage]]) -> None:
        for key, image in loaded:
            self._pending.discard(key)
            if image.isNull():
                self._broken.add(key)
            else:
                pix = QPixmap.fromImage(image)
                pix.setDevicePixelRatio(self.scale)
                self._cache[key] = pix
                self._cache.move_to_end(key)
            self.ready.emit(key[0])
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)

    def forget(self, sha256: str) -> None:
        for key in [k for k in self._cache if k[0] == sha256]:
            del self._cache[key]
        self._broken = {k for k in self._broken if k[0] != sha256}

    def shutdown(self) -> None:
        self._submit_timer.stop()
        self._queued.clear()
        self.pool.clear()
        self.pool.waitForDone(10_000)


def icon_size(side: int) -> QSize:
    return QSize(side, side)
