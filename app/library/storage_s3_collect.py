"""The reconcile job of a team library on S3 (there is no watcher: nothing outside the
library writes to its bucket).

- **Orphans**: an object under ``originals/`` whose image id no row holds (``images``
  or ``trash``) is the leftover of an upload killed between its PUT and its commit, or
  of a purge killed between its commit and its DELETE. It is removed once it is older
  than the grace period, so an upload in flight (object written, row not yet
  committed) is never taken: the grace must be longer than any upload's PUT-to-commit
  (seconds), default one hour. Multipart uploads left open under the prefix (temporary
  upload parts) older than the grace are aborted the same way.
- **Missing**: rows whose object is not in the bucket are reported (logged and
  returned), never deleted: a person decides (restore the bucket from a backup, or
  delete the image).

``now`` is passed in (seconds since the epoch), so tests decide the clock."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from sqlalchemy import select, union

from .models import ImageRow, TrashRow
from .storage_s3 import ORIGINALS, S3Storage
from .storage_s3_io import error_code

if TYPE_CHECKING:
    from .core import Core

log = logging.getLogger(__name__)

GRACE_S: Final = 3600.0
_DELETE_BATCH: Final = 1000


@dataclass(slots=True)
class Collected:
    orphans_removed: list[str] = field(default_factory=list)  # image ids
    orphans_kept: int = 0  # younger than the grace: maybe an upload in flight
    uploads_aborted: int = 0
    missing: list[str] = field(default_factory=list)  # ids of rows without an object


def collect(
    storage: S3Storage,
    known_ids: Callable[[], Collection[str]],
    *,
    now: float | None = None,
    grace_s: float = GRACE_S,
) -> Collected:
    """One pass. ``known_ids`` returns every id a row holds (live and trashed); it is
    asked AFTER the bucket is listed, so an upload that commits while the listing runs
    is known by then (its object is in the listing, its row in the answer)."""
    now = time.time() if now is None else now
    found = {key[len(ORIGINALS) :]: mtime for key, _size, mtime in storage.list_objects(ORIGINALS)}
    known = set(known_ids())
    result = Collected()
    doomed: list[str] = []
    for image_id, mtime in found.items():
        if image_id in known:
            continue
        if now - mtime >= grace_s:
            doomed.append(image_id)
        else:
            result.orphans_kept += 1
    for start in range(0, len(doomed), _DELETE_BATCH):
        batch = doomed[start : start + _DELETE_BATCH]
        storage.client.delete_objects(
            Bucket=storage.bucket,
            Delete={
                "Objects": [{"Key": storage.object_key(ORIGINALS + i)} for i in batch],
                "Quiet": True,
            },
        )
    result.orphans_removed = doomed
    result.uploads_aborted = _abort_stale_uploads(storage, now, grace_s)
    result.missing = sorted(known - set(found))
    if result.missing:
        log.warning(
            "%d image(s) of the team library have no object in %r: %s",
            len(result.missing),
            storage,
            ", ".join(result.missing[:10]),
        )
    if doomed:
        log.info("Removed %d orphaned object(s) from %r", len(doomed), storage)
    return result


def _abort_stale_uploads(storage: S3Storage, now: float, grace_s: float) -> int:
    aborted = 0
    paginator = storage.client.get_paginator("list_multipart_uploads")
    for page in paginator.paginate(Bucket=storage.bucket, Prefix=storage.prefix):
        for upload in page.get("Uploads", ()):
            if now - upload["Initiated"].timestamp() < grace_s:
                continue
            try:
                storage.client.abort_multipart_upload(
                    Bucket=storage.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
            except Exception as exc:
                if error_code(exc) != "NoSuchUpload":  # another process collected it
                    raise
                continue
            aborted += 1
    return aborted


def known_ids(core: Core) -> set[str]:
    """Every id a row holds, live or trashed (read in one statement, so an image moving
    to the trash meanwhile is in one of the two)."""
    with core.read() as conn:
        found = conn.execute(union(select(ImageRow.id), select(TrashRow.id)))
        return {str(i) for i in found.scalars()}
