"""Crash-safe file operations: stream to a temporary file while hashing and counting,
fsync, and place into the library without ever overwriting an existing file."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import InvalidFolder, StorageError, TooLarge

CHUNK = 1024 * 1024
TMP_PREFIX = "incoming-"


def storage_error(exc: OSError, doing: str) -> StorageError:
    """Turns an OSError into the message a person can act on."""
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        why = "the disk is full"
    elif exc.errno == errno.EROFS:
        why = "the library is on a read-only disk"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        why = "permission was denied"
    else:
        why = exc.strerror or str(exc)
    return StorageError(f"Could not {doing}: {why}.")


@contextlib.contextmanager
def disk_errors(doing: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise storage_error(exc, doing) from exc


def fsync_dir(path: Path) -> None:
    """Makes a rename or link inside ``path`` durable (POSIX); a no-op where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def stream_to_tmp(stream: BinaryIO, tmp_dir: Path, limit: int) -> tuple[Path, int, str]:
    """Copies ``stream`` into a new file in ``tmp_dir``, hashing as it goes, refusing more
    than ``limit`` bytes without reading further. Returns (path, size, sha256 hex); the file
    is fsynced. On any failure nothing is left behind."""
    with disk_errors("start saving the upload"):
        fd, name = tempfile.mkstemp(prefix=TMP_PREFIX, dir=tmp_dir)
    path = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise TooLarge(
                        f"The file is larger than {limit // (1024 * 1024)} MiB "
                        f"({limit:,} bytes), the most one image may be."
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise storage_error(exc, "save the image") from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, size, digest.hexdigest()


def hash_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fp:
        while chunk := fp.read(CHUNK):
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


def place(src: Path, dest_dir: Path, names: Iterable[str]) -> str:
    """Gives ``src`` the first free name in ``dest_dir`` and returns that name.

    A hard link never overwrites: if another process took the name a moment ago, the
    next candidate is tried. ``src`` is removed only after the new name exists.
    """
    for name in names:
        dest = dest_dir / name
        try:
            os.link(src, dest)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise
            # Filesystems without hard links: check, then rename.
            if dest.exists():
                continue
            os.replace(src, dest)
            fsync_dir(dest_dir)
            return name
        os.unlink(src)
        fsync_dir(dest_dir)
        return name
    raise AssertionError("names ran out")  # the generator is infinite


def make_folder(root: Path, folder: str) -> list[Path]:
    """Creates ``root/folder`` and returns the directories it had to create, outermost
    first, so a failed write can remove exactly those."""
    created: list[Path] = []
    current = root
    for part in folder.split("/"):
        current = current / part
        if not current.is_dir():
            if current.exists() or current.is_symlink():
                raise InvalidFolder(
                    f"{current.relative_to(root).as_posix()!r} is a file in the library "
                    "folder, not a folder; choose another folder name."
                )
            current.mkdir()
            created.append(current)
    if created:
        fsync_dir(created[0].parent)
    return created


def remove_empty_folders(root: Path, folder: str) -> list[str]:
    """Removes ``root/folder`` and its parents while they are empty; returns the relative
    folders removed. A folder holding anything at all (even files we don't know) stays."""
    removed: list[str] = []
    parts = folder.split("/") if folder else []
    while parts:
        path = root.joinpath(*parts)
        try:
            path.rmdir()
        except OSError:
            break
        removed.append("/".join(parts))
        parts.pop()
    return removed


def write_atomic(path: Path, data: bytes) -> None:
    """Writes a whole file so that readers see either nothing or all of it."""
    fd, name = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
