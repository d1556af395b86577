"""Everything Pillow does for the library: detect the real format from the bytes, prove the
image decodes completely, measure it, and make its thumbnail — in one decode where the
format allows (a JPEG is validated while being decoded at reduced scale).

The modules on the window's launch path import this one (and so Pillow, ≈ 0.06 s of CPU)
inside the functions that decode, not at their top: the first screen decodes nothing
with Pillow (docs/performance.md, "6 — The window")."""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final, cast

from PIL import Image, ImageFile, UnidentifiedImageError

from . import animation, codecs, exif_read, format_heads, rules
from .decode_budget import DECODE_BUDGET
from .errors import MalformedImage, TooManyPixels, UnsupportedFormat

assert codecs  # imported for its registrations (HEIF)

# Never accept a partial image; our own pixel check runs before any decode, and Pillow's
# bomb guard stays on (at twice our limit it raises) as a second line of defence.
ImageFile.LOAD_TRUNCATED_IMAGES = False
Image.MAX_IMAGE_PIXELS = rules.MAX_PIXELS

# Pillow frees every image's pixel memory back to the system by default, so each decode
# (a 2 MB buffer for a 2 MP JPEG at 1/2 scale) and each resize faults fresh pages in:
# ≈ 2.5 ms of the ≈ 12 ms an upload's inspect costs (benchmarks/bench_upload.py). Keeping
# a few freed blocks for reuse removes that; at most 4 blocks of Pillow's 16 MiB block
# size (64 MiB) stay allocated, usually a few MB. ``PIL_BLOCKS_MAX`` still overrides.
_REUSED_BLOCKS: Final = 4
_PIL_CORE: Any = Image.core  # type: ignore[attr-defined]  # Pillow's C module: untyped
if "PIL_BLOCKS_MAX" not in os.environ and _PIL_CORE.get_blocks_max() < _REUSED_BLOCKS:
    _PIL_CORE.set_blocks_max(_REUSED_BLOCKS)


THUMBNAIL_JPEG_QUALITY = 85
# An opaque image this many times the box (or more, up to twice) is halved for its
# thumbnail rather than resampled to the box's exact size (``render_thumbnail``).
HALVED_FROM: Final = 1.95


@dataclass(frozen=True)
class ImageInfo:
    format: rules.ImageFormat
    width: int
    height: int
    thumbnail: bytes
    thumbnail_type: str  # "image/jpeg" or "image/png"


# The first bytes of each accepted format: a file that starts like one of ours but that
# Pillow cannot open is a damaged image of that format, not some other format.
_SIGNATURES: Final = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (format_heads.ICO_SIGNATURE, "ICO"),
)
_AVIF_BRANDS: Final = (b"avif", b"avis")
_HEIF_BRANDS: Final = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")


def _damaged_format(fp: BinaryIO) -> str | None:
    fp.seek(0)
    head = fp.read(16)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head[4:8] == b"ftyp":
        if head[8:12] in _AVIF_BRANDS:
            return "AVIF"
        if head[8:12] in _HEIF_BRANDS:
            return "HEIC/HEIF"
    return next((name for sig, name in _SIGNATURES if head.startswith(sig)), None)


def _sniff(fp: BinaryIO) -> str:
    """Human name of a well-known non-accepted format, for a clearer refusal."""
    fp.seek(0)
    head = fp.read(64)
    if not head:
        return "an empty file"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith(b"8BPS"):
        return "a Photoshop document (PSD)"
    if head[:1] == b"P" and head[1:2] in b"1234567" and head[2:3] in b" \t\r\n":
        return "a PPM/PGM/PBM image"
    if head.startswith(b"\xff\x0a") or head[4:8] == b"JXL ":
        return "a JPEG XL image"
    stripped = head.lstrip()
    if stripped.startswith((b"<?xml", b"<svg", b"<!DOCTYPE svg")):
        return "an SVG drawing"
    return "not an image this library accepts"


def _open_held(fp: BinaryIO) -> Image.Image:
    """``Image.open`` limited to the accepted formats. An ICO is decoded inside it (its
    plugin loads the largest image as it opens), so its real size is checked from the
    headers first and the decode budget held for it meanwhile."""
    fp.seek(0)
    head = fp.read(4)
    fp.seek(0)
    if head != format_heads.ICO_SIGNATURE:
        return Image.open(fp, formats=rules.PILLOW_FORMATS)
    pixels = format_heads.ico_largest_pixels(fp.read(rules.MAX_UPLOAD_BYTES + 1))
    fp.seek(0)
    with DECODE_BUDGET.hold(max(1, 2 * pixels)):  # the image and its RGBA conversion
        img = Image.open(fp, formats=rules.PILLOW_FORMATS)
    return img


@contextmanager
def pillow_warnings() -> Iterator[None]:
    """Around Pillow's open and decode: its bomb warning is an error (refused); the
    warnings its plugins give about a damaged file ("Tag data larger than file", "Image
    was not the expected size") are not — what follows from the damage is decided by
    the decode itself, and a hostile file should not fill the log."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def inspect(fp: BinaryIO) -> ImageInfo:
    """Validates the image in ``fp`` completely and returns its facts and thumbnail.

    Raises ``UnsupportedFormat``, ``MalformedImage`` or ``TooManyPixels``.
    """
    fp.seek(0)
    try:
        with pillow_warnings():
            img = _open_held(fp)
    except UnidentifiedImageError:
        damaged = _damaged_format(fp)
        if damaged is not None:
            article = "an" if damaged[0] in "AEIOU" else "a"
            raise MalformedImage(
                f"The file starts like {article} {damaged} image but is damaged or incomplete."
            ) from None
        what = _sniff(fp)
        raise UnsupportedFormat(
            f"This file is {what}; upload a {rules.HUMAN_FORMAT_LIST} image."
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooManyPixels(
            f"The image has more than {rules.MAX_PIXELS // 1_000_000} megapixels."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise MalformedImage(f"The image could not be read: {exc}.") from None
    with img:
        fp.seek(0)
        fmt = rules.format_of(img.format, fp.read(64))
        if fmt is None:
            raise UnsupportedFormat(f"Upload a {rules.HUMAN_FORMAT_LIST} image.")
        width, height = img.size
        if width <= 0 or height <= 0:
            raise MalformedImage("The image has no pixels.")
        if width * height > rules.MAX_PIXELS:
            raise TooManyPixels(
                f"The image is {width}×{height} ({width * height / 1e6:.0f} megapixels); "
                f"at most {rules.MAX_PIXELS // 1_000_000} megapixels are accepted."
            )
        try:
            with pillow_warnings():
                thumb, thumb_type, oriented = _thumbnail_and_validate(img, fp)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise TooManyPixels("The image has too many pixels to decode.") from None
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
            raise MalformedImage(
                f"The image is damaged or incomplete and cannot be decoded ({exc})."
            ) from None
    return ImageInfo(fmt, oriented[0], oriented[1], thumb, thumb_type)


def _thumbnail_and_validate(img: Image.Image, fp: BinaryIO) -> tuple[bytes, str, tuple[int, int]]:
    oriented_format = img.format in rules.ORIENTED_PILLOW_FORMATS
    orientation = exif_read.orientation_of(img.info) if oriented_format else 1
    width, height = img.size  # before draft() changes it
    frames = animation.plan(img, fp)  # headers only: refuses before any pixel is decoded
    if img.format in ("JPEG", "MPO"):
        # Decode at the smallest DCT scale that still covers the box: this decode reads
        # every byte of entropy data, so a truncated JPEG still fails here.
        img.draft(img.mode if img.mode in ("L", "RGB") else "RGB", rules.THUMBNAIL_BOX)
    # A multi-picture JPEG's later pictures decode at full size: hold for that.
    with DECODE_BUDGET.hold(_held_units(img, frames, width * height)):
        if img.format == "WEBP" and frames.frames == 1 and width * height > _BIG_WEBP_PIXELS:
            img = _decode_big_webp(img, fp)
        img.load()
        # Other Pillow animations (WebP, APNG, MPO) decode into this same image as they
        # seek: the thumbnail is made from a copy of the first frame.
        first = img.copy() if frames.frames > 1 and frames.gif is None else img
        animation.validate_frames(img, frames)  # every frame must decode
        if orientation != 1:
            first = first.transpose(Image.Transpose[exif_read.UPRIGHT[orientation]])
        shown = (width, height) if orientation in (1, 2, 3, 4) else (height, width)
        return (*render_thumbnail(first), shown)


# Above this, a still WebP is decoded by ``_decode_big_webp``.
_BIG_WEBP_PIXELS: Final = 16_000_000


def _decode_big_webp(img: Image.Image, fp: BinaryIO) -> Image.Image:
    """A large still WebP with a third of the memory. Pillow keeps libwebp's animation
    decoder (two canvases) alive while it copies the decoded bytes into its own image: a
    10000×10000 WebP peaked at 1.5 GB. Here the decoder goes as soon as it has given its
    bytes, and the image is a view of those bytes, not a copy (peak: 1.2 GB, for a moment;
    then 400 MB). Falls back to Pillow's way where its private ``_webp`` module differs."""
    try:
        from PIL import _webp

        fp.seek(0)
        decoder = _webp.WebPAnimDecoder(fp.read())
        decoded = decoder.get_next()
        del decoder
    except (ImportError, AttributeError, TypeError):
        return img
    if decoded is None:
        raise OSError("failed to decode the WebP image")
    data = decoded[0]
    if len(data) != img.width * img.height * 4 or img.mode not in ("RGB", "RGBA"):
        return img
    if img.mode == "RGBA":
        return Image.frombuffer("RGBA", img.size, data, "raw", "RGBA", 0, 1)
    # A view would be RGBX; the RGB copy is made once the decoder has gone.
    return Image.frombytes("RGB", img.size, data, "raw", "RGBX")


# Bytes Pillow keeps per pixel, by mode; everything else (RGB, RGBA, I, F, LA...) keeps 4.
_BYTES_PER_PIXEL: Final = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}


def _held_units(img: Image.Image, frames: animation.Plan, full_pixels: int) -> int:
    """What this decode will have in memory at once, in the budget's units (4 bytes):
    the decoded image, the converted copy the thumbnail needs, and for WebP the
    decoder's own canvas; a GIF's frames at their own size are a rounding error."""
    pixels = img.width * img.height if frames.frames == 1 else full_pixels
    units = pixels * _BYTES_PER_PIXEL.get(img.mode, 4) // 4
    if img.mode not in ("1", "L", "P", "RGB", "RGBA", "LA", *_WIDE_GREY):
        units += pixels  # converted to RGB(A) at full size for the thumbnail
    if img.format == "WEBP":
        units += 2 * pixels  # libwebp's two canvases while it decodes
    elif img.format in ("AVIF", "HEIF"):
        units += pixels  # the decoder's own planes (YUV, up to 16 bits) before conversion
    if frames.frames > 1 and frames.gif is None:
        units += pixels  # the first frame kept while the others decode
    return max(units, 1)


def render_thumbnail(img: Image.Image) -> tuple[bytes, str]:
    """Fits ``img`` within the thumbnail box (never enlarged): PNG where it has
    transparency, JPEG where it is opaque. ``img`` may be changed."""
    img = _to_eight_bits(_shrink_indexed(img))
    may_have_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or ("transparency" in img.info)
    if may_have_alpha:
        # An RGBA image is used as it is: convert() would copy all of it first.
        work = img if img.mode == "RGBA" else img.convert("RGBA")
    elif img.mode in ("RGB", "L"):
        work = img
    else:
        work = img.convert("RGB")
    factor = max(work.width / rules.THUMBNAIL_BOX[0], work.height / rules.THUMBNAIL_BOX[1])
    if work.mode in ("RGB", "L") and HALVED_FROM <= factor < 2:
        # Just under twice the box: halved (each pixel the mean of four), the thumbnail at
        # most 2.5 % under the box. A 12 MP camera JPEG (4000×3000, 4032×3024, 8064×6048)
        # decodes at reduced scale to this (1000×750): the halving costs 0.8 ms where the
        # resample to exactly 512×384 cost 3.0 (docs/performance.md, 21).
        work = work.reduce(2)
    elif factor > 1:
        # Box-reduce by the whole factor, then one antialiased pass for the rest: 2×
        # cheaper than bicubic with reducing_gap=2, and on a 512 px thumbnail the
        # difference does not show. What is left after a JPEG's reduced-scale decode is
        # a factor of 1.5-2 (1000 px → 512): an area average (BOX) is right for that and
        # the cheapest; a small remainder (after PNG's reduce) wants bilinear. This step
        # is what keeps a thumbnail near its decode time (benchmarks/bench_thumbnail.py).
        if work.mode in ("RGBA", "LA") and int(factor) >= 2:
            work = _reduce_in_strips(work, int(factor))
            factor = factor / int(factor)
        rest = factor / max(int(factor), 1)
        resample = Image.Resampling.BOX if rest >= 1.5 else Image.Resampling.BILINEAR
        work.thumbnail(rules.THUMBNAIL_BOX, resample, reducing_gap=1.0)
    # An alpha channel that is opaque everywhere is no transparency: checked on the small
    # image, where it costs nothing.
    if work.mode == "RGBA" and cast(tuple[tuple[int, int], ...], work.getextrema())[3][0] == 255:
        work = work.convert("RGB")
    out = io.BytesIO()
    if work.mode == "RGBA":
        work.save(out, "PNG", compress_level=6)
        return out.getvalue(), "image/png"
    work.save(out, "JPEG", quality=THUMBNAIL_JPEG_QUALITY)
    return out.getvalue(), "image/jpeg"


# Pixels of one strip of ``_reduce_in_strips``: 4 MP, 16 MB of RGBA.
_STRIP_PIXELS: Final = 4_000_000


def _reduce_in_strips(img: Image.Image, factor: int) -> Image.Image:
    """``img.reduce(factor)`` for RGBA/LA, a strip at a time. Pillow premultiplies alpha
    into a full-size copy before any resize or reduce of these modes: 400 MB more for a
    100-megapixel RGBA PNG. Strips are whole multiples of ``factor`` rows, so each
    reduces to exactly its rows of the result (the last one rounds up as reduce does)."""
    width, height = img.size
    rows = max(1, _STRIP_PIXELS // (width * factor)) * factor
    out = Image.new(img.mode, (-(-width // factor), -(-height // factor)))
    for top in range(0, height, rows):
        strip = img.crop((0, top, width, min(height, top + rows)))
        out.paste(strip.reduce(factor), (0, top // factor))
    out.info = dict(img.info)
    return out


def _shrink_indexed(img: Image.Image) -> Image.Image:
    """Palette and 1-bit images take a byte (or a bit) per pixel, but converted to RGBA
    at full size a 100-megapixel GIF needs 400 MB. Shrink them first to a few times the
    box with nearest neighbour, which is exact for palette indices and keeps the palette
    and transparency; the smooth resampling then runs on the converted small image."""
    limit_w, limit_h = rules.THUMBNAIL_BOX[0] * 4, rules.THUMBNAIL_BOX[1] * 4
    if img.mode not in ("P", "1", *_WIDE_GREY) or (img.width <= limit_w and img.height <= limit_h):
        return img
    scale = min(limit_w / img.width, limit_h / img.height)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.NEAREST)


# 16-bit (and 32-bit integer) greyscale: PNG allows it, scanners and microscopes make it.
_WIDE_GREY: Final = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def _to_eight_bits(img: Image.Image) -> Image.Image:
    """Pillow's own conversion of 16-bit greyscale to RGB clips at 255, so anything
    brighter than 0.4 % grey came out white; scale the 16-bit range down instead."""
    if img.mode not in _WIDE_GREY:
        return img
    return img.convert("I").point(lambda v: v * (1 / 256)).convert("L")


def inspect_path(path: Path) -> ImageInfo:
    with open(path, "rb") as fp:
        return inspect(fp)


def embedded_metadata(data: bytes) -> tuple[bytes | None, bytes | None]:
    """The EXIF and XMP of a HEIF or AVIF file as its decoder reads them (headers only,
    no pixel decoded); ``(None, None)`` when it cannot be opened."""
    try:
        with pillow_warnings(), Image.open(io.BytesIO(data), formats=("HEIF", "AVIF")) as img:
            exif, xmp = img.info.get("exif"), img.info.get("xmp")
    except (OSError, SyntaxError, ValueError, EOFError, UnidentifiedImageError):
        return None, None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None, None
    return (
        exif if isinstance(exif, bytes) else None,
        xmp.encode() if isinstance(xmp, str) else xmp if isinstance(xmp, bytes) else None,
    )
