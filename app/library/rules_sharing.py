"""Rules of sharing images out of the library: share links, download jobs and API keys
(ids, limits, checks). Part of ``rules``, which re-exports every name here."""

from __future__ import annotations

import re
from typing import Final

from .errors import InvalidInput
from .rules_ids import ID_PREFIX, new_image_id

__all__ = [
    "DOWNLOAD_ID_PREFIX",
    "DOWNLOAD_KEEP_S",
    "DOWNLOAD_TOMBSTONE_S",
    "KEY_GRANTS",
    "KEY_LAST_USED_EVERY_S",
    "KEY_NAME_PATTERN",
    "KEY_SCOPES",
    "KEY_SECRET_PREFIX",
    "MAX_DOWNLOAD_ENTRIES",
    "MAX_DOWNLOAD_IDS",
    "MAX_KEY_EXPIRES_DAYS",
    "MAX_KEY_FOLDERS",
    "MAX_SHARE_EXPIRES_IN_S",
    "MAX_SHARE_IMAGES",
    "MAX_SHARE_PASSWORD_CHARS",
    "SHARE_EXPIRY_PRESETS",
    "SHARE_ID_PREFIX",
    "SHARE_LINK_PREFIX",
    "SHARE_MAX_AGE_S",
    "SHARE_PAGE_SIZE",
    "SHARE_PASSWORD_CHECKS",
    "SHARE_PASSWORD_WAIT_S",
    "SHARE_SRCSET_WIDTHS",
    "SHARE_TOKEN_BYTES",
    "check_expires_in",
    "check_share_password",
    "is_download_id",
    "is_share_id",
    "new_download_id",
    "new_share_id",
]

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
    """``shr_`` and a ULID with fresh random bits (see ``new_image_id``)."""
    return SHARE_ID_PREFIX + new_image_id()[len(ID_PREFIX) :]


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
