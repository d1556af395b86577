"""Images carrying EXIF as cameras and phones write it (made with Pillow's own EXIF
writer: IFD0, the Exif sub-IFD, the GPS IFD), GPS only in an XMP packet, and hostile EXIF
blocks built byte by byte (truncated directories, offsets pointing outside, huge counts)
placed in a JPEG's APP1 segment without any parser looking at them first."""

from __future__ import annotations

import io
import random
import struct
from typing import Any

from PIL import Image, TiffImagePlugin

from tests.library.xmp_samples import xmp_packet

NS_EXIF = "http://ns.adobe.com/exif/1.0/"


def pixels(seed: int = 1, size: tuple[int, int] = (48, 32)) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def camera_exif(
    *,
    make: str | None = "Canon",
    model: str | None = "Canon EOS R5",
    lens: str | None = "RF24-105mm F4 L IS USM",
    taken: str | None = "2026:04:23 10:00:00",
    offset: str | None = "+02:00",
    subsec: str | None = None,
    exposure: tuple[int, int] | None = (1, 250),
    f_number: tuple[int, int] | None = (28, 10),
    iso: int | None = 400,
    focal: tuple[int, int] | None = (50, 1),
    orientation: int | None = 1,
    gps: tuple[float, float, float | None] | None = None,
) -> Image.Exif:
    """EXIF as a camera writes it; ``gps``: (latitude, longitude, altitude) in degrees
    and metres, written as degrees/minutes/seconds with N/S, E/W and the altitude ref."""
    exif = Image.Exif()
    if make is not None:
        exif[0x010F] = make
    if model is not None:
        exif[0x0110] = model
    if orientation is not None:
        exif[0x0112] = orientation
    sub = exif.get_ifd(0x8769)
    values: dict[int, Any] = {
        0x9003: taken,
        0x9011: offset,
        0x9291: subsec,
        0x8827: iso,
        0xA434: lens,
        0x829A: TiffImagePlugin.IFDRational(*exposure) if exposure else None,
        0x829D: TiffImagePlugin.IFDRational(*f_number) if f_number else None,
        0x920A: TiffImagePlugin.IFDRational(*focal) if focal else None,
    }
    sub.update({tag: value for tag, value in values.items() if value is not None})
    if gps is not None:
        lat, lon, alt = gps
        ifd = exif.get_ifd(0x8825)
        ifd[1], ifd[2] = ("N" if lat >= 0 else "S"), _dms(abs(lat))
        ifd[3], ifd[4] = ("E" if lon >= 0 else "W"), _dms(abs(lon))
        if alt is not None:
            ifd[5] = b"\x01" if alt < 0 else b"\x00"
            ifd[6] = TiffImagePlugin.IFDRational(round(abs(alt) * 100), 100)
    return exif


def _dms(value: float) -> tuple[Any, Any, Any]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60 * 10_000)
    return (
        TiffImagePlugin.IFDRational(degrees, 1),
        TiffImagePlugin.IFDRational(minutes, 1),
        TiffImagePlugin.IFDRational(seconds, 10_000),
    )


def camera_jpeg(seed: int = 1, xmp: bytes | None = None, **facts: Any) -> bytes:
    out = io.BytesIO()
    extra = {"xmp": xmp} if xmp is not None else {}
    pixels(seed).save(out, "JPEG", quality=90, exif=camera_exif(**facts), **extra)
    return out.getvalue()


def camera_image(fmt: str, seed: int = 1, **facts: Any) -> bytes:
    """The same EXIF in a PNG (eXIf chunk) or a WebP (EXIF chunk)."""
    out = io.BytesIO()
    pixels(seed).save(out, fmt, exif=camera_exif(**facts))
    return out.getvalue()


def plain_jpeg(seed: int = 1, xmp: bytes | None = None) -> bytes:
    out = io.BytesIO()
    extra = {"xmp": xmp} if xmp is not None else {}
    pixels(seed).save(out, "JPEG", quality=90, **extra)
    return out.getvalue()


def xmp_gps(latitude: str, longitude: str, altitude: str | None = None, ref: str = "0") -> bytes:
    """A packet with GPS in XMP's EXIF namespace (as Lightroom and phones' editors write
    it: ``48,51.4917N``), attribute and element forms both."""
    props = [
        f'<exif:GPSLatitude xmlns:exif="{NS_EXIF}">{latitude}</exif:GPSLatitude>',
        f'<exif:GPSLongitude xmlns:exif="{NS_EXIF}">{longitude}</exif:GPSLongitude>',
    ]
    if altitude is not None:
        props.append(f'<exif:GPSAltitude xmlns:exif="{NS_EXIF}">{altitude}</exif:GPSAltitude>')
        props.append(f'<exif:GPSAltitudeRef xmlns:exif="{NS_EXIF}">{ref}</exif:GPSAltitudeRef>')
    return xmp_packet(*props)


# --- hostile blocks, byte by byte (little-endian TIFF) ------------------------------------


def entry(tag: int, typ: int, count: int, value: int | bytes) -> bytes:
    field = value if isinstance(value, bytes) else struct.pack("<L", value)
    return struct.pack("<HHL", tag, typ, count) + field.ljust(4, b"\x00")[:4]


def tiff(ifd0_entries: list[bytes], *, declared: int | None = None, tail: bytes = b"") -> bytes:
    """``II*\\0``, IFD0 at 8 with ``declared`` entries (default: as many as given), the
    given entries, a zero next-IFD pointer, then ``tail`` (data at offset 8 + 2 +
    12 * len(entries) + 4)."""
    n = len(ifd0_entries) if declared is None else declared
    body = struct.pack("<H", n) + b"".join(ifd0_entries)
    return b"II*\x00" + struct.pack("<L", 8) + body + b"\x00\x00\x00\x00" + tail


def jpeg_with_app1(block: bytes, seed: int = 1) -> bytes:
    """A valid JPEG with ``Exif\\0\\0`` + ``block`` as its first APP1 segment, inserted
    after SOI as raw bytes (no encoder parses it on the way)."""
    out = io.BytesIO()
    pixels(seed).save(out, "JPEG", quality=90)
    data = out.getvalue()
    body = b"Exif\x00\x00" + block
    assert len(body) + 2 <= 0xFFFF
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + data[2:]


def hostile_blocks() -> dict[str, bytes]:
    """EXIF blocks a careless parser trips over; each names its trap."""
    tail_at = 8 + 2 + 12 * 2 + 4
    return {
        "truncated IFD": tiff([entry(0x010F, 2, 6, tail_at)], declared=40, tail=b""),
        "header only": b"II*\x00\x08\x00\x00\x00",
        "IFD0 offset outside": b"II*\x00" + struct.pack("<L", 0xFFFFFFF0),
        "value offsets outside": tiff(
            [entry(0x010F, 2, 20, 0xFFFFFF00), entry(0x0110, 2, 20, 0x7FFFFFFF)]
        ),
        "huge counts": tiff(
            [entry(0x010F, 2, 0xFFFFFFFF, tail_at), entry(0x829A, 5, 0x40000000, tail_at)],
            tail=b"Canon\x00" * 4,
        ),
        "huge entry count": tiff([entry(0x0112, 3, 1, 6)], declared=0xFFFF),
        "sub-IFDs outside and looping": tiff(
            [entry(0x8769, 4, 1, 0xFFFFFFF0), entry(0x8825, 4, 1, 8)]
        ),
        "zero denominators and nonsense dates": _nonsense_values(),
        "not TIFF at all": bytes(random.Random(7).randbytes(300)),
        "big-endian garbage": b"MM\x00*" + bytes(random.Random(8).randbytes(200)),
    }


def _nonsense_values() -> bytes:
    """An Exif sub-IFD whose rationals divide by zero, whose date is all zeros and whose
    offset is out of range: every such field null, the good ones (orientation) kept."""
    sub_at = 8 + 2 + 12 * 2 + 4
    data_at = sub_at + 2 + 12 * 4 + 4
    date = b"0000:00:00 00:00:00\x00"
    offset = b"+99:99\x00"
    rational = struct.pack("<LL", 1, 0)
    sub_entries = [
        entry(0x829A, 5, 1, data_at),  # ExposureTime 1/0
        entry(0x829D, 5, 1, data_at),  # FNumber 1/0
        entry(0x9003, 2, len(date), data_at + 8),
        entry(0x9011, 2, len(offset), data_at + 8 + len(date)),
    ]
    sub = struct.pack("<H", 4) + b"".join(sub_entries) + b"\x00" * 4
    return tiff(
        [entry(0x0112, 3, 1, 3), entry(0x8769, 4, 1, sub_at)],
        tail=sub + rational + date + offset,
    )
