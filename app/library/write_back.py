"""Saving alt text and the long description: into the database always, and into the image
file's XMP as well when the library's setting *Write alt text into image files* is on.

The file is rewritten crash-safely, on the core's write path and under its write lock:
1. the new bytes (the same compressed image data, a new XMP packet) are written into
   ``.imageshelf/tmp/``, fsynced, hashed;
2. the old file is kept under a second name in ``tmp/`` (a hard link, no copy);
3. the new file is renamed over the old name (atomic: a reader, a kill or a power cut
   sees the old file or the new one, never a mix), and the directory fsynced;
4. the row gets the new text, hash, size and mtime in one commit. A failed commit puts
   the old file back. A kill between 3 and 4 leaves the new, valid file with the old
   row: the next open finds its size and mtime changed, hashes it, and takes it as it
   is (the text in the file is the text that was being saved).

Because size and mtime in the row match the file once the commit is done, and the
reconciler re-checks the row under the same write lock before it acts, the watcher
never takes the app's own rewrite for an edit made outside."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from . import files, settings, xmp_read, xmp_write
from .core import Core
from .errors import MetadataNotWritable
from .records import ImageRecord, now_us
from .sql import rows

log = logging.getLogger(__name__)

WRITTEN: Final = "written"  # the file now carries the text
OFF: Final = "off"  # the setting is off: the database only
NOT_WRITABLE: Final = "not_writable"  # GIF, or a packet too large for a JPEG segment
FAILED: Final = "failed"  # the file could not be read or rewritten; it is as it was


@dataclass(frozen=True, slots=True)
class FileWrite:
    """What happened to the file when text was saved; ``message`` is for people."""

    status: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class _NewFile:
    tmp: Path
    size: int
    sha256: str


def _prepare(core: Core, record: ImageRecord, alt: str | None, long: str | None) -> _NewFile:
    """The rewritten file in ``tmp/``, fsynced. Raises ``MetadataNotWritable`` or
    ``xmp_read.BadContainer``/``OSError``; leaves nothing behind when it raises."""
    xmp_write.check_writable(record.content_type)
    if not core.storage.keys_follow_names:
        # An object is its upload's bytes for good (its ETag, caches, the collection job
        # rely on it): the text is in the library, and in every export and download.
        raise MetadataNotWritable(
            "A team library keeps its originals as uploaded; the text is saved in the "
            "library and written into exports and downloads."
        )
    src = core.path_of(record.folder, record.filename)
    data = xmp_write.embed_alt_text(src, alt, long, record.content_type)
    fd, name = tempfile.mkstemp(prefix="describing-", dir=core.tmp_dir)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, os.stat(src).st_mode & 0o7777)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return _NewFile(tmp, len(data), hashlib.sha256(data).hexdigest())


def save_text(
    core: Core, record: ImageRecord, alt: str | None, long: str | None
) -> tuple[ImageRecord, FileWrite]:
    """Saves ``alt``/``long`` for ``record`` (the caller holds the write lock and has
    normalised both). Returns the new record and what happened to the file."""
    new: _NewFile | None = None
    outcome = FileWrite(OFF)
    if settings.read(core, settings.WRITE_ALT_TEXT_TO_FILES):
        try:
            new = _prepare(core, record, alt, long)
            outcome = FileWrite(WRITTEN)
        except MetadataNotWritable as exc:
            outcome = FileWrite(NOT_WRITABLE, exc.message)
        except (xmp_read.BadContainer, OSError) as exc:
            log.warning("could not write alt text into %s: %s", record.relpath, exc)
            outcome = FileWrite(
                FAILED, f"The file could not be rewritten ({exc}); it is unchanged."
            )
    path = core.path_of(record.folder, record.filename)
    backup: Path | None = None
    replaced = False
    try:
        if new is not None:
            with files.disk_errors("write the alt text into the file"):
                backup = core.tmp_dir / f"replaced-{record.id}"
                backup.unlink(missing_ok=True)
                try:
                    os.link(path, backup)
                except OSError:
                    backup = None  # no hard links here: a failed commit keeps the new file
                os.replace(new.tmp, path)
                replaced = True
                files.fsync_dir(path.parent)
                mtime_ns = path.stat().st_mtime_ns
        with core.write() as conn:
            now = max(now_us(), record.updated_at_us + 1)
            file = None if new is None else (new.sha256, new.size, mtime_ns)
            rows.set_text(conn, record, alt, long, now, file=file)
            after = rows.get(conn, record.id)
    except BaseException:
        if replaced and backup is not None:
            with contextlib.suppress(OSError):
                os.replace(backup, path)
                files.fsync_dir(path.parent)
        raise
    finally:
        if new is not None:
            new.tmp.unlink(missing_ok=True)
        if backup is not None:
            backup.unlink(missing_ok=True)
    assert after is not None
    if new is not None and new.sha256 != record.sha256:
        _carry_thumbnail(core, record.sha256, new.sha256)
    return after, outcome


def _carry_thumbnail(core: Core, old: str, new: str) -> None:
    """The pixels did not change, so neither does the thumbnail: it is kept under the new
    hash instead of being decoded again; the old one goes unless a twin still uses it."""
    thumb = core.thumbnails.lookup(old)
    if thumb is not None:
        with contextlib.suppress(OSError):
            core.thumbnails.store(new, thumb.path.read_bytes(), thumb.content_type)
    with contextlib.suppress(Exception):
        core.forget_thumbnail_if_unused(old)


def embed_alt_text(
    src: bytes | Path, alt_text: str | None, long_description: str | None = None
) -> bytes:
    """The bytes of an image with these accessibility fields in its XMP, for a copy made
    outside the library (an export, a download). See ``xmp_write.embed_alt_text``."""
    return xmp_write.embed_alt_text(src, alt_text, long_description)


def embed_record(core: Core, record: ImageRecord) -> bytes:
    """The image's bytes carrying its own alt text and long description."""
    return xmp_write.embed_alt_text(
        core.storage.local_path(core.key_of(record)),
        record.alt_text,
        record.long_description,
        record.content_type,
    )
