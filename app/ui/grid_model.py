"""The thumbnail grid's model: the images of the current view (folder, search, "needs alt
text", sort), fetched a page at a time as the view scrolls, kept current by core events.

Only the GUI thread changes it. Events become targeted inserts, ``dataChanged`` and
removes; a reset happens only when the query itself changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import IntEnum

from PySide6.QtCore import QAbstractListModel, QByteArray, QModelIndex, QPersistentModelIndex, Qt

from app.library import ALL_FOLDERS, Event, EventKind, ImageRecord, Library, Sort
from app.library.queries import search_text

from .thumbnails import ThumbnailLoader, placeholder

PAGE_SIZE = 100
THUMB_SIDE = 150

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

    folder: object = ALL_FOLDERS
    search: str = ""
    undescribed: bool = False
    sort: Sort = Sort.NEWEST

    def __post_init__(self) -> None:
        object.__setattr__(self, "sort", Sort(self.sort))

    def with_(self, **changes: object) -> Query:
        return replace(self, **changes)  # type: ignore[arg-type]

    def matches(self, record: ImageRecord) -> bool:
        """The core's filter rule, applied to one record (for live events)."""
        if self.folder is not ALL_FOLDERS and record.folder != self.folder:
            return False
        if self.undescribed and record.alt_text is not None:
            return False
        if self.search:
            haystack = search_text(record.filename, record.original_filename, record.alt_text)
            if self.search.casefold() not in haystack:
                return False
        return True

    def sort_key(self) -> Callable[[ImageRecord], tuple[object, ...]]:
        """The order of ``library.list(sort=...)``, as an ascending key."""
        if self.sort == Sort.NAME:
            return lambda r: (_nocase(r.filename), r.id)
        if self.sort == Sort.OLDEST:
            return lambda r: (r.created_at_us, r.id)
        return lambda r: (-r.created_at_us, _Desc(r.id))


def _nocase(name: str) -> str:
    # SQLite's NOCASE folds ASCII letters only; match it so inserts land where pages do.
    return name.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class _Desc:
    """Reverses the order of a string inside a sort key."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.value == other.value

    __hash__ = None  # type: ignore[assignment]


class ImageGridModel(QAbstractListModel):
    def __init__(self, library: Library, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self.library = library
        self.loader = loader
        self.query = Query()
        self.total = 0
        self._rows: list[ImageRecord] = []
        self._row_of: dict[str, int] | None = {}
        self._by_sha: dict[str, list[int]] | None = None  # rows showing each thumbnail
        self._placeholder = placeholder(THUMB_SIDE)
        self.pages_fetched = 0
        loader.ready.connect(self._on_thumbnail_ready)
        self.reload()

    # --- the query -----------------------------------------------------------------------

    def set_query(self, query: Query) -> None:
        if query != self.query:
            self.query = query
            self.reload()

    def reload(self) -> None:
        """Starts over with the first page of the current query."""
        self.beginResetModel()
        self._rows = []
        self._row_of = {}
        self._by_sha = None
        self.pages_fetched = 0
        self.total = 1  # unknown until the first page says; lets fetchMore run once
        self.endResetModel()
        self.fetchMore(QModelIndex())

    # --- paging --------------------------------------------------------------------------

    def canFetchMore(self, parent: _Index) -> bool:
        return not parent.isValid() and len(self._rows) < self.total

    def fetchMore(self, parent: _Index) -> None:
        if parent.isValid():
            return
        q = self.query
        offset = len(self._rows)
        page = self.library.list(
            folder=q.folder,
            search=q.search or None,
            undescribed=q.undescribed,
            sort=q.sort,
            page=offset // PAGE_SIZE + 1,
            page_size=PAGE_SIZE,
        )
        self.pages_fetched += 1
        self.total = page.total
        known = self._index()
        fresh = [r for r in page.items[offset % PAGE_SIZE :] if r.id not in known]
        if not fresh:
            # Nothing new (an empty view, or the library shrank under us): what we hold
            # is all there is.
            self.total = len(self._rows)
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        self._rows.extend(fresh)
        for i, r in enumerate(fresh, first):
            known[r.id] = i
        self._by_sha = None
        self.endInsertRows()

    # --- reading -------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def roleNames(self) -> dict[int, QByteArray]:
        names = super().roleNames()
        for role in Role:
            names[int(role)] = QByteArray(role.name.encode())
        return names

    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return r.filename
        if role == Qt.ItemDataRole.DecorationRole:
            return self.loader.pixmap(r, THUMB_SIDE) or self._placeholder
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
        return self._rows[row]

    def row_of(self, image_id: str) -> int | None:
        return self._index().get(image_id)

    def ids(self) -> list[str]:
        return [r.id for r in self._rows]

    def _index(self) -> dict[str, int]:
        if self._row_of is None:
            self._row_of = {r.id: i for i, r in enumerate(self._rows)}
        return self._row_of

    # --- live updates --------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Brings the model in line with one committed change."""
        if event.kind is EventKind.RELOADED:
            self.reload()
            return
        if event.image_id is None:
            return
        row = self.row_of(event.image_id)
        image = event.image
        if (
            row is not None
            and image is not None
            and self.query.matches(image)
            and self._fits_at(row, image)
        ):
            self._rows[row] = image  # same place: a targeted change, not a move
            self._by_sha = None
            i = self.index(row)
            self.dataChanged.emit(i, i)
            return
        if row is not None:
            self._remove(row)
        was_counted = event.previous is not None and self.query.matches(event.previous)
        if event.kind is EventKind.ADDED:
            was_counted = False
        if was_counted:
            self.total -= 1
        if image is not None and self.query.matches(image):
            self.total += 1
            self._insert_sorted(image)

    def _fits_at(self, row: int, record: ImageRecord) -> bool:
        key = self.query.sort_key()
        k = key(record)
        if row > 0 and k < key(self._rows[row - 1]):
            return False
        return not (row + 1 < len(self._rows) and key(self._rows[row + 1]) < k)

    def _remove(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        self._row_of = None
        self._by_sha = None
        self.endRemoveRows()

    def _insert_sorted(self, record: ImageRecord) -> None:
        key = self.query.sort_key()
        target = key(record)
        lo, hi = 0, len(self._rows)
        while lo < hi:
            mid = (lo + hi) // 2
            if key(self._rows[mid]) < target:
                lo = mid + 1
            else:
                hi = mid
        if lo == len(self._rows) and self.total - len(self._rows) - 1 > 0:
            return  # beyond what is fetched: a later page brings it
        self.beginInsertRows(QModelIndex(), lo, lo)
        self._rows.insert(lo, record)
        self._row_of = None
        self._by_sha = None
        self.endInsertRows()

    def _on_thumbnail_ready(self, sha256: str) -> None:
        if self._by_sha is None:
            self._by_sha = {}
            for i, r in enumerate(self._rows):
                self._by_sha.setdefault(r.sha256, []).append(i)
        for row in self._by_sha.get(sha256, ()):
            i = self.index(row)
            self.dataChanged.emit(i, i, [Qt.ItemDataRole.DecorationRole])
