"""What the headers of some formats say before Pillow opens them, for the formats whose
Pillow plugin decodes pixels inside ``Image.open`` (before any size check of ours).

An ICO is a directory of images, each a PNG or a headerless BMP (DIB), and Pillow loads
the largest one as it opens the file. Its directory says at most 256×256 per image, but
the PNG inside may be of any size: a 10 KB icon can hold a 100-megapixel PNG. Here the
real size of every image in it is read from its own header, so the pixel limit and the
decode budget apply to what will actually be decoded."""

from __future__ import annotations

import struct
from typing import Final

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
