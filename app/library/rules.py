"""Every rule of the library, each defined once: formats, limits, ids, folders, alt text,
filenames. The GUI, the server and the tests import these rather than restating them."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from .errors import (
    InvalidAltText,
    InvalidFolder,
    InvalidInput,
    InvalidLongDescription,
    InvalidParameter,
)

# Formats and transforms, ids, and sharing (share links, downloads, API keys) are defined
# in their own modules; every name of theirs is one of ``rules`` too, so callers keep
# writing ``rules.X`` wherever the fact is defined.
from .rules_formats import *  # noqa: F403
from .rules_formats import IMAGE_EXTENSIONS, ImageFormat
from .rules_ids import *  # noqa: F403
from .rules_ids import is_image_id
from .rules_sharing import *  # noqa: F403

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


class CandidateNames:
    """``logo.png``, ``logo-2.png``, ``logo-3.png``, ... for the first free one to be
    taken: an endless iterator that can also jump ahead (``skip``) without making the
    names it passes (``free_names.py`` resumes where the last search stopped)."""

    def __init__(self, stem: str, extension: str) -> None:
        self.stem = stem
        self.extension = extension
        self.number = 1  # of the next name: 1 is the bare stem

    def __iter__(self) -> CandidateNames:
        return self

    def __next__(self) -> str:
        number = self.number
        self.number += 1
        if number == 1:
            return self.stem + self.extension
        return f"{self.stem}-{number}{self.extension}"

    def skip(self, count: int) -> None:
        self.number += count


def candidate_filenames(original_filename: str | None, fmt: ImageFormat) -> CandidateNames:
    """``logo.png``, ``logo-2.png``, ``logo-3.png``, ... for the first free one to be taken."""
    return CandidateNames(safe_stem(original_filename), fmt.extension)


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
