"""Settings that belong to the library (they travel with its folder), in the ``settings``
table the trash made (0005; one JSON value per key, its SQL in ``sql/trash_rows.py``).
Each setting here is declared once with its default; unknown keys and values of the
wrong type are refused, so a typo cannot silently set nothing."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Final, Protocol, cast

from sqlalchemy import Connection

from . import rules
from .errors import InvalidInput
from .sql import trash_rows


class _Transactions(Protocol):
    """``Core`` (not imported: ``Core`` reads settings, so this module must not need it)."""

    def read(self) -> AbstractContextManager[Connection]: ...

    def write(self) -> AbstractContextManager[Connection]: ...

    # Bumped by every ``put``: what remembers an answer that depends on a setting (the
    # proxy's served files) starts again when it moved.
    settings_version: int


class _HasCore(Protocol):
    """``Library`` (not imported: the core's modules never import the facade)."""

    @property
    def core(self) -> _Transactions: ...


# When on, saving alt text or a long description also writes them into the image file's
# XMP (JPEG, PNG, WebP). Off by default: the file is the person's, and changing it
# changes its bytes (and so its hash and ETag).
WRITE_ALT_TEXT_TO_FILES: Final = "write_alt_text_to_files"

# Bytes the transform cache (.imageshelf/transforms) may hold; 0 keeps nothing.
TRANSFORM_CACHE_BYTES: Final = "transform_cache_bytes"

# When on, /i/{id} serves originals with their GPS location as stored. Off by default: a
# link shared is not meant to tell where the picture was taken (contract Part 2, "EXIF
# and location"; app/library/location_privacy.py).
SHARE_LOCATION_IN_LINKS: Final = "share_location_in_links"

DEFAULTS: Final[dict[str, Any]] = {
    WRITE_ALT_TEXT_TO_FILES: False,
    SHARE_LOCATION_IN_LINKS: False,
    TRANSFORM_CACHE_BYTES: rules.TRANSFORM_CACHE_DEFAULT_BYTES,
}


def _core(where: _Transactions | _HasCore) -> _Transactions:
    return cast("_Transactions", getattr(where, "core", where))


def _check(key: str) -> None:
    if key not in DEFAULTS:
        raise InvalidInput(f"There is no library setting {key!r}.")


def read(where: _Transactions | _HasCore, key: str) -> Any:
    """The setting's value; its default when it was never set (or was written broken)."""
    _check(key)
    with _core(where).read() as conn:
        value = trash_rows.setting(conn, key)
    return DEFAULTS[key] if value is None else value


def put(where: _Transactions | _HasCore, key: str, value: Any) -> None:
    _check(key)
    default = DEFAULTS[key]
    if type(value) is not type(default):
        raise InvalidInput(f"The setting {key!r} takes a {type(default).__name__}, not {value!r}.")
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        raise InvalidInput(f"The setting {key!r} cannot be negative; got {value}.")
    core = _core(where)
    with core.write() as conn:
        trash_rows.set_setting(conn, key, value)
    core.settings_version += 1


def write_alt_text_to_files(where: _Transactions | _HasCore) -> bool:
    return bool(read(where, WRITE_ALT_TEXT_TO_FILES))


def share_location_in_links(where: _Transactions | _HasCore) -> bool:
    return read(where, SHARE_LOCATION_IN_LINKS) is True


def transform_cache_bytes(where: _Transactions | _HasCore) -> int:
    value = read(where, TRANSFORM_CACHE_BYTES)
    if type(value) is not int or value < 0:  # written by hand: the default stands
        return int(DEFAULTS[TRANSFORM_CACHE_BYTES])
    return value
