"""Copying one library into another (``imageshelf migrate SRC DST``): a folder library
into a team library and back, or any two libraries ``Library`` opens.

What travels: every image with its id, times, folder, name (where free), alt text, long
description, custom metadata, EXIF facts and bytes; the trash (each trashed image with
when it was deleted, so its retention ends when it would have); the ids deleted for good
(so ``/i`` still answers 410 for them); folders kept while empty; the library settings;
API keys, share links, download jobs and idempotency answers, keeping their ids
(``library_copy_rows.py``, which says what stays behind: the change log, the API token).

Safe to stop and run again: each image arrives through ``Library.add_copy``, one commit
after its bytes are stored and hash-checked (never a row without its bytes), and an id
the destination already knows is skipped, so a second run finishes what a first one left
and copies nothing twice. Each copied original is read back from the destination and
hashed once more before it counts as copied."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from . import library_copy_rows, rules, settings
from .errors import Gone, LibraryError, NotFound, NotInTrash
from .filters import Sort
from .library import Library
from .records import ImageRecord
from .sql import rows, trash_rows

_CHUNK = 1 << 20


@dataclass
class CopyReport:
    """What a run did; ``failed`` holds (id, why) of images left behind."""

    copied: int = 0
    skipped: int = 0  # already in the destination (an earlier run), or deleted there
    trashed: int = 0
    deleted_ids: int = 0
    folders: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # per table: API keys, shares...
    failed: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Progress:
    stage: str  # "images", "trash"
    done: int
    total: int
    report: CopyReport


ProgressHook = Callable[[Progress], None]


def copy_library(src: Library, dst: Library, progress: ProgressHook | None = None) -> CopyReport:
    """Copies ``src`` into ``dst`` (see the module's docstring); an image that cannot be
    copied is reported in ``failed`` and the others go on."""
    report = CopyReport()
    _copy_settings(src, dst)
    _copy_folders(src, dst, report)
    _copy_images(src, dst, report, progress)
    _copy_trash(src, dst, report, progress)
    _copy_deleted_ids(src, dst, report)
    # After the images: a share's or a job's rows name images the destination has now.
    report.rows = library_copy_rows.copy_rows(src, dst)
    return report


def _copy_settings(src: Library, dst: Library) -> None:
    for key in settings.DEFAULTS:
        value = settings.read(src, key)
        if settings.read(dst, key) != value:
            settings.put(dst, key, value)
    days = src.trash.retention_days()
    if dst.trash.retention_days() != days:
        dst.trash.set_retention_days(days)


def _copy_folders(src: Library, dst: Library, report: CopyReport) -> None:
    """Folders kept while empty (the ones holding images come with them): the leaves of
    the source's tree without images below them."""
    tree = src.folder_tree()
    there = {f.path for f in dst.folder_tree()}
    paths = [f.path for f in tree]
    for info in tree:
        below = info.path + "/"
        if info.count or any(p.startswith(below) for p in paths) or info.path in there:
            continue
        dst.make_folder(info.path)
        report.folders += 1


def _all_images(src: Library) -> Iterator[ImageRecord]:
    after: str | None = None
    while True:
        page = src.list_by_cursor(sort=Sort.OLDEST, limit=rules.MAX_PAGE_SIZE, after=after)
        yield from page.items
        if not page.has_next_page or page.end_cursor is None:
            return
        after = page.end_cursor


def _copy_images(
    src: Library, dst: Library, report: CopyReport, progress: ProgressHook | None
) -> None:
    total = src.count()
    for done, record in enumerate(_all_images(src), 1):
        try:
            _copy_image(src, dst, record, report)
        except LibraryError as exc:
            report.failed.append((record.id, str(exc)))
        if progress is not None:
            progress(Progress("images", done, max(total, done), report))


def _copy_image(src: Library, dst: Library, record: ImageRecord, report: CopyReport) -> None:
    try:
        there = dst.get(record.id)
    except Gone:
        report.skipped += 1  # deleted in the destination: not brought back
        return
    except NotFound:
        pass
    else:
        if there.sha256 != record.sha256:
            raise LibraryError(f"The destination holds other bytes under the id {record.id}.")
        store = dst.core.storage
        if not store.exists(store.key(there.id, there.relpath)):
            raise LibraryError(
                f"The destination has the record of image {record.id} but not its bytes: "
                "is its storage the one that goes with its database?"
            )
        report.skipped += 1
        return
    try:
        record, fp = src.open_original(record.id)  # as it is now
    except (NotFound, Gone):
        try:
            src.get(record.id)
        except (NotFound, Gone):
            return  # deleted from the source since it was listed
        # Its record is there, its bytes are not: said, never skipped in silence.
        raise LibraryError(f"The bytes of image {record.id} are missing from the source.") from None
    with fp:
        _add(dst, fp, record)
    report.copied += 1


def _add(dst: Library, fp: BinaryIO, record: ImageRecord) -> None:
    copied = dst.add_copy(fp, record)
    _, back = dst.open_original(copied.id)
    with back:
        sha = _sha256(back)
    if sha != record.sha256:
        raise LibraryError(
            f"The copy of image {record.id} read back from the destination does not match "
            "its hash: the destination's storage changed it."
        )


def _sha256(fp: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := fp.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _copy_trash(
    src: Library, dst: Library, report: CopyReport, progress: ProgressHook | None
) -> None:
    total = src.trash.count()
    done = 0
    page = 1
    while True:
        found = src.trash.items(page, rules.MAX_PAGE_SIZE)
        for item in found.items:
            done += 1
            try:
                _copy_trashed(src, dst, item.image, item.deleted_at_us, report)
            except LibraryError as exc:
                report.failed.append((item.image.id, str(exc)))
            if progress is not None:
                progress(Progress("trash", done, max(total, done), report))
        if page * rules.MAX_PAGE_SIZE >= found.total:
            return
        page += 1


def _copy_trashed(
    src: Library, dst: Library, record: ImageRecord, deleted_at: int, report: CopyReport
) -> None:
    """Into the destination's trash: copied live, then deleted (a run stopped between
    the two finishes the delete when run again), then given its deletion time."""
    try:
        there = dst.trash.get(record.id)
    except NotInTrash:
        pass  # live there: an earlier run copied it and stopped before the delete
    except Gone:
        report.skipped += 1
        return
    except NotFound:
        with _open_trashed(src, record) as fp:
            _add(dst, fp, record)
    else:
        if there.deleted_at_us != deleted_at:
            _set_deleted_at(dst, record.id, deleted_at)
        report.skipped += 1
        return
    dst.delete(record.id)
    _set_deleted_at(dst, record.id, deleted_at)
    report.trashed += 1


def _open_trashed(src: Library, record: ImageRecord) -> BinaryIO:
    """A trashed original: in ``trash/`` of a folder storage, or its object, which a
    storage keyed by id (S3) keeps where it was until the purge."""
    store = src.core.storage
    try:
        if not store.keys_follow_names:
            return store.open(store.key(record.id, record.relpath))
        return open(src.trash.path_of(record.id, record.filename), "rb")
    except FileNotFoundError:
        raise NotFound(f"The file of trashed image {record.id} is missing.") from None
    except OSError as exc:
        raise LibraryError(f"Could not read trashed image {record.id}: {exc}") from exc


def _set_deleted_at(dst: Library, image_id: str, deleted_at: int) -> None:
    with dst.core.write() as conn:
        trash_rows.set_deleted_at(conn, image_id, deleted_at)


def _copy_deleted_ids(src: Library, dst: Library, report: CopyReport) -> None:
    """Ids purged from the source answer 410 in the destination too (unless it holds
    them: nothing there is deleted)."""
    with src.core.read() as conn:
        gone = rows.tombstones(conn)
    for image_id, deleted_at in gone:
        try:
            src.trash.get(image_id)
            continue  # in the source's trash: ``_copy_trash`` had it (or reported it)
        except Gone:
            pass
        try:
            dst.get(image_id)
        except NotFound:
            with dst.core.write() as conn:
                rows.tombstone(conn, image_id, deleted_at)
            report.deleted_ids += 1
        except Gone:
            pass
