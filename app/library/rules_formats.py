"""The image formats the library accepts (Pillow name, content type, extensions, how a
HEIF file is told HEIC from HEIF) and the formats a transform on the proxy may produce,
with the transform limits. Part of ``rules``, which re-exports every name here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "AVIF",
    "BMP",
    "FALLBACK_OUTPUT",
    "FIRST_PAGE_PILLOW_FORMATS",
    "FIT_COVER",
    "FIT_INSIDE",
    "FORMATS",
    "FORMAT_BY_CONTENT_TYPE",
    "FORMAT_BY_PILLOW_NAME",
    "GIF",
    "HEIC",
    "HEIF",
    "HUMAN_FORMAT_LIST",
    "ICO",
    "IMAGE_EXTENSIONS",
    "JPEG",
    "LINK_PARAMETERS",
    "ORIENTED_PILLOW_FORMATS",
    "OUTPUT_FORMATS",
    "PILLOW_FORMATS",
    "PNG",
    "TIFF",
    "TRANSFORM_ANSWER_S",
    "TRANSFORM_CACHE_DEFAULT_BYTES",
    "TRANSFORM_MAX_SIDE",
    "TRANSFORM_MAX_WAIT_S",
    "TRANSFORM_PARAMETERS",
    "WEBP",
    "ImageFormat",
    "OutputFormat",
    "format_of",
    "heif_format",
]

# --- formats -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageFormat:
    pillow_name: str
    content_type: str
    extension: str
    other_extensions: tuple[str, ...] = ()

    @property
    def extensions(self) -> tuple[str, ...]:
        return (self.extension, *self.other_extensions)


JPEG: Final = ImageFormat("JPEG", "image/jpeg", ".jpg", (".jpeg", ".jpe", ".jfif"))
PNG: Final = ImageFormat("PNG", "image/png", ".png")
GIF: Final = ImageFormat("GIF", "image/gif", ".gif")
WEBP: Final = ImageFormat("WEBP", "image/webp", ".webp")
# Contract Part 2, "More formats". AVIF is Pillow's own (libavif); HEIF comes from
# pillow-heif (libheif with libde265), registered by ``codecs``. One Pillow format, HEIF,
# is two content types: HEVC-coded (almost every phone picture) is image/heic, anything
# else in the HEIF container image/heif (``heif_format`` decides from the file's brands).
AVIF: Final = ImageFormat("AVIF", "image/avif", ".avif")
HEIC: Final = ImageFormat("HEIF", "image/heic", ".heic", (".hif",))
HEIF: Final = ImageFormat("HEIF", "image/heif", ".heif")
TIFF: Final = ImageFormat("TIFF", "image/tiff", ".tiff", (".tif",))
BMP: Final = ImageFormat("BMP", "image/bmp", ".bmp", (".dib",))
ICO: Final = ImageFormat("ICO", "image/vnd.microsoft.icon", ".ico")

FORMATS: Final[tuple[ImageFormat, ...]] = (JPEG, PNG, GIF, WEBP, AVIF, HEIC, HEIF, TIFF, BMP, ICO)
# Pillow reports multi-picture JPEGs (many phone cameras) as MPO; the bytes are JPEG.
# HEIF is decided by ``heif_format`` (HEIC unless the file says otherwise).
FORMAT_BY_PILLOW_NAME: Final = {f.pillow_name: f for f in FORMATS if f is not HEIF} | {"MPO": JPEG}
FORMAT_BY_CONTENT_TYPE: Final = {f.content_type: f for f in FORMATS}
IMAGE_EXTENSIONS: Final = frozenset(ext for f in FORMATS for ext in f.extensions)
PILLOW_FORMATS: Final = tuple(dict.fromkeys(f.pillow_name for f in FORMATS))
HUMAN_FORMAT_LIST: Final = "JPEG, PNG, GIF, WebP, AVIF, HEIC/HEIF, TIFF, BMP or ICO"
# Formats whose EXIF orientation the library applies itself. Pillow turns TIFF pages and
# pillow-heif turns HEIF images upright as they load (their size is the upright one);
# JPEG, WebP and AVIF come as stored, with the orientation to apply in their EXIF.
ORIENTED_PILLOW_FORMATS: Final = ("JPEG", "MPO", "WEBP", "AVIF")
# Formats of which only the first page (TIFF) or primary image (HEIF) is the image: it is
# the one measured, validated and thumbnailed; the rest of the file is kept as it is.
FIRST_PAGE_PILLOW_FORMATS: Final = ("TIFF", "HEIF")
# ISO BMFF brands of HEVC-coded HEIF (ISO/IEC 23008-12 Annex B).
_HEVC_BRANDS: Final = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm"})


def heif_format(head: bytes) -> ImageFormat:
    """HEIC or HEIF, from the ``ftyp`` box at the start of a HEIF file (its major and
    compatible brands): HEVC-coded is ``image/heic``, anything else ``image/heif``."""
    if head[4:8] != b"ftyp" or len(head) < 16:
        return HEIF
    size = min(int.from_bytes(head[:4], "big"), len(head))
    brands = {head[8:12], *(head[i : i + 4] for i in range(16, size - 3, 4))}
    return HEIC if brands & _HEVC_BRANDS else HEIF


def format_of(pillow_name: str | None, head: bytes) -> ImageFormat | None:
    """The accepted format Pillow found (``None`` for any other), ``head`` being the
    file's first bytes (at least 64: a HEIF ``ftyp`` box with its brands)."""
    if pillow_name == "HEIF":
        return heif_format(head)
    return FORMAT_BY_PILLOW_NAME.get(pillow_name or "")


# --- transforms on the proxy (contract Part 2, "Transforms on the proxy") -----------------


@dataclass(frozen=True)
class OutputFormat:
    """A format a transform may produce: ``/i/{id}.{ext}`` asks for it."""

    pillow_name: str
    content_type: str
    extension: str  # of cache files, without the dot
    default_quality: int | None  # None: lossless, ``q`` is refused


OUTPUT_FORMATS: Final = {
    "jpg": OutputFormat("JPEG", "image/jpeg", "jpg", 85),
    "jpeg": OutputFormat("JPEG", "image/jpeg", "jpg", 85),
    "png": OutputFormat("PNG", "image/png", "png", None),
    "webp": OutputFormat("WEBP", "image/webp", "webp", 80),
    "gif": OutputFormat("GIF", "image/gif", "gif", None),
    "avif": OutputFormat("AVIF", "image/avif", "avif", 60),
}
# The output of a transform of an original whose own format is not one of the above
# (HEIC/HEIF, TIFF, BMP, ICO) when no extension asks for one: lossless, and it keeps
# transparency (docs/http-api.md, "Decisions: more formats").
FALLBACK_OUTPUT: Final = "png"
TRANSFORM_MAX_SIDE: Final = 4096
TRANSFORM_PARAMETERS: Final = ("w", "h", "crop", "fit", "q")
# Parameters of every /i link that are not transform parameters: ``variant`` (thumbnail)
# and ``v`` (the version that makes a link immutable; see docs/http-api.md, caching).
LINK_PARAMETERS: Final = ("variant", "v")
FIT_INSIDE: Final = "inside"
FIT_COVER: Final = "cover"
TRANSFORM_CACHE_DEFAULT_BYTES: Final = 1024**3
# A request waits at most this long for a transform slot, the decode budget or an
# identical request's result (8 s, so that with the work itself the answer comes within
# 10 s): past it the answer is 503 busy with Retry-After.
TRANSFORM_MAX_WAIT_S: Final = 8.0
# The contract's "never a wait over 10 s", with half a second to send the answer: a
# request whose result is still being made then is told 503 busy, and the work goes on
# into the cache, where the request's retry finds it.
TRANSFORM_ANSWER_S: Final = 9.5
