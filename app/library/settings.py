"""Settings that belong to the library (they travel with its folder), in the ``settings``
table the trash made (0005; one JSON value per key, its SQL in ``sql/trash_rows.py``).
Each setting here is declared once with its default; unknown keys and values of the
wrong type are refused, so a typo cannot silently set nothing."""

from __future__ import annotations

from typing import Any, Final, Protocol

from .core import Core
from .errors import InvalidInput
from .sql import trash_rows


class _HasCore(Protocol):
    """``Library`` (not imported: the core's modules never import the facade)."""

    @property
    def core(self) -> Core: ...


# When on, saving alt text or a long description also writes them into the image file's
# XMP (JPEG, PNG, WebP). Off by default: the file is the person's, and changing it
# changes its bytes (and so its hash and ETag).
WRITE_ALT_TEXT_TO_FILES: Final = "write_alt_text_to_files"

DEFAULTS: Final[dict[str, Any]] = {
    WRITE_ALT_TEXT_TO_FILES: False,
}


def _core(where: Core | _HasCore) -> Core:
    return where if isinstance(where, Core) else where.core


def _check(key: str) -> None:
    if key not in DEFAULTS:
        raise InvalidInput(f"There is no library setting {key!r}.")


def read(where: Core | _HasCore, key: str) -> Any:
    """The setting's value; its default when it was never set (or was written broken)."""
    _check(key)
    with _core(where).read() as conn:
        value = trash_rows.setting(conn, key)
    return DEFAULTS[key] if value is None else value


def put(where: Core | _HasCore, key: str, value: Any) -> None:
    _check(key)
    default = DEFAULTS[key]
    if type(value) is not type(default):
        raise InvalidInput(f"The setting {key!r} takes a {type(default).__name__}, not {value!r}.")
    with _core(where).write() as conn:
        trash_rows.set_setting(conn, key, value)


def write_alt_text_to_files(where: Core | _HasCore) -> bool:
    return bool(read(where, WRITE_ALT_TEXT_TO_FILES))
