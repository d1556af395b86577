"""What ``Library`` answers without changing anything: an image, the listings (pages,
cursors, counts, folders in use) and an image's original, thumbnail and caption. A part
of the ``Library`` facade (``library.py``), which inherits it; callers use ``Library``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from . import cursors, files, originals, rules, write_back, xmp_read
from .core import Core
from .custom_metadata import MetaFilter
from .errors import InvalidParameter, LibraryError
from .filters import ALL_FOLDERS, Filter, FolderScope, Sort
from .folder_limit import FolderLimit
from .location_privacy import Served
from .records import FolderInfo, ImageRecord, Page
from .sql import listing, listing_page, rows
from .thumbnails import Thumbnail


def _scope(folder: object) -> FolderScope:
    """A listing's folder argument checked: ``ALL_FOLDERS``, or a valid folder."""
    if folder is ALL_FOLDERS:
        return ALL_FOLDERS
    return rules.normalize_folder(folder)


def listing_filter(
    folder: object,
    search: object,
    undescribed: bool,
    recursive: bool,
    ids: Iterable[str] | None,
    meta: Mapping[str, str] | None,
    within: FolderLimit | None = None,
) -> Filter:
    """A listing's arguments checked into a ``Filter``."""
    meta = meta or {}
    if len(meta) > rules.MAX_META_FILTERS:
        raise InvalidParameter(f"At most {rules.MAX_META_FILTERS} meta.* filters are allowed.")
    return Filter(
        folder=_scope(folder),
        search=rules.normalize_search(search),
        undescribed=undescribed,
        recursive=recursive,
        ids=None if ids is None else rules.parse_ids(list(ids)),
        meta=tuple(MetaFilter.parse(k, v) for k, v in meta.items()),
        limit=within,
    )


class LibraryReads:
    """``Library``'s reading methods; ``Library`` sets ``core``."""

    core: Core

    # --- reading -------------------------------------------------------------------------

    def path_of(self, folder: str | None, filename: str) -> Path:
        return self.core.path_of(folder, filename)

    def folder_path(self, folder: str | None) -> Path:
        return self.core.folder_path(folder)

    def get(self, image_id: str) -> ImageRecord:
        """The image; ``NotFound`` for an unknown id, ``Gone`` for a deleted one."""
        return self.core.get(image_id)

    def find_by_hash(self, sha256: str) -> list[ImageRecord]:
        with self.core.read() as conn:
            return rows.by_hash(conn, sha256)

    def list_images(
        self,
        *,
        folder: object = ALL_FOLDERS,
        search: object = None,
        undescribed: bool = False,
        page: int = 1,
        page_size: int = rules.DEFAULT_PAGE_SIZE,
        sort: Sort | str = Sort.NEWEST,
        recursive: bool = False,
        ids: Iterable[str] | None = None,
        meta: Mapping[str, str] | None = None,
        within: FolderLimit | None = None,
    ) -> Page:
        """A page of images, newest first by default, stable across pages.

        ``folder``: ``ALL_FOLDERS`` (default), ``None``/``""`` for the root only, or a
        folder path. ``search``: literal, case-insensitive substring of filename,
        original filename or alt text. ``undescribed``: only images whose alt text is
        ``None``. ``recursive``: with a folder, the folders below it too. ``ids``: only
        these (at most 100). ``meta``: ``{KEY: VALUE}``, custom_metadata matching each
        (at most 5; ``custom_metadata.MetaFilter``). ``within``: an API key's folders,
        nothing outside them."""
        rules.check_page(page, page_size)
        flt = listing_filter(folder, search, undescribed, recursive, ids, meta, within)
        order = Sort.parse(sort)
        with self.core.read() as conn:
            total, items = listing_page.read(conn, flt, (page - 1) * page_size, page_size, order)
        return Page(items=items, total=total, page=page, page_size=page_size)

    def list_by_cursor(
        self,
        *,
        folder: object = ALL_FOLDERS,
        search: object = None,
        undescribed: bool = False,
        sort: Sort | str = Sort.NEWEST,
        recursive: bool = False,
        ids: Iterable[str] | None = None,
        meta: Mapping[str, str] | None = None,
        limit: int = rules.DEFAULT_PAGE_SIZE,
        after: str | None = None,
        before: str | None = None,
        within: FolderLimit | None = None,
    ) -> cursors.CursorPage:
        """``limit`` images after the cursor ``after``, before ``before``, or from the
        start: the filters of ``list_images``, walked by keyset (``cursors.py``)."""
        flt = listing_filter(folder, search, undescribed, recursive, ids, meta, within)
        order = Sort.parse(sort)
        return cursors.page(self.core, flt, order, limit, after=after, before=before)

    def count(
        self, *, folder: object = ALL_FOLDERS, undescribed: bool = False, recursive: bool = False
    ) -> int:
        flt = Filter(folder=_scope(folder), undescribed=undescribed, recursive=recursive)
        with self.core.read() as conn:
            return listing.count(conn, flt)

    def folders(self, within: FolderLimit | None = None) -> list[str]:
        """Folders in use (holding at least one image), sorted; the root not included;
        ``within``: only those inside an API key's folders."""
        return [f.path for f in self.folder_counts() if within is None or within.allows(f.path)]

    def folder_counts(self) -> list[FolderInfo]:
        with self.core.read() as conn:
            return rows.folder_counts(conn)

    def original_path(self, image_id: str) -> tuple[ImageRecord, Path]:
        """The record and a file with its original's bytes (the file itself in a folder
        library; a local copy of the object in a team one), for code that reads by name."""
        record = self.get(image_id)
        return record, self.core.storage.local_path(self.core.key_of(record))

    def open_original(self, image_id: str) -> tuple[ImageRecord, BinaryIO]:
        """The record and its original's bytes (through the storage), for streaming."""
        return originals.open_original(self.core, image_id)

    def original_source(self, image_id: str) -> tuple[ImageRecord, Callable[[], BinaryIO]]:
        """The record and a way to open its original's bytes through the storage, for a
        server that remembers it across requests: the opener raises ``FileNotFoundError``
        once the image moved or went (ask again, after ``settled()``)."""
        return originals.source(self.core, image_id)

    def served_original(self, image_id: str) -> Served:
        """What ``/i/{id}`` sends of the original: the stored bytes, or (while *Share
        location in links* is off) the same bytes without GPS, and their ETag; the opener
        raises ``FileNotFoundError`` as ``original_source``'s does."""
        return self.core.location.served(image_id)

    def copy_with_alt_text(self, image_id: str) -> bytes:
        """The image's bytes with its alt text and long description embedded in their
        XMP, for a copy leaving the library (an export, a download), whatever the setting
        *Write alt text into image files* says; the stored file is not changed. Raises
        ``MetadataNotWritable`` for a GIF or a packet too large for a JPEG."""
        record, path = self.original_path(image_id)
        try:
            return write_back.embed_alt_text(path, record.alt_text, record.long_description)
        except xmp_read.BadContainer as exc:
            raise LibraryError(f"The file of image {image_id} is damaged: {exc}.") from None
        except OSError as exc:
            raise files.storage_error(exc, f"read the file of image {image_id}") from exc

    def caption_suggestion(self, image_id: str) -> str | None:
        """A caption, headline or EXIF description the image's file carries, to offer as
        a starting point for alt text ("Use the caption"); ``None`` when it has none or
        the image is gone. Never stored as alt text by the library itself."""
        try:
            record, path = self.original_path(image_id)
        except LibraryError:
            return None
        return xmp_read.caption_suggestion(path, record.content_type)

    @contextlib.contextmanager
    def settled(self) -> Iterator[None]:
        """Holds writes off for the body. Moves and deletes hold the write lock from their
        first file step to the commit, so a reader that found an image's file missing
        looks again in here and sees the row and the file agree: the new place, or a
        tombstone (``Gone``)."""
        with self.core.write_lock:
            yield

    def thumbnail(self, image_id: str) -> tuple[ImageRecord, Thumbnail]:
        """The image's thumbnail (fits 512×512, never enlarged), made once and cached."""
        return originals.thumbnail(self.core, image_id)
