"""Operations on many images at once (seed 004): one answer for the whole list, each id
sorted into what happened to it."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import rules
from .errors import Gone, NotFound
from .folder_limit import FolderLimit
from .trash import Trash


@dataclass(slots=True)
class BulkDeleteResult:
    deleted: list[str] = field(default_factory=list)  # moved to the trash now
    already_deleted: list[str] = field(default_factory=list)  # in the trash, or gone
    not_found: list[str] = field(default_factory=list)  # never an image here


def delete_many(
    trash: Trash, image_ids: object, within: FolderLimit | None = None
) -> BulkDeleteResult:
    """Moves every listed image to the trash while holding the write lock, so no other
    write interleaves and the three lists describe one moment. The live ones go in
    batches (``Trash.move_many``: each batch one crash-safe trash step — intent, renames,
    commit); should one fail (a full disk), the others are still trashed and the error
    is raised: a retry answers them as ``already_deleted``. Raises ``InvalidInput`` for a
    malformed list before touching anything. ``within``: an API key's folders; an image
    outside them is ``not_found``, as if it were not there."""
    ids = rules.check_bulk_ids(image_ids, rules.MAX_BULK_DELETE_IDS)
    result = BulkDeleteResult()
    live: list[str] = []
    with trash.core.write_lock:
        with trash.core.read() as conn:
            for image_id in ids:
                try:
                    record = trash.core.require(conn, image_id)
                    if within is not None and not within.allows(record.folder):
                        raise NotFound(image_id)
                except Gone:
                    result.already_deleted.append(image_id)
                except NotFound:
                    result.not_found.append(image_id)
                else:
                    live.append(image_id)
        result.deleted = trash.move_many(live)
    return result
