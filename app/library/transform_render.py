"""The transform pipeline: one decode of the original (at reduced DCT scale for JPEG, as
the thumbnail path does), orientation applied, the region of the plan scaled to its
size, transparency flattened onto white for JPEG, encoded with ICC kept and no other
metadata. ``render`` runs in a worker process (``transform_workers``); the server's
process holds the decode budget for it, sized by ``decoded_pixels`` from the header."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from . import rules
from .errors import MalformedImage, NotFound, TooManyPixels
from .files import storage_error
from .imaging import _to_eight_bits, pillow_warnings
from .transform_spec import Plan, TransformSpec, plan

# Orientation is read where the library reads it when measuring (imaging.inspect), so a
# transform's geometry agrees with the record's width and height.
_ORIENTED_FORMATS: Final = rules.ORIENTED_PILLOW_FORMATS
_SWAPS_AXES: Final = (5, 6, 7, 8)
_OPEN_FORMATS: Final = (*rules.PILLOW_FORMATS, "MPO")
_WHITE: Final = (255, 255, 255)


@contextmanager
def _opened(path: Path) -> Iterator[Image.Image]:
    """The original opened (header read, nothing decoded), with every failure of it or of
    its decode as the library's error: ``NotFound`` when the file is gone,
    ``MalformedImage`` when it no longer decodes, ``StorageError`` when the disk refuses."""
    try:
        with (
            open(path, "rb") as fp,
            pillow_warnings(),
            Image.open(fp, formats=_OPEN_FORMATS) as img,
        ):
            yield img
    except FileNotFoundError:
        raise NotFound("The image's file is missing from the library folder.") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooManyPixels("The image has too many pixels to transform.") from None
    except (SyntaxError, ValueError, EOFError, UnidentifiedImageError) as exc:
        raise MalformedImage(f"The library's file of this image no longer decodes: {exc}.") from exc
    except OSError as exc:
        if isinstance(exc.errno, int):
            raise storage_error(exc, "read the image") from exc
        raise MalformedImage(f"The library's file of this image no longer decodes: {exc}.") from exc


@dataclass(frozen=True, slots=True)
class _Setup:
    orientation: int
    oriented: tuple[int, int]  # the full-size picture as shown
    geometry: Plan


def _set_up(img: Image.Image, spec: TransformSpec) -> _Setup:
    """Plans the result and sets a JPEG to decode at the smallest DCT scale that still
    has every output pixel's worth (``img.size`` is then the decoded size)."""
    orientation = img.getexif().get(0x0112, 1) if img.format in _ORIENTED_FORMATS else 1
    raw_w, raw_h = img.size
    oriented = (raw_h, raw_w) if orientation in _SWAPS_AXES else (raw_w, raw_h)
    geometry = plan(oriented, spec)
    box_w = geometry.box[2] - geometry.box[0]
    box_h = geometry.box[3] - geometry.box[1]
    scale = max(geometry.size[0] / box_w, geometry.size[1] / box_h)
    if img.format in ("JPEG", "MPO") and scale < 1.0:
        want = (max(1, math.ceil(raw_w * scale)), max(1, math.ceil(raw_h * scale)))
        img.draft(img.mode if img.mode in ("L", "RGB") else "RGB", want)
    return _Setup(orientation, oriented, geometry)


def decoded_pixels(path: Path, spec: TransformSpec) -> int:
    """How many pixels ``render(path, spec)`` will decode: its share of the decode budget,
    known from the header alone."""
    with _opened(path) as img:
        _set_up(img, spec)
        return img.size[0] * img.size[1]


def render(path: Path, spec: TransformSpec) -> bytes:
    """The encoded result of ``spec`` applied to the original at ``path``. The caller
    holds ``decoded_pixels(path, spec)`` of the decode budget meanwhile."""
    with _opened(path) as img:
        setup = _set_up(img, spec)
        decoded_w, decoded_h = img.size
        img.load()
        icc = img.info.get("icc_profile")
        work: Image.Image = img
        if setup.orientation != 1:
            work = ImageOps.exif_transpose(work)
        # The plan is in full-size pixels; a reduced decode is smaller by these factors.
        swapped = setup.orientation in _SWAPS_AXES
        fx = (decoded_h if swapped else decoded_w) / setup.oriented[0]
        fy = (decoded_w if swapped else decoded_h) / setup.oriented[1]
        left, top, right, bottom = setup.geometry.box
        box = (left * fx, top * fy, right * fx, bottom * fy)
        size = setup.geometry.size
        work, icc = _resamplable(work, icc)
        if work.size != size or box != (0.0, 0.0, *map(float, work.size)):
            work = work.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
        return _encode(work, spec, icc)


def _resamplable(img: Image.Image, icc: bytes | None) -> tuple[Image.Image, bytes | None]:
    """``img`` in a mode smooth resampling works on (L, LA, RGB, RGBA), and the ICC
    profile that still describes it."""
    if img.mode in ("L", "RGB", "RGBA", "LA"):
        return img, icc
    if img.mode == "CMYK":
        if icc:
            try:
                source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                srgb = ImageCms.createProfile("sRGB")
                converted = ImageCms.profileToProfile(img, source, srgb, outputMode="RGB")
                if converted is not None:
                    return converted, None  # untagged now means sRGB
            except (ImageCms.PyCMSError, OSError):
                pass
        return img.convert("RGB"), None  # a CMYK profile cannot describe RGB pixels
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        return _to_eight_bits(img), icc
    if img.mode == "F":
        return img.convert("L"), icc
    has_alpha = img.mode in ("PA", "La", "RGBa") or "transparency" in img.info
    return img.convert("RGBA" if has_alpha else "RGB"), icc


def _encode(img: Image.Image, spec: TransformSpec, icc: bytes | None) -> bytes:
    fmt = spec.output.pillow_name
    if img.mode in ("RGBA", "LA") and img.getchannel(img.mode[-1]).getextrema()[0] == 255:
        img = img.convert("RGB" if img.mode == "RGBA" else "L")  # alpha opaque everywhere
    if fmt == "JPEG" and img.mode in ("RGBA", "LA"):
        flat = Image.new("RGB", img.size, _WHITE)
        rgba = img.convert("RGBA")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        img = flat
    elif fmt == "AVIF" and img.mode in ("L", "LA"):
        img = img.convert("RGBA" if img.mode == "LA" else "RGB")
    # Encoders fall back to the image's own info (XMP, EXIF, comments): start clean, so
    # only the ICC profile passed below is written.
    img.info = {}
    options: dict[str, Any] = {}
    if spec.quality is not None:
        options["quality"] = spec.quality
    if icc and fmt != "GIF":
        options["icc_profile"] = icc
    if fmt == "PNG":
        options["compress_level"] = 6
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def upright(path: Path) -> Image.Image:
    """The whole picture of the original at ``path``, upright, as 8-bit RGB or RGBA: what
    the window's viewer shows for the formats Qt cannot read (HEIC/HEIF, AVIF) and for
    icons (Qt's reader takes an icon's first image, the library its largest). The
    caller holds the decode budget for the image's pixels meanwhile."""
    with _opened(path) as img:
        orientation = img.getexif().get(0x0112, 1) if img.format in _ORIENTED_FORMATS else 1
        img.load()
        work: Image.Image = ImageOps.exif_transpose(img) if orientation != 1 else img
        work, _icc = _resamplable(work, None)
        if work.mode not in ("RGB", "RGBA"):
            work = work.convert("RGBA" if work.mode == "LA" else "RGB")
        # Closing the file closes ``img``: what is returned must be a copy of it.
        return work.copy() if work is img else work
