"""Many imported files committed at once (a card's worth of photos dropped on the window):
one transaction and one fsync of each folder per batch, where ``intake.commit`` spends a
database commit (an fsync of the journal) and a folder fsync on every file.

The batch is placed as concurrent uploads are (``group_commit.commit_together``: its crash
safety, and why only a library on a folder batches, ``group_commit.can_batch``). Each
file's copy in ``tmp/`` is whole and fsynced before it gets here
(``decode_workers.examine_copy``). A failure takes the new names away again and raises:
the copies are still in ``tmp/``, so the caller can commit each on its own
(``intake.commit``) and learn which one does not fit."""

from __future__ import annotations

from . import group_commit, rules
from .core import Core
from .events import Event, EventKind
from .file_steps import NewImage
from .intake import Prepared
from .records import ImageRecord


def commit_many(core: Core, entries: list[tuple[Prepared, str | None]]) -> list[ImageRecord]:
    """Places every ``(prepared, folder)`` under a free name and commits all their rows in
    one transaction (``group_commit.commit_together``); the records in the order given.
    All or nothing (see above)."""
    news = [_new_image(prepared, folder) for prepared, folder in entries]
    with core.write_lock:
        records = group_commit.commit_together(core, news)
    for record in records:
        core.events.emit(Event(EventKind.ADDED, record.id, record))
    return records


def _new_image(prepared: Prepared, wanted: str | None) -> NewImage:
    """What ``intake.commit`` places of an import (no texts given: the file's own)."""
    return NewImage(
        prepared.tmp,
        size=prepared.size,
        sha256=prepared.sha256,
        info=prepared.info,
        original_filename=prepared.original_filename,
        alt_text=prepared.described.alt_text,
        folder=rules.normalize_folder(wanted),
        long_description=prepared.described.long_description,
        exif=prepared.exif,
    )
