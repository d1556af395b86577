"""GPS taken out of an image's metadata without touching anything else (contract Part 2,
"EXIF and location": ``/i/{id}`` serves originals without their location by default).

Nothing is re-encoded and nothing moves: every edit keeps the length of what it edits, so
every offset in the file stays true and every other byte stays as it was.
- EXIF (a TIFF structure: in a JPEG's APP1, a PNG's eXIf, a WebP's EXIF chunk, a HEIF or
  AVIF Exif item, or a TIFF file itself): the GPSInfo entry (tag 0x8825) leaves its IFD
  (the entries after it move up by one, the freed 12 bytes at the end become zeros) and
  the GPS IFD with its out-of-line values is overwritten with zeros.
- XMP: each ``exif:GPS…`` property (an element or an attribute, whatever prefix the
  packet binds to the EXIF namespace) is overwritten with spaces, which XML ignores there.
A PNG chunk that changed gets its CRC again; a compressed PNG XMP (iTXt) is recompressed.
EXIF that cannot be walked (damaged, or a loop) is overwritten with zeros whole: a
location that cannot be found cannot be said to be gone.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from typing import Final

GPS_IFD_TAG: Final = 0x8825
XMP_TAG: Final = 700  # TIFF's XMLPacket
EXIF_NAMESPACE: Final = b"http://ns.adobe.com/exif/1.0/"
# Content types whose location this module removes; the others carry no EXIF or XMP
# that browsers or this library read (BMP, ICO), or keep them where it is not sought
# (GIF's XMP application extension): docs/http-api.md, "Decisions: location".
STRIPPABLE_TYPES: Final = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/tiff",
        "image/heic",
        "image/heif",
        "image/avif",
    }
)
_TYPE_SIZES: Final = {
    1: 1,
    2: 1,
    3: 2,
    4: 4,
    5: 8,
    6: 1,
    7: 1,
    8: 2,
    9: 4,
    10: 8,
    11: 4,
    12: 8,
    13: 4,
}
_MAX_IFDS: Final = 1024  # a chain of IFDs longer than this is a loop or a bomb


class _Unwalkable(Exception):
    """The TIFF structure points outside itself or loops."""


class _Tiff:
    """A TIFF structure at ``buf[start:end]`` (offsets inside it count from ``start``)."""

    def __init__(self, buf: bytearray, start: int, end: int) -> None:
        self.buf, self.start, self.end = buf, start, end
        order = bytes(buf[start : start + 2])
        if order == b"II":
            self.order = "<"
        elif order == b"MM":
            self.order = ">"
        else:
            raise _Unwalkable
        if self.u16(2) != 42:
            raise _Unwalkable

    def _at(self, offset: int, size: int) -> int:
        if offset < 0 or self.start + offset + size > self.end:
            raise _Unwalkable
        return self.start + offset

    def u16(self, offset: int) -> int:
        value: int = struct.unpack_from(self.order + "H", self.buf, self._at(offset, 2))[0]
        return value

    def u32(self, offset: int) -> int:
        value: int = struct.unpack_from(self.order + "I", self.buf, self._at(offset, 4))[0]
        return value

    def entries(self, ifd: int) -> list[tuple[int, int, int, int]]:
        """(tag, type, count, offset of the entry) for each entry of the IFD at ``ifd``."""
        count = self.u16(ifd)
        self._at(ifd, 2 + 12 * count + 4)
        return [
            (self.u16(e), self.u16(e + 2), self.u32(e + 4), e)
            for e in range(ifd + 2, ifd + 2 + 12 * count, 12)
        ]

    def zero(self, offset: int, size: int) -> None:
        begin = self.start + max(0, offset)
        stop = min(self.end, self.start + offset + size)
        if stop > begin:
            self.buf[begin:stop] = bytes(stop - begin)

    def value_range(self, kind: int, count: int, entry: int) -> tuple[int, int] | None:
        """Where an entry's value lies when it is not inside the entry itself."""
        size = _TYPE_SIZES.get(kind, 0) * count
        return (self.u32(entry + 8), size) if size > 4 else None

    def remove_entry(self, ifd: int, entry: int) -> None:
        """The IFD without ``entry``: later entries and the next-IFD offset move up 12
        bytes, the 12 bytes freed at its end become zeros."""
        count = self.u16(ifd)
        table_end = self.start + ifd + 2 + 12 * count + 4
        at = self.start + entry
        self.buf[at : table_end - 12] = self.buf[at + 12 : table_end]
        self.buf[table_end - 12 : table_end] = bytes(12)
        struct.pack_into(self.order + "H", self.buf, self.start + ifd, count - 1)


def _strip_tiff(buf: bytearray, start: int, end: int) -> bool:
    """Removes GPS from the TIFF structure at ``buf[start:end]``; whether it had any.
    EXIF whose first IFD cannot be walked is zeroed whole (and counts as having had
    GPS); a later IFD that cannot be (a thumbnail's, a page's) ends the walk."""
    try:
        tiff = _Tiff(buf, start, end)
        found = _strip_ifd(tiff, tiff.u32(4))
        ifd = tiff.u32(4)
    except _Unwalkable:
        buf[start:end] = bytes(end - start)
        return True
    seen = {ifd}
    try:
        while len(seen) < _MAX_IFDS:
            ifd = tiff.u32(ifd + 2 + 12 * tiff.u16(ifd))
            if ifd == 0 or ifd in seen:
                break
            seen.add(ifd)
            found |= _strip_ifd(tiff, ifd)
    except _Unwalkable:
        pass
    return found


def _strip_ifd(tiff: _Tiff, ifd: int) -> bool:
    for tag, _kind, _count, entry in tiff.entries(ifd):
        if tag == GPS_IFD_TAG:
            _zero_ifd(tiff, tiff.u32(entry + 8))
            tiff.remove_entry(ifd, entry)
            return True
    return False


def _zero_ifd(tiff: _Tiff, ifd: int) -> None:
    try:
        for _tag, kind, count, entry in tiff.entries(ifd):
            where = tiff.value_range(kind, count, entry)
            if where is not None:
                tiff.zero(*where)
        tiff.zero(ifd, 2 + 12 * tiff.u16(ifd) + 4)
    except _Unwalkable:
        tiff.zero(ifd, 2)  # at least no entry of it can be read any more


def _tiff_xmp_range(buf: bytearray) -> tuple[int, int] | None:
    """Where a TIFF file's own XMP packet (tag 700 of its first IFD) lies."""
    try:
        tiff = _Tiff(buf, 0, len(buf))
        for tag, kind, count, entry in tiff.entries(tiff.u32(4)):
            if tag == XMP_TAG:
                where = tiff.value_range(kind, count, entry)
                if where is not None:
                    return where[0], where[0] + where[1]
    except _Unwalkable:
        return None
    return None


# --- XMP ---------------------------------------------------------------------------------

_NAMESPACE_PREFIX: Final = re.compile(
    rb"xmlns:([A-Za-z_][\w.-]*)\s*=\s*[\"']" + re.escape(EXIF_NAMESPACE) + rb"[\"']"
)


def _gps_patterns(prefix: bytes) -> list[re.Pattern[bytes]]:
    p = re.escape(prefix)
    return [
        re.compile(rb"<" + p + rb":GPS[\w]*(?:\s[^>]*)?/>"),
        re.compile(rb"<(" + p + rb":GPS[\w]*)(?:\s[^>]*)?>.*?</\1\s*>", re.DOTALL),
        re.compile(rb"(?<=\s)" + p + rb":GPS[\w]*\s*=\s*(?:\"[^\"]*\"|'[^']*')"),
    ]


def strip_xmp(packet: bytes) -> bytes | None:
    """The packet with every ``exif:GPS…`` property blanked (same length), or ``None``
    when it has none."""
    prefixes = set(_NAMESPACE_PREFIX.findall(packet))
    if not prefixes:
        return None
    out = packet
    for prefix in prefixes:
        for pattern in _gps_patterns(prefix):
            out = pattern.sub(lambda m: b" " * len(m.group(0)), out)
    return None if out == packet else out


def _blank_xmp_in_place(buf: bytearray, start: int, end: int) -> bool:
    stripped = strip_xmp(bytes(buf[start:end]))
    if stripped is None:
        return False
    buf[start:end] = stripped
    return True


# --- containers --------------------------------------------------------------------------

_JPEG_EXIF: Final = re.compile(rb"\xff\xe1(..)Exif\x00\x00", re.DOTALL)
_JPEG_XMP_HEADER: Final = b"http://ns.adobe.com/xap/1.0/\x00"
_JPEG_XMP: Final = re.compile(rb"\xff\xe1(..)" + re.escape(_JPEG_XMP_HEADER), re.DOTALL)


def _jpeg(buf: bytearray) -> bool:
    """Every EXIF and XMP APP1 segment, in every picture of the file (an MPO's later
    pictures have their own EXIF). ``FF E1`` cannot occur inside entropy-coded data
    (an FF there is followed by 00 or a restart marker), so a search finds only
    segments."""
    found = False
    for match in list(_JPEG_EXIF.finditer(buf)):
        (length,) = struct.unpack(">H", match.group(1))
        start = match.end()
        end = min(len(buf), match.start() + 2 + length)
        if end > start:
            found |= _strip_tiff(buf, start, end)
    for match in list(_JPEG_XMP.finditer(buf)):
        (length,) = struct.unpack(">H", match.group(1))
        end = min(len(buf), match.start() + 2 + length)
        found |= _blank_xmp_in_place(buf, match.end(), end)
    return found


_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_PNG_XMP_KEYWORD: Final = b"XML:com.adobe.xmp"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(data: bytes) -> bytes | None:
    """eXIf and the XMP iTXt chunk; every other chunk as it was, byte for byte."""
    if not data.startswith(_PNG_SIGNATURE):
        return None
    out = [data[:8]]
    pos, found = 8, False
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            break
        body = data[pos + 8 : end - 4]
        new: bytes | None = None
        if kind == b"eXIf":
            edited = bytearray(body)
            if _strip_tiff(edited, 0, len(edited)):
                new = bytes(edited)
        elif kind == b"iTXt" and body.startswith(_PNG_XMP_KEYWORD + b"\x00"):
            new = _png_xmp(body)
        if new is None:
            out.append(data[pos:end])
        else:
            if new is not _DROP:
                out.append(_png_chunk(kind, new))
            found = True
        pos = end
        if kind == b"IEND":
            break
    out.append(data[pos:])
    return b"".join(out) if found else None


# A compressed XMP packet is inflated up to this size; one larger is left out whole.
_MAX_PNG_XMP_BYTES: Final = 16 * 1024 * 1024
_DROP: Final = b"<drop>"  # compared by identity: the chunk is left out of the copy


def _png_xmp(body: bytes) -> bytes | None:
    """An XMP iTXt chunk's data with GPS blanked, compressed again where it was."""
    head = len(_PNG_XMP_KEYWORD) + 1
    compressed, language_end = body[head], body.find(b"\x00", head + 2)
    keyword_end = body.find(b"\x00", language_end + 1) if language_end >= 0 else -1
    if keyword_end < 0:
        return None
    prefix, text = body[: keyword_end + 1], body[keyword_end + 1 :]
    if compressed:
        inflate = zlib.decompressobj()
        try:
            text = inflate.decompress(text, _MAX_PNG_XMP_BYTES)
        except zlib.error:
            return None  # no reader gets any XMP out of it either
        if inflate.unconsumed_tail or not inflate.eof:
            return _DROP  # a bomb, or cut short: its location cannot be looked for
    stripped = strip_xmp(text)
    if stripped is None:
        return None
    return prefix + (zlib.compress(stripped) if compressed else stripped)


def _webp(buf: bytearray) -> bool:
    """The RIFF chunks ``EXIF`` (with or without an ``Exif\\0\\0`` start) and ``XMP ``."""
    if buf[:4] != b"RIFF" or buf[8:12] != b"WEBP":
        return False
    pos, found = 12, False
    while pos + 8 <= len(buf):
        kind = bytes(buf[pos : pos + 4])
        (length,) = struct.unpack_from("<I", buf, pos + 4)
        start, end = pos + 8, min(len(buf), pos + 8 + length)
        if kind == b"EXIF":
            if buf[start : start + 6] == b"Exif\x00\x00":
                start += 6
            found |= _strip_tiff(buf, start, end)
        elif kind == b"XMP ":
            found |= _blank_xmp_in_place(buf, start, end)
        pos = pos + 8 + length + (length & 1)
    return found


def _tiff_file(buf: bytearray) -> bool:
    found = False
    xmp = _tiff_xmp_range(buf)
    if xmp is not None:
        found |= _blank_xmp_in_place(buf, *xmp)
    return _strip_tiff(buf, 0, len(buf)) or found


def _embedded(buf: bytearray, exif: bytes | None, xmp: bytes | None) -> bool:
    """HEIF and AVIF: the Exif and XMP items, as the decoder gave them, found in the file
    (an item stored in one piece, as cameras and encoders write them) and edited there."""
    found = False
    if exif:
        tiff_at = min(
            (i for i in (exif.find(b"II*\x00"), exif.find(b"MM\x00*")) if i >= 0), default=-1
        )
        if tiff_at >= 0:
            block = exif[tiff_at:]
            start = buf.find(block)
            if start >= 0:
                found |= _strip_tiff(buf, start, start + len(block))
    if xmp:
        start = buf.find(xmp)
        if start >= 0:
            found |= _blank_xmp_in_place(buf, start, start + len(xmp))
    return found


# ``(exif, xmp)`` of a HEIF or AVIF file as its decoder reads them (``imaging`` provides it:
# this module does no decoding).
EmbeddedReader = Callable[[bytes], tuple[bytes | None, bytes | None]]


def strip_location(
    data: bytes, content_type: str, embedded: EmbeddedReader | None = None
) -> bytes | None:
    """``data`` without GPS in its EXIF and XMP, every other byte unchanged; ``None``
    when it has none (or its format is not one of ``STRIPPABLE_TYPES``)."""
    if content_type == "image/png":
        return _png(data)
    buf = bytearray(data)
    if content_type == "image/jpeg":
        found = _jpeg(buf)
    elif content_type == "image/webp":
        found = _webp(buf)
    elif content_type == "image/tiff":
        found = _tiff_file(buf)
    elif content_type in ("image/heic", "image/heif", "image/avif") and embedded is not None:
        found = _embedded(buf, *embedded(data))
    else:
        return None
    return bytes(buf) if found else None
