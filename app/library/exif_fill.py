"""The background fill: EXIF read for images that came in before the library read it
(rows older than migration 0009, or read by an older ``exif_read``), a batch at a time, as
a housekeeping chore (at open, then hourly) — never in the migration, so that opening a
library neither waits on nor fails over its files.

Files are read outside the write lock; each batch is written in one transaction, and a
row whose file changed since it was read (another hash) is left for the next pass. A file
that cannot be opened now (moved, mid-save) is skipped and read another time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from . import exif_read
from .core import Core
from .events import Event, EventKind
from .exif_facts import ExifFacts
from .sql import rows

log = logging.getLogger(__name__)

BATCH: Final = 200


def fill(core: Core, stopping: Callable[[], bool], batch: int = BATCH) -> int:
    """Reads every unread row's file, until done or ``stopping()``; returns how many rows
    were filled. Announces ``updated`` (source ``"disk"``) for each image whose file had
    something to say, so views sorted by date taken place it."""
    after = 0
    filled = 0
    while not core.closed and not stopping():
        with core.read() as conn:
            todo = rows.unread_exif(conn, after, batch)
        if not todo:
            break
        after = todo[-1][0]
        read: list[tuple[str, str, ExifFacts]] = []
        for _pk, image_id, relpath, content_type, sha256 in todo:
            if stopping():
                return filled
            path = core.root / relpath
            if not path.is_file():
                continue  # not there now: the next pass (or the reconciler) sees
            read.append((image_id, sha256, exif_read.read_file(path, content_type)))
        events = []
        with core.write() as conn:
            for image_id, sha256, facts in read:
                before = rows.get(conn, image_id) if not facts.is_empty else None
                if rows.set_exif(conn, image_id, sha256, facts):
                    filled += 1
                    if before is not None:
                        events.append(
                            Event(
                                EventKind.UPDATED,
                                image_id,
                                rows.get(conn, image_id),
                                before,
                                source="disk",
                            )
                        )
        for event in events:
            core.events.emit(event)
    if filled:
        log.info("EXIF read for %d images that came in before it was kept", filled)
    return filled
