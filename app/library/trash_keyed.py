"""The trash on a storage whose keys do not follow names (``S3Storage``: an original is
the object of its image id from upload to purge). Trashing and restoring change rows
only, each in one commit, so there is nothing for a kill to leave half-done. Purging
commits first, then removes the object; a kill between leaves an orphan, which the
collection job removes (``storage_s3_collect``). ``trash.py`` hands over here."""

from __future__ import annotations

from collections.abc import Callable

from . import rules
from .core import Core
from .errors import Gone
from .records import ImageRecord, now_us
from .sql import rows
from .sql import trash_rows as sql


def move_rows(core: Core, records: list[ImageRecord]) -> list[tuple[ImageRecord, bool]]:
    """The trash protocol without a file step: rows copied into the trash, out of
    ``images``, tombstones in, in one commit, so no intent is ever left for a kill (or
    for another process of a team library) to find. Under the write lock."""
    with core.write() as conn:
        now = now_us()
        for record in records:
            sql.copy_in(conn, record.id, now)
            rows.tombstone(conn, record.id, now)
            sql.settle(conn, record.id)
    return [(r, True) for r in records]


def restore(core: Core, trashed: ImageRecord, purge: Callable[[list[str]], int]) -> ImageRecord:
    """The row back in its folder under its name or the next free one, in one commit.
    An object found gone (removed from the bucket by hand) is purged: ``Gone``. Under
    the write lock."""
    store = core.storage
    key = store.key(trashed.id, trashed.relpath)
    try:
        _size, mtime_ns = store.stat(key)
    except FileNotFoundError:
        purge([trashed.id])
        raise Gone(f"The file of image {trashed.id} is no longer in the store.") from None
    fmt = rules.FORMAT_BY_CONTENT_TYPE.get(trashed.content_type)
    names = (
        rules.candidate_filenames(trashed.filename, fmt)
        if fmt is not None
        else iter([trashed.filename])
    )
    with core.write() as conn:
        name = next(core.names_free(trashed.folder, names, conn))
        sql.restore(conn, trashed, name, mtime_ns, now_us())
        restored = rows.get(conn, trashed.id)
    assert restored is not None
    return restored


def remove_object(core: Core, image_id: str) -> None:
    """A purged image's bytes, after its commit."""
    core.storage.remove(core.storage.key(image_id, ""))
