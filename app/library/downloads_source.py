"""The bytes of a download job's entries, read through the storage and checked while they
stream: an archive's headers were written from what the job read when it was prepared
(size, mtime, CRC-32), so a file that changed or vanished since must stop the stream —
never a short or wrong zip.

- When an entry's file is opened: it must be there with the size and mtime the job
  recorded (``fstat`` of the open file, so a rename between the two cannot fool it).
- While its bytes go out: they are fed, in order, into a CRC-32; when the last byte of the
  entry has been read the CRC must be the one in the headers. A stream that starts
  inside an entry (a ``Range``) first reads the part it skips into the CRC, so every entry
  it sends any byte of is checked whole. Re-reads (a server re-reads what the socket did
  not take) are not fed twice.

A failed check raises ``ArchiveChanged`` (an ``OSError``): the server closes the
connection, and the client — told the exact ``Content-Length`` — sees the download cut
short, not complete. A file replaced by a rename while it is being read is still read
from the open file: those are the bytes the headers promise. An image moved in the
library since (a folder renamed) is read where it is now, if it is the same file."""

from __future__ import annotations

import contextlib
import logging
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO, NoReturn

from .downloads_zip import ArchiveChanged
from .storage import Storage

log = logging.getLogger(__name__)

_CATCH_UP_BLOCK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FrozenFile:
    image_id: str
    relpath: str
    size: int
    mtime_ns: int
    crc32: int


class OriginalsSource:
    """A ``downloads_zip.DataSource`` over the originals; one per response (not shared
    between threads). ``close()`` closes the file it holds open."""

    def __init__(
        self,
        storage: Storage,
        files: Sequence[FrozenFile],
        job_id: str,
        locate: Callable[[str], str | None],
    ) -> None:
        self.storage = storage
        self.locate = locate
        self.files = files
        self.job_id = job_id
        self._index = -1
        self._fp: BinaryIO | None = None
        self._crc = 0
        self._checked = 0  # bytes of the open entry fed into the CRC, from its start

    def read(self, index: int, offset: int, size: int) -> bytes:
        if index != self._index:
            self._open(index)
        fp = self._fp
        assert fp is not None
        if offset > self._checked:  # a start inside the entry: the skipped part first
            self._feed_until(fp, offset)
        data = self._pread(fp, offset, size)
        if len(data) != size:
            self._fail(f"{self.files[index].relpath} is shorter than when the job read it")
        end = offset + size
        if end > self._checked:
            self._crc = zlib.crc32(data[self._checked - offset :], self._crc)
            self._checked = end
            if end == self.files[index].size and self._crc != self.files[index].crc32:
                self._fail(f"{self.files[index].relpath} changed since the job read it")
        return data

    def _open(self, index: int) -> None:
        self.close()
        frozen = self.files[index]
        try:
            try:
                fp = self.storage.open(self.storage.key(frozen.image_id, frozen.relpath))
            except FileNotFoundError:
                # Moved or renamed in the library since (same file, same mtime): read it
                # where its row says it is now; gone for good stops the stream.
                where = self.locate(frozen.image_id)
                if where is None or where == frozen.relpath:
                    raise
                fp = self.storage.open(self.storage.key(frozen.image_id, where))
        except FileNotFoundError:
            self._fail(f"{frozen.relpath} is gone from the library folder")
        except OSError as exc:
            self._fail(f"{frozen.relpath} cannot be read ({exc.strerror or exc})")
        try:
            st = os.fstat(fp.fileno())
            size, mtime_ns = st.st_size, st.st_mtime_ns
        except (AttributeError, OSError, ValueError):  # a storage without file descriptors
            size, mtime_ns = self.storage.stat(self.storage.key(frozen.image_id, frozen.relpath))
        if (size, mtime_ns) != (frozen.size, frozen.mtime_ns):
            fp.close()
            self._fail(f"{frozen.relpath} changed since the job read it")
        self._index, self._fp, self._crc, self._checked = index, fp, 0, 0

    def _feed_until(self, fp: BinaryIO, offset: int) -> None:
        while self._checked < offset:
            want = min(_CATCH_UP_BLOCK, offset - self._checked)
            data = self._pread(fp, self._checked, want)
            if len(data) != want:
                self._fail(f"{self.files[self._index].relpath} is shorter than it was")
            self._crc = zlib.crc32(data, self._crc)
            self._checked += want

    def _pread(self, fp: BinaryIO, offset: int, size: int) -> bytes:
        try:
            fp.seek(offset)
            return fp.read(size)
        except OSError as exc:
            self._fail(f"{self.files[self._index].relpath} cannot be read ({exc})")

    def _fail(self, why: str) -> NoReturn:
        self.close()
        log.warning("Download %s stopped: %s; the connection is closed.", self.job_id, why)
        raise ArchiveChanged(f"The archive of {self.job_id} cannot go on: {why}.")

    def close(self) -> None:
        fp, self._fp, self._index = self._fp, None, -1
        if fp is not None:
            with contextlib.suppress(OSError):
                fp.close()
