"""Every rule of the library, each defined once: formats, limits, ids, folders, alt text,
filenames. The GUI, the server and the tests import these rather than restating them."""

from __future__ import annotations

import re
import secrets
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from ulid import ULID

from .errors import (
    InvalidAltText,
    InvalidFolder,
    InvalidInput,
    InvalidLongDescription,
    InvalidParameter,
)

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


# --- serving -----------------------------------------------------------------------------

DEFAULT_HOST: Final = "127.0.0.1"  # loopback: sharing on the LAN is asked for, never assumed
DEFAULT_PORT: Final = 8765
IMAGE_LINK_PREFIX: Final = "/i/"
THUMBNAIL_VARIANT: Final = "thumbnail"


def image_link(base_url: str, image_id: str, *, thumbnail: bool = False) -> str:
    """The public link of an image (``base_url`` without a trailing slash): the one
    format the API's ``url``/``thumbnail_url`` and the window's "Copy link" use."""
    link = f"{base_url}{IMAGE_LINK_PREFIX}{image_id}"
    return f"{link}?variant={THUMBNAIL_VARIANT}" if thumbnail else link


# --- limits ------------------------------------------------------------------------------

MAX_UPLOAD_BYTES: Final = 10 * 1024 * 1024
# The limit as messages say it: "10 MiB (10,485,760 bytes)".
UPLOAD_LIMIT_TEXT: Final = f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MiB ({MAX_UPLOAD_BYTES:,} bytes)"
TOO_LARGE_MESSAGE: Final = (
    f"The file is larger than {UPLOAD_LIMIT_TEXT}, the most one image may be."
)
MAX_PIXELS: Final = 100_000_000
# Animations: validating one decodes every frame. A GIF's frames are decoded at their own
# size (their sum counts); WebP and APNG frames are composited onto the whole screen
# (frames × screen counts). 1,000 megapixels is a few seconds of decoding at most.
MAX_FRAMES: Final = 2_000
MAX_DECODED_PIXELS: Final = 1_000_000_000
THUMBNAIL_BOX: Final = (512, 512)
MAX_ALT_TEXT_CHARS: Final = 2000
# IPTC Photo Metadata 2021.1 advises alt text of about 250 characters (a guide the editor
# shows, not a limit: the limit is MAX_ALT_TEXT_CHARS).
ALT_TEXT_GUIDANCE_CHARS: Final = 250
# IPTC's Extended Description (Accessibility), for what alt text cannot hold.
MAX_LONG_DESCRIPTION_CHARS: Final = 10_000
# XMP read from a file is bounded before it is parsed (an XML bomb is refused anyway).
MAX_XMP_PACKET_BYTES: Final = 1024 * 1024
# An XMP packet in a JPEG lives in one APP1 segment: 65,535 bytes less the length field
# and the namespace header, and XMP Part 3 caps the packet at 65,502 bytes.
MAX_JPEG_XMP_PACKET_BYTES: Final = 65_502
# An EXIF block outside JPEG (PNG eXIf, WebP EXIF, HEIF) larger than this is not read
# (JPEG's APP1 holds at most 64 KiB; a camera's block is a few tens of kilobytes).
MAX_EXIF_BYTES: Final = 1024 * 1024
# Formats whose files can carry an XMP packet that Imageshelf writes (alt text written
# back, exports embedding it). GIF can hold XMP only in an application extension that
# few readers look for; it is refused rather than half-supported.
XMP_WRITABLE_TYPES: Final = frozenset({"image/jpeg", "image/png", "image/webp"})
MAX_FOLDER_SEGMENT_CHARS: Final = 64
MAX_FOLDER_DEPTH: Final = 8
# Filesystems limit a name to 255 bytes: 64 emoji are 256.
MAX_FOLDER_SEGMENT_BYTES: Final = 255
MAX_FILENAME_STEM_CHARS: Final = 120
# Filesystems count bytes, not characters (255 on ext4/APFS/NTFS-via-UTF-8): 120 emoji are
# 480 bytes. This leaves room for a "-12345" suffix and the extension.
MAX_FILENAME_STEM_BYTES: Final = 200
DEFAULT_PAGE_SIZE: Final = 25
MAX_PAGE_SIZE: Final = 100
# Listing filters (contract Part 2): ``ids`` and ``meta.KEY=VALUE`` per request.
MAX_IDS_FILTER: Final = 100
MAX_META_FILTERS: Final = 5

# --- custom_metadata (contract Part 2; checked by custom_metadata.py) ---------------------

MAX_METADATA_KEYS: Final = 50
# 1-40 of A-Z a-z 0-9 _ . -, not starting with "." or "-".
METADATA_KEY_RE: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,39}")
MAX_METADATA_STRING_CHARS: Final = 500
# The whole object as compact JSON (UTF-8 bytes).
MAX_METADATA_BYTES: Final = 8 * 1024

# --- ids ---------------------------------------------------------------------------------

ID_PREFIX: Final = "img_"
_ID_RE: Final = re.compile(r"img_[0-9A-HJKMNP-TV-Z]{26}")


def new_image_id() -> str:
    """A ULID: 48 bits of milliseconds, then 80 fresh random bits every time.

    python-ulid's ``ULID()`` is monotonic: within one millisecond it adds 1 to the last
    random part, so an id made just after a neighbour's (a share link, an /i link) could
    be guessed from it. Ids here stay sortable by time, never by sequence."""
    millis = time.time_ns() // 1_000_000
    return ID_PREFIX + str(ULID.from_bytes(millis.to_bytes(6, "big") + secrets.token_bytes(10)))


def is_image_id(value: str) -> bool:
    return bool(_ID_RE.fullmatch(value))


# --- folders -----------------------------------------------------------------------------

# Characters refused in folder segments on top of control characters: the two path
# separators, exactly as the contract says. Names such as "Trip: Paris", which a person
# can give a folder in any Linux or macOS file manager, stay part of the library.
_FOLDER_FORBIDDEN_CHARS: Final = frozenset("/\\")


def _has_control(text: str) -> bool:
    # Fast path (C speed; reconciliation asks this of every file at open): a printable
    # string holds none of these categories — checked for every code point.
    if text.isprintable():
        return False
    # "Cs": unpaired surrogates (JSON can carry "\ud800") are not text: they cannot be
    # encoded as UTF-8, neither for the database nor for the filesystem.
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in text)


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def normalize_folder(value: object) -> str | None:
    """Returns the canonical folder (``None`` for the root) or raises ``InvalidFolder``.

    Surrounding spaces and leading/trailing ``/`` are stripped; ``""`` means the root.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidFolder("The folder must be a text path such as 'brand' or 'clients/acme'.")
    text = value.strip().strip("/").strip()
    if text == "":
        return None
    segments = text.split("/")
    if len(segments) > MAX_FOLDER_DEPTH:
        raise InvalidFolder(f"A folder can be at most {MAX_FOLDER_DEPTH} levels deep.")
    for seg in segments:
        check_folder_segment(seg)
    return unicodedata.normalize("NFC", "/".join(segments))


def check_folder_segment(seg: str) -> None:
    if not seg:
        raise InvalidFolder("A folder path cannot contain an empty part ('//').")
    if seg in (".", ".."):
        raise InvalidFolder("A folder cannot be '.' or '..'.")
    if len(seg) > MAX_FOLDER_SEGMENT_CHARS:
        raise InvalidFolder(
            f"Each folder name can be at most {MAX_FOLDER_SEGMENT_CHARS} characters long."
        )
    if len(seg.encode("utf-8", "surrogatepass")) > MAX_FOLDER_SEGMENT_BYTES:
        raise InvalidFolder(
            f"The folder name {seg[:16]!r}… is too long for the disk; use fewer or plainer "
            "characters."
        )
    if seg.startswith("."):
        raise InvalidFolder(f"Folder names cannot start with a dot: {seg!r}.")
    if seg != seg.strip():
        raise InvalidFolder(f"Folder names cannot start or end with spaces: {seg!r}.")
    if "\x00" in seg or _has_control(seg) or any(ch in _FOLDER_FORBIDDEN_CHARS for ch in seg):
        raise InvalidFolder(
            f"The folder name {seg!r} contains a character that is not allowed "
            "(a control character or a backslash)."
        )


def is_valid_folder(value: str | None) -> bool:
    try:
        normalize_folder(value)
    except InvalidFolder:
        return False
    return True


# --- alt text ----------------------------------------------------------------------------


def normalize_alt_text(value: object) -> str | None:
    """``None`` = not described yet; ``""`` = decorative. Line endings become ``\\n``."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidAltText("Alt text must be text, or null for 'not described yet'.")
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_ALT_TEXT_CHARS:
        raise InvalidAltText(
            f"Alt text can be at most {MAX_ALT_TEXT_CHARS} characters; this has {len(text)}."
        )
    if any(ch not in "\n\t" and unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidAltText("Alt text cannot contain control characters.")
    if _has_surrogate(text):
        raise InvalidAltText("Alt text contains invalid characters (unpaired surrogates).")
    return text


def normalize_long_description(value: object) -> str | None:
    """``None`` = none; otherwise text of at most ``MAX_LONG_DESCRIPTION_CHARS``."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidLongDescription("The long description must be text, or null for none.")
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_LONG_DESCRIPTION_CHARS:
        raise InvalidLongDescription(
            f"The long description can be at most {MAX_LONG_DESCRIPTION_CHARS:,} characters; "
            f"this has {len(text):,}."
        )
    if any(ch not in "\n\t" and unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidLongDescription("The long description cannot contain control characters.")
    if _has_surrogate(text):
        raise InvalidLongDescription(
            "The long description contains invalid characters (unpaired surrogates)."
        )
    return text


# --- search ------------------------------------------------------------------------------


def normalize_search(value: object) -> str | None:
    """The search term, ``None`` for no search; ``InvalidInput`` for what is not text."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput("search must be text.")
    if _has_surrogate(value):
        raise InvalidInput("search contains invalid characters (unpaired surrogates).")
    # No searched field can hold a control character other than a newline or tab (alt
    # text refuses them, names drop them); a NUL would also break the full-text query.
    if any(ch not in "\n\t" and unicodedata.category(ch) == "Cc" for ch in value):
        raise InvalidInput("search cannot contain control characters.")
    return value


# --- filenames ---------------------------------------------------------------------------

_UNSAFE_FILENAME_RE: Final = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def safe_stem(original_filename: str | None) -> str:
    """A filesystem-safe stem derived from what the client called the file."""
    name = original_filename or ""
    # Keep only the last path part, whichever separator the client's system used.
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    stem = "".join(ch for ch in stem if not _has_control(ch))
    stem = _UNSAFE_FILENAME_RE.sub("_", stem)
    stem = stem.strip().lstrip(".").strip()
    stem = stem[:MAX_FILENAME_STEM_CHARS]
    stem = stem.encode()[:MAX_FILENAME_STEM_BYTES].decode(errors="ignore").rstrip(". ")
    return stem or "image"


def candidate_filenames(original_filename: str | None, fmt: ImageFormat) -> Iterator[str]:
    """``logo.png``, ``logo-2.png``, ``logo-3.png``, ... for the first free one to be taken."""
    stem = safe_stem(original_filename)
    yield stem + fmt.extension
    n = 2
    while True:
        yield f"{stem}-{n}{fmt.extension}"
        n += 1


def is_adoptable_filename(name: str) -> bool:
    """Whether a file found on disk is a candidate image: visible, an image extension."""
    if name.startswith(".") or _has_control(name):
        return False
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in IMAGE_EXTENSIONS


def clean_original_filename(value: object) -> str:
    """The client's name kept for display: any path parts and control characters dropped."""
    if not isinstance(value, str):
        return "image"
    name = value.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not _has_control(ch)).strip()
    return name[:255] or "image"


def check_page(page: object, page_size: object) -> tuple[int, int]:
    """Validates paging; ``InvalidInput`` for anything out of range."""
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        raise InvalidInput("page must be a whole number of at least 1.")
    if (
        not isinstance(page_size, int)
        or isinstance(page_size, bool)
        or not 1 <= page_size <= MAX_PAGE_SIZE
    ):
        raise InvalidInput(f"page_size must be a whole number from 1 to {MAX_PAGE_SIZE}.")
    return page, page_size


def check_limit(limit: object) -> int:
    """A cursor page's ``limit``; ``InvalidParameter`` out of 1-100."""
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidParameter(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}.")
    return limit


def parse_ids(values: list[str]) -> tuple[str, ...]:
    """The ``ids`` filter from its query values (comma-separated, or repeated): each an
    image id, at most ``MAX_IDS_FILTER`` different ones; ``InvalidParameter`` else."""
    found: dict[str, None] = {}
    for value in values:
        for part in value.split(","):
            item = part.strip()
            if not is_image_id(item):
                shown = item if len(item) <= 40 else item[:40] + "..."
                raise InvalidParameter(
                    f"ids must be image ids (img_ and 26 characters) separated by commas; "
                    f"{shown!r} is not one."
                )
            found[item] = None
    if len(found) > MAX_IDS_FILTER:
        raise InvalidParameter(
            f"ids names {len(found)} images; at most {MAX_IDS_FILTER} are allowed."
        )
    return tuple(found)


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


# --- trash -------------------------------------------------------------------------------

# Days an image stays in the trash before it is purged for good: the library's setting
# ("trash_retention_days") when one is saved, else this. 0 keeps images until emptied.
TRASH_RETENTION_DAYS: Final = 30
MAX_TRASH_RETENTION_DAYS: Final = 36_500
# Seconds between two looks for expired trash while a library is open (also one at open).
TRASH_PURGE_INTERVAL_S: Final = 3600.0


def check_retention_days(value: object) -> int:
    """The trash's retention in whole days (0 = until emptied); ``InvalidInput`` else."""
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not 0 <= value <= MAX_TRASH_RETENTION_DAYS
    ):
        raise InvalidInput(
            f"The trash keeps images for a whole number of days from 0 (until emptied) "
            f"to {MAX_TRASH_RETENTION_DAYS:,}; got {value!r}."
        )
    return value


# --- bulk operations (seed 004) ----------------------------------------------------------

MAX_BULK_DELETE_IDS: Final = 1_000


def check_bulk_ids(value: object, limit: int) -> list[str]:
    """A JSON list of 1..``limit`` well-formed image ids, duplicates dropped (first kept);
    ``InvalidInput`` else. Well-formed, not necessarily known: unknown ones are answered."""
    if not isinstance(value, list) or not 1 <= len(value) <= limit:
        raise InvalidInput(f"image_ids must be a list of 1 to {limit:,} image ids.")
    for item in value:
        if not isinstance(item, str) or not is_image_id(item):
            raise InvalidInput(
                f"image_ids holds {item!r}, which is not an image id (img_ and 26 characters)."
            )
    return list(dict.fromkeys(value))


# --- live changes ------------------------------------------------------------------------

# Changes are kept this long for clients resuming a stream (older → ``reset``).
CHANGES_KEEP_DAYS: Final = 7
# At most this many events in one long-poll answer or one read of a stream.
MAX_EVENTS_PER_READ: Final = 500
# A waiting reader looks at the database at least this often, for changes another
# process on the library made (changes made in this process wake it at once).
CHANGES_POLL_S: Final = 1.0
MAX_EVENTS_WAIT_S: Final = 30
# Seconds between two housekeeping runs (old changes pruned, idempotency keys expired).
HOUSEKEEPING_INTERVAL_S: Final = 3600.0

# --- idempotency keys (seed 004) ---------------------------------------------------------

MAX_IDEMPOTENCY_KEY_CHARS: Final = 255
# A finished request's answer is replayed to retries for this long (the contract: ≥ 24 h).
IDEMPOTENCY_KEEP_S: Final = 24 * 3600

# --- upload from a URL (seed 004) --------------------------------------------------------

MAX_URL_CHARS: Final = 2048
MAX_FETCH_REDIRECTS: Final = 3
FETCH_CONNECT_S: Final = 5.0
FETCH_TOTAL_S: Final = 30.0  # from the start of the first request to the last byte
FETCH_ALLOW_ENV: Final = "IMAGESHELF_FETCH_ALLOW"
MAX_PASTED_URLS: Final = 100  # web addresses taken from one paste into the window

# --- share links (contract Part 2, "Share links") ----------------------------------------

SHARE_ID_PREFIX: Final = "shr_"
_SHARE_ID_RE: Final = re.compile(r"shr_[0-9A-HJKMNP-TV-Z]{26}")
# The token in /s/{token}: 256 random bits (the contract asks for at least 128), kept
# only as its SHA-256.
SHARE_TOKEN_BYTES: Final = 32
SHARE_LINK_PREFIX: Final = "/s/"
MAX_SHARE_IMAGES: Final = 1_000
MAX_SHARE_EXPIRES_IN_S: Final = 10 * 365 * 24 * 3600
MAX_SHARE_PASSWORD_CHARS: Final = 1024
# Share passwords checked at once (each scrypt check holds 16 MiB), and how long one more
# waits for its turn before a 503: guessing cannot exhaust the server's memory.
SHARE_PASSWORD_CHECKS: Final = 2
SHARE_PASSWORD_WAIT_S: Final = 5.0
# The window's expiry choices (seconds; None: never).
SHARE_EXPIRY_PRESETS: Final[tuple[tuple[str, int | None], ...]] = (
    ("1 hour", 3600),
    ("1 day", 24 * 3600),
    ("1 week", 7 * 24 * 3600),
    ("Never", None),
)
# Anything under /s/ may be kept by a client this long without asking again: a revoke
# or an expiry reaches every client within it (the contract: at most 300).
SHARE_MAX_AGE_S: Final = 300
# Images on one share page (``?page=`` for more).
SHARE_PAGE_SIZE: Final = 100
# The widths the share page offers each image at (``srcset``): the sized links' sizes.
SHARE_SRCSET_WIDTHS: Final = (320, 800, 1600)


def new_share_id() -> str:
    """``shr_`` and a ULID with fresh random bits (as ``new_image_id``)."""
    millis = time.time_ns() // 1_000_000
    return SHARE_ID_PREFIX + str(
        ULID.from_bytes(millis.to_bytes(6, "big") + secrets.token_bytes(10))
    )


def is_share_id(value: str) -> bool:
    return bool(_SHARE_ID_RE.fullmatch(value))


def check_expires_in(value: object) -> int | None:
    """Seconds until a share expires (``None``: never); ``InvalidInput`` else."""
    if value is None:
        return None
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not 1 <= value <= MAX_SHARE_EXPIRES_IN_S
    ):
        raise InvalidInput(
            f"expires_in is a whole number of seconds from 1 to {MAX_SHARE_EXPIRES_IN_S:,} "
            f"(ten years), or null for a link that never expires; got {value!r}."
        )
    return value


def check_share_password(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_SHARE_PASSWORD_CHARS:
        raise InvalidInput(
            f"password is a text of 1 to {MAX_SHARE_PASSWORD_CHARS} characters, or null "
            "for a link without one."
        )
    return value


# --- download jobs (seed 004) ------------------------------------------------------------

MAX_DOWNLOAD_IDS: Final = 10_000
# A folder download holds at most this many images: the archive's layout (≈ 300 bytes an
# entry) is kept in memory while it is served.
MAX_DOWNLOAD_ENTRIES: Final = 200_000
DOWNLOAD_ID_PREFIX: Final = "dl_"
_DOWNLOAD_ID_RE: Final = re.compile(r"dl_[0-9A-HJKMNP-TV-Z]{26}")
# A job and its archive are there this long after it was made (then 410).
DOWNLOAD_KEEP_S: Final = 24 * 3600
# An expired job's row (without its entries) is kept this much longer, so its id answers
# 410 rather than 404; then it goes too.
DOWNLOAD_TOMBSTONE_S: Final = 30 * 24 * 3600


def new_download_id() -> str:
    """``dl_`` + a ULID with fresh random bits (see ``new_image_id``)."""
    return DOWNLOAD_ID_PREFIX + new_image_id()[len(ID_PREFIX) :]


def is_download_id(value: str) -> bool:
    return bool(_DOWNLOAD_ID_RE.fullmatch(value))


# --- API keys (the contract's "API keys and scopes") -------------------------------------

# What each scope may do, widest last; ``KEY_GRANTS`` is what a key of each scope holds
# (the OpenAPI document names one of these per operation; server/auth.py checks it).
KEY_SCOPES: Final = ("read", "upload", "edit", "admin")
KEY_GRANTS: Final[dict[str, frozenset[str]]] = {
    "read": frozenset({"read"}),
    "upload": frozenset({"upload"}),
    "edit": frozenset({"read", "upload", "edit"}),
    "admin": frozenset(KEY_SCOPES),
}
# A name is what a person types to revoke a key: short, no spaces or slashes (a path).
KEY_NAME_PATTERN: Final = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
MAX_KEY_FOLDERS: Final = 50
MAX_KEY_EXPIRES_DAYS: Final = 3650
# ``last_used`` is written at most this often per key: never a write per request.
KEY_LAST_USED_EVERY_S: Final = 60.0
# Prefix of every key's secret, so a leaked one is recognisable (secret scanners).
KEY_SECRET_PREFIX: Final = "isk_"
