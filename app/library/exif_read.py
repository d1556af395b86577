"""Reading an image's EXIF (and the GPS an XMP packet may carry instead) into
``ExifFacts``, once, when the image enters the library.

The EXIF block is found at the container level (JPEG APP1 ``Exif``, PNG ``eXIf``, WebP
``EXIF``; a TIFF file is itself the block; other formats through Pillow's header read),
without decoding a pixel, and its TIFF structure is read here rather than by Pillow's
``Exif``: only the few tags the library keeps are looked at, every offset and count is
checked against the block before it is followed, at most two sub-directories are entered
(Exif and GPS, once each), and nothing warns — Pillow's parser reports damaged tags
through ``warnings``, whose filters are process-wide state that threads reading at the
same time would trample. A block that is not what it claims is no block: all fields
``None``. Hostile bytes cost at most a bounded read and never raise."""

from __future__ import annotations

import contextlib
import io
import re
import struct
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from types import EllipsisType
from typing import Any, BinaryIO, Final

from . import rules, xmp_read
from .exif_facts import NO_EXIF, ExifFacts, wall_clock_us
from .exif_xmp_gps import location_from_xmp

_IFD0_TAGS: Final = {0x010F, 0x0110, 0x0112, 0x8769, 0x8825}
_EXIF_TAGS: Final = {
    0x829A,  # ExposureTime
    0x829D,  # FNumber
    0x8827,  # PhotographicSensitivity (ISO)
    0x8833,  # ISOSpeed (where the former says 65535: "more than fits")
    0x9003,  # DateTimeOriginal
    0x9004,  # DateTimeDigitized
    0x9011,  # OffsetTimeOriginal
    0x9012,  # OffsetTimeDigitized
    0x9291,  # SubSecTimeOriginal
    0x9292,  # SubSecTimeDigitized
    0x920A,  # FocalLength
    0xA434,  # LensModel
}
_GPS_TAGS: Final = {1, 2, 3, 4, 5, 6}
# Entries read from one directory; a real one has a few dozen.
_MAX_ENTRIES: Final = 512
# Values longer than this (strings, arrays) are not values the library keeps.
_MAX_VALUE_BYTES: Final = 256
_TEXT_CHARS: Final = 128
# type → (bytes per item, struct code)
_TYPES: Final = {1: (1, "B"), 2: (1, "s"), 3: (2, "H"), 4: (4, "L"), 5: (8, "LL"), 7: (1, "s")}
_TYPES_SIGNED: Final = {9: (4, "l"), 10: (8, "ll")}

Value = tuple[object, ...] | bytes


class _Block:
    """The TIFF structure inside ``fp`` from ``base``, ``size`` bytes long."""

    def __init__(self, fp: BinaryIO, base: int, size: int) -> None:
        self.fp, self.base, self.size = fp, base, size
        head = self.read(0, 8)
        if head is None or head[:4] not in (b"II*\x00", b"MM\x00*"):
            raise ValueError("not a TIFF structure")
        self.order = "<" if head[:2] == b"II" else ">"
        self.ifd0 = struct.unpack(self.order + "L", head[4:8])[0]

    def read(self, offset: int, n: int) -> bytes | None:
        if offset < 0 or n < 0 or offset + n > self.size:
            return None
        self.fp.seek(self.base + offset)
        data = self.fp.read(n)
        return data if len(data) == n else None

    def directory(self, offset: int, wanted: set[int]) -> dict[int, Value]:
        found: dict[int, Value] = {}
        head = self.read(offset, 2)
        if head is None:
            return found
        count = min(struct.unpack(self.order + "H", head)[0], _MAX_ENTRIES)
        entries = self.read(offset + 2, 12 * count)
        if entries is None:  # a truncated directory: the entries that are there
            entries = self.read(offset + 2, 12 * max(0, (self.size - offset - 2) // 12)) or b""
        for i in range(0, len(entries) - 11, 12):
            tag, typ, n = struct.unpack(self.order + "HHL", entries[i : i + 8])
            if tag not in wanted or tag in found:
                continue
            value = self._value(typ, n, entries[i + 8 : i + 12])
            if value is not None:
                found[tag] = value
        return found

    def _value(self, typ: int, n: int, field: bytes) -> Value | None:
        unit, code = _TYPES.get(typ) or _TYPES_SIGNED.get(typ) or (0, "")
        if not unit or n == 0 or n * unit > _MAX_VALUE_BYTES:
            return None
        size = n * unit
        if size <= 4:
            raw: bytes | None = field[:size]
        else:
            raw = self.read(struct.unpack(self.order + "L", field)[0], size)
        if raw is None:
            return None
        if code == "s":
            return raw
        return struct.unpack(f"{self.order}{code * n}", raw)


# --- finding the block -------------------------------------------------------------------


def _jpeg_block(fp: BinaryIO) -> tuple[int, int] | None:
    if fp.read(2) != b"\xff\xd8":
        return None
    while True:
        head = fp.read(2)
        if len(head) < 2 or head[0] != 0xFF:
            return None
        marker = head[1]
        if marker == 0xFF:
            fp.seek(-1, 1)
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            continue
        if marker in (0xDA, 0xD9):
            return None
        raw = fp.read(2)
        if len(raw) < 2:
            return None
        (length,) = struct.unpack(">H", raw)
        if length < 2:
            return None
        if marker == 0xE1 and length >= 8 and fp.read(6) == b"Exif\x00\x00":
            return fp.tell(), length - 8
        if marker == 0xE1 and length >= 8:
            fp.seek(length - 8, 1)
        else:
            fp.seek(length - 2, 1)


def _png_block(fp: BinaryIO) -> tuple[int, int] | None:
    if fp.read(8) != xmp_read.PNG_SIGNATURE:
        return None
    for ctype, length in xmp_read.png_file_chunks(fp):
        if ctype == b"eXIf":
            return fp.tell(), length
    return None


def _webp_block(fp: BinaryIO) -> tuple[int, int] | None:
    head = fp.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    for fourcc, size in xmp_read.riff_file_chunks(fp):
        if fourcc == b"EXIF":
            start = fp.tell()
            if fp.read(6) == b"Exif\x00\x00":  # some writers keep JPEG's header
                return start + 6, size - 6
            return start, size
    return None


def _file_size(fp: BinaryIO) -> int:
    fp.seek(0, 2)
    size = fp.tell()
    fp.seek(0)
    return size


def _pillow_block(source: Path | BinaryIO) -> bytes | None:
    """Formats whose containers Pillow (or its plugins) reads: the EXIF it found in the
    headers. No pixel is decoded."""
    from PIL import Image

    try:
        with _opened(source) as fp, Image.open(fp) as img:
            exif = img.info.get("exif")
    except Exception:  # any file Pillow cannot open has no EXIF to offer
        return None
    if not isinstance(exif, bytes) or len(exif) > rules.MAX_EXIF_BYTES:
        return None
    return exif[6:] if exif.startswith(b"Exif\x00\x00") else exif


def _facts_from(fp: BinaryIO, base: int, size: int) -> ExifFacts:
    block = _Block(fp, base, min(size, _file_size(fp) - base))
    ifd0 = block.directory(block.ifd0, _IFD0_TAGS)
    exif = _offset_of(ifd0.get(0x8769))
    gps = _offset_of(ifd0.get(0x8825))
    sub = block.directory(exif, _EXIF_TAGS) if exif is not None else {}
    geo = block.directory(gps, _GPS_TAGS) if gps is not None else {}
    taken = _taken(sub.get(0x9003), sub.get(0x9291), sub.get(0x9011))
    if taken is None:
        taken = _taken(sub.get(0x9004), sub.get(0x9292), sub.get(0x9012))
    iso = _whole(sub.get(0x8827))
    if iso == 65535:
        iso = _whole(sub.get(0x8833)) or iso
    latitude, longitude = _coordinate(geo, 2, 1, b"NS", 90), _coordinate(geo, 4, 3, b"EW", 180)
    located = latitude is not None and longitude is not None
    return ExifFacts(
        make=_text(ifd0.get(0x010F)),
        model=_text(ifd0.get(0x0110)),
        lens_model=_text(sub.get(0xA434)),
        taken_at_us=taken[0] if taken else None,
        taken_offset_min=taken[1] if taken else None,
        exposure_time=_exposure(sub.get(0x829A)),
        f_number=_positive(sub.get(0x829D), 1000, 1),
        iso=iso if iso and iso <= 10_000_000 else None,
        focal_length_mm=_positive(sub.get(0x920A), 100_000, 1),
        orientation=_in(_whole(ifd0.get(0x0112)), range(1, 9)),
        latitude=latitude if located else None,
        longitude=longitude if located else None,
        altitude_m=_altitude(geo) if located else None,
    )


# --- the values --------------------------------------------------------------------------


def _offset_of(value: Value | None) -> int | None:
    n = _whole(value)
    return n if n else None


def _whole(value: Value | None) -> int | None:
    if isinstance(value, tuple) and value and isinstance(value[0], int):
        return value[0]
    return None


def _in(value: int | None, allowed: range) -> int | None:
    return value if value in allowed else None


def _ratio(value: Value | None, index: int = 0) -> Fraction | None:
    if not isinstance(value, tuple) or len(value) < 2 * index + 2:
        return None
    num, den = value[2 * index], value[2 * index + 1]
    if not isinstance(num, int) or not isinstance(den, int) or den == 0:
        return None
    return Fraction(num, den)


def _positive(value: Value | None, ceiling: float, digits: int) -> float | None:
    ratio = _ratio(value)
    if ratio is None or not 0 < ratio <= ceiling:
        return None
    return round(float(ratio), digits)


_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


def _text(value: Value | None) -> str | None:
    if not isinstance(value, bytes):
        return None
    raw = value.split(b"\x00", 1)[0]
    text = _CONTROL.sub("", raw.decode("utf-8", "replace")).strip()
    return text[:_TEXT_CHARS] or None


def _exposure(value: Value | None) -> str | None:
    """As photographers (and ExifTool) write it: ``1/250`` below a quarter second,
    ``0.5``, ``2``, ``30`` above."""
    ratio = _ratio(value)
    if ratio is None or not 0 < ratio <= 3600:
        return None
    seconds = float(ratio)
    if seconds < 0.25001:
        return f"1/{int(0.5 + 1 / seconds)}"
    return f"{seconds:.1f}".removesuffix(".0")


_DATE: Final = re.compile(r"(\d{4})[:-](\d\d)[:-](\d\d)[ T](\d\d):(\d\d):(\d\d)")
_OFFSET: Final = re.compile(r"([+-])(\d\d):(\d\d)")


def _taken(
    value: Value | None, subsec: Value | None, offset: Value | None
) -> tuple[int, int | None] | None:
    text = _text(value)
    match = _DATE.fullmatch(text or "")
    if match is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
        when = datetime(year, month, day, hour, minute, second)
    except ValueError:  # "0000:00:00 00:00:00", a 31st of February
        return None
    digits = _text(subsec) or ""
    if digits.isascii() and digits.isdigit():
        when = when.replace(microsecond=int(digits[:6].ljust(6, "0")))
    zone = _OFFSET.fullmatch(_text(offset) or "")
    minutes = None
    if zone is not None:
        hours, mins = int(zone.group(2)), int(zone.group(3))
        if hours <= 14 and mins < 60:
            minutes = (hours * 60 + mins) * (-1 if zone.group(1) == "-" else 1)
    return wall_clock_us(when), minutes


def _coordinate(
    geo: dict[int, Value], tag: int, ref_tag: int, refs: bytes, limit: int
) -> float | None:
    ref = geo.get(ref_tag)
    parts = [p for p in (_ratio(geo.get(tag), i) for i in range(3)) if p is not None]
    if not isinstance(ref, bytes) or ref[:1] not in (refs[:1], refs[1:]) or len(parts) < 3:
        return None
    degrees, minutes, seconds = parts
    value = degrees + minutes / 60 + seconds / 3600
    if value > limit or min(parts) < 0 or minutes >= 60 or seconds >= 60:
        return None
    return round(float(-value if ref[:1] == refs[1:] else value), 7)


def _altitude(geo: dict[int, Value]) -> float | None:
    ratio = _ratio(geo.get(6))
    if ratio is None or abs(ratio) > 100_000:
        return None
    below = geo.get(5)
    sign = -1 if below is not None and below[:1] in ((1,), b"\x01") else 1  # BYTE or UNDEFINED
    return round(sign * float(ratio), 2)


# --- orientation for decoders ------------------------------------------------------------


def orientation_of(info: Mapping[Any, Any]) -> int:
    """The EXIF orientation (1-8; 1 where there is none or it cannot be read) of an image
    Pillow opened, from the raw block its header read left in ``info["exif"]``: read
    here rather than by ``Image.getexif()``, which warns on a damaged block."""
    block = info.get("exif")
    if not isinstance(block, bytes) or len(block) > rules.MAX_EXIF_BYTES:
        return 1
    if block.startswith(b"Exif\x00\x00"):
        block = block[6:]
    try:
        found = _Block(io.BytesIO(block), 0, len(block))
        value = _whole(found.directory(found.ifd0, {0x0112}).get(0x0112))
    except (ValueError, struct.error):
        return 1
    return value if value is not None and 1 <= value <= 8 else 1


# What turns each orientation upright (as ``ImageOps.exif_transpose`` does, without its
# second read of the EXIF).
UPRIGHT: Final = {
    2: "FLIP_LEFT_RIGHT",
    3: "ROTATE_180",
    4: "FLIP_TOP_BOTTOM",
    5: "TRANSPOSE",
    6: "ROTATE_270",
    7: "TRANSVERSE",
    8: "ROTATE_90",
}


# --- the entry point ---------------------------------------------------------------------

_FINDERS: Final[dict[str, Callable[[BinaryIO], tuple[int, int] | None]]] = {
    "image/jpeg": _jpeg_block,
    "image/png": _png_block,
    "image/webp": _webp_block,
    "image/tiff": lambda fp: (0, _file_size(fp)),
}
# A TIFF file is its own EXIF block, as large as the file; others are capped.
_WHOLE_FILE: Final = frozenset({"image/tiff"})
_NONE: Final = frozenset({"image/gif", "image/bmp", "image/vnd.microsoft.icon"})


def read_file(
    path: Path | BinaryIO, content_type: str, xmp_packet: bytes | EllipsisType | None = ...
) -> ExifFacts:
    """The facts of the image at ``path`` (or in a file already open: an import's bytes
    in memory); ``NO_EXIF`` where it has none or they cannot be read. Never raises for a
    file's content. ``xmp_packet``: the file's XMP packet
    when the caller has read it already (``xmp_read.packet_of``; ``None``: it has none),
    for the GPS that only XMP gives."""
    facts = NO_EXIF
    try:
        facts = _read_exif(path, content_type)
    except (OSError, ValueError, struct.error, OverflowError):
        facts = NO_EXIF
    if not facts.has_location and content_type in rules.XMP_WRITABLE_TYPES:
        try:
            packet = xmp_read.read_packet(path, content_type) if xmp_packet is ... else xmp_packet
            found = location_from_xmp(packet)
        except (OSError, xmp_read.BadContainer, struct.error, ValueError):
            found = None
        if found is not None:
            facts = replace(facts, latitude=found[0], longitude=found[1], altitude_m=found[2])
    return facts


def texts_and_facts(
    path: Path | BinaryIO, content_type: str
) -> tuple[xmp_read.FileDescription, ExifFacts]:
    """What an image entering the library (upload, import, adoption, an outside edit) says
    of itself: its XMP texts and its EXIF facts, the XMP packet found once for both (the
    texts, and the GPS where EXIF has none). Never raises for a file's content."""
    packet = xmp_read.packet_of(path, content_type)
    return xmp_read.describe_packet(packet), read_file(path, content_type, packet)


def _read_exif(path: Path | BinaryIO, content_type: str) -> ExifFacts:
    if content_type in _NONE:
        return NO_EXIF
    finder = _FINDERS.get(content_type)
    if finder is None:
        block = _pillow_block(path)
        if block is None:
            return NO_EXIF
        return _facts_from(io.BytesIO(block), 0, len(block))
    with _opened(path) as fp:
        where = finder(fp)
        if where is None or where[1] <= 8:
            return NO_EXIF
        start, size = where
        if content_type not in _WHOLE_FILE and size > rules.MAX_EXIF_BYTES:
            return NO_EXIF
        return _facts_from(fp, start, size)


@contextlib.contextmanager
def _opened(source: Path | BinaryIO) -> Iterator[BinaryIO]:
    """``source`` opened, or rewound when it is open already (left open: the caller's)."""
    if isinstance(source, Path):
        with open(source, "rb") as fp:
            yield fp
    else:
        source.seek(0)
        yield source
