"""New images coming in (uploads, imports): the slow half that runs in parallel
(``prepare``: stream into ``tmp/`` hashing and counting, validate with one full decode,
store the thumbnail) and the serial half (``commit``: ``file_steps.place_new``, shared by the
uploads committing at the same time: ``group_commit.py``)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from . import custom_metadata as custom_metadata_rules
from . import exif_read, file_steps, files, group_commit, rules, xmp_read
from .core import Core
from .errors import Duplicate, MalformedImage, TooLarge
from .events import Event, EventKind
from .exif_facts import NO_EXIF, ExifFacts
from .records import ImageRecord
from .sql import rows

if TYPE_CHECKING:
    from . import imaging


@dataclass(frozen=True, slots=True)
class Prepared:
    """An upload streamed, hashed and validated in ``tmp/``, not yet in the library."""

    tmp: Path
    size: int
    sha256: str
    info: imaging.ImageInfo
    original_filename: str
    # What the file's XMP says (IPTC alt text and extended description), read at entry.
    described: xmp_read.FileDescription = xmp_read.NOTHING
    # What its EXIF (or, for GPS, its XMP) says, read once here.
    exif: ExifFacts = NO_EXIF


def receive(core: Core) -> files.Incoming:
    return core.storage.receive(rules.MAX_UPLOAD_BYTES)


def prepare(
    core: Core, stream: IO[bytes], original_filename: str | None, *, allow_duplicate: bool
) -> Prepared:
    original = rules.clean_original_filename(original_filename)
    tmp, size, sha = files.stream_to_tmp(stream, core.tmp_dir, rules.MAX_UPLOAD_BYTES)
    return prepare_file(core, tmp, size, sha, original, allow_duplicate=allow_duplicate)


def prepare_file(
    core: Core,
    tmp: Path,
    size: int,
    sha256: str,
    original_filename: str | None,
    *,
    allow_duplicate: bool,
    synced: bool = True,
) -> Prepared:
    """``synced=False``: ``tmp`` is not yet fsynced. Its fsync runs while the file is
    decoded and is waited for before this returns, so a ``Prepared`` is always durable
    in ``tmp/`` before ``commit`` links it into the library."""
    syncing: Future[None] | None = None
    try:
        if tmp.parent != core.tmp_dir:
            raise ValueError(f"{tmp} is not in the library's tmp/ folder.")
        original = rules.clean_original_filename(original_filename)
        if size == 0:
            raise MalformedImage("The file is empty.")
        if size > rules.MAX_UPLOAD_BYTES:
            raise TooLarge(rules.TOO_LARGE_MESSAGE)
        if not synced:
            syncing = files.sync_later(tmp)
        if not allow_duplicate:
            with core.read() as conn:
                existing = rows.by_hash(conn, sha256)
            if existing:
                raise Duplicate(
                    f"The same image is already in the library as {existing[0].relpath}.",
                    existing[0].id,
                )
        # One open for the decode and the file's own texts and facts: each open (and its
        # close) gives up the interpreter lock, a thread switch or two a call when
        # several uploads run (docs/performance.md, "3 — Uploads").
        with open(tmp, "rb") as fp:
            from . import imaging  # Pillow, imported on first use: see imaging.py

            info = imaging.inspect(fp)
            described, exif = exif_read.texts_and_facts(fp, info.format.content_type)
        with files.disk_errors("save the thumbnail"):
            core.thumbnails.store(sha256, info.thumbnail, info.thumbnail_type)
        if syncing is not None:
            try:
                with files.disk_errors("save the image"):
                    syncing.result()
            except BaseException:
                with contextlib.suppress(Exception):  # it belongs to nothing now
                    core.forget_thumbnail_if_unused(sha256)
                raise
    except BaseException:
        if syncing is not None:  # done with the file before it goes
            with contextlib.suppress(Exception):
                syncing.result()
        if tmp.parent == core.tmp_dir:
            tmp.unlink(missing_ok=True)
        raise
    return Prepared(tmp, size, sha256, info, original, described, exif)


def commit(
    core: Core,
    prepared: Prepared,
    *,
    alt_text: str | None,
    folder: str | None,
    long_description: str | None = None,
    custom_metadata: Mapping[str, object] | None = None,
    kept: file_steps.Kept | None = None,
) -> ImageRecord:
    """Alt text and long description not given (``None``) are taken from the file's IPTC
    accessibility fields where it has them; ``""`` (decorative) counts as given.
    ``custom_metadata``: checked against the contract's limits (``custom_metadata.check``).
    ``kept``: the id and times of an image copied from another library."""
    metadata = custom_metadata_rules.check_new(custom_metadata or {})
    folder = rules.normalize_folder(folder)
    alt_text = rules.normalize_alt_text(alt_text)
    long_description = rules.normalize_long_description(long_description)
    if alt_text is None:
        alt_text = prepared.described.alt_text
    if long_description is None:
        long_description = prepared.described.long_description
    try:
        new = file_steps.NewImage(
            prepared.tmp,
            size=prepared.size,
            sha256=prepared.sha256,
            info=prepared.info,
            original_filename=prepared.original_filename,
            alt_text=alt_text,
            folder=folder,
            long_description=long_description,
            metadata_json=custom_metadata_rules.to_db(metadata),
            exif=prepared.exif,
        )
        if kept is None:  # uploads committing at the same time share one commit
            record = group_commit.place(core, new)
        else:
            record = file_steps.place_new(core, new, kept)
    except BaseException:
        # The thumbnail prepare stored belongs to nothing now (unless to a twin).
        with contextlib.suppress(Exception):
            core.forget_thumbnail_if_unused(prepared.sha256)
        raise
    finally:
        prepared.tmp.unlink(missing_ok=True)
    core.events.emit(Event(EventKind.ADDED, record.id, record))
    return record


def discard(core: Core, prepared: Prepared) -> None:
    prepared.tmp.unlink(missing_ok=True)
    with contextlib.suppress(Exception):
        core.forget_thumbnail_if_unused(prepared.sha256)
