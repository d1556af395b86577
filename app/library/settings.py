"""Settings that belong to the library (they travel with its folder), kept in the
``settings`` table: one text value per key, JSON-encoded. Unknown keys are refused so a
typo cannot silently set nothing; each setting is declared once here with its default."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import text

from .errors import InvalidInput

if TYPE_CHECKING:
    from .library import Library

# When on, saving alt text or a long description also writes them into the image file's
# XMP (JPEG, PNG, WebP). Off by default: the file is the person's, and changing it changes
# its bytes (and so its ETag and hash).
WRITE_ALT_TEXT_TO_FILES: Final = "write_alt_text_to_files"

DEFAULTS: Final[dict[str, Any]] = {
    WRITE_ALT_TEXT_TO_FILES: False,
}


def _check(key: str) -> None:
    if key not in DEFAULTS:
        raise InvalidInput(f"There is no library setting {key!r}.")


def get(library: Library, key: str) -> Any:
    """The setting's value, its default when it was never set."""
    _check(key)
    with library.engine.connect() as conn:
        raw = conn.execute(text("SELECT value FROM settings WHERE key = :k"), {"k": key}).scalar()
    if raw is None:
        return DEFAULTS[key]
    try:
        return json.loads(raw)
    except ValueError:
        return DEFAULTS[key]


def put(library: Library, key: str, value: Any) -> None:
    _check(key)
    default = DEFAULTS[key]
    if type(value) is not type(default):
        raise InvalidInput(f"The setting {key!r} takes a {type(default).__name__}, not {value!r}.")
    with library._write() as conn:
        conn.execute(
            text(
                "INSERT INTO settings (key, value) VALUES (:k, :v) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
            ),
            {"k": key, "v": json.dumps(value)},
        )


def write_alt_text_to_files(library: Library) -> bool:
    return bool(get(library, WRITE_ALT_TEXT_TO_FILES))
