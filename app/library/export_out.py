"""Where an export's bytes go (``export.py`` decides what they are): a zip file written
under a temporary name and renamed into place, or a folder written beside the destination
and renamed as a whole (into a folder with files in it: staged in a hidden folder inside
it, each file then linked into place, never over another). ``abort`` removes it all."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Final

from . import files
from .errors import InvalidInput, StorageError
from .files import fsync_dir

TMP_PREFIX: Final = ".imageshelf-export-"
_ZIP64_OVER: Final = (1 << 31) - (1 << 20)  # zipfile needs telling before a big entry


def disk_error(exc: OSError, dest: Path) -> StorageError:
    why = files.os_error_reason(exc, read_only="the disk is read-only")
    return StorageError(f"Could not write the export to {dest}: {why}. Nothing was left there.")


def _usual_mode(kind: int) -> int:
    """What a file (0o666) or folder (0o777) made the ordinary way would get under this
    process's umask: the temporary ones are made private (0o600/0o700), the export should
    not be. The umask is read, not set (setting it is process-wide: not thread-safe)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return kind & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return kind & ~0o022


class ZipOut:
    """Stored entries (images are compressed already), ZIP64 when needed, UTF-8 names."""

    merging = False

    def __init__(self, dest: Path, replace: bool) -> None:
        self.dest, self.replace = dest, replace
        fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=".zip", dir=dest.parent)
        self.tmp = Path(tmp)
        os.fchmod(fd, _usual_mode(0o666))
        self.file = os.fdopen(fd, "wb")
        self.zip = zipfile.ZipFile(self.file, "w", zipfile.ZIP_STORED, allowZip64=True)
        self.when = time.localtime()[:6]

    def _info(self, name: str, compress: int = zipfile.ZIP_STORED) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, self.when)
        info.compress_type = compress
        info.external_attr = 0o644 << 16
        return info

    def existing(self, name: str) -> Path | None:
        return None

    @contextlib.contextmanager
    def entry(self, name: str, size: int) -> Iterator[IO[bytes]]:
        with self.zip.open(self._info(name), "w", force_zip64=size > _ZIP64_OVER) as out:
            yield out

    def add_bytes(self, name: str, data: bytes) -> None:
        self.zip.writestr(self._info(name, zipfile.ZIP_DEFLATED), data)

    def finish(self) -> None:
        self.zip.close()
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        if self.replace:
            os.replace(self.tmp, self.dest)
        else:
            try:
                os.link(self.tmp, self.dest)
            except FileExistsError:
                raise InvalidInput(f"{self.dest} already exists; it was left alone.") from None
            self.tmp.unlink()
        fsync_dir(self.dest.parent)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.zip.close()
        with contextlib.suppress(OSError):
            self.file.close()
        self.tmp.unlink(missing_ok=True)


class FolderOut:
    """A new (or empty) folder: written beside it, renamed as a whole. A folder with
    files in it: staged inside it (hidden), then each file linked in, never over one."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        self.merging = dest.is_dir() and any(dest.iterdir())
        where = dest if self.merging else dest.parent
        self.stage = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=where))
        if not self.merging:
            self.stage.chmod(_usual_mode(0o777))  # it becomes the export's folder
        self.staged: list[str] = []
        self.clashes: list[str] = []

    def existing(self, name: str) -> Path | None:
        path = self.dest / name
        return path if self.merging and os.path.lexists(path) else None

    @contextlib.contextmanager
    def entry(self, name: str, size: int) -> Iterator[IO[bytes]]:
        path = self.stage / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        self.staged.append(name)

    def add_bytes(self, name: str, data: bytes) -> None:
        with self.entry(name, len(data)) as out:
            out.write(data)

    def finish(self) -> None:
        folders = {(self.stage / n).parent for n in self.staged} | {self.stage}
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            fsync_dir(folder)
        if not self.merging:
            try:
                os.rename(self.stage, self.dest)  # replaces an empty folder, atomically
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    raise InvalidInput(f"Files appeared in {self.dest} meanwhile.") from None
                raise
            fsync_dir(self.dest.parent)
            return
        for name in self.staged:
            target = self.dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(self.stage / name, target)
            except FileExistsError:
                self.clashes.append(name)  # appeared meanwhile: left alone
            except OSError:  # a file system without hard links (FAT on a USB stick)
                if os.path.lexists(target):
                    self.clashes.append(name)
                else:
                    os.rename(self.stage / name, target)
            fsync_dir(target.parent)
        shutil.rmtree(self.stage, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)


def same_file(path: Path, data: bytes | None, digest: str) -> bool:
    try:
        with open(path, "rb") as there:
            theirs = hashlib.file_digest(there, "sha256").hexdigest()
    except OSError:
        return False
    return theirs == (hashlib.sha256(data).hexdigest() if data is not None else digest)
