"""The GPS position an XMP packet may carry (``exif:GPSLatitude "48,51.5N"``, the
altitude and its reference) when the file has no EXIF GPS: read by ``exif_read``."""

from __future__ import annotations

import math
import re
from typing import Final

from . import xmp_read

# --- GPS in XMP (exif:GPSLatitude "48,51.5N") ----------------------------------------------

NS_EXIF: Final = "http://ns.adobe.com/exif/1.0/"
_XMP_COORD: Final = re.compile(
    r"\s*(\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?(?:,(\d+(?:\.\d+)?))?([NSEW])\s*"
)


def _xmp_coordinate(text: str | None, refs: str, limit: int) -> float | None:
    match = _XMP_COORD.fullmatch(text or "")
    if match is None or match.group(4) not in refs:
        return None
    degrees, minutes, seconds = (float(g) if g else 0.0 for g in match.groups()[:3])
    if minutes >= 60 or seconds >= 60:
        return None
    value = degrees + minutes / 60 + seconds / 3600
    if value > limit:
        return None
    return round(-value if match.group(4) == refs[1] else value, 7)


def _xmp_number(text: str | None) -> float | None:
    if not text:
        return None
    num, _, den = text.strip().partition("/")
    try:
        value = float(num) / float(den) if den else float(num)
    except (ValueError, ZeroDivisionError):
        return None
    return value if math.isfinite(value) and abs(value) <= 100_000 else None


def location_from_xmp(packet: bytes | None) -> tuple[float, float, float | None] | None:
    """(latitude, longitude, altitude in metres or ``None``) from an XMP packet."""
    root = xmp_read.parse_packet(packet) if packet else None
    if root is None:
        return None

    def get(name: str) -> str | None:
        return xmp_read.field(root, (NS_EXIF,), name)

    latitude = _xmp_coordinate(get("GPSLatitude"), "NS", 90)
    longitude = _xmp_coordinate(get("GPSLongitude"), "EW", 180)
    if latitude is None or longitude is None:
        return None
    altitude = _xmp_number(get("GPSAltitude"))
    if altitude is not None:
        altitude = round(-altitude if (get("GPSAltitudeRef") or "").strip() == "1" else altitude, 2)
    return latitude, longitude, altitude
