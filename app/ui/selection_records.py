"""The records behind a set of grid rows, for an action on the selection, without library
I/O on the GUI thread: at once from the model's pages when every row is loaded (a click,
a few rows), else the missing pages are read on a worker and the answer comes back on the
GUI thread. A Select All over 100,000 rows reads 1,000 pages: on a reader of its own, so
the pages the view shows are not held up behind it.

An answer read while rows moved (an event came in between) is read again; after a new
query (another folder, search...) it is dropped: the rows asked about are gone."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer

from imageshelf.app.library import ImageRecord, LibraryError, Page

from .grid_model import ImageGridModel
from .grid_pages import PAGE_SIZE
from .grid_query import Query
from .page_reader import PageReader

RETRIES = 5
RETRY_MS = 20  # a commit's event is queued behind the read: let it land first

Rows = Callable[[], list[int]]
Then = Callable[[list[ImageRecord]], None]


@dataclass
class _Request:
    rows: Rows
    then: Then
    failed: Callable[[str], None] | None
    tries: int = 0


class RecordResolver(QObject):
    def __init__(self, model: ImageGridModel, parent: QObject | None = None) -> None:
        super().__init__(parent or model)
        self.model = model
        self.reader = PageReader(self)
        self.reader.done.connect(self._on_read)
        self._requests: dict[int, _Request] = {}
        self._ids = itertools.count(1)
        self.pages_read = 0  # for tests: how many pages a resolution needed
        self._closing = False  # a read of 1,000 pages stops between pages when set

    def records(self, rows: Rows, then: Then, failed: Callable[[str], None] | None = None) -> bool:
        """``then(records)`` for the rows ``rows()`` names (ascending), at once if all are
        loaded (returns True), else later on the GUI thread (returns False)."""
        return self._start(_Request(rows, then, failed))

    def _start(self, request: _Request) -> bool:
        wanted = request.rows()
        known = [self.model.loaded_record(r) for r in wanted]
        if all(r is not None for r in known):
            request.then([r for r in known if r is not None])
            return True
        generation, epoch, commits, settled = self.model.version()
        if not settled:
            self._retry(request)
            return False
        missing = sorted({r // PAGE_SIZE for r, k in zip(wanted, known, strict=True) if k is None})
        query = self.model.query
        key = next(self._ids)
        self._requests[key] = request
        token = (key, (generation, epoch, commits), wanted, known, missing)
        self.reader.read(lambda: [self._page(query, p) for p in missing], token)
        return False

    def _page(self, query: Query, page: int) -> Page:
        if self._closing:
            raise LibraryError("The window closed.")
        return self.model.read_page(query, page)

    def _retry(self, request: _Request) -> None:
        request.tries += 1
        if request.tries > RETRIES:
            self._fail(request, "The images changed while they were read; try again.")
            return
        QTimer.singleShot(RETRY_MS, self, lambda: self._start(request))

    def _fail(self, request: _Request, message: str) -> None:
        if request.failed is not None:
            request.failed(message)

    def _on_read(self, token: tuple[object, ...], result: object) -> None:
        key, version, wanted, known, missing = token
        request = self._requests.pop(key, None)  # type: ignore[call-overload]
        if request is None:
            return
        if isinstance(result, Exception):
            message = result.message if isinstance(result, LibraryError) else str(result)
            self._fail(request, message)
            return
        generation, epoch, commits, _settled = self.model.version()
        assert isinstance(version, tuple) and isinstance(result, list)
        if version[0] != generation:
            self._fail(request, "The view changed before the selection was read.")
            return
        pages: dict[int, Page] = dict(zip(missing, result, strict=True))  # type: ignore[call-overload]
        if (version[1], version[2]) != (epoch, commits) or any(
            p.total != self.model.total for p in pages.values()
        ):
            self._retry(request)  # rows moved while they were read
            return
        self.pages_read += len(pages)
        records: list[ImageRecord] = []
        for row, record in zip(wanted, known, strict=True):  # type: ignore[call-overload]
            if record is None:
                p, offset = divmod(row, PAGE_SIZE)
                items = pages[p].items
                if offset >= len(items):
                    continue
                record = items[offset]
            records.append(record)
        request.then(records)

    def shutdown(self) -> None:
        """Drops what was asked and waits for the read under way (it stops at its next
        page): called by the window before the library closes."""
        self._closing = True
        self._requests.clear()
        self.reader.shutdown()
