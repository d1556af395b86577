"""What the grid model knows of its rows: records by page of ``PAGE_SIZE`` rows, at most
``MAX_PAGES`` pages (least recently shown go first), with the two lookups the model
needs (id → row, thumbnail → ids). No Qt: the model says what changed, this keeps count.

After a live change shifted the rows, a page may be shorter than its rows or hold
``None`` where the record that moved in is not known: that row shows a placeholder and
its page is read again, while the others keep showing."""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

from imageshelf.app.library import ImageRecord

PAGE_SIZE = 100  # the core's largest page
MAX_PAGES = 30  # pages kept: a few screens either way of the one shown, 3,000 records

Items = list[ImageRecord | None]


class PageStore:
    def __init__(self) -> None:
        self.pages: OrderedDict[int, Items] = OrderedDict()
        self._row_of: dict[str, int] = {}
        self._by_sha: dict[str, set[str]] = {}  # ids of the loaded rows showing each thumbnail
        # A shift leaves the lookups stale until they are next asked: adopting a folder
        # inserts rows at the top in bursts of 16, and re-indexing 3,000 loaded rows
        # after each (2.5 ms) held the window's thread for 40 ms per burst.
        self._stale = False

    @property
    def row_of(self) -> dict[str, int]:
        if self._stale:
            self.reindex()
        return self._row_of

    @property
    def by_sha(self) -> dict[str, set[str]]:
        if self._stale:
            self.reindex()
        return self._by_sha

    def clear(self) -> None:
        self.pages.clear()
        self.reindex()

    def holds(self, image_id: str) -> bool:
        """Whether a loaded row is ``image_id``, without re-indexing (a new image's id is
        looked for once per insert: a scan of the loaded rows is cheaper than an index)."""
        if not self._stale:
            return image_id in self._row_of
        return any(r is not None and r.id == image_id for p in self.pages.values() for r in p)

    def put(self, p: int, items: Iterable[ImageRecord]) -> int:
        """Page ``p`` is ``items`` now; how many rows it holds."""
        if self._stale:
            self.reindex()
        old = self.pages.pop(p, None)
        if old:
            self._untrack(p, old)
        held: Items = list(items)
        if held:
            self.pages[p] = held
            self._track(p, held)
        return len(held)

    def replace(self, row: int, record: ImageRecord) -> None:
        if self._stale:
            self.reindex()
        p, offset = divmod(row, PAGE_SIZE)
        items = self.pages[p]
        self._untrack(p, items)
        items[offset] = record
        self._track(p, items)

    def evict(self, keep: Iterable[int] = ()) -> None:
        keep = set(keep)
        for p in list(self.pages):
            if len(self.pages) <= MAX_PAGES:
                break
            if p not in keep:
                items = self.pages.pop(p)
                if not self._stale:
                    self._untrack(p, items)

    def _track(self, p: int, items: Items) -> None:
        for i, r in enumerate(items, p * PAGE_SIZE):
            if r is None:
                continue
            self._row_of[r.id] = i
            self._by_sha.setdefault(r.sha256, set()).add(r.id)

    def _untrack(self, p: int, items: Items) -> None:
        first = p * PAGE_SIZE
        for i, r in enumerate(items, first):
            if r is not None and self._row_of.get(r.id) == i:
                del self._row_of[r.id]
                ids = self._by_sha.get(r.sha256)
                if ids is not None:
                    ids.discard(r.id)
                    if not ids:
                        del self._by_sha[r.sha256]

    def reindex(self) -> None:
        """Both lookups from the loaded pages (at most MAX_PAGES pages, so bounded):
        after rows shifted, every loaded row number may have changed."""
        self._row_of = {}
        self._by_sha = {}
        self._stale = False
        for p, items in self.pages.items():
            self._track(p, items)

    def loaded(self, row: int) -> ImageRecord | None:
        p, offset = divmod(row, PAGE_SIZE)
        items = self.pages.get(p)
        if items is None or offset >= len(items):
            return None
        self.pages.move_to_end(p)  # recently shown: kept longest
        return items[offset]

    def span(self, start: int, end: int) -> Items:
        """``loaded`` of rows ``start``..``end - 1``, a slice a page: the grid's paint
        asks for a screen of rows each step of a scroll."""
        rows: Items = []
        pages = self.pages
        while start < end:
            p, offset = divmod(start, PAGE_SIZE)
            upto = min(end, (p + 1) * PAGE_SIZE)
            items = pages.get(p)
            if items is None:
                rows.extend([None] * (upto - start))
            else:
                pages.move_to_end(p)  # recently shown: kept longest
                part = items[offset : offset + upto - start]
                rows.extend(part)
                rows.extend([None] * (upto - start - len(part)))
            start = upto
        return rows

    def is_loaded(self, row: int) -> bool:
        p, offset = divmod(row, PAGE_SIZE)
        items = self.pages.get(p, ())
        return offset < len(items) and items[offset] is not None

    def bracket(
        self, record: ImageRecord, key: Callable[[ImageRecord], tuple[object, ...]]
    ) -> tuple[int | None, int | None]:
        """Among the loaded rows: the last that sorts before ``record`` and the first that
        does not (``None`` where no loaded row is)."""
        target = key(record)
        before: int | None = None
        for p in sorted(self.pages):
            known = [(i, r) for i, r in enumerate(self.pages[p], p * PAGE_SIZE) if r]
            j = bisect.bisect_left(known, target, key=lambda pair: key(pair[1]))
            if j < len(known):
                return (known[j - 1][0] if j else before), known[j][0]
            if known:
                before = known[-1][0]
        return before, None

    def shift_down(self, row: int, record: ImageRecord | None) -> None:
        """Rows from ``row`` on move down one; ``record`` (``None``: not known) takes
        ``row``."""
        self.insert(row, [record])

    def insert(self, row: int, records: Sequence[ImageRecord | None]) -> None:
        """Rows from ``row`` on move down ``len(records)``; ``records`` (``None``: not
        known) take their places. The rows pushed past a page's end move to the next
        page's front; where that page is not held (or its last rows were not known), the
        rows moving in are unknown: ``None`` holes."""
        k = len(records)
        if not k:
            return
        start, offset = divmod(row, PAGE_SIZE)
        if records[0] is not None and offset == 0 and start not in self.pages:
            self.pages[start] = []  # a page's first rows are a prefix of it on their own
        carry: list[ImageRecord | None] = []
        carried_to = -1  # the page ``carry`` belongs at the front of
        for p in sorted(q for q in self.pages if q >= start):
            items = self.pages[p]
            if p == start:
                if offset <= len(items):
                    items[offset:offset] = records
            else:
                moved_in = carry if carried_to == p else []
                items[0:0] = moved_in + [None] * (k - len(moved_in))
            carry, carried_to = items[PAGE_SIZE:], p + 1
            del items[PAGE_SIZE:]
        self._stale = True  # every loaded row after ``row`` moved: re-indexed when asked
        self._drop_empty()
        self.evict()

    def shift_up(self, row: int) -> None:
        """Row ``row`` goes; the rows after it move up one. Each page's front row moves to
        the previous page's last place when that page is held."""
        start, offset = divmod(row, PAGE_SIZE)
        for p in sorted(k for k in self.pages if k >= start):
            items = self.pages[p]
            if p == start:
                if offset < len(items):
                    del items[offset]
            elif items:
                moved = items.pop(0)
                previous = self.pages.get(p - 1)
                if previous is not None:
                    previous.extend([None] * (PAGE_SIZE - 1 - len(previous)))
                    previous.append(moved)
        self._stale = True
        self._drop_empty()

    def _drop_empty(self) -> None:
        for p in list(self.pages):
            items = self.pages[p]
            while items and items[-1] is None:
                items.pop()
            if not items:
                del self.pages[p]
