"""Settings that belong to the library (they travel with its folder), kept in the
``settings`` table: one JSON-encoded value per key. Each setting is declared once here
with its default; unknown keys and values of the wrong type are refused, so a typo
cannot silently set nothing. Other settings (trash retention, transform cache size)
join ``DEFAULTS`` rather than adding a table of their own."""

from __future__ import annotations

import json
from typing import Any, Final, Protocol

from sqlalchemy import text

from .core import Core
from .errors import InvalidInput


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
    """The setting's value; its default when it was never set."""
    _check(key)
    with _core(where).read() as conn:
        raw = conn.execute(text("SELECT value FROM settings WHERE key = :k"), {"k": key}).scalar()
    if raw is None:
        return DEFAULTS[key]
    try:
        return json.loads(raw)
    except ValueError:
        return DEFAULTS[key]


def put(where: Core | _HasCore, key: str, value: Any) -> None:
    _check(key)
    default = DEFAULTS[key]
    if type(value) is not type(default):
        raise InvalidInput(f"The setting {key!r} takes a {type(default).__name__}, not {value!r}.")
    with _core(where).write() as conn:
        conn.execute(
            text(
                "INSERT INTO settings (key, value) VALUES (:k, :v) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
            ),
            {"k": key, "v": json.dumps(value)},
        )


def write_alt_text_to_files(where: Core | _HasCore) -> bool:
    return bool(read(where, WRITE_ALT_TEXT_TO_FILES))
