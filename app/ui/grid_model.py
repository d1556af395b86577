"""The thumbnail grid's model: the images of the current view (folder, search, "needs alt
text", sort), read a page at a time as the view shows them, kept current by core events.

``rowCount()`` is the query's total from the start: the view lays out 100,000 cells once
(uniform sizes make that cheap) instead of growing by inserts, each of which made it lay
everything out again. A row whose page is not read yet shows a placeholder and asks for
its page; pages are read off the GUI thread, a few at a time, and kept in a bounded
least-recently-used set, so memory stays flat however far the view scrolls.

Only the GUI thread changes the model. Events become targeted inserts (new images
together, a few times a second: grid_arrivals.py), ``dataChanged`` and removes; a reset
happens only when the query itself changes, and the new query's first page is read in
the background while the old rows stay on screen."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)

from imageshelf.app.library import Event, EventKind, ImageRecord, Library, LibraryError, Page

from .grid_arrivals import Arrivals, ThumbnailsTogether, plan_inserts, rows_interval_ms
from .grid_changes import change_of, removal_row
from .grid_pages import PAGE_SIZE, PageStore
from .grid_query import Query, Role, read_page, record_data
from .page_reader import PageReader
from .thumbnails import ThumbnailLoader, placeholder

if TYPE_CHECKING:
    from PySide6.QtGui import QPixmap

log = logging.getLogger(__name__)

READS_PER_BATCH = 8  # pages read in one trip to the worker
THUMB_SIDE = 150  # the thumbnails' side at first; the person picks between these two:
THUMB_SIDES = (80, 320)

_Index = QModelIndex | QPersistentModelIndex


class _CommitSignals(QObject):
    settled = Signal()


class ImageGridModel(QAbstractListModel):
    """Rows are ``total`` long; ``_store`` (grid_pages.py) holds what is known of them."""

    query_applied = Signal()  # the rows of a new query (or a reload) are in
    query_failed = Signal(str)  # a readable message; the model shows nothing for it

    def __init__(
        self,
        library: Library,
        loader: ThumbnailLoader,
        parent: QObject | None = None,
        first_page: Page | None = None,
    ) -> None:
        """``first_page``: the default view's first page (``read_page(library, Query(),
        0)``) when a worker has read it already; else it is read here."""
        super().__init__(parent)
        self.library = library
        self.loader = loader
        self.query = Query()
        self.total = 0
        self._store = PageStore()
        self.side = THUMB_SIDE  # the thumbnails' side in the grid (the size control)
        self._placeholder = placeholder(THUMB_SIDE)
        self.pages_fetched = 0  # pages read, for tests and the benchmark
        self.answers = 0  # reads answered, stale ones included (tests wait on it)
        # Reads: the query generation (a new query or reload), the layout epoch (rows
        # inserted or removed) and the commits seen tell a current answer from a stale one.
        self._generation = 0
        self._epoch = 0
        self._pending_query: Query | None = None
        self._query_reading = 0  # the generation whose first page is being read
        self._wanted: set[int] = set()
        self._in_flight: set[int] = set()
        self._reader = PageReader(self)
        self._reader.done.connect(self._on_read)
        self._fetch_timer = QTimer(self, singleShot=True, interval=0)
        self._fetch_timer.timeout.connect(self._fetch)
        # A page read after a commit whose event is still queued would be one row ahead
        # of the model. Each commit bumps ``_commits_seen`` on the committing thread and
        # queues a "settled" note behind the bridge's event for it; reads start only when
        # every commit has settled, and an answer is kept only if no commit came while it
        # was read.
        self._commits_seen = 0
        self._commits_settled = 0
        self._commit_signals = _CommitSignals()
        self._commit_signals.settled.connect(self._on_settled, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] | None = library.subscribe(self._on_commit)
        # New images and their thumbnails are shown a few times a second while a drop
        # streams in, not per commit and per thumbnail (grid_arrivals.py, ``receive``).
        self._arriving = Arrivals(self._insert_arrivals, lambda: rows_interval_ms(self.total), self)
        self._thumbs = ThumbnailsTogether(loader, self._show_thumbnails, self)
        # The first page of the default view is read here, at once: it is what the window
        # paints first, and reading it costs a few milliseconds.
        self._reset_to(self.query, self._read(self.query, 0) if first_page is None else first_page)
        if first_page is not None:
            # Read before this model subscribed: a commit in between would be missed, so
            # the view is read again (on a worker); the page paints meanwhile.
            self.reload()

    def set_side(self, side: int) -> None:
        """Thumbnails of ``side`` pixels from now on (decoded anew, off the GUI thread)."""
        if side == self.side:
            return
        self.side = side
        self._placeholder = placeholder(side)
        if self.total:
            self.dataChanged.emit(
                self.index(0), self.index(self.total - 1), [Qt.ItemDataRole.DecorationRole]
            )

    # --- the query -----------------------------------------------------------------------

    def set_query(self, query: Query) -> None:
        """Switches to ``query`` once its first page has been read in the background;
        the current rows stay until then. ``query_applied`` says when."""
        target = self._pending_query if self._pending_query is not None else self.query
        if query != target:
            self._start_query(query)

    def reload(self) -> None:
        """Reads the current query again from its first page (in the background)."""
        self._start_query(self._pending_query or self.query)

    def _start_query(self, query: Query) -> None:
        self._generation += 1
        self._pending_query = query
        self._read_query()

    def _read_query(self) -> None:
        query = self._pending_query
        if query is None or not self._settled() or self._query_reading == self._generation:
            return  # _on_settled starts it; or it is already under way
        self._query_reading = self._generation
        token = ("query", self._generation, self._commits_seen)
        self._reader.read(lambda: self._read(query, 0), token)

    def _reset_to(self, query: Query, page: Page) -> None:
        self.beginResetModel()
        self.query = query
        self.total = page.total
        self._store.clear()
        self._wanted.clear()
        self._in_flight.clear()
        self._epoch += 1
        self._store.put(0, page.items)
        self.endResetModel()

    def _read(self, query: Query, page: int) -> Page:
        return read_page(self.library, query, page)

    # --- reading pages -------------------------------------------------------------------

    def _want(self, page: int) -> None:
        if page not in self._wanted and page not in self._in_flight:
            self._wanted.add(page)
            if not self._fetch_timer.isActive():
                self._fetch_timer.start()

    def _fetch(self) -> None:
        """Reads the pages the view asked for since the last trip, a batch at a time."""
        if not self._wanted or not self._settled():
            return
        pages = sorted(self._wanted)[:READS_PER_BATCH]
        self._wanted.difference_update(pages)
        self._in_flight.update(pages)
        query = self.query
        token = ("pages", self._generation, self._epoch, self._commits_seen, tuple(pages))
        self._reader.read(lambda: [self._read(query, p) for p in pages], token)

    def _on_read(self, token: tuple[Any, ...], result: object) -> None:
        self.answers += 1
        if token[0] == "query":
            self._on_query_read(token, result)
        else:
            self._on_pages_read(token, result)

    def _on_query_read(self, token: tuple[Any, ...], result: object) -> None:
        _kind, generation, commits = token
        if self._query_reading == generation:
            self._query_reading = 0
        if generation != self._generation or self._pending_query is None:
            return  # a newer query was asked for: its answer is the one that counts
        query = self._pending_query
        if isinstance(result, Exception):
            self._pending_query = None
            message = result.message if isinstance(result, LibraryError) else str(result)
            if not isinstance(result, LibraryError):
                log.error("reading %s failed", query, exc_info=result)
            self._reset_to(query, Page(items=[], total=0, page=1, page_size=PAGE_SIZE))
            self.query_failed.emit(message)
            return
        if commits != self._commits_seen or self._arriving:
            self._read_query()  # something changed while it was read: read it again
            return
        self._pending_query = None
        assert isinstance(result, Page)
        self._reset_to(query, result)
        self.query_applied.emit()

    def _on_pages_read(self, token: tuple[Any, ...], result: object) -> None:
        _kind, generation, epoch, commits, pages = token
        self._in_flight.difference_update(pages)
        if generation != self._generation:
            return
        if isinstance(result, Exception):
            log.warning("reading pages %s failed: %s", pages, result)
            return  # not retried at once: the next paint asks again
        if epoch != self._epoch or commits != self._commits_seen or self._arriving:
            # Rows moved while these were read: ask again, they may still be on screen.
            for p in pages:
                self._want(p)
            return
        assert isinstance(result, list)
        for p, page in zip(pages, result, strict=True):
            if page.total != self.total:
                # The library and the model disagree (a change with no event reached us):
                # start over rather than show rows in the wrong places.
                self.reload()
                return
            self.pages_fetched += 1
            self._keep(p, page.items)
        self._store.evict(keep=pages)

    def _keep(self, p: int, items: Iterable[ImageRecord]) -> None:
        held = self._store.put(p, items)
        if held:
            first = p * PAGE_SIZE
            self.dataChanged.emit(self.index(first), self.index(first + held - 1))

    def reading(self) -> bool:
        """Whether a read is asked for or under way (tests wait until it is not)."""
        pending = self._pending_query is not None or self._fetch_timer.isActive()
        return pending or bool(self._wanted or self._in_flight)

    def loaded_pages(self) -> int:
        return len(self._store.pages)

    def is_loaded(self, row: int) -> bool:
        return self._store.is_loaded(row)

    # --- commits and events --------------------------------------------------------------

    def _on_commit(self, _event: Event) -> None:
        # On the committing thread. Commits are serialised by the core's write lock.
        self._commits_seen += 1
        with contextlib.suppress(RuntimeError):  # the model is gone; detach() was not called
            self._commit_signals.settled.emit()

    def _on_settled(self) -> None:
        self._commits_settled += 1
        self._resume_reads()

    def _resume_reads(self) -> None:
        if self._settled():
            self._read_query()
            if self._wanted and not self._fetch_timer.isActive():
                self._fetch_timer.start()

    def _settled(self) -> bool:
        """Every commit's event has reached the model and none is held back."""
        return self._commits_settled == self._commits_seen and not self._arriving

    def detach(self) -> None:
        """Stops listening to the core and waits for a read under way."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._fetch_timer.stop()
        self._arriving.cancel()
        self._thumbs.cancel()
        self._reader.shutdown()

    # --- reading -------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.total

    def roleNames(self) -> dict[int, QByteArray]:
        names = super().roleNames()
        for role in Role:
            names[int(role)] = QByteArray(role.name.encode())
        return names

    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < self.total:
            return None
        if role == Role.Cell:  # the delegate's one call per cell
            return self.cell(index.row())
        r = self._store.loaded(index.row())
        if r is None:
            self._want(index.row() // PAGE_SIZE)
            if role == Qt.ItemDataRole.DecorationRole:
                return self._placeholder
            if role == Qt.ItemDataRole.AccessibleTextRole:
                return "Loading"
            if role == Role.NeedsAltText:
                return False  # unknown yet: no tag rather than a wrong one
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            return self.loader.pixmap(r, self.side) or self._placeholder
        return record_data(r, role)

    def cell(self, row: int) -> tuple[QPixmap, bool, str]:
        """What the cell of ``row`` (in range) shows: the thumbnail (a placeholder while it
        or the row's page loads: both are asked for), whether it needs alt text, the file
        name."""
        return self.cells(row, row + 1)[0]

    def cells(self, start: int, end: int) -> list[tuple[QPixmap, bool, str]]:
        """``cell`` of rows ``start``..``end - 1``, in one call: the grid's paint asks this
        for the rows it shows (grid_paint.py), a call less a cell."""
        pixmap, side, blank = self.loader.pixmap, self.side, self._placeholder
        shown: list[tuple[QPixmap, bool, str]] = []
        for row, r in enumerate(self._store.span(start, end), start):
            if r is None:
                self._want(row // PAGE_SIZE)
                shown.append((blank, False, ""))
            else:
                shown.append((pixmap(r, side) or blank, r.alt_text is None, r.filename))
        return shown

    def record(self, row: int) -> ImageRecord:
        """The record at ``row`` if its page is loaded (never read here: an action on rows
        not loaded asks ``selection_records.RecordResolver``, which reads on a worker)."""
        if not 0 <= row < self.total:
            raise IndexError(row)
        found = self._store.loaded(row)
        if found is None:
            raise LookupError(f"row {row} is not loaded")
        return found

    def loaded_record(self, row: int) -> ImageRecord | None:
        return self._store.loaded(row) if 0 <= row < self.total else None

    def row_of(self, image_id: str) -> int | None:
        """The row of ``image_id`` if its page is loaded (a selected row always is)."""
        return self._store.row_of.get(image_id)

    def ids(self) -> list[str]:
        """The ids of the loaded rows, in order: every id of a small view."""
        return [r.id for r in map(self.loaded_record, range(self.total)) if r is not None]

    def version(self) -> tuple[int, int, int, bool]:
        """Query generation, layout epoch, commits seen, and whether every commit has
        settled: a read made under one version holds for the rows while it stays."""
        return self._generation, self._epoch, self._commits_seen, self._settled()

    def read_page(self, query: Query, page: int) -> Page:
        """One page of ``query`` from the core, for a worker."""
        return self._read(query, page)

    # --- live updates --------------------------------------------------------------------

    def receive(self, event: Event) -> None:
        """One committed change, as the window gets them: a new image is held and
        inserted with the others arriving, at most every ``ROWS_MS`` (the first at the
        next turn of the event loop); any other change is applied at once, after them.
        Page reads wait while images are held (``_settled``)."""
        if event.kind is EventKind.ADDED and event.image is not None:
            self._arriving.hold(event.image)
            return
        self.flush_arrivals()
        self.apply(event)

    def showing_soon(self) -> bool:
        """Whether new rows or loaded thumbnails wait to be shown (tests wait on it)."""
        return bool(self._arriving or self._thumbs)

    def flush_arrivals(self) -> None:
        """Inserts the images held, now."""
        self._arriving.flush()

    def _insert_arrivals(self, images: list[ImageRecord]) -> None:
        arrived = {image.id: image for image in images}  # the newest of each
        q = self.query
        new: list[ImageRecord] = []
        for image in arrived.values():
            if self._store.holds(image.id):  # read with a page already: updated in place
                self.apply(Event(EventKind.ADDED, image.id, image))
            elif q.matches(image):
                new.append(image)
        self._insert(new)
        self._resume_reads()

    def apply(self, event: Event) -> None:
        """Brings the model in line with one committed change (grid_changes.py)."""
        change = change_of(self._store, self.query, event)
        if change.replace is not None:
            self._replace(*change.replace)
        if change.remove:
            self._remove(change.row, change.before)
        if change.insert is not None:
            self._insert([change.insert])

    def _replace(self, row: int, record: ImageRecord) -> None:
        self._store.replace(row, record)
        i = self.index(row)
        self.dataChanged.emit(i, i)

    def _insert(self, records: list[ImageRecord]) -> None:
        """New rows, each in the view: one insert per stretch landing side by side."""
        for row, rows in plan_inserts(self._store, self.query.sort_key(), self.total, records):
            self.beginInsertRows(QModelIndex(), row, row + len(rows) - 1)
            self.total += len(rows)
            self._epoch += 1
            self._store.insert(row, rows)
            self.endInsertRows()

    def _remove(self, row: int | None, record: ImageRecord | None) -> None:
        if row is None and record is not None:
            row = removal_row(self._store, self.query.sort_key(), self.total, record)
        if row is None:
            self.reload()  # no unread row where it was: we lost track, start over
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        self.total -= 1
        self._epoch += 1
        self._store.shift_up(row)
        self.endRemoveRows()

    def _show_thumbnails(self, shas: set[str]) -> None:
        """The cells of the thumbnails loaded since the last time, in one repaint."""
        by_sha, row_of = self._store.by_sha, self._store.row_of
        rows = [row_of[i] for sha in shas for i in by_sha.get(sha, ()) if i in row_of]
        if rows:
            first, last = self.index(min(rows)), self.index(max(rows))
            self.dataChanged.emit(first, last, [Qt.ItemDataRole.DecorationRole])
