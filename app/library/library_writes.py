"""What ``Library`` changes: folders a person handles, adding (uploads, imports, a web
address), editing, moving and deleting images. A part of the ``Library`` facade
(``library.py``), which inherits it; callers use ``Library``. Each method checks its
input against ``rules`` and hands over to the module that does the work."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from . import (
    bulk,
    edits,
    file_steps,
    files,
    folder_ops,
    intake,
    rules,
    url_fetch,
    write_back,
    xmp_read,
)
from . import custom_metadata as metadata_rules
from .core import Core
from .edits import UNSET
from .errors import InvalidInput, LibraryError, NotFound
from .folder_limit import FolderLimit
from .intake import Prepared
from .records import FolderInfo, ImageRecord
from .trash import Trash


class LibraryWrites:
    """``Library``'s writing methods; ``Library`` sets ``core`` and ``trash``."""

    core: Core
    trash: Trash

    # --- folders a person handles (folder_ops.py) ------------------------------------------

    def folder_tree(self) -> list[FolderInfo]:
        """Folders to show: in use (with their own counts) and on disk (count 0)."""
        return folder_ops.folder_tree(self.core)

    def standing_folders(self) -> set[str]:
        """Folders there with or without images (``folder_ops.standing_folders``): what
        the window shows with a count of 0 when empty."""
        return folder_ops.standing_folders(self.core)

    def make_folder(self, folder: str) -> str:
        return folder_ops.make_folder(self.core, folder)

    def rename_folder(self, folder: str, new_name: str) -> str:
        return folder_ops.rename_folder(self.core, folder, new_name)

    def move_folder(self, folder: str, new_parent: str | None) -> str:
        return folder_ops.move_folder(self.core, folder, new_parent)

    def delete_folder(self, folder: str) -> list[str]:
        """Deletes a folder a person chose: its images (and those of the folders below)
        go to the trash, each restorable, then the folder goes. Refused, with nothing
        touched, while it holds files that are not images of the library. Returns the
        ids trashed."""
        with self.core.write_lock:  # nobody adds to it half-way
            folder_ops.check_nothing_else(self.core, folder)
            ids = self.trash_folder(folder)
            # The last image out may have taken a folder without a marker with it.
            with contextlib.suppress(NotFound):
                folder_ops.delete_folder(self.core, folder)
        return ids

    # --- writing -------------------------------------------------------------------------

    def add(
        self,
        stream: IO[bytes],
        original_filename: str | None,
        alt_text: str | None = None,
        folder: str | None = None,
        *,
        allow_duplicate: bool = True,
    ) -> ImageRecord:
        """Adds one image from ``stream``; returns it once it is durably on disk and
        committed. Nothing is left behind when it raises."""
        folder = rules.normalize_folder(folder)
        alt_text = rules.normalize_alt_text(alt_text)
        prepared = self.prepare(stream, original_filename, allow_duplicate=allow_duplicate)
        return self.commit(prepared, alt_text=alt_text, folder=folder)

    def prepare(
        self, stream: IO[bytes], original_filename: str | None, *, allow_duplicate: bool = True
    ) -> Prepared:
        """The slow, parallel-safe half of ``add``: stream into ``tmp/`` (hashing and
        enforcing the size limit), validate with one full decode, store the thumbnail.
        Pass the result to ``commit`` or ``discard``."""
        return intake.prepare(self.core, stream, original_filename, allow_duplicate=allow_duplicate)

    def receive(self) -> files.Incoming:
        """A new file in ``tmp/`` to stream an upload into as it arrives (hashing,
        counting, refusing the byte past the size limit); ``finish()`` it and hand the
        result to ``prepare_file``. The server's multipart parser writes the file part
        straight into it, so the body is not spooled and copied again."""
        return intake.receive(self.core)

    def prepare_file(
        self,
        tmp: Path,
        size: int,
        sha256: str,
        original_filename: str | None,
        *,
        allow_duplicate: bool = True,
        synced: bool = True,
    ) -> Prepared:
        """``prepare`` for a file already streamed into ``tmp/`` (see ``receive``) whose
        size and hash were counted on the way in. Takes the file over: it is removed on
        any failure here, and by ``commit``/``discard`` after. ``synced=False``: the
        file is not yet fsynced (``finish(durable=False)``); its fsync runs while it is
        decoded, and is done before this returns."""
        return intake.prepare_file(
            self.core,
            tmp,
            size,
            sha256,
            original_filename,
            allow_duplicate=allow_duplicate,
            synced=synced,
        )

    def commit(
        self,
        prepared: Prepared,
        *,
        alt_text: str | None = None,
        folder: str | None = None,
        long_description: str | None = None,
        custom_metadata: Mapping[str, object] | None = None,
    ) -> ImageRecord:
        """The serial half of ``add``: place the prepared file and commit its row. Alt
        text and long description not given come from the file's IPTC fields, if any."""
        return intake.commit(
            self.core,
            prepared,
            alt_text=alt_text,
            folder=folder,
            long_description=long_description,
            custom_metadata=custom_metadata,
        )

    def add_copy(self, stream: IO[bytes], source: ImageRecord) -> ImageRecord:
        """Adds an image copied from another library (``imageshelf migrate``) as it was
        there: its id, times, folder, name (where free), texts, custom metadata and EXIF
        facts. Refused with nothing left behind when the bytes do not hash to
        ``source.sha256`` (``LibraryError``) or the id is known here (``InvalidInput``)."""
        prepared = self.prepare(stream, source.original_filename)
        if prepared.sha256 != source.sha256:
            self.discard(prepared)
            raise LibraryError(
                f"The bytes of image {source.id} do not match its recorded hash "
                f"(sha256 {prepared.sha256[:12]}…, recorded {source.sha256[:12]}…)."
            )
        # The source's facts, not this file's: None stays None (no IPTC text taken).
        prepared = dataclasses.replace(prepared, described=xmp_read.NOTHING, exif=source.exif)
        kept = file_steps.Kept(
            source.id, source.filename, source.created_at_us, source.updated_at_us
        )
        return intake.commit(
            self.core,
            prepared,
            alt_text=source.alt_text,
            folder=source.folder,
            long_description=source.long_description,
            custom_metadata=source.custom_metadata,
            kept=kept,
        )

    def add_from_url(
        self,
        url: object,
        *,
        alt_text: str | None = None,
        folder: str | None = None,
        file_name: object = None,
        long_description: str | None = None,
        limits: url_fetch.FetchLimits | None = None,
        custom_metadata: object = None,
        cancel: url_fetch.Cancel | None = None,
        progress: url_fetch.FetchProgress | None = None,
        allow_duplicate: bool = True,
    ) -> ImageRecord:
        """Fetches the image at ``url`` (SSRF-safe: ``url_fetch.py``) and adds it like
        an upload. Its original name is ``file_name``, else the URL's last path segment,
        else ``image``. Nothing is left behind when it raises. ``cancel`` and
        ``progress`` are the window's: a Cancel button, bytes received (and like its
        imports it refuses a duplicate: ``allow_duplicate=False``)."""
        folder = rules.normalize_folder(folder)
        alt_text = rules.normalize_alt_text(alt_text)
        long_description = rules.normalize_long_description(long_description)
        metadata = metadata_rules.check_new({} if custom_metadata is None else custom_metadata)
        if file_name is not None and not isinstance(file_name, str):
            raise InvalidInput("file_name must be a string.")
        url_fetch.parse_url(url)  # a bad URL refused before anything is made
        assert isinstance(url, str)
        incoming = self.receive()
        try:
            url_fetch.fetch(url, incoming, limits, cancel=cancel, progress=progress)
            tmp, size, sha256 = incoming.finish()
        except BaseException:
            incoming.discard()
            raise
        name = file_name or url_fetch.name_from_url(url) or "image"
        prepared = self.prepare_file(tmp, size, sha256, name, allow_duplicate=allow_duplicate)
        return self.commit(
            prepared,
            alt_text=alt_text,
            folder=folder,
            long_description=long_description,
            custom_metadata=metadata,
        )

    def discard(self, prepared: Prepared) -> None:
        """Drops a prepared upload that will not be committed, and its thumbnail unless
        an image in the library has the same bytes."""
        intake.discard(self.core, prepared)

    def update(
        self,
        image_id: str,
        *,
        alt_text: object = UNSET,
        folder: object = UNSET,
        long_description: object = UNSET,
        custom_metadata: object = UNSET,
    ) -> ImageRecord:
        """Changes alt text, long description, custom metadata (merged, RFC 7396) and/or
        folder (a folder change moves the file on disk; with *Write alt text into image
        files* on, a text change rewrites the file's XMP too: ``write_back.py``)."""
        return self.update_with_outcome(
            image_id,
            alt_text=alt_text,
            folder=folder,
            long_description=long_description,
            custom_metadata=custom_metadata,
        )[0]

    def update_with_outcome(
        self,
        image_id: str,
        *,
        alt_text: object = UNSET,
        folder: object = UNSET,
        long_description: object = UNSET,
        custom_metadata: object = UNSET,
    ) -> tuple[ImageRecord, write_back.FileWrite | None]:
        """``update``, also saying what happened to the file when text changed (written,
        the setting off, a format that cannot carry it); ``None`` when no text changed."""
        return edits.update(
            self.core,
            image_id,
            alt_text=alt_text,
            folder=folder,
            long_description=long_description,
            custom_metadata=custom_metadata,
        )

    def update_many(self, image_ids: list[str], *, folder: object) -> list[ImageRecord]:
        """Moves several images; stops at the first that fails, keeping those done."""
        return [self.update(i, folder=folder) for i in image_ids]

    def delete(self, image_id: str) -> None:
        """Moves the image to the trash (``trash.py``); its id answers 410 until it is
        restored. An image whose file is already gone is tombstoned for good."""
        self.trash.move_in(image_id)

    def delete_many(
        self, image_ids: object, within: FolderLimit | None = None
    ) -> bulk.BulkDeleteResult:
        """Moves up to 1,000 images to the trash at once (``bulk.py``): which were
        deleted, which were already, which are unknown (or outside ``within``)."""
        return bulk.delete_many(self.trash, image_ids, within)

    def trash_folder(self, folder: str) -> list[str]:
        """Deleting a folder: every image in it and in the folders below goes to the trash
        (each restorable on its own); returns their ids."""
        return self.trash.move_folder_in(folder)
