"""Where one committed change moves the grid's rows: decided on what the model holds
(``PageStore``) and the view's query; the model makes the moves and tells the view. No
Qt here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from imageshelf.app.library import Event, EventKind, ImageRecord

from .grid_pages import PageStore
from .grid_query import Query


@dataclass(frozen=True)
class Change:
    replace: tuple[int, ImageRecord] | None = None  # same place: a targeted change
    remove: bool = False  # the image leaves the view: from ``row`` (None: not loaded)
    row: int | None = None
    before: ImageRecord | None = None  # what it was, to find it where it is not loaded
    insert: ImageRecord | None = None  # the image enters the view (again, when it moved)


def change_of(store: PageStore, query: Query, event: Event) -> Change:
    """What ``event`` does to the rows of ``query`` that ``store`` holds."""
    if event.image_id is None:
        return Change()
    key = query.sort_key()
    if event.kind is EventKind.ADDED and not store.holds(event.image_id):
        row = None  # new here: the usual case, decided without re-indexing the rows
    else:
        row = store.row_of.get(event.image_id)
    image = event.image
    before = store.loaded(row) if row is not None else event.previous
    now_in = image is not None and query.matches(image)
    was_in = row is not None or (
        event.kind is not EventKind.ADDED and before is not None and query.matches(before)
    )
    if was_in and image is not None and now_in and before is not None and key(before) == key(image):
        # Same place: a targeted change; not loaded, its page is read fresh when shown.
        return Change(replace=(row, image) if row is not None else None)
    return Change(remove=was_in, row=row, before=before, insert=image if now_in else None)


def removal_row(
    store: PageStore,
    key: Callable[[ImageRecord], tuple[object, ...]],
    total: int,
    record: ImageRecord,
) -> int | None:
    """The row a removed image not loaded held: one of the unread rows between its
    loaded neighbours (the last); ``None`` when no unread row is there (the model lost
    track of the view: it reads it again)."""
    before, after = store.bracket(record, key)
    start = -1 if before is None else before
    end = total if after is None else after
    return end - 1 if end - start >= 2 else None
