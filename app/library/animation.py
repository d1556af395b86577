"""Animations validated without decoding more than they hold.

Pillow composites every frame of a GIF, WebP or APNG onto the full logical screen: a
1.4 KB GIF with a 10000×10000 screen and sixty 1×1 frames cost 12 s and 1.1 GB to
accept. Here the frame count and the pixels every frame will cost are read from the
headers first and refused past ``rules.MAX_FRAMES`` / ``rules.MAX_DECODED_PIXELS``;
a GIF's frames are then decoded each at its own size (its LZW data wrapped as a
one-frame GIF of that size), so sixty 1×1 frames cost sixty pixels. WebP and APNG have
no such cheap way in Pillow: their cost is frames × screen, which the limit bounds.
Between frames the work stops when the client that asked for it has gone."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import BinaryIO, Final

from PIL import Image

from . import rules
from .decode_budget import check_cancelled
from .errors import MalformedImage, TooManyFrames, TooManyPixels

_GIF_TRAILER: Final = b"\x3b"


@dataclass(frozen=True, slots=True)
class GifFrame:
    width: int
    height: int
    packed: int  # the image descriptor's flags (local colour table, interlace)
    local_table: bytes
    data: slice  # the LZW minimum code size byte through the terminating empty block


@dataclass(frozen=True, slots=True)
class Plan:
    """What validating every frame will decode."""

    frames: int
    gif: tuple[bytes, tuple[GifFrame, ...]] | None = None  # (the file, its frames)


def _refuse_frames(count: int) -> TooManyFrames:
    return TooManyFrames(
        f"The animation has more than {rules.MAX_FRAMES:,} frames; at most "
        f"{rules.MAX_FRAMES:,} are accepted."
        if count > rules.MAX_FRAMES
        else f"The animation has {count:,} frames."
    )


def _refuse_pixels(total: int) -> TooManyPixels:
    return TooManyPixels(
        f"Decoding every frame of this animation takes {total / 1e6:,.0f} megapixels; "
        f"at most {rules.MAX_DECODED_PIXELS // 1_000_000:,} megapixels are accepted."
    )


def plan(img: Image.Image, fp: BinaryIO) -> Plan:
    """The frames to validate, from headers only; refuses too many frames or pixels."""
    if img.format == "GIF":
        fp.seek(0)
        data = fp.read()
        frames = gif_frames(data)
        return Plan(len(frames), (data, frames))
    if img.format in rules.FIRST_PAGE_PILLOW_FORMATS:
        return Plan(1)  # only the first page (TIFF) or primary image (HEIF) is the image
    count = int(getattr(img, "n_frames", 1) or 1)
    if count > rules.MAX_FRAMES:
        raise _refuse_frames(count)
    total = count * img.width * img.height
    if count > 1 and total > rules.MAX_DECODED_PIXELS:
        raise _refuse_pixels(total)
    return Plan(count)


def validate_frames(img: Image.Image, frames: Plan) -> None:
    """Decodes every frame after the first (already loaded by the caller)."""
    if frames.gif is not None:
        data, gif = frames.gif
        for frame in gif[1:]:
            check_cancelled()
            _decode_gif_frame(data, frame)
        return
    for index in range(1, frames.frames):
        check_cancelled()
        img.seek(index)
        img.load()


def gif_frames(data: bytes) -> tuple[GifFrame, ...]:
    """Walks a GIF's blocks (no decoding); refuses more than ``MAX_FRAMES`` frames, a
    frame over ``MAX_PIXELS`` or frames whose pixels add up past ``MAX_DECODED_PIXELS``."""
    frames: list[GifFrame] = []
    total = 0
    try:
        packed = data[10]
        pos = 13 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
        while pos < len(data):
            block = data[pos]
            if block == 0x21:  # extension: introducer, label, sub-blocks
                pos = _skip_sub_blocks(data, pos + 2)
            elif block == 0x2C:  # image descriptor
                _, _, width, height, flags = struct.unpack_from("<HHHHB", data, pos + 1)
                pos += 10
                table = 3 << ((flags & 7) + 1) if flags & 0x80 else 0
                local_table = data[pos : pos + table]
                pos += table
                start = pos
                pos = _skip_sub_blocks(data, pos + 1)
                if pos > len(data):
                    raise IndexError
                frames.append(GifFrame(width, height, flags, local_table, slice(start, pos)))
                if len(frames) > rules.MAX_FRAMES:
                    raise _refuse_frames(len(frames))
                if width * height > rules.MAX_PIXELS:
                    raise TooManyPixels(
                        f"A frame of the animation is {width}×{height}; at most "
                        f"{rules.MAX_PIXELS // 1_000_000} megapixels are accepted."
                    )
                total += width * height
                if total > rules.MAX_DECODED_PIXELS:
                    raise _refuse_pixels(total)
            else:  # the trailer, or bytes after the last block (Pillow stops there too)
                break
    except (IndexError, struct.error):
        raise MalformedImage("The GIF image is damaged or incomplete.") from None
    return tuple(frames)


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    while True:
        size = data[pos]
        pos += 1
        if size == 0:
            return pos
        pos += size


def _decode_gif_frame(data: bytes, frame: GifFrame) -> None:
    """Decodes one frame at its own size: its data as a one-frame GIF of that size."""
    if frame.width == 0 or frame.height == 0:
        return
    screen_flags = data[10]
    table = data[13 : 13 + (3 << ((screen_flags & 7) + 1))] if screen_flags & 0x80 else b""
    one = b"".join(
        (
            b"GIF89a",
            struct.pack("<HHBBB", frame.width, frame.height, screen_flags, 0, 0),
            table,
            b"\x2c",
            struct.pack("<HHHHB", 0, 0, frame.width, frame.height, frame.packed),
            frame.local_table,
            data[frame.data],
            _GIF_TRAILER,
        )
    )
    with Image.open(io.BytesIO(one), formats=("GIF",)) as single:
        single.load()
