"""What the grid shows (``Query``: folder, search, "needs alt text", sort) with the core's
own filter and sort rules applied to one record, the roles the grid's rows answer, and
what a loaded row answers for each (``record_data``), and the read of one page of a
query (``read_page``, on any thread)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import IntEnum

from PySide6.QtCore import Qt

from imageshelf.app.library import (
    ALL_FOLDERS,
    Filter,
    FolderScope,
    ImageRecord,
    Library,
    Page,
    Sort,
)

from .grid_pages import PAGE_SIZE


class Role(IntEnum):
    Id = Qt.ItemDataRole.UserRole + 1
    Record = Qt.ItemDataRole.UserRole + 2
    AltText = Qt.ItemDataRole.UserRole + 3
    NeedsAltText = Qt.ItemDataRole.UserRole + 4
    Folder = Qt.ItemDataRole.UserRole + 5
    # What a cell paints, in one call: (thumbnail or placeholder, needs alt text, name)
    Cell = Qt.ItemDataRole.UserRole + 6


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


def record_data(r: ImageRecord, role: int) -> object:
    """What a loaded row answers for ``role`` (its thumbnail is the model's)."""
    if role == Qt.ItemDataRole.DisplayRole:
        return r.filename
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


def read_page(library: Library, query: Query, page: int) -> Page:
    """One page of ``query`` from the core (any thread; 0 is the first)."""
    return library.list_images(
        folder=query.folder,
        search=query.search or None,
        undescribed=query.undescribed,
        sort=query.sort,
        recursive=query.recursive,
        page=page + 1,
        page_size=PAGE_SIZE,
    )
