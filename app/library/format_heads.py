"""What the headers of some formats say before Pillow opens them, for the formats whose
Pillow plugin decodes pixels inside ``Image.open`` (before any size check of ours).

An ICO is a directory of images, each a PNG or a headerless BMP (DIB), and Pillow loads
the largest one as it opens the file. Its directory says at most 256×256 per image, but
the PNG inside may be of any size: a 10 KB icon can hold a 100-megapixel PNG. Here the
real size of every image in it is read from its own header, so the pixel limit and the
decode budget apply to what will actually be decoded."""

from __future__ import annotations

import struct
from typing import BinaryIO, Final

from . import rules
from .errors import MalformedImage, TooManyPixels

ICO_SIGNATURE: Final = b"\x00\x00\x01\x00"
_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_ENTRY: Final = struct.Struct("<BBBBHHII")  # width, height, colours, 0, planes, bpp, size, offset


def ico_largest_pixels(data: bytes) -> int:
    """The pixel count of the largest image an ICO holds, from each image's own header.
    Raises ``MalformedImage`` for a directory or an image header outside the file and
    ``TooManyPixels`` for an image over the limit."""
    try:
        (count,) = struct.unpack_from("<H", data, 4)
        if count == 0:
            raise MalformedImage("The icon file holds no image.")
        largest = 0
        for index in range(count):
            entry = _ENTRY.unpack_from(data, 6 + 16 * index)
            offset = entry[7]
            head = data[offset : offset + 24]
            if head[:8] == _PNG_SIGNATURE:
                width, height = struct.unpack_from(">II", head, 16)
            else:  # BITMAPINFOHEADER: its height counts the colour and the mask images
                width, height = struct.unpack_from("<ii", head, 4)
                width, height = abs(width), abs(height) // 2
            largest = max(largest, width * height)
    except struct.error:
        raise MalformedImage("The icon file is damaged or incomplete.") from None
    if largest > rules.MAX_PIXELS:
        raise TooManyPixels(
            f"An image inside the icon has {largest / 1e6:,.0f} megapixels; at most "
            f"{rules.MAX_PIXELS // 1_000_000} megapixels are accepted."
        )
    return largest


# The markers of a JPEG frame header (SOF0-SOF15 but DHT, JPG and DAC, which share the
# range), and of the start of the first scan: the frame's size is given before it.
_JPEG_SOF: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_SOS: Final = 0xDA
_JPEG_APP2: Final = 0xE2
# Segments read before giving up (a camera's JPEG has 10-30 before its scan: APPn, DQT,
# SOF, DHT): a file of millions of empty segments costs no more than its first few.
_JPEG_MAX_SEGMENTS: Final = 256


def jpeg_frame_size(fp: BinaryIO) -> tuple[int, int] | None:
    """The (width, height) of a plain JPEG's frame, from its header alone: a hop from
    segment to segment up to the first scan, reading 4 bytes of each and the frame
    header's first 5, where ``Image.open`` reads and parses every segment (a camera
    photo's EXIF: ≈ 1 ms). ``None`` for anything this does not read simply — not a
    JPEG, a damaged or unusual header, a multi-picture file (an APP2 ``MPF`` segment:
    its later pictures are other frames), no frame header or a second one before the
    scan — so that the caller asks Pillow instead."""
    if fp.read(2) != b"\xff\xd8":
        return None
    size: tuple[int, int] | None = None
    for _ in range(_JPEG_MAX_SEGMENTS):
        head = fp.read(4)
        if len(head) < 4 or head[0] != 0xFF:
            return None
        marker, length = head[1], int.from_bytes(head[2:4], "big")
        if marker == _JPEG_SOS:
            return size
        if length < 2:
            return None
        if marker in _JPEG_SOF:
            frame = fp.read(5)  # precision, height, width
            if size is not None or len(frame) < 5 or length < 7:
                return None
            height, width = int.from_bytes(frame[1:3], "big"), int.from_bytes(frame[3:5], "big")
            if not (width and height):
                return None
            size = (width, height)
            fp.seek(length - 7, 1)
        elif marker == _JPEG_APP2 and length >= 6:
            if fp.read(4) == b"MPF\x00":
                return None
            fp.seek(length - 6, 1)
        else:
            fp.seek(length - 2, 1)
    return None
