"""A zip archive of stored (uncompressed) entries, laid out before its first byte and read
as a stream from any offset — the archive of a download job, never built whole.

Every entry's name, size and CRC-32 are known up front (the job computed the CRCs when
it was prepared), so every header is too, and with them the archive's exact size: a
server sends ``Content-Length`` before the first byte and answers a ``Range`` by reading
from that offset, without writing the archive anywhere. The bytes of the entries come
from a ``DataSource``; this module only knows where they go.

Format (PKWARE APPNOTE 6.3.x):
- local header with the sizes and CRC filled in (no data descriptor, flag bit 3 clear),
  flag bit 11 (names in UTF-8), method 0 (stored), version needed 2.0 (4.5 with ZIP64);
- an extended-timestamp extra field (``UT``, 0x5455) with the file's UTC mtime, which
  unzip and 7-Zip use for the extracted file; the DOS date and time are that mtime in UTC;
- ZIP64 where the classic fields overflow: an entry ≥ 4 GiB (its sizes), a local header
  past 4 GiB (its offset), and ≥ 65,535 entries or a central directory past 4 GiB (the
  ZIP64 end record and locator before the classic end record, whose overflowing fields
  say ``0xFFFF``/``0xFFFFFFFF``)."""

from __future__ import annotations

import bisect
import io
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

U16_MAX: Final = 0xFFFF
U32_MAX: Final = 0xFFFFFFFF
# The most one read of an ``ArchiveStream`` returns: what waitress asks for is the
# socket's whole send buffer, of which it may send a small part.
MAX_READ: Final = 1024 * 1024
READ_AHEAD: Final = 256 * 1024
AHEAD_ENTRIES: Final = 16

_LOCAL: Final = struct.Struct("<IHHHHHIIIHH")  # 30 bytes
_CENTRAL: Final = struct.Struct("<IHHHHHHIIIHHHHHII")  # 46 bytes
_END: Final = struct.Struct("<IHHHHIIH")  # 22 bytes
_END64: Final = struct.Struct("<IQHHIIQQQQ")  # 56 bytes
_LOCATOR64: Final = struct.Struct("<IIQI")  # 20 bytes

_FLAG_UTF8: Final = 0x0800
_STORED: Final = 0
_VERSION: Final = 20  # 2.0: what a stored file in a folder needs
_VERSION64: Final = 45  # 4.5: ZIP64
_MADE_BY: Final = (3 << 8) | _VERSION64  # Unix, so the permissions below are read
_FILE_MODE: Final = 0o100644 << 16  # a regular file, rw-r--r--
_UT_LEN: Final = 9  # the UT extra: id, size, flags, mtime


@dataclass(frozen=True, slots=True)
class ZipEntry:
    name: str  # "folder/filename", "/" between parts
    size: int
    crc32: int
    mtime_s: int  # Unix seconds (UTC)


class ArchiveChanged(OSError):
    """An entry's bytes are not what the archive's headers promise (the original changed
    or vanished): the stream must stop. An ``OSError``, so a WSGI server closes the
    connection as it does when a file it sends fails to read."""


class DataSource(Protocol):
    def read(self, index: int, offset: int, size: int) -> bytes:
        """Exactly ``size`` bytes of entry ``index`` from ``offset``, or an ``OSError``
        (the caller aborts the stream: never a short or wrong archive)."""
        ...


def _dos_datetime(mtime_s: int) -> tuple[int, int]:
    """The DOS (date, time) of ``mtime_s`` in UTC, clamped to the years DOS can say."""
    t = time.gmtime(min(max(mtime_s, 315532800), 4354819198))  # 1980-01-01 .. 2107-12-31
    date = (t.tm_year - 1980) << 9 | t.tm_mon << 5 | t.tm_mday
    clock = t.tm_hour << 11 | t.tm_min << 5 | t.tm_sec // 2
    return date, clock


def _ut_extra(mtime_s: int) -> bytes:
    return struct.pack("<HHBI", 0x5455, 5, 1, min(max(mtime_s, 0), U32_MAX))


def _name_bytes(name: str) -> bytes:
    return name.encode("utf-8")


class ArchiveLayout:
    """Where every byte of the archive of ``entries`` is. Immutable; thread-safe."""

    def __init__(self, entries: Sequence[ZipEntry]) -> None:
        self.entries = tuple(entries)
        self._names = [_name_bytes(e.name) for e in self.entries]
        offsets: list[int] = []
        data_starts: list[int] = []
        central_offsets: list[int] = []
        pos = 0
        central = 0
        for entry, name in zip(self.entries, self._names, strict=True):
            offsets.append(pos)
            pos += _LOCAL.size + len(name) + _UT_LEN + (20 if entry.size >= U32_MAX else 0)
            data_starts.append(pos)
            pos += entry.size
            central_offsets.append(central)
            central += (
                _CENTRAL.size + len(name) + _UT_LEN + self._central_zip64_len(entry, offsets[-1])
            )
        self._offsets = offsets
        self._data_starts = data_starts
        self.central_start = pos
        self._central_offsets = [self.central_start + c for c in central_offsets]
        self.central_size = central
        self._end = self._end_records()
        self.size = self.central_start + self.central_size + len(self._end)

    @staticmethod
    def _central_zip64_len(entry: ZipEntry, offset: int) -> int:
        fields = (2 if entry.size >= U32_MAX else 0) + (1 if offset >= U32_MAX else 0)
        return 4 + 8 * fields if fields else 0

    # --- headers ---------------------------------------------------------------------------

    def _shared_fields(self, index: int, extra: bytes) -> tuple[int, ...]:
        """The run of fields the local and the central header share, from the flags to
        the extra field's length (APPNOTE 4.3.7 and 4.3.12 lay them out alike)."""
        entry, name = self.entries[index], self._names[index]
        date, clock = _dos_datetime(entry.mtime_s)
        size32 = U32_MAX if entry.size >= U32_MAX else entry.size
        return (
            _FLAG_UTF8,
            _STORED,
            clock,
            date,
            entry.crc32,
            size32,
            size32,
            len(name),
            len(extra),
        )

    def local_header(self, index: int) -> bytes:
        entry, name = self.entries[index], self._names[index]
        big = entry.size >= U32_MAX
        extra = _ut_extra(entry.mtime_s)
        if big:  # the local ZIP64 extra holds both sizes (APPNOTE 4.5.3)
            extra += struct.pack("<HHQQ", 0x0001, 16, entry.size, entry.size)
        version = _VERSION64 if big else _VERSION
        return _LOCAL.pack(0x04034B50, version, *self._shared_fields(index, extra)) + name + extra

    def central_header(self, index: int) -> bytes:
        entry, name, offset = self.entries[index], self._names[index], self._offsets[index]
        big, far = entry.size >= U32_MAX, offset >= U32_MAX
        extra = _ut_extra(entry.mtime_s)
        zip64 = b""
        if big:
            zip64 += struct.pack("<QQ", entry.size, entry.size)
        if far:
            zip64 += struct.pack("<Q", offset)
        if zip64:
            extra += struct.pack("<HH", 0x0001, len(zip64)) + zip64
        head = _CENTRAL.pack(
            0x02014B50,
            _MADE_BY,
            _VERSION64 if big or far else _VERSION,
            *self._shared_fields(index, extra),
            0,  # comment
            0,  # disk
            0,  # internal attributes
            _FILE_MODE,
            U32_MAX if far else offset,
        )
        return head + name + extra

    def _end_records(self) -> bytes:
        count, start, size = len(self.entries), self.central_start, self.central_size
        zip64 = count >= U16_MAX or start >= U32_MAX or size >= U32_MAX
        records = b""
        if zip64:
            end64_at = start + size
            records += _END64.pack(
                0x06064B50, _END64.size - 12, _MADE_BY, _VERSION64, 0, 0, count, count, size, start
            )
            records += _LOCATOR64.pack(0x07064B50, 0, end64_at, 1)
        records += _END.pack(
            0x06054B50,
            0,
            0,
            min(count, U16_MAX),
            min(count, U16_MAX),
            min(size, U32_MAX),
            min(start, U32_MAX),
            0,
        )
        return records

    def entries_between(self, start: int, end: int) -> int:
        """How many entries begin in the archive's bytes ``start`` .. ``end``."""
        return bisect.bisect_left(self._offsets, end) - bisect.bisect_left(self._offsets, start)

    @property
    def zip64(self) -> bool:
        return len(self._end) > _END.size

    # --- reading -----------------------------------------------------------------------------

    def read(self, source: DataSource, pos: int, size: int) -> bytes:
        """Up to ``size`` bytes of the archive from ``pos`` (fewer only at its end)."""
        pieces: list[bytes] = []
        end = min(pos + size, self.size)
        while pos < end:
            piece = self._piece(source, pos, end - pos)
            if not piece:  # a source that broke its promise: stop, never spin
                raise ArchiveChanged(f"The archive's byte {pos:,} could not be read.")
            pieces.append(piece)
            pos += len(piece)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def _piece(self, source: DataSource, pos: int, want: int) -> bytes:
        if pos < self.central_start:
            i = bisect.bisect_right(self._offsets, pos) - 1
            data_start = self._data_starts[i]
            if pos < data_start:
                return self.local_header(i)[pos - self._offsets[i] : data_start - self._offsets[i]][
                    :want
                ]
            offset = pos - data_start
            return source.read(i, offset, min(want, self.entries[i].size - offset))
        central_end = self.central_start + self.central_size
        if pos < central_end:
            j = bisect.bisect_right(self._central_offsets, pos) - 1
            return self.central_header(j)[pos - self._central_offsets[j] :][:want]
        return self._end[pos - central_end :][:want]


class ArchiveStream(io.RawIOBase):
    """The archive as a read-only, seekable file between ``start`` and ``end`` (the end
    as far as ``seek(0, SEEK_END)`` and ``read`` go): what a WSGI server's
    ``wsgi.file_wrapper`` streams, waitress from its I/O thread at the client's pace.
    A read returns at most ``MAX_READ`` bytes (a short read, as files may give)."""

    def __init__(
        self, layout: ArchiveLayout, source: DataSource, start: int = 0, end: int | None = None
    ) -> None:
        super().__init__()
        self.layout = layout
        self.source = source
        self.end = layout.size if end is None else min(end, layout.size)
        self.pos = start
        self._last = b""  # the last chunk read, from ``_last_pos``
        self._last_pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.end}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self.pos = base + offset
        return self.pos

    def read(self, size: int | None = -1) -> bytes:
        if self.closed:
            raise ValueError("read of a closed archive stream")
        if size is None or size < 0:  # everything to the end, as a file's read() does
            return b"".join(iter(lambda: self.read(MAX_READ), b""))
        want = min(size, self.end - self.pos)
        if want <= 0:
            return b""
        cached, at = self._last, self.pos - self._last_pos
        if 0 <= at < len(cached):
            # waitress reads a chunk, sends what the socket takes, seeks back and reads
            # again from there: the rest of the last chunk, never the files twice.
            data = cached[at : at + want]
        else:
            # waitress asks for its socket buffer's size (16 KiB here): read ahead, so
            # the files and the layout are visited once per 256 KiB, not per 16 KiB.
            ahead = min(max(want, READ_AHEAD), self.end - self.pos)
            if self.layout.entries_between(self.pos, self.pos + ahead) > AHEAD_ENTRIES:
                # Many tiny files: each is an open and a stat on waitress's I/O thread,
                # which serves every other connection too; read no more than asked.
                ahead = want
            self._last = self.layout.read(self.source, self.pos, min(ahead, MAX_READ))
            self._last_pos = self.pos
            data = self._last[:want]
        self.pos += len(data)
        return data

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            closer = getattr(self.source, "close", None)
            if closer is not None:
                closer()
        super().close()
