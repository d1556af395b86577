"""The thumbnail grid's model: the images of the current view (folder, search, "needs alt
text", sort), read a page at a time as the view shows them, kept current by core events.

``rowCount()`` is the query's total from the start: the view lays out 100,000 cells once
(uniform sizes make that cheap) instead of growing by inserts, each of which made it lay
everything out again. A row whose page is not read yet shows a placeholder and asks for
its page; pages are read off the GUI thread, a few at a time, and kept in a bounded
least-recently-used set, so memory stays flat however far the view scrolls.

Only the GUI thread changes the model. Events become targeted inserts, ``dataChanged``
and removes; a reset happens only when the query itself changes, and the new query's
first page is read in the background while the old rows stay on screen."""

from __future__ import annotations

import bisect
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

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

from imageshelf.app.library import (
    ALL_FOLDERS,
    Event,
    EventKind,
    Filter,
    FolderScope,
    ImageRecord,
    Library,
    LibraryError,
    Page,
    Sort,
)

from .page_reader import PageReader
from .thumbnails import ThumbnailLoader, placeholder

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # the core's largest page
MAX_PAGES = 30  # pages kept: a few screens either way of the one shown, 3,000 records
READS_PER_BATCH = 8  # pages read in one trip to the worker
THUMB_SIDE = 150  # the thumbnails' side at first; the person picks between these two:
THUMB_SIDES = (80, 320)

_Index = QModelIndex | QPersistentModelIndex


class Role(IntEnum):
    Id = Qt.ItemDataRole.UserRole + 1
    Record = Qt.ItemDataRole.UserRole + 2
    AltText = Qt.ItemDataRole.UserRole + 3
    NeedsAltText = Qt.ItemDataRole.UserRole + 4
    Folder = Qt.ItemDataRole.UserRole + 5


@dataclass(frozen=True)
class Query:
    """What the grid shows. ``folder`` is ``ALL_FOLDERS``, ``None`` (root) or a path."""

    folder: FolderScope = ALL_FOLDERS
    search: str = ""
    undescribed: bool = False
    sort: Sort = Sort.NEWEST
    recursive: bool = False  # with a folder: the folders inside it too

    def __post_init__(self) -> None:
        object.__setattr__(self, "sort", Sort(self.sort))

    def with_(self, **changes: object) -> Query:
        return replace(self, **changes)  # type: ignore[arg-type]

    def matches(self, record: ImageRecord) -> bool:
        """The core's filter rule, applied to one record (for live events)."""
        flt = Filter(
            folder=self.folder,
            search=self.search or None,
            undescribed=self.undescribed,
            recursive=self.recursive,
        )
        return flt.matches(record)

    def sort_key(self) -> Callable[[ImageRecord], tuple[object, ...]]:
        """The order of ``library.list_images(sort=...)``, as an ascending key."""
        return self.sort.key()


class _CommitSignals(QObject):
    settled = Signal()


class ImageGridModel(QAbstractListModel):
    """Rows are ``total`` long; ``_pages[p]`` holds what is known of rows
    ``p * PAGE_SIZE ...``. After a live change shifted the rows, a page may be shorter
    than its rows or hold ``None`` where the record that moved in is not known: that row
    shows a placeholder and its page is read again, while the others keep showing."""

    query_applied = Signal()  # the rows of a new query (or a reload) are in
    query_failed = Signal(str)  # a readable message; the model shows nothing for it

    def __init__(
        self, library: Library, loader: ThumbnailLoader, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.loader = loader
        self.query = Query()
        self.total = 0
        self._pages: OrderedDict[int, list[ImageRecord | None]] = OrderedDict()
        self._row_of: dict[str, int] = {}
        self._by_sha: dict[str, set[str]] = {}  # ids of the loaded rows showing each thumbnail
        self.side = THUMB_SIDE  # the thumbnails' side in the grid (the size control)
        self._placeholder = placeholder(THUMB_SIDE)
        self.pages_fetched = 0  # pages read, for tests and the benchmark
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
        loader.ready.connect(self._on_thumbnail_ready)
        # The first page of the default view is read here, at once: it is what the window
        # paints first, and reading it costs a few milliseconds.
        self._reset_to(self.query, self._read(self.query, 0))

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
        self._pages.clear()
        self._wanted.clear()
        self._in_flight.clear()
        self._epoch += 1
        if page.items:
            self._pages[0] = list(page.items)
        self._reindex()
        self.endResetModel()

    def _read(self, query: Query, page: int) -> Page:
        """One page of ``query`` from the core (any thread)."""
        return self.library.list_images(
            folder=query.folder,
            search=query.search or None,
            undescribed=query.undescribed,
            sort=query.sort,
            recursive=query.recursive,
            page=page + 1,
            page_size=PAGE_SIZE,
        )

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
        if commits != self._commits_seen:
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
        if epoch != self._epoch or commits != self._commits_seen:
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
            self._store(p, page.items)
        self._evict(keep=pages)

    def _store(self, p: int, items: Iterable[ImageRecord]) -> None:
        old = self._pages.pop(p, None)
        if old:
            self._untrack(p, old)
        held: list[ImageRecord | None] = list(items)
        if not held:
            return
        self._pages[p] = held
        self._track(p, held)
        first = p * PAGE_SIZE
        self.dataChanged.emit(self.index(first), self.index(first + len(held) - 1))

    def _evict(self, keep: Iterable[int] = ()) -> None:
        keep = set(keep)
        for p in list(self._pages):
            if len(self._pages) <= MAX_PAGES:
                break
            if p not in keep:
                self._untrack(p, self._pages.pop(p))

    def _track(self, p: int, items: list[ImageRecord | None]) -> None:
        for i, r in enumerate(items, p * PAGE_SIZE):
            if r is None:
                continue
            self._row_of[r.id] = i
            self._by_sha.setdefault(r.sha256, set()).add(r.id)

    def _untrack(self, p: int, items: list[ImageRecord | None]) -> None:
        first = p * PAGE_SIZE
        for i, r in enumerate(items, first):
            if r is not None and self._row_of.get(r.id) == i:
                del self._row_of[r.id]
                ids = self._by_sha.get(r.sha256)
                if ids is not None:
                    ids.discard(r.id)
                    if not ids:
                        del self._by_sha[r.sha256]

    def _reindex(self) -> None:
        """Both lookups from the loaded pages (at most MAX_PAGES pages, so bounded):
        after rows shifted, every loaded row number may have changed."""
        self._row_of = {}
        self._by_sha = {}
        for p, items in self._pages.items():
            self._track(p, items)

    def _loaded(self, row: int) -> ImageRecord | None:
        p, offset = divmod(row, PAGE_SIZE)
        items = self._pages.get(p)
        if items is None or offset >= len(items):
            return None
        self._pages.move_to_end(p)  # recently shown: kept longest
        return items[offset]

    def loaded_pages(self) -> int:
        return len(self._pages)

    def is_loaded(self, row: int) -> bool:
        p, offset = divmod(row, PAGE_SIZE)
        items = self._pages.get(p, ())
        return offset < len(items) and items[offset] is not None

    # --- commits and events --------------------------------------------------------------

    def _on_commit(self, _event: Event) -> None:
        # On the committing thread. Commits are serialised by the core's write lock.
        self._commits_seen += 1
        with contextlib.suppress(RuntimeError):  # the model is gone; detach() was not called
            self._commit_signals.settled.emit()

    def _on_settled(self) -> None:
        self._commits_settled += 1
        if self._settled():
            self._read_query()
            if self._wanted and not self._fetch_timer.isActive():
                self._fetch_timer.start()

    def _settled(self) -> bool:
        return self._commits_settled == self._commits_seen

    def detach(self) -> None:
        """Stops listening to the core and waits for a read under way."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._fetch_timer.stop()
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
        r = self._loaded(index.row())
        if r is None:
            self._want(index.row() // PAGE_SIZE)
            if role == Qt.ItemDataRole.DecorationRole:
                return self._placeholder
            if role == Qt.ItemDataRole.AccessibleTextRole:
                return "Loading"
            if role == Role.NeedsAltText:
                return False  # unknown yet: no tag rather than a wrong one
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return r.filename
        if role == Qt.ItemDataRole.DecorationRole:
            return self.loader.pixmap(r, self.side) or self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            alt = "Needs alt text" if r.alt_text is None else (r.alt_text or "Decorative image")
            return f"{r.relpath}\n{r.width}×{r.height}\n{alt}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            state = "needs alt text" if r.alt_text is None else "described"
            return f"{r.filename}, {state}"
        if role == Role.Id:
            return r.id
        if role == Role.Record:
            return r
        if role == Role.AltText:
            return r.alt_text
        if role == Role.NeedsAltText:
            return r.alt_text is None
        if role == Role.Folder:
            return r.folder
        return None

    def record(self, row: int) -> ImageRecord:
        """The record at ``row``, read now (on this thread) if its page is not loaded:
        for actions on a selection, which must not wait for a paint."""
        if not 0 <= row < self.total:
            raise IndexError(row)
        found = self._loaded(row)
        if found is not None:
            return found
        p, offset = divmod(row, PAGE_SIZE)
        page = self._read(self.query, p)
        if self._settled() and page.total == self.total:
            self.pages_fetched += 1
            self._store(p, page.items)
            self._evict(keep=[p])
        if offset >= len(page.items):
            raise IndexError(row)
        return page.items[offset]

    def row_of(self, image_id: str) -> int | None:
        """The row of ``image_id`` if its page is loaded (a selected row always is)."""
        return self._row_of.get(image_id)

    def ids(self) -> list[str]:
        """Every id of the view, in order, reading what is not loaded: for small views."""
        return [self.record(r).id for r in range(self.total)]

    # --- live updates --------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Brings the model in line with one committed change."""
        if event.image_id is None:
            return
        q = self.query
        key = q.sort_key()
        row = self._row_of.get(event.image_id)
        image = event.image
        before = self._loaded(row) if row is not None else event.previous
        now_in = image is not None and q.matches(image)
        was_in = row is not None or (
            event.kind is not EventKind.ADDED and before is not None and q.matches(before)
        )
        if (
            was_in
            and image is not None
            and now_in
            and before is not None
            and key(before) == key(image)
        ):
            if row is not None:
                self._replace(row, image)  # same place: a targeted change, not a move
            return  # not loaded: its page is read fresh when shown
        if was_in:
            self._remove(row, before)
        if now_in:
            assert image is not None
            self._insert(image)

    def _replace(self, row: int, record: ImageRecord) -> None:
        p, offset = divmod(row, PAGE_SIZE)
        items = self._pages[p]
        self._untrack(p, items)
        items[offset] = record
        self._track(p, items)
        i = self.index(row)
        self.dataChanged.emit(i, i)

    def _bracket(self, record: ImageRecord) -> tuple[int | None, int | None]:
        """Among the loaded rows: the last that sorts before ``record`` and the first that
        does not (``None`` where no loaded row is)."""
        key = self.query.sort_key()
        target = key(record)
        before: int | None = None
        for p in sorted(self._pages):
            known = [(i, r) for i, r in enumerate(self._pages[p], p * PAGE_SIZE) if r]
            j = bisect.bisect_left(known, target, key=lambda pair: key(pair[1]))
            if j < len(known):
                return (known[j - 1][0] if j else before), known[j][0]
            if known:
                before = known[-1][0]
        return before, None

    def _insert(self, record: ImageRecord) -> None:
        before, after = self._bracket(record)
        if after is not None and (after == 0 or before == after - 1):
            self._insert_row(after, record)  # between two known rows: its exact place
        elif after is None and (self.total == 0 or before == self.total - 1):
            self._insert_row(self.total, record)  # after the last row
        else:
            # Somewhere in rows not read yet: every loaded row after that stretch moves
            # down by one; the new row itself is read when it is shown.
            if after is None:
                after = 0 if before is None else before + 1
            self._insert_row(after, None)

    def _remove(self, row: int | None, record: ImageRecord | None) -> None:
        if row is None:
            if record is None:
                self.reload()
                return
            before, after = self._bracket(record)
            start = -1 if before is None else before
            end = self.total if after is None else after
            if end - start < 2:
                self.reload()  # no unread row where it was: we lost track, start over
                return
            row = end - 1
        self.beginRemoveRows(QModelIndex(), row, row)
        self.total -= 1
        self._epoch += 1
        self._shift_up(row)
        self._reindex()
        self.endRemoveRows()

    def _insert_row(self, row: int, record: ImageRecord | None) -> None:
        self.beginInsertRows(QModelIndex(), row, row)
        self.total += 1
        self._epoch += 1
        self._shift_down(row, record)
        self._evict()
        self._reindex()
        self.endInsertRows()

    def _shift_down(self, row: int, record: ImageRecord | None) -> None:
        """Rows from ``row`` on move down one; ``record`` (``None``: not known) takes
        ``row``. Each page's last row moves to the next page's front, where an unknown
        one becomes a ``None`` hole."""
        start, offset = divmod(row, PAGE_SIZE)
        if record is not None and offset == 0 and start not in self._pages:
            self._pages[start] = []  # a page's first row is a prefix of it on its own
        carry: dict[int, ImageRecord | None] = {}
        for p in sorted(k for k in self._pages if k >= start):
            items = self._pages[p]
            if p == start:
                if offset <= len(items):
                    items.insert(offset, record)
            else:
                items.insert(0, carry.pop(p, None))
            if len(items) > PAGE_SIZE:
                carry[p + 1] = items.pop()
        self._drop_empty()

    def _shift_up(self, row: int) -> None:
        """Row ``row`` goes; the rows after it move up one. Each page's front row moves to
        the previous page's last place when that page is held."""
        start, offset = divmod(row, PAGE_SIZE)
        for p in sorted(k for k in self._pages if k >= start):
            items = self._pages[p]
            if p == start:
                if offset < len(items):
                    del items[offset]
            elif items:
                moved = items.pop(0)
                previous = self._pages.get(p - 1)
                if previous is not None:
                    previous.extend([None] * (PAGE_SIZE - 1 - len(previous)))
                    previous.append(moved)
        self._drop_empty()

    def _drop_empty(self) -> None:
        for p in list(self._pages):
            items = self._pages[p]
            while items and items[-1] is None:
                items.pop()
            if not items:
                del self._pages[p]

    def _on_thumbnail_ready(self, sha256: str) -> None:
        for image_id in self._by_sha.get(sha256, ()):
            row = self._row_of.get(image_id)
            if row is not None:
                i = self.index(row)
                self.dataChanged.emit(i, i, [Qt.ItemDataRole.DecorationRole])
